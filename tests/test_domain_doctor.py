"""The doctor's judgements, one by one: what each service answer makes of a check (pure, no I/O)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dwtui.domain.appuser import ApplicationUser, AppUserLookup, SecurityRole
from dwtui.domain.doctor import (
    BY_ID,
    CATALOGUE,
    CheckResult,
    CheckState,
    DoctorReport,
    Outcome,
    access,
    dualwrite,
    environment,
    integration,
    onebox,
    outcome_of,
)
from dwtui.domain.doctor import catalogue as c
from dwtui.domain.doctor.common import could_not_read, timed_out
from dwtui.domain.doctor.model import Finding
from dwtui.domain.flight import FlightCheck
from dwtui.domain.models import (
    ApplicationPackage,
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    IntegrationDetails,
    LcsEnvironment,
    LinkRequest,
    PackageState,
)
from dwtui.domain.onebox import OneboxFacts, verdict
from dwtui.domain.token_refusals import CONSENT_REQUIRED, DELEGATED_ONLY

OK, PROBLEM, UNKNOWN, NA = CheckState.OK, CheckState.PROBLEM, CheckState.UNKNOWN, CheckState.NOT_APPLICABLE
TENANT = "7c3e9f12-4b8a-4d6e-9a15-2f0c8d7e6b41"
UAT = LcsEnvironment(
    environment_id="6f4a1c2e9b3d4e8fa7c05d1b2e3f4a5b",
    name="contoso-uat",
    project_id="1234567",
    environment_type="Sandbox",
    fo_url="https://contoso-uat.sandbox.operations.dynamics.com/",
    deployment_state="Finished",
    deployment_status="Deployed",
    application_release="10.0.41",
    platform_release="Update65",
)
DEV = replace(
    UAT, name="contoso-dev", environment_type="DevTestDev", fo_url="https://dev1.axcloud.dynamics.com/"
)
PROD = replace(UAT, name="contoso-prod", environment_type="Production")
DATAVERSE = DataverseEnvironment(
    bap_environment_id="b50d3f52-c95f-5b49-9644-98ba4d0027ab",
    display_name="contoso-uat",
    instance_url="https://contosouat.crm.dynamics.com/",
    instance_state="Ready",
    version="9.2.24101.00190",
    linked_fo_environment_id=UAT.environment_id,
    provisioning_state="Succeeded",
)
WITHOUT_DATAVERSE = replace(DATAVERSE, instance_url="", instance_state="", version="")
DETAILS = IntegrationDetails(UAT.fo_url.rstrip("/"), TENANT, UAT.environment_id)
NOT_INTEGRATED = Fault(
    "Dataverse", "Dataverse instance isn't integrated with finance and operations.", "0x80048d0b", 400
)
DOWN = Fault("BAP admin API", "simulated HTTP 503", "HTTP 503", 503)


def _package(unique_name: str, state: PackageState, error: str = "") -> ApplicationPackage:
    return ApplicationPackage(unique_name, unique_name, "1.0.1", state, error=error)


CORE = _package("DualWriteCoreAnchor", PackageState.INSTALLED)
APP_CORE = _package("msdyn_DualWriteAppCoreAnchor", PackageState.NOT_INSTALLED)
FINANCE = _package("msdyn_Dynamics365FinanceExtendedAnchor", PackageState.NOT_INSTALLED)
NOTES = _package("msdyn_Dynamics365NotesAnchor", PackageState.NOT_INSTALLED)


# -- the catalogue and the model ---------------------------------------------------------------------


def test_every_check_has_a_unique_id_a_title_a_source_a_remedy_and_a_link() -> None:
    ids = [spec.check_id for spec in CATALOGUE]
    assert len(ids) == len(set(ids)) == len(BY_ID)
    for spec in CATALOGUE:
        assert spec.title and spec.remedy and spec.doc, spec.check_id
        assert spec.sources and all(s.service and s.call for s in spec.sources), spec.check_id
        assert spec.time_limit > 0


def test_the_catalogue_covers_what_the_issue_asks_for() -> None:
    groups = {spec.group.value for spec in CATALOGUE}
    assert groups == {
        "sign-in and consent",
        "your rights",
        "environment",
        "Power Platform Integration",
        "dual-write",
        "one-box",
    }
    assert {c.SIGNIN_LCS, c.SIGNIN_BAP, c.SIGNIN_POWER_PLATFORM, c.SIGNIN_DATAVERSE, c.SIGNIN_GATEWAY} <= set(
        BY_ID
    )


def test_a_problem_takes_the_catalogue_remedy_unless_it_has_its_own() -> None:
    spec = BY_ID[c.ENVIRONMENT_VERSION]
    plain = CheckResult.of(spec, Finding(PROBLEM, "below"), 1.23456)
    assert plain.remedy == spec.remedy and plain.doc == spec.doc and plain.duration_s == 1.235
    own = CheckResult.of(spec, Finding(PROBLEM, "below", remedy="do this", doc="https://x"), 0)
    assert (own.remedy, own.doc) == ("do this", "https://x")
    fine = CheckResult.of(spec, Finding(OK, "fine"), 0)
    assert (fine.remedy, fine.doc) == ("", "")
    unknown = CheckResult.of(spec, timed_out(5), 5)
    assert unknown.summary == "timed out after 5 s" and "time-limit" in unknown.remedy


def test_an_inference_anywhere_marks_the_result_inferred() -> None:
    spec = BY_ID[c.ENVIRONMENT_STATE]
    assert not CheckResult.of(spec, Finding(OK, "x"), 0).inferred
    found = environment.deployment(replace(UAT, deployment_status="Servicing"))
    assert CheckResult.of(spec, found, 0).inferred
    assert CheckResult.of(BY_ID[c.RIGHTS_LCS], Finding(OK, "x"), 0).inferred  # the catalogue says so


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([OK, NA], Outcome.OK),
        ([OK, UNKNOWN, NA], Outcome.INCOMPLETE),
        ([OK, UNKNOWN, PROBLEM], Outcome.PROBLEM),
        ([], Outcome.OK),
    ],
)
def test_a_problem_outranks_a_check_that_could_not_run(states: list[CheckState], expected: Outcome) -> None:
    assert outcome_of(states) is expected


def test_the_report_counts_and_names_its_worst_result() -> None:
    results = tuple(
        CheckResult.of(spec, Finding(state, state.value), 0)
        for spec, state in zip(CATALOGUE[:4], (OK, UNKNOWN, PROBLEM, PROBLEM), strict=True)
    )
    report = DoctorReport(UAT, results)
    assert report.outcome is Outcome.PROBLEM
    assert report.counts() == {"ok": 1, "problem": 2, "unknown": 1, "not_applicable": 0}
    assert report.worst is results[2]


# -- sign-in and consent -------------------------------------------------------------------------------


def test_a_token_issued_is_ok() -> None:
    found = access.token("BAP admin API", "https://service.powerapps.com//.default", None)
    assert found.state is OK and found.evidence[0].answer == "token issued"


def test_a_missing_consent_names_the_api_the_scope_and_the_remedy_of_the_fault() -> None:
    fault = Fault(
        "Power Platform API", "no token (AADSTS65001)", CONSENT_REQUIRED, remedy="consent at https://x"
    )
    found = access.token("Power Platform API", "https://api.powerplatform.com/.default", fault)
    assert found.state is PROBLEM
    assert "no admin consent for the Power Platform API" in found.summary
    assert "https://api.powerplatform.com/.default" in found.summary
    assert found.remedy == "consent at https://x"
    assert found.doc.endswith("grant-admin-consent")


def test_an_application_profile_is_a_problem_for_lcs() -> None:
    found = access.token("LCS API", "x//.default", Fault("LCS API", "app", DELEGATED_ONLY))
    assert found.state is PROBLEM and "person's sign-in" in found.summary


def test_a_sign_in_needed_is_a_problem_and_an_unreachable_identity_provider_unknown() -> None:
    assert (
        access.token("BAP admin API", "s", Fault("sign-in", "expired", "sign_in_required")).state is PROBLEM
    )
    assert access.token("BAP admin API", "s", Fault("sign-in", "no answer", "timeout")).state is UNKNOWN
    assert (
        access.token("BAP admin API", "s", Fault("sign-in", "bad secret", "invalid_client")).state is PROBLEM
    )


# -- rights ------------------------------------------------------------------------------------------------


def test_an_environment_lcs_shows_is_taken_as_the_project_role_inferred() -> None:
    found = access.lcs_role(UAT)
    assert found.state is OK and found.inferred and "inferred" in found.summary


def test_lcs_refusing_the_project_is_a_problem_and_lcs_unreachable_unknown() -> None:
    refused = access.lcs_role(Fault("LCS API", "Project 1 was not found or you do not have access to it."))
    assert refused.state is PROBLEM and "does not show you" in refused.summary
    assert access.lcs_role(Fault("LCS API", "no answer", "timeout")).state is UNKNOWN
    assert access.lcs_role(Fault("sign-in", "expired", "sign_in_required")).state is UNKNOWN


def test_the_admin_scope_answering_is_power_platform_admin_and_its_403_is_not() -> None:
    assert access.power_platform_admin(DATAVERSE).state is OK
    assert access.power_platform_admin(None).state is OK  # answered, though no environment matched
    refused = access.power_platform_admin(Fault("BAP admin API", "forbidden", "Forbidden", 403))
    assert refused.state is PROBLEM and refused.inferred
    assert access.power_platform_admin(DOWN).state is UNKNOWN


def test_system_administrator_is_read_from_the_persons_own_roles() -> None:
    admin = SecurityRole("r1", "System Administrator", "bu")
    basic = SecurityRole("r2", "Basic User", "bu")
    assert access.dataverse_admin(DATAVERSE, [basic, admin], "u1").state is OK
    found = access.dataverse_admin(DATAVERSE, [basic], "u1")
    assert found.state is PROBLEM and "Basic User" in found.summary and "team" in found.summary
    assert access.dataverse_admin(DATAVERSE, [], "u1").state is PROBLEM
    assert access.dataverse_admin(None, None).state is NA
    assert access.dataverse_admin(WITHOUT_DATAVERSE, None).state is NA
    stranger = Fault("Dataverse", "The user is not a member of the organization.", "0x80072560", 403)
    assert access.dataverse_admin(DATAVERSE, stranger).state is PROBLEM
    assert access.dataverse_admin(DATAVERSE, Fault("Dataverse", "x", "timeout")).state is UNKNOWN


# -- the environment ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "state", "expected"),
    [
        ("Deployed", "Finished", OK),
        ("Failed", "Finished", PROBLEM),
        ("Servicing", "InProgress", PROBLEM),
        ("", "", UNKNOWN),
    ],
)
def test_deployment(status: str, state: str, expected: CheckState) -> None:
    found = environment.deployment(replace(UAT, deployment_status=status, deployment_state=state))
    assert found.state is expected


def test_production_is_a_problem_only_while_the_profile_keeps_it_read_only() -> None:
    assert environment.environment_type(UAT, False).state is OK
    assert environment.environment_type(PROD, True).state is OK
    found = environment.environment_type(PROD, False)
    assert found.state is PROBLEM and "read-only" in found.summary


@pytest.mark.parametrize(
    ("release", "platform", "topology", "expected"),
    [
        ("10.0.41", "Update65", "", OK),
        ("10.0.9", "Update33", "", OK),
        ("10.0.8", "Update65", "", PROBLEM),
        ("10.0.41", "Update32", "", PROBLEM),
        ("", "", "Finance and Operations - Sandbox (10.0.8 with Platform update 32)", PROBLEM),
        ("", "", "Finance and Operations - Sandbox (10.0.20 with Platform update 44)", OK),
        ("", "", "", UNKNOWN),
    ],
)
def test_version_against_dual_writes_documented_minimum(
    release: str, platform: str, topology: str, expected: CheckState
) -> None:
    found = environment.version(
        replace(UAT, application_release=release, platform_release=platform, topology=topology)
    )
    assert found.state is expected


def test_a_version_below_what_reset_needs_is_noted_not_failed() -> None:
    found = environment.version(replace(UAT, application_release="10.0.20", platform_release="Update44"))
    assert found.state is OK and "Reset dual-write connection needs 10.0.30" in found.summary
    assert "Power Platform Integration documents none" in found.summary


# -- Power Platform Integration ------------------------------------------------------------------------


def test_integration_set_up_is_the_main_screens_judgement() -> None:
    found = integration.setup(UAT, DATAVERSE, DETAILS)
    assert found.state is OK and DATAVERSE.instance_url in found.summary
    assert [e.service for e in found.evidence] == ["BAP admin API", "Dataverse"]


def test_integration_not_set_up_without_dataverse_or_when_dataverse_says_so() -> None:
    no_dataverse = integration.setup(UAT, WITHOUT_DATAVERSE, None)
    assert no_dataverse.state is PROBLEM and "press P" in no_dataverse.remedy
    assert integration.setup(UAT, None, None).state is PROBLEM
    found = integration.setup(UAT, DATAVERSE, NOT_INTEGRATED)
    assert found.state is PROBLEM and "0x80048d0b" in found.summary
    assert integration.setup(UAT, DOWN, None).state is UNKNOWN


def test_dataverse_ready() -> None:
    assert integration.dataverse_ready(DATAVERSE).state is OK
    assert "9.2.24101.00190" in integration.dataverse_ready(DATAVERSE).summary
    assert integration.dataverse_ready(replace(DATAVERSE, instance_state="NotReady")).state is PROBLEM
    adding = replace(DATAVERSE, provisioning_state="LinkedDatabaseProvisioning")
    assert integration.dataverse_ready(adding).state is PROBLEM
    assert integration.dataverse_ready(replace(DATAVERSE, instance_state="")).state is UNKNOWN
    assert integration.dataverse_ready(WITHOUT_DATAVERSE).state is NA
    assert integration.dataverse_ready(None).state is NA
    assert integration.dataverse_ready(DOWN).state is UNKNOWN


def test_tenant_match() -> None:
    assert integration.tenant(DATAVERSE, DETAILS, TENANT.upper()).state is OK
    other = integration.tenant(
        DATAVERSE, replace(DETAILS, tenant_id="0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a"), TENANT
    )
    assert other.state is PROBLEM and other.inferred
    assert integration.tenant(DATAVERSE, DETAILS, "").state is UNKNOWN
    assert integration.tenant(DATAVERSE, NOT_INTEGRATED, TENANT).state is NA
    assert integration.tenant(DATAVERSE, Fault("Dataverse", "x", "timeout"), TENANT).state is UNKNOWN
    assert integration.tenant(None, None, TENANT).state is NA


# -- dual-write ----------------------------------------------------------------------------------------------


def test_packages_not_installed_yet_block_nothing() -> None:
    found = dualwrite.packages(DATAVERSE, [CORE, APP_CORE, FINANCE, NOTES])
    assert found.state is OK and "Dual-write Application Core" in found.summary
    installed = [CORE, replace(APP_CORE, state=PackageState.INSTALLED)]
    assert dualwrite.packages(DATAVERSE, installed).summary.startswith(
        "the dual-write application is installed"
    )


def test_a_failed_package_and_a_broken_dependency_are_problems() -> None:
    failed = replace(APP_CORE, state=PackageState.INSTALL_FAILED, error="SolutionImportFailed: boom")
    found = dualwrite.packages(DATAVERSE, [CORE, failed])
    assert found.state is PROBLEM and "SolutionImportFailed: boom" in found.summary
    notes = replace(NOTES, state=PackageState.INSTALLED)
    found = dualwrite.packages(
        DATAVERSE, [CORE, replace(APP_CORE, state=PackageState.INSTALLED), FINANCE, notes]
    )
    assert found.state is PROBLEM
    assert (
        "Dual-write Notes is installed but needs Dual-write Finance, which is not installed" in found.summary
    )


def test_an_application_package_missing_from_the_list_cannot_be_installed() -> None:
    found = dualwrite.packages(DATAVERSE, [CORE])
    assert found.state is PROBLEM and "not in the package list" in found.summary


def test_packages_without_dataverse_or_unreadable() -> None:
    assert dualwrite.packages(WITHOUT_DATAVERSE, None).state is NA
    consent = Fault("Power Platform API", "no token", CONSENT_REQUIRED, remedy="grant consent")
    found = dualwrite.packages(DATAVERSE, consent)
    assert found.state is UNKNOWN and found.remedy == "grant consent"


def test_the_gateway_host() -> None:
    assert dualwrite.gateway_host("https://gw.example", simulator=False, how_to_find="x").state is OK
    found = dualwrite.gateway_host("", simulator=False, how_to_find="open the Data Integrator page")
    assert found.state is PROBLEM and found.remedy == "open the Data Integrator page"


LINKED = DualWriteLink(True, "cid", "contoso-uat-contosouat", "https://contosouat.crm.dynamics.com/")


def test_link_states_that_are_the_next_step_are_ok() -> None:
    assert dualwrite.link(UAT, DualWriteLink(False)).state is OK
    assert "not linked yet" in dualwrite.link(UAT, DualWriteLink(False)).summary
    assert dualwrite.link(UAT, LINKED).state is OK
    running = DualWriteLink(True, "cid", linking=True, request=LinkRequest("r1", "1"))
    found = dualwrite.link(UAT, running)
    assert found.state is OK and found.inferred


def test_a_failed_link_request_is_a_problem_with_the_documented_remedy() -> None:
    failed = DualWriteLink(False, request=LinkRequest("r1", "3", "Failed to connect to CRM.", "DW9003"))
    found = dualwrite.link(UAT, failed)
    assert found.state is PROBLEM and "DW9003" in found.summary
    assert found.doc.endswith("requirements-and-prerequisites")


def test_the_link_cannot_be_read_without_a_gateway_or_when_it_fails() -> None:
    assert dualwrite.link(UAT, None).state is UNKNOWN
    assert dualwrite.link(UAT, Fault("dual-write gateway", "x", "HTTP 500", 500)).state is UNKNOWN


def test_mismatch() -> None:
    assert dualwrite.mismatch(UAT, DATAVERSE, DualWriteLink(False)).state is NA
    assert dualwrite.mismatch(UAT, DATAVERSE, LINKED).state is OK
    elsewhere = replace(LINKED, dataverse_url="https://contosouatold.crm.dynamics.com/")
    found = dualwrite.mismatch(UAT, DATAVERSE, elsewhere)
    assert found.state is PROBLEM and "Microsoft has detected" in found.summary and found.remedy == ""
    never = dualwrite.mismatch(UAT, None, elsewhere)
    assert never.state is PROBLEM and "Set up Power Platform Integration" in never.remedy
    served = IntegrationDetails(UAT.fo_url, TENANT, UAT.environment_id)
    assert dualwrite.mismatch(UAT, None, elsewhere, served).state is OK  # that Dataverse serves this one


def test_table_maps() -> None:
    assert dualwrite.table_maps(DualWriteLink(False), None, mismatch=False).state is NA
    assert dualwrite.table_maps(LINKED, (), mismatch=False).state is OK
    running = dualwrite.table_maps(LINKED, ("Customers V3", "Vendors V2"), mismatch=False)
    assert running.state is OK and "Force Reset" in running.summary
    assert dualwrite.table_maps(LINKED, ("Customers V3",), mismatch=True).state is PROBLEM
    assert (
        dualwrite.table_maps(LINKED, Fault("dual-write gateway", "x", "timeout"), mismatch=False).state
        is UNKNOWN
    )


# -- the one-box ---------------------------------------------------------------------------------------------

APP = "3c5e7a9b-1d2f-4e6a-8b0c-2d4f6a8c0e1b"
ROLE = SecurityRole("r1", "System Administrator", "bu")


def test_one_box_checks_do_not_apply_elsewhere() -> None:
    assert onebox.app_id(UAT, APP, "given").state is NA
    assert onebox.app_user(UAT, DATAVERSE, APP, None).state is NA
    assert onebox.flight(UAT, None).state is NA
    assert onebox.aos_restart(UAT, onebox.OneboxHistory(), None).state is NA
    assert onebox.verification(UAT, DATAVERSE, APP, None, None).state is NA


def test_the_app_id() -> None:
    assert onebox.app_id(DEV, APP, "given with --app-id").state is OK
    assert onebox.app_id(DEV, "", "").state is UNKNOWN
    assert onebox.app_id(DEV, "nope", "given", "not a GUID").state is PROBLEM


def _user(**changes: object) -> ApplicationUser:
    return replace(ApplicationUser("u1", APP, "bu", roles=(ROLE,)), **changes)  # type: ignore[arg-type]


def test_the_application_user_as_dataverse_behaves() -> None:
    assert onebox.app_user(DEV, DATAVERSE, APP, AppUserLookup(APP, _user())).state is OK
    deleted = (_user(systemuser_id="u0", deleted_state=1),)
    missing = onebox.app_user(DEV, DATAVERSE, APP, AppUserLookup(APP, None, deleted))
    assert missing.state is PROBLEM and "1 soft-deleted one(s), which do not count" in missing.summary
    no_role = onebox.app_user(DEV, DATAVERSE, APP, AppUserLookup(APP, _user(roles=())))
    assert no_role.state is PROBLEM and "has not been assigned any roles" in no_role.summary
    assert onebox.app_user(DEV, DATAVERSE, APP, AppUserLookup(APP, _user(is_disabled=True))).state is PROBLEM
    assert onebox.app_user(DEV, DATAVERSE, "", None).state is UNKNOWN
    assert onebox.app_user(DEV, WITHOUT_DATAVERSE, APP, None).state is NA


def test_the_flight() -> None:
    assert onebox.flight(DEV, None).state is UNKNOWN
    assert onebox.flight(DEV, FlightCheck(True, ())).state is OK
    found = onebox.flight(DEV, FlightCheck(False, ("partition initial has no row",)))
    assert found.state is PROBLEM and "partition initial" in found.summary
    assert onebox.flight(DEV, Fault("AXDB", "login failed", "login")).state is UNKNOWN


class _Entry:
    def __init__(self, at: float, kind: str, service: str, summary: str, status: int | None = None) -> None:
        self.at, self.kind, self.service, self.summary, self.status = at, kind, service, summary, status


def test_history_reads_flight_commits_and_completed_restarts() -> None:
    entries = [
        _Entry(10, "sql", "AXDB", "COMMIT"),
        _Entry(5, "sql", "AXDB", "ROLLBACK"),
        _Entry(20, "command", "AOS", "Stop-Service -Name w3svc -Force", 0),
        _Entry(
            21, "command", "AOS", "simulated: $ErrorActionPreference = 'Stop'; Start-Service -Name w3svc", 0
        ),
        _Entry(30, "command", "AOS", "Start-Service -Name w3svc", 1),  # failed: not a restart
    ]
    history = onebox.history_from(entries)
    assert history == onebox.OneboxHistory(10, 21, True)


def test_the_aos_restart_since_the_flight() -> None:
    assert onebox.aos_restart(DEV, onebox.OneboxHistory(), True).state is UNKNOWN
    assert onebox.aos_restart(DEV, onebox.OneboxHistory(100, None), True).state is PROBLEM
    assert onebox.aos_restart(DEV, onebox.OneboxHistory(100, 50), True).state is PROBLEM
    restarted = onebox.aos_restart(DEV, onebox.OneboxHistory(100, 150), None)
    assert restarted.state is OK and restarted.inferred
    assert onebox.aos_restart(DEV, onebox.OneboxHistory(100, 150), False).state is NA


def test_verification() -> None:
    set_up = verdict("", OneboxFacts(app_user_exists=True, app_user_has_role=True, app_user_enabled=True))
    assert onebox.verification(DEV, DATAVERSE, APP, set_up, None).state is OK
    missing = verdict("0x80072560", OneboxFacts(app_user_exists=False))
    not_member = Fault("Dataverse", "The user is not a member of the organization.", "0x80072560", 403)
    assert onebox.verification(DEV, DATAVERSE, APP, missing, not_member).state is PROBLEM
    no_secret = Fault("sign-in", "no client secret", "client_secret_missing")
    found = onebox.verification(
        DEV, DATAVERSE, APP, verdict("client_secret_missing", OneboxFacts()), no_secret
    )
    assert found.state is UNKNOWN and "keyring" in found.remedy
    assert onebox.verification(DEV, DATAVERSE, "", None, None).state is UNKNOWN


def test_could_not_read_carries_the_documented_remedy_of_the_fault() -> None:
    found = could_not_read("the package list", Fault("Power Platform API", "x", "HTTP 503", 503))
    assert found.state is UNKNOWN and "try again in a few minutes" in found.remedy
