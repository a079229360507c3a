"""From what the services said to what the screen shows and which buttons make sense.

This is the LCS *Environment details* page's logic, written down: the integration state, the
dual-write application state, the link state, the linking-mismatch warning and its remedy, and
which of the page's actions are enabled (with the reason when they are not).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from dwtui.domain.models import (
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    IntegrationDetails,
    LcsEnvironment,
    PowerPlatformSnapshot,
)
from dwtui.domain.packages import APP_CORE, CORE, Installed, PackageStatus, statuses

# The words LCS shows (lcs-setup.md, "Linking mismatch").
MISMATCH_WARNING = (
    "Microsoft has detected that your environment is linked via Dual-write to a different "
    "destination than specified in Power Platform Integration, which isn't recommended."
)
NOT_INTEGRATED_CODE = "0x80048d0b"


class IntegrationState(StrEnum):
    SET_UP = "set up"
    # enable-power-platform-integration.md: every LCS-managed environment "will receive an initial
    # Power Platform environment without Dataverse"; BAP then lists it with no instanceUrl.
    NO_DATAVERSE = "Power Platform environment without Dataverse"
    NOT_SET_UP = "not set up"
    UNKNOWN = "unknown"


class AppState(StrEnum):
    NOT_INSTALLED = "not installed"
    INSTALLING = "installing"
    INSTALLED = "installed"
    FAILED = "failed"
    UNKNOWN = "unknown"


class LinkState(StrEnum):
    NOT_LINKED = "not linked"
    LINKING = "linking"
    LINKED = "linked"
    UNKNOWN = "unknown"


class Remedy(StrEnum):
    """The two documented ways out of a linking mismatch."""

    CONNECT_INTEGRATION = "connect Power Platform Integration to the Dataverse dual-write uses"
    RESET_CONNECTION = "reset the dual-write connection to the Dataverse Power Platform Integration names"


class Action(StrEnum):
    REFRESH = "refresh"
    ADD_DATAVERSE = "add_dataverse"
    SETUP_DUAL_WRITE = "setup"
    LINK = "link"
    RESET = "reset"
    ONEBOX = "onebox"


@dataclass(frozen=True, slots=True)
class Mismatch:
    integration_dataverse_url: str  # "" when Power Platform Integration names none
    dual_write_dataverse_url: str
    remedy: Remedy

    @property
    def warning(self) -> str:
        return MISMATCH_WARNING


@dataclass(frozen=True, slots=True)
class Availability:
    enabled: bool
    reason: str = ""  # why not, in a sentence, when disabled


@dataclass(frozen=True, slots=True)
class Assessment:
    integration: IntegrationState
    app: AppState  # the dual-write application: the core solution and the Application Core
    app_version: str  # the Application Core's installed version
    link: LinkState
    dataverse_url: str  # the Dataverse Power Platform Integration names, "" when none
    mismatch: Mismatch | None
    faults: tuple[Fault, ...]
    actions: dict[Action, Availability]
    packages: tuple[PackageStatus, ...] = ()  # every dual-write package; () when not read


def normalise_url(url: str) -> str:
    """Compare URLs the way a person would: scheme and host case-insensitive, no trailing slash."""
    text = url.strip()
    if not text:
        return ""
    parts = urlsplit(text if "://" in text else f"https://{text}")
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port and parts.port != 443 else ""
    path = parts.path.rstrip("/")
    return f"{(parts.scheme or 'https').lower()}://{host}{port}{path}"


def same_url(a: str, b: str) -> bool:
    return bool(a) and bool(b) and normalise_url(a) == normalise_url(b)


def _integration_state(snapshot: PowerPlatformSnapshot) -> IntegrationState:
    dataverse = snapshot.dataverse
    if isinstance(dataverse, DataverseEnvironment):
        if not dataverse.instance_url:
            return IntegrationState.NO_DATAVERSE
        if isinstance(snapshot.integration, Fault) and snapshot.integration.code == NOT_INTEGRATED_CODE:
            return IntegrationState.NOT_SET_UP
        return IntegrationState.SET_UP
    if dataverse is None:
        return IntegrationState.NOT_SET_UP
    return IntegrationState.UNKNOWN


def package_statuses(snapshot: PowerPlatformSnapshot) -> tuple[PackageStatus, ...]:
    return statuses(snapshot.packages) if isinstance(snapshot.packages, tuple) else ()


def _app_state(
    snapshot: PowerPlatformSnapshot, packages: tuple[PackageStatus, ...], installing: bool
) -> tuple[AppState, str]:
    """The dual-write application is the core solution plus the Application Core (TPL, SEP)."""
    if installing:
        return AppState.INSTALLING, ""
    if snapshot.packages is None:
        return AppState.NOT_INSTALLED, ""
    if isinstance(snapshot.packages, Fault):
        return AppState.UNKNOWN, ""
    parts = [status for status in packages if status.package.key in (CORE, APP_CORE)]
    states = {status.state for status in parts}
    version = next((s.version for s in parts if s.package.key == APP_CORE), "")
    if Installed.INSTALLING in states:
        return AppState.INSTALLING, ""
    if Installed.FAILED in states:
        return AppState.FAILED, ""
    if states == {Installed.INSTALLED}:
        return AppState.INSTALLED, version
    if Installed.UNKNOWN in states:
        return AppState.UNKNOWN, ""
    return AppState.NOT_INSTALLED, ""


def _link_state(link: DualWriteLink | Fault | None, linking: bool) -> LinkState:
    if linking or (isinstance(link, DualWriteLink) and link.linking):
        return LinkState.LINKING
    if isinstance(link, DualWriteLink):
        return LinkState.LINKED if link.linked else LinkState.NOT_LINKED
    if link is None:
        return LinkState.NOT_LINKED
    return LinkState.UNKNOWN


def find_mismatch(
    snapshot: PowerPlatformSnapshot,
    integration: IntegrationState,
    environment: LcsEnvironment | None = None,
) -> Mismatch | None:
    """LCS's linking-mismatch check: dual-write points at another Dataverse than the integration.

    Inferred from the documentation (no API exposes LCS's own check): compare the integration's
    Dataverse URL with the Dataverse in the dual-write connection set. With `environment`, when BAP
    names no Dataverse, the one dual-write uses is believed if it says itself (RetrieveFinanceAnd-
    OperationsIntegrationDetails) that it is integrated with this environment.
    """
    link = snapshot.link
    if not isinstance(link, DualWriteLink) or not link.linked or not link.dataverse_url:
        return None
    if integration is IntegrationState.NOT_SET_UP:
        if environment is not None and _serves(snapshot.link_dataverse_integration, environment):
            return None
        return Mismatch("", link.dataverse_url, Remedy.CONNECT_INTEGRATION)
    dataverse = snapshot.dataverse
    if not isinstance(dataverse, DataverseEnvironment) or not dataverse.instance_url:
        return None
    if same_url(dataverse.instance_url, link.dataverse_url):
        return None
    return Mismatch(dataverse.instance_url, link.dataverse_url, Remedy.RESET_CONNECTION)


def _serves(details: IntegrationDetails | Fault | None, environment: LcsEnvironment) -> bool:
    if not isinstance(details, IntegrationDetails):
        return False
    same_id = bool(details.fo_environment_id) and (
        details.fo_environment_id.replace("-", "").lower()
        == environment.environment_id.replace("-", "").lower()
    )
    return same_id or same_url(details.fo_url, environment.fo_url)


def _faults(snapshot: PowerPlatformSnapshot) -> tuple[Fault, ...]:
    parts = (snapshot.dataverse, snapshot.integration, snapshot.packages, snapshot.link)
    return tuple(part for part in parts if isinstance(part, Fault) and part.code != NOT_INTEGRATED_CODE)


def assess(
    environment: LcsEnvironment,
    snapshot: PowerPlatformSnapshot,
    *,
    read_only: bool,
    installing: bool = False,
    linking: bool = False,
) -> Assessment:
    """Decide what the Power Platform Integration pane says and which actions it offers."""
    integration = _integration_state(snapshot)
    packages = package_statuses(snapshot)
    app, version = _app_state(snapshot, packages, installing)
    link = _link_state(snapshot.link, linking)
    mismatch = find_mismatch(snapshot, integration, environment)
    dataverse_url = (
        snapshot.dataverse.instance_url if isinstance(snapshot.dataverse, DataverseEnvironment) else ""
    )
    readonly_reason = (
        "production environments are read-only; set allow_production_changes = true in the profile"
    )

    def gated(enabled: bool, reason: str) -> Availability:
        if read_only:
            return Availability(False, readonly_reason)
        return Availability(enabled, "" if enabled else reason)

    # Besides the dual-write application, `d` adds the optional packages (Finance, Notes, ...).
    missing = any(
        status.state in (Installed.NOT_INSTALLED, Installed.FAILED) for status in packages
    )
    actions = {
        Action.REFRESH: Availability(True),
        Action.ADD_DATAVERSE: gated(
            integration is IntegrationState.NO_DATAVERSE,
            "the Power Platform environment already has Dataverse"
            if integration is IntegrationState.SET_UP
            else "only for a Power Platform environment without Dataverse",
        ),
        Action.SETUP_DUAL_WRITE: gated(
            integration is IntegrationState.SET_UP
            and app is not AppState.INSTALLING
            and (app in (AppState.NOT_INSTALLED, AppState.FAILED) or missing),
            _setup_reason(integration, app),
        ),
        Action.LINK: gated(
            app is AppState.INSTALLED and link is LinkState.NOT_LINKED,
            _link_reason(app, link),
        ),
        Action.RESET: gated(
            link is LinkState.LINKED and mismatch is not None,
            "the dual-write connection already matches Power Platform Integration"
            if link is LinkState.LINKED
            else "dual-write is not linked, so there is no connection to reset",
        ),
        Action.ONEBOX: Availability(
            environment.is_onebox, "" if environment.is_onebox else "only for one-box development VMs"
        ),
    }
    return Assessment(
        integration=integration,
        app=app,
        app_version=version,
        link=link,
        dataverse_url=dataverse_url,
        mismatch=mismatch,
        faults=_faults(snapshot),
        actions=actions,
        packages=packages,
    )


def _setup_reason(integration: IntegrationState, app: AppState) -> str:
    if integration is IntegrationState.NO_DATAVERSE:
        return "the Power Platform environment has no Dataverse yet: add Dataverse first"
    if integration is not IntegrationState.SET_UP:
        return "Power Platform Integration must be set up first"
    if app is AppState.INSTALLED:
        return "the dual-write application and every dual-write package are installed"
    if app is AppState.INSTALLING:
        return "the dual-write application is being installed"
    return "the dual-write application state is unknown; refresh first"


def _link_reason(app: AppState, link: LinkState) -> str:
    if app is not AppState.INSTALLED:
        return "install the dual-write application first"
    if link is LinkState.LINKED:
        return "already linked"
    if link is LinkState.LINKING:
        return "linking is under way"
    return "the link state is unknown; refresh first"
