"""Link to Power Platform environment and Reset dual-write connection, as rules.

Which reset scenario of the reset documentation applies, what a reset wipes (in the
documentation's words), which Dataverse the connection ends up on, and where the dual-write
administration area is once linked. Sources: lcs-setup.md, dual-write/reset.md, enable-entity-map.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from dwtui.domain.assessment import NOT_INTEGRATED_CODE, same_url
from dwtui.domain.models import (
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    LcsEnvironment,
    LinkRequest,
    PowerPlatformSnapshot,
)

# lcs-setup.md, step 7: "It typically takes less than 5 minutes to create the link."
TYPICAL_LINK_SECONDS = 5 * 60.0

# enable-entity-map.md: "Go to Workspaces > Data management, and select the Dual Write tile."
ADMIN_NAVIGATION = "Workspaces > Data management > Dual Write"
# The LCS hyperlink's target is not documented and no menu item name (mi=...) for the workspace
# is published, so the link is the F&O URL itself plus the documented navigation path. [I]
ADMIN_LINK_INFERRED = (
    "inferred: LCS does not document its hyperlink; this is the finance and operations URL, "
    "then Workspaces > Data management > Dual Write"
)

# reset.md, "What does the Reset link button do?", in its own words.
RESET_WIPES: tuple[str, ...] = (
    "Clear all dual-write runtime configuration data from the finance and operations tables "
    "DualWriteProjectConfiguration, DualWriteProjectFieldConfiguration and BusinessEventsDefinition, "
    "and from the Dataverse table Dual Write Runtime Configurations",
    "Remove all dual-write configuration data like dual-write maps, integration keys, legal entity "
    "mapping for dual-write, default alert settings, activity logs, initial sync history etc.",
    "Restore the dual-write connection set between finance and operations apps and Dataverse from "
    "the Power Platform integration setup",
)
RESET_AFTERWARDS = (
    "After a reset, you must bring over the maps and start over from scratch by using the Apply "
    "Solution functionality to apply the required solutions."
)
RESET_FORCE_NOTE = (
    "You must stop all dual-write maps before you reset; while maps run, the reset needs Force Reset."
)


class ResetScenario(StrEnum):
    """reset.md's four scenarios, named by what decides them."""

    SAME_ORG = "same Dataverse organization as Power Platform integration"
    DIFFERENT_ORG = "different Dataverse organization from Power Platform integration"
    INTEGRATION_BLANK = "Power Platform integration setup is blank"
    CLOUD_HOSTED = "cloud-hosted environment"


@dataclass(frozen=True, slots=True)
class AdminLink:
    """Where to go after linking: the dual-write administration area in finance and operations."""

    url: str
    navigation: str = ADMIN_NAVIGATION
    note: str = ADMIN_LINK_INFERRED

    @property
    def instructions(self) -> str:
        return f"Open {self.url} and go to {self.navigation}."


def admin_link(fo_url: str) -> AdminLink | None:
    url = fo_url.strip()
    if not url:
        return None
    if "://" not in url:
        url = f"https://{url}"
    return AdminLink(url if url.endswith("/") else f"{url}/")


@dataclass(frozen=True, slots=True)
class ResetPlan:
    """What a reset would do, for the confirmation: from which Dataverse to which, and whether it may run.

    `target` is None when the connection set is refreshed as-is (cloud-hosted); `allowed` is False
    only for a blank Power Platform integration, whose remedy is to set it up first.
    """

    scenario: ResetScenario
    current_dataverse_url: str
    current_dataverse_name: str
    target_dataverse_url: str
    target_dataverse_name: str
    target: DataverseEnvironment | None
    allowed: bool
    reason: str = ""
    wipes: tuple[str, ...] = RESET_WIPES
    afterwards: str = RESET_AFTERWARDS

    @property
    def changes_dataverse(self) -> bool:
        return self.scenario is ResetScenario.DIFFERENT_ORG


def integration_dataverse(snapshot: PowerPlatformSnapshot) -> DataverseEnvironment | None:
    """The Dataverse Power Platform Integration names: BAP names it and Dataverse does not deny it."""
    dataverse = snapshot.dataverse
    if not isinstance(dataverse, DataverseEnvironment) or not dataverse.instance_url:
        return None
    integration = snapshot.integration
    # Dataverse answering "not integrated" (0x80048d0b) outweighs a stale BAP record.
    if isinstance(integration, Fault) and integration.code == NOT_INTEGRATED_CODE:
        return None
    return dataverse


def reset_plan(environment: LcsEnvironment, snapshot: PowerPlatformSnapshot) -> ResetPlan | None:
    """Which reset scenario applies; None when dual-write is not linked (nothing to reset)."""
    link = snapshot.link
    if not isinstance(link, DualWriteLink) or not link.linked:
        return None
    current_url, current_name = link.dataverse_url, link.dataverse_name
    target = integration_dataverse(snapshot)
    if target is None:
        if environment.is_onebox:
            # reset.md scenario 4: no Power Platform integration on a cloud-hosted VM, so the
            # connection set is refreshed as-is. With an integration, scenarios 1-2 apply instead.
            return ResetPlan(
                ResetScenario.CLOUD_HOSTED, current_url, current_name, current_url, current_name,
                None, True,
            )
        return ResetPlan(
            ResetScenario.INTEGRATION_BLANK, current_url, current_name, "", "", None, False,
            "Power Platform integration is not set up for this environment: set it up to point at "
            "the Dataverse dual-write uses, then reset again.",
        )
    scenario = (
        ResetScenario.SAME_ORG if same_url(target.instance_url, current_url) else ResetScenario.DIFFERENT_ORG
    )
    return ResetPlan(
        scenario, current_url, current_name, target.instance_url, target.display_name, target, True
    )


def link_blocker(snapshot: PowerPlatformSnapshot) -> str:
    """Why a link cannot be requested from what was read, or "" when it can."""
    if integration_dataverse(snapshot) is None:
        return "Power Platform Integration names no Dataverse environment to link to; set it up first"
    link = snapshot.link
    if isinstance(link, DualWriteLink) and link.linked:
        return "dual-write is already linked"
    if isinstance(link, DualWriteLink) and link.linking:
        return "a link request is already under way on the dual-write gateway"
    if not isinstance(link, DualWriteLink):
        return "the link state is unknown; refresh first"
    return ""


@dataclass(frozen=True, slots=True)
class LinkStarted:
    """The gateway's answer to a link request: what to poll, and the connection set being made."""

    request_id: str
    connection_set_id: str  # cid
    connection_set_name: str = ""  # cname


def link_operation_id(connection_set_id: str, request_id: str) -> str:
    """A link request is addressed by its connection set and its request id; the store keeps one id."""
    return f"{connection_set_id}/{request_id}"


def split_link_operation_id(operation_id: str) -> tuple[str, str]:
    cid, _, request_id = operation_id.partition("/")
    return cid, request_id


# -- a link request in doubt -----------------------------------------------------------------------

# [I] The gateway lists a link request on its connection set as soon as it accepts the request (the
# model dwtui and its simulator share: no source shows a link request at all). A request sent this
# long ago (well over the POST's own timeout) that the gateway still does not show never arrived.
LINK_PATIENCE_SECONDS = 120.0
# A failed request created this long before the claim is an older attempt, not this one's.
CLOCK_SKEW_SECONDS = 300.0


class ClaimVerdict(StrEnum):
    """What the gateway's own state says of a link claim that has no request id."""

    FOLLOW = "follow"  # the gateway lists a link request that runs: follow that one
    SUCCEEDED = "succeeded"  # dual-write is linked: the request went through
    FAILED = "failed"  # the gateway lists this claim's request as failed
    WAIT = "wait"  # nothing shown yet, but a request sent moments ago may still show
    RELEASE = "release"  # nothing shown and nothing can be under way: the slot is free


@dataclass(frozen=True, slots=True)
class ClaimDecision:
    verdict: ClaimVerdict
    request: LinkRequest | None = None


def _moment(text: str) -> float | None:
    try:
        return dt.datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        return None


def _ours(request: LinkRequest, claimed_at: float, finished: frozenset[str]) -> bool:
    """Whether a finished request can be this claim's: not one already reported, not much older."""
    if request.request_id.lower() in finished:
        return False
    created = _moment(request.created_on) if request.created_on else None
    return created is None or created >= claimed_at - CLOCK_SKEW_SECONDS


def judge_link_claim(
    link: DualWriteLink,
    *,
    claimed_at: float,
    now: float,
    sent: bool,
    patience: float,
    conflict: bool = False,
    finished_requests: frozenset[str] = frozenset(),
) -> ClaimDecision:
    """Settle a link claim without a request id from the gateway's state, as an install claim is
    settled from the package state: never by sending again.

    A running request is followed whoever sent it; a link that exists means the request went
    through; a failed request that can be this claim's is reported. Otherwise the slot is freed
    only when nothing can be under way: the request never left (`sent` False), the gateway refused
    it for another one that it no longer shows (`conflict`), or `patience` has passed since the
    claim. `finished_requests` are request ids (lower case) already reported as finished.
    """
    request = link.request
    if request is not None and request.running:
        return ClaimDecision(ClaimVerdict.FOLLOW, request)
    if link.linked:
        return ClaimDecision(ClaimVerdict.SUCCEEDED, request)
    if (
        request is not None
        and request.failed
        and sent
        and not conflict  # refused for another request: a failed one listed is not this claim's
        and _ours(request, claimed_at, finished_requests)
    ):
        return ClaimDecision(ClaimVerdict.FAILED, request)
    if not sent or conflict or now - claimed_at >= patience:
        return ClaimDecision(ClaimVerdict.RELEASE)
    return ClaimDecision(ClaimVerdict.WAIT)
