"""Link and reset rules: reset scenarios, what a reset wipes, the admin hyperlink, mismatch both ways."""

from __future__ import annotations

import pytest

from dwtui.domain.assessment import IntegrationState, Remedy, assess, find_mismatch
from dwtui.domain.errors import explain
from dwtui.domain.linking import (
    ADMIN_NAVIGATION,
    RESET_WIPES,
    ClaimVerdict,
    ResetScenario,
    admin_link,
    judge_link_claim,
    link_blocker,
    link_operation_id,
    reset_plan,
    split_link_operation_id,
)
from dwtui.domain.models import (
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    IntegrationDetails,
    LcsEnvironment,
    LinkRequest,
    PowerPlatformSnapshot,
)

UAT = LcsEnvironment("a" * 32, "contoso-uat", "1234567", "Sandbox",
                     "https://contoso-uat.sandbox.operations.dynamics.com/")
ONEBOX = LcsEnvironment("c" * 32, "contoso-dev", "1234567", "DevTestDev",
                        "https://contosodev1a2b.axcloud.dynamics.com/")
PPI = DataverseEnvironment("bap-uat", "contoso-uat", "https://contoso-uat.crm.dynamics.com/",
                           unique_name="contosouat")
DETAILS = IntegrationDetails(UAT.fo_url.rstrip("/"), "t", UAT.environment_id)
NOT_INTEGRATED = Fault("Dataverse", "not integrated", "0x80048d0b", 400)


def linked_to(url: str, name: str = "") -> DualWriteLink:
    return DualWriteLink(True, "cid", "cs", dataverse_url=url, dataverse_name=name)


def snap(dataverse: object = PPI, integration: object = DETAILS, link: object = None,
         link_integration: object = None) -> PowerPlatformSnapshot:
    return PowerPlatformSnapshot(
        dataverse=dataverse,  # type: ignore[arg-type]
        integration=integration,  # type: ignore[arg-type]
        packages=(),
        link=link if link is not None else DualWriteLink(False),  # type: ignore[arg-type]
        link_dataverse_integration=link_integration,  # type: ignore[arg-type]
    )


# -- mismatch -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dual_write_url",
    [
        "https://contoso-uat.crm.dynamics.com",
        "HTTPS://CONTOSO-UAT.CRM.DYNAMICS.COM/",
        "https://Contoso-Uat.crm.dynamics.com//",
        "contoso-uat.crm.dynamics.com",
    ],
)
def test_no_false_warning_when_urls_differ_only_in_case_or_slash(dual_write_url: str) -> None:
    result = assess(UAT, snap(link=linked_to(dual_write_url)), read_only=False)
    assert result.mismatch is None


@pytest.mark.parametrize(
    ("integration_url", "dual_write_url"),
    [
        ("https://contoso-uat.crm.dynamics.com/", "https://contoso-uat-old.crm.dynamics.com/"),
        ("https://contoso-uat-old.crm.dynamics.com/", "https://contoso-uat.crm.dynamics.com/"),
    ],
)
def test_mismatch_detected_whichever_side_moved(integration_url: str, dual_write_url: str) -> None:
    dataverse = DataverseEnvironment("bap", "x", integration_url)
    result = assess(UAT, snap(dataverse=dataverse, link=linked_to(dual_write_url)), read_only=False)
    assert result.mismatch is not None
    assert result.mismatch.remedy is Remedy.RESET_CONNECTION
    assert (result.mismatch.integration_dataverse_url, result.mismatch.dual_write_dataverse_url) == (
        integration_url,
        dual_write_url,
    )


def test_mismatch_when_dataverse_denies_integration_has_the_connect_remedy() -> None:
    result = assess(UAT, snap(integration=NOT_INTEGRATED, link=linked_to("https://other.crm.dynamics.com/")),
                    read_only=False)
    assert result.integration is IntegrationState.NOT_SET_UP
    assert result.mismatch is not None and result.mismatch.remedy is Remedy.CONNECT_INTEGRATION


def test_dual_write_dataverse_that_serves_this_environment_is_no_mismatch() -> None:
    # BAP named nothing, but the Dataverse dual-write uses says it is integrated with contoso-uat.
    serves = IntegrationDetails("HTTPS://contoso-uat.sandbox.operations.dynamics.com", "t", "other-id")
    snapshot = snap(dataverse=None, integration=None, link=linked_to("https://x.crm.dynamics.com/"),
                    link_integration=serves)
    assert find_mismatch(snapshot, IntegrationState.NOT_SET_UP, UAT) is None
    # Without the environment, the old rule applies and warns.
    assert find_mismatch(snapshot, IntegrationState.NOT_SET_UP) is not None
    other = IntegrationDetails("https://elsewhere.operations.dynamics.com", "t", "b" * 32)
    elsewhere = snap(dataverse=None, integration=None, link=linked_to("https://x.crm.dynamics.com/"),
                     link_integration=other)
    assert find_mismatch(elsewhere, IntegrationState.NOT_SET_UP, UAT) is not None


# -- reset ----------------------------------------------------------------------------------------


def test_reset_plan_same_org() -> None:
    plan = reset_plan(UAT, snap(link=linked_to("https://CONTOSO-UAT.crm.dynamics.com", "contoso-uat")))
    assert plan is not None and plan.allowed
    assert plan.scenario is ResetScenario.SAME_ORG
    assert not plan.changes_dataverse
    assert plan.target == PPI


def test_reset_plan_different_org_moves_to_the_integration_dataverse() -> None:
    plan = reset_plan(UAT, snap(link=linked_to("https://old.crm.dynamics.com/", "contoso-uat-old")))
    assert plan is not None and plan.allowed and plan.changes_dataverse
    assert plan.scenario is ResetScenario.DIFFERENT_ORG
    assert (plan.current_dataverse_url, plan.current_dataverse_name) == (
        "https://old.crm.dynamics.com/", "contoso-uat-old"
    )
    assert (plan.target_dataverse_url, plan.target_dataverse_name) == (PPI.instance_url, "contoso-uat")


@pytest.mark.parametrize("dataverse_missing", [None, "denied"])
def test_reset_plan_blank_integration_is_refused_with_the_fix(dataverse_missing: object) -> None:
    snapshot = (
        snap(dataverse=None, integration=None, link=linked_to("https://old.crm.dynamics.com/"))
        if dataverse_missing is None
        else snap(integration=NOT_INTEGRATED, link=linked_to("https://old.crm.dynamics.com/"))
    )
    plan = reset_plan(UAT, snapshot)
    assert plan is not None and not plan.allowed
    assert plan.scenario is ResetScenario.INTEGRATION_BLANK
    assert "Power Platform integration" in plan.reason


def test_reset_plan_cloud_hosted_refreshes_as_is() -> None:
    plan = reset_plan(ONEBOX, snap(dataverse=None, integration=None, link=linked_to("https://dev.crm/")))
    assert plan is not None and plan.allowed
    assert plan.scenario is ResetScenario.CLOUD_HOSTED
    assert plan.target is None and plan.target_dataverse_url == plan.current_dataverse_url


def test_reset_plan_needs_a_link() -> None:
    assert reset_plan(UAT, snap()) is None


def test_reset_wipes_in_the_documentations_words() -> None:
    text = " ".join(RESET_WIPES)
    for words in ("DualWriteProjectConfiguration", "Dual Write Runtime Configurations", "dual-write maps",
                  "integration keys", "initial sync history", "Power Platform integration setup"):
        assert words in text


def test_reset_error_codes_are_explained() -> None:
    running = explain(Fault("dual-write gateway", "3 maps running", "DualWriteMapsRunning", 409))
    assert "Force Reset" in running.remedy
    blank = explain(Fault("dual-write gateway", "blank", "PowerPlatformIntegrationNotSetUp", 400))
    assert "Power Platform integration" in blank.remedy


# -- link -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fo_url", "expected"),
    [
        ("https://contoso-uat.sandbox.operations.dynamics.com/", "https://contoso-uat.sandbox.operations.dynamics.com/"),
        ("https://contoso-uat.sandbox.operations.dynamics.com", "https://contoso-uat.sandbox.operations.dynamics.com/"),
        ("contoso.operations.dynamics.com", "https://contoso.operations.dynamics.com/"),
    ],
)
def test_admin_link_is_the_fo_url_with_the_documented_navigation(fo_url: str, expected: str) -> None:
    link = admin_link(fo_url)
    assert link is not None
    assert link.url == expected
    assert link.navigation == ADMIN_NAVIGATION == "Workspaces > Data management > Dual Write"
    assert "inferred" in link.note
    assert expected in link.instructions
    assert admin_link("  ") is None


def test_link_blocker() -> None:
    assert link_blocker(snap()) == ""
    assert "already linked" in link_blocker(snap(link=linked_to(PPI.instance_url)))
    assert "Power Platform Integration" in link_blocker(snap(dataverse=None, integration=None))
    assert "Power Platform Integration" in link_blocker(snap(integration=NOT_INTEGRATED))
    unreadable = snap(link=Fault("dual-write gateway", "down", "HTTP 503", 503))
    assert "unknown" in link_blocker(unreadable)


def test_link_operation_id_round_trip() -> None:
    assert split_link_operation_id(link_operation_id("cid-1", "req-2")) == ("cid-1", "req-2")


# -- a link claim in doubt, judged from the gateway's state ----------------------------------------

CLAIMED = 1_800_000_000.0  # 2027-01-15T08:00:00Z
RECENT = "2027-01-15T08:00:01Z"


def gateway(state: str = "", *, created: str = RECENT, request_id: str = "r1") -> DualWriteLink:
    """What the gateway shows: nothing (""), or a connection set whose link request is in `state`."""
    if not state:
        return DualWriteLink(False)
    request = LinkRequest(request_id, state, "msg", "DW9003" if state == "3" else "", created)
    return DualWriteLink(state == "2", "cid", "cs", linking=state == "1", request=request)


def judge(
    link: DualWriteLink,
    *,
    sent: bool = True,
    after: float = 1.0,
    conflict: bool = False,
    finished_requests: frozenset[str] = frozenset(),
) -> ClaimVerdict:
    decision = judge_link_claim(
        link,
        claimed_at=CLAIMED,
        now=CLAIMED + after,
        sent=sent,
        patience=120.0,
        conflict=conflict,
        finished_requests=finished_requests,
    )
    return decision.verdict


def test_a_running_request_is_followed_whoever_sent_it() -> None:
    assert judge(gateway("1")) is ClaimVerdict.FOLLOW
    assert judge(gateway("1"), sent=False) is ClaimVerdict.FOLLOW  # another run's: follow it
    assert judge(gateway("1"), conflict=True) is ClaimVerdict.FOLLOW
    assert judge(gateway("1"), after=10_000.0) is ClaimVerdict.FOLLOW


def test_a_link_that_exists_settles_the_claim_as_succeeded() -> None:
    assert judge(gateway("2")) is ClaimVerdict.SUCCEEDED
    assert judge(DualWriteLink(True, "cid", "cs")) is ClaimVerdict.SUCCEEDED  # no request listed


def test_a_failed_request_is_reported_only_when_it_can_be_this_claims() -> None:
    assert judge(gateway("3")) is ClaimVerdict.FAILED
    assert judge(gateway("3"), sent=False) is ClaimVerdict.RELEASE  # nothing left: not ours
    assert judge(gateway("3"), conflict=True) is ClaimVerdict.RELEASE  # refused for another one
    assert judge(gateway("3"), finished_requests=frozenset({"r1"})) is ClaimVerdict.WAIT  # reported
    assert judge(gateway("3", created="2027-01-15T07:00:00Z")) is ClaimVerdict.WAIT  # an hour older
    assert judge(gateway("3", created="not a time")) is ClaimVerdict.FAILED


def test_nothing_shown_frees_the_slot_only_when_nothing_can_be_under_way() -> None:
    assert judge(gateway(), sent=False) is ClaimVerdict.RELEASE  # the request never left
    assert judge(gateway()) is ClaimVerdict.WAIT  # sent a second ago: it may still show
    assert judge(gateway(), after=119.0) is ClaimVerdict.WAIT
    assert judge(gateway(), after=120.0) is ClaimVerdict.RELEASE
    assert judge(gateway(), conflict=True) is ClaimVerdict.RELEASE  # refused, and nothing runs


def test_a_link_request_under_way_blocks_another() -> None:
    snapshot = PowerPlatformSnapshot(dataverse=PPI, integration=DETAILS, packages=None, link=gateway("1"))
    assert link_blocker(snapshot) == "a link request is already under way on the dual-write gateway"
