"""Link to Power Platform environment and Reset dual-write connection, as rules.

Which reset scenario of the reset documentation applies, what a reset wipes (in the
documentation's words), which Dataverse the connection ends up on, and where the dual-write
administration area is once linked. Sources: lcs-setup.md, dual-write/reset.md, enable-entity-map.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dwtui.domain.assessment import NOT_INTEGRATED_CODE, same_url
from dwtui.domain.models import (
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    LcsEnvironment,
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
