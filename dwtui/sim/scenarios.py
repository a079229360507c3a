"""Scenarios: the base world every scenario shares, and what each one changes about contoso-uat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from dwtui.sim import catalogue, fleet_world, ids
from dwtui.sim.chaos import Chaos
from dwtui.sim.directory import OrgDirectory, new_directory
from dwtui.sim.installing import DEFAULT_FAILURE
from dwtui.sim.world import (
    ConnectionSetRecord,
    LcsEnvironmentRecord,
    LcsThrottle,
    Operation,
    PowerPlatformRecord,
    World,
)

# What Power Platform Integration's default template installs, and what the dual-write
# application adds (the Application Core).
INTEGRATED = catalogue.STANDARD_TEMPLATE
APPLICATION = (*catalogue.STANDARD_TEMPLATE, catalogue.APP_CORE)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    apply: Callable[[World], None]


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, description: str) -> Callable[[Callable[[World], None]], Callable[[World], None]]:
    def register(apply: Callable[[World], None]) -> Callable[[World], None]:
        SCENARIOS[name] = Scenario(name, description, apply)
        return apply

    return register


def scenario_names() -> list[str]:
    return list(SCENARIOS)


def build_world(name: str, speed: float = 1.0) -> World:
    chosen = SCENARIOS.get(name)
    if chosen is None:
        raise ValueError(f"unknown scenario '{name}'; choose one of {', '.join(SCENARIOS)}")
    world = World(name, speed)
    _base(world)
    chosen.apply(world)
    return world


# -- the shared world ------------------------------------------------------------------------

UAT = LcsEnvironmentRecord(
    short="uat",
    environment_id="6f4a1c2e9b3d4e8fa7c05d1b2e3f4a5b",
    name="contoso-uat",
    environment_type="Sandbox",
    fo_url="https://contoso-uat.sandbox.operations.dynamics.com/",
    topology="Standard Acceptance Test",
    deployed_on_utc="3/14/2026 9:12 AM",
)
PROD = LcsEnvironmentRecord(
    short="prod",
    environment_id="a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    name="contoso-prod",
    environment_type="Production",
    fo_url="https://contoso-prod.operations.dynamics.com/",
    topology="Production",
    deployed_on_utc="1/20/2026 6:45 PM",
)
DEV = LcsEnvironmentRecord(
    short="dev",
    environment_id="d3e4f5a6b7c84d9ea0b1c2d3e4f5a6b7",
    name="contoso-dev",
    environment_type="DevTestDev",
    fo_url="https://contosodev1a2b3c4d5e.axcloud.dynamics.com/",
    topology="Finance and Operations - Develop",
    deployed_on_utc="5/2/2026 11:03 AM",
    application_release="10.0.42",
    platform_release="Update66",
    platform_version="7.0.7398.31",
    application_version="10.0.2095.13",
)


def _org(
    world: World,
    unique_name: str,
    display_name: str,
    sku: str,
    installed: tuple[str, ...] = INTEGRATED,
) -> PowerPlatformRecord:
    record = PowerPlatformRecord(
        bap_id=ids.derived_guid("bap", unique_name),
        display_name=display_name,
        unique_name=unique_name,
        organization_id=ids.derived_guid("org", unique_name),
        sku=sku,
        packages=catalogue.package_records(installed),
    )
    world.power_platform[record.bap_id] = record
    return record


def _link(world: World, lcs: LcsEnvironmentRecord, unique_name: str) -> None:
    org = world.org_by_unique_name(unique_name)
    assert org is not None, unique_name
    cname = f"{lcs.name}-{unique_name}".lower()
    world.connection_sets[cname] = ConnectionSetRecord(
        cid=ids.derived_guid("connectionset", cname),
        cname=cname,
        lcs_id=lcs.environment_id,
        bap_id=org.bap_id,
    )


def _integrate(world: World, lcs: LcsEnvironmentRecord, unique_name: str) -> None:
    org = world.org_by_unique_name(unique_name)
    assert org is not None, unique_name
    org.linked_lcs_id = lcs.environment_id


def _base(world: World) -> None:
    for record in (UAT, PROD, DEV):
        copy = replace(record)
        world.lcs_environments[copy.environment_id] = copy
    _org(world, "contosodefault", "Contoso (default)", "Default", installed=())
    _org(world, "contosoprod", "contoso-prod", "Production", installed=APPLICATION)
    _integrate(world, PROD, "contosoprod")
    _link(world, PROD, "contosoprod")
    _org(world, "contosodev", "contoso-dev", "Sandbox")
    _integrate(world, DEV, "contosodev")


def _uat_integrated(world: World, installed: tuple[str, ...] = INTEGRATED) -> PowerPlatformRecord:
    org = _org(world, "contosouat", "contoso-uat", "Sandbox", installed=installed)
    _integrate(world, UAT, "contosouat")
    return org


@scenario(
    "happy",
    "Power Platform Integration set up (dual-write core solution installed); the dual-write application "
    "(Application Core) and the other dual-write packages not installed; not linked",
)
def _happy(world: World) -> None:
    _uat_integrated(world)


@scenario("installed", "dual-write application (core and Application Core) installed; not linked")
def _installed(world: World) -> None:
    _uat_integrated(world, APPLICATION)


@scenario("linked", "dual-write installed and linked to the Dataverse Power Platform Integration names")
def _linked(world: World) -> None:
    _uat_integrated(world, APPLICATION)
    _link(world, UAT, "contosouat")


@scenario("not-integrated", "no Power Platform Integration: Dataverse answers 0x80048d0b; not linked")
def _not_integrated(world: World) -> None:
    _org(world, "contosouatdv", "contoso-uat-dv", "Sandbox")


def _without_dataverse(world: World) -> PowerPlatformRecord:
    org = _org(world, "contosouat", "contoso-uat", "Sandbox", installed=())
    org.has_dataverse = False
    org.packages = {}
    _integrate(world, UAT, "contosouat")
    return org


@scenario(
    "no-dataverse",
    "LCS gave contoso-uat a Power Platform environment without Dataverse; adding Dataverse (P) succeeds",
)
def _no_dataverse(world: World) -> None:
    _without_dataverse(world)


@scenario("add-dataverse-fails", "like no-dataverse, but adding Dataverse fails")
def _add_dataverse_fails(world: World) -> None:
    _without_dataverse(world)
    world.add_dataverse_failure = "LinkedDatabaseProvisioningFailed"


@scenario("mismatch", "Power Platform Integration names contoso-uat; dual-write is linked to contoso-uat-old")
def _mismatch(world: World) -> None:
    _uat_integrated(world, APPLICATION)
    _org(world, "contosouatold", "contoso-uat-old", "Sandbox", installed=APPLICATION)
    _link(world, UAT, "contosouatold")
    _set_maps(world, UAT, running=False)


# DWHelper's MapStatus codes: "1" Stopped, "4" Running, "6" NotRunning.
_MAPS = ("Customers V3", "Vendors V2", "Legal entities", "Released products V2")


def _set_maps(world: World, lcs: LcsEnvironmentRecord, *, running: bool) -> None:
    link = world.connection_set_for(lcs.environment_id)
    assert link is not None, lcs.name
    link.maps = {name: ("4" if running and i < 3 else "1") for i, name in enumerate(_MAPS)}


@scenario("maps-running", "like mismatch, with three table maps running: a reset needs Force Reset")
def _maps_running(world: World) -> None:
    _mismatch(world)
    _set_maps(world, UAT, running=True)


@scenario("link-dw9003-crm", "dual-write installed; linking fails with DW9003 (cannot connect to CRM)")
def _link_dw9003_crm(world: World) -> None:
    _uat_integrated(world, APPLICATION)
    world.link_failure = "CRM"


@scenario("link-dw9003-ax", "dual-write installed; linking fails with DW9003 (cannot connect to AX)")
def _link_dw9003_ax(world: World) -> None:
    _uat_integrated(world, APPLICATION)
    world.link_failure = "AX"


@scenario("install-failed", "like happy; installing the Dual-write Application Core fails")
def _install_failed(world: World) -> None:
    _uat_integrated(world)
    world.install_failures[catalogue.APP_CORE.lower()] = dict(DEFAULT_FAILURE)


@scenario(
    "dependency-failed",
    "like happy; the Application Core installs, Dual-write Finance fails, so what needs it (Notes) "
    "is never requested",
)
def _dependency_failed(world: World) -> None:
    _uat_integrated(world)
    world.install_failures[catalogue.FINANCE.lower()] = dict(
        DEFAULT_FAILURE, message="The import of solution msdyn_Dynamics365FinanceExtendedMaps failed."
    )


@scenario(
    "install-202",
    "like happy; the install answers 202 with an Operation-Location header, as the terraform provider "
    "expects",
)
def _install_202(world: World) -> None:
    _uat_integrated(world)
    world.install_answer = "202"


@scenario(
    "progress-reported",
    "like happy; [I] the package list carries terms URIs and says Installing during an install, and the "
    "operation reports a percentComplete: none of which any source shows",
)
def _progress_reported(world: World) -> None:
    _uat_integrated(world)
    world.list_installing_state = True
    world.report_percent = True
    world.list_terms = True


@scenario("flaky", "like happy; about a third of operation polls fail (5xx, resets) or answer slowly")
def _flaky(world: World) -> None:
    _uat_integrated(world)
    world.chaos = Chaos(
        path_marker="/operations/",
        rate=0.35,
        kinds=("500", "503", "reset", "slow"),
        slow_delay=world.scaled(20.0),
        seed=9003,
    )


@scenario("short-token", "like happy; access tokens expire every 3 simulated minutes")
def _short_token(world: World) -> None:
    _uat_integrated(world)
    world.token_lifetime = world.scaled(180.0)


# Another admin's script has already used most of the window, so the first call must wait 10 s.
_THROTTLE_PREFILL = (-50.0, -48.0, -46.0, -44.0, -42.0, -40.0)


@scenario("throttled", "like happy, but LCS allows 6 calls a minute per project and the window starts full")
def _throttled(world: World) -> None:
    _uat_integrated(world)
    throttle = LcsThrottle(limit=6, window=world.scaled(60.0))
    now = world.now()
    throttle.prefill(world.project_id, [now + world.scaled(offset) for offset in _THROTTLE_PREFILL])
    world.lcs_throttle = throttle


@scenario(
    "fleet",
    "like happy, in three LCS projects of 20 environments each (60 in all) in mixed states: types, "
    "versions, servicing, with and without Power Platform Integration or Dataverse, dual-write packages "
    "installed, missing and failed, linked, not linked and mismatched, installs, links and Dataverse "
    "being added; [I] the package list says Installing during an install; LCS allows 6 calls per "
    "project per minute (429 with Retry-After beyond)",
)
def _fleet(world: World) -> None:
    _uat_integrated(world)
    fleet_world.populate(world)


def _onebox_directory(world: World) -> OrgDirectory:
    """contoso-dev's directory, made now so a scenario can change its one-box application user."""
    directory = new_directory("contosodev", world.user_object_id, world.user_display_name)
    world.dataverse_directories["contosodev"] = directory
    return directory


@scenario(
    "onebox-no-app-user",
    "like happy; on contoso-dev the one-box app has no application user, so WhoAmI as it is 0x80072560",
)
def _onebox_no_app_user(world: World) -> None:
    _uat_integrated(world)
    _onebox_directory(world).remove_application_user(world.onebox_client_id)


@scenario(
    "onebox-app-user-no-role",
    "like happy; on contoso-dev the one-box app's application user has no security role: WhoAmI as it "
    "answers, its first privileged call is refused (\"has not been assigned any roles\")",
)
def _onebox_app_user_no_role(world: World) -> None:
    _uat_integrated(world)
    user = _onebox_directory(world).application_user(world.onebox_client_id)
    assert user is not None
    user.role_ids.clear()


@scenario(
    "onebox-app-user-deleted",
    "like happy; on contoso-dev the one-box app has only a soft-deleted application user (deletedstate 1), "
    "so WhoAmI as it is 0x80072560 and creating a new one first needs the old one purged",
)
def _onebox_app_user_deleted(world: World) -> None:
    _uat_integrated(world)
    _onebox_directory(world).soft_delete_application_user(world.onebox_client_id)


@scenario(
    "no-consent-ppapi",
    "like happy, but no administrator has consented to the Power Platform API for dwtui's app: token "
    "requests for its scope answer AADSTS65001 (invalid_grant, consent_required); every other API works",
)
def _no_consent_ppapi(world: World) -> None:
    _uat_integrated(world)
    world.consent_withheld.add("https://api.powerplatform.com")


# What a hostile (or broken) service could answer with: sequences that write the clipboard (OSC 52)
# and set the window title (OSC 0), clear the screen, C1 controls (CSI, OSC, ST as single code
# points), a hyperlink that would hide its target, and bidi overrides that reorder what is read.
HOSTILE_CLIPBOARD = "\x1b]52;c;ZHd0dWktcHJvYmU=\x07"  # base64 of "dwtui-probe"
HOSTILE_TITLE = "\x1b]0;dwtui-probe-title\x1b\\"
HOSTILE_SCREEN = "\x1b[2J\x1b[31m\x9b1m\x9d52;c;ZHd0dWktcHJvYmU=\x9c"
HOSTILE_BIDI = "\u202eexe.txt\u202c\u2066"
# Ends the URL's text, then opens a link to another host: a hyperlink built from the URL would show
# the real host and open evil.example.
HOSTILE_URL_TAIL = "\x1b\\\x1b]8;;https://evil.example/\x1b\\"


@scenario(
    "hostile-names",
    "like installed, but names, URLs and messages carry terminal escape sequences (clipboard, title, "
    "hyperlink), C1 controls and bidi overrides; linking fails with such a DW9003 message, installing "
    "Dual-write Finance with such an error, and contoso-prod's F&O URL hides a second hyperlink",
)
def _hostile_names(world: World) -> None:
    uat = world.lcs_environments[UAT.environment_id]
    uat.name = f"contoso-uat{HOSTILE_CLIPBOARD}{HOSTILE_TITLE}"
    uat.fo_url = f"{UAT.fo_url}{HOSTILE_URL_TAIL}"
    uat.topology = f"Standard Acceptance Test {HOSTILE_BIDI}"
    uat.deployment_status = f"Deployed{HOSTILE_SCREEN}"
    prod = world.lcs_environments[PROD.environment_id]
    prod.fo_url = f"{PROD.fo_url}{HOSTILE_URL_TAIL}"
    org = _uat_integrated(world, APPLICATION)
    org.display_name = f"contoso-uat{HOSTILE_SCREEN}{HOSTILE_BIDI}"
    world.link_failure = "CRM"
    world.link_failure_message = (
        f"Failed to connect to CRM.{HOSTILE_CLIPBOARD}{HOSTILE_TITLE} Ensure that the service principal "
        f"has the correct permissions{HOSTILE_SCREEN} to access CRM."
    )
    world.install_failures[catalogue.FINANCE.lower()] = dict(
        DEFAULT_FAILURE,
        message=f"The import of solution msdyn_Dynamics365FinanceExtendedMaps failed.{HOSTILE_CLIPBOARD}"
        f"{HOSTILE_TITLE}{HOSTILE_BIDI}",
    )


# -- what the doctor finds (dwtui doctor): one scenario per failure no other scenario shows -------------
# Each is like happy (or installed) on contoso-uat, but for the one thing named.


@scenario(
    "no-consent-bap",
    "like happy, but no administrator has consented to the BAP admin API (Power Apps Service): its token "
    "requests answer AADSTS65001",
)
def _no_consent_bap(world: World) -> None:
    _uat_integrated(world)
    world.consent_withheld.add("https://service.powerapps.com")


@scenario(
    "no-consent-dataverse",
    "like happy, but no administrator has consented to Dataverse (Dynamics CRM): token requests for any "
    "org answer AADSTS65001",
)
def _no_consent_dataverse(world: World) -> None:
    _uat_integrated(world)
    world.consent_withheld_dataverse = True


@scenario(
    "no-consent-gateway",
    "like happy, but no administrator has consented to the dual-write gateway (https://IntegratorApp.com): "
    "its token requests answer AADSTS65001",
)
def _no_consent_gateway(world: World) -> None:
    _uat_integrated(world)
    world.consent_withheld.add("https://IntegratorApp.com")


@scenario(
    "lcs-no-access",
    "like happy, but [I] LCS does not show the project to the signed-in person (its failure envelope): "
    "no Project Owner or Environment Administrator role",
)
def _lcs_no_access(world: World) -> None:
    _uat_integrated(world)
    world.lcs_denied = True


@scenario(
    "not-power-platform-admin",
    "like happy, but [I] the BAP admin scope answers 403 to the signed-in person, who is no Power Platform "
    "administrator",
)
def _not_power_platform_admin(world: World) -> None:
    _uat_integrated(world)
    world.bap_admin_denied = True


@scenario(
    "not-system-administrator",
    "like happy, but the signed-in person is only Basic User, not System Administrator, in contoso-uat's "
    "Dataverse",
)
def _not_system_administrator(world: World) -> None:
    org = _uat_integrated(world)
    directory = new_directory(org.unique_name, world.user_object_id, world.user_display_name)
    world.dataverse_directories[org.unique_name.lower()] = directory
    person = next(u for u in directory.users.values() if u.azure_object_id == world.user_object_id)
    person.role_ids = [directory.role(directory.root.business_unit_id, "Basic User").role_id]


@scenario("deployment-failed", "like happy, but LCS says contoso-uat's last deployment failed (Failed)")
def _deployment_failed(world: World) -> None:
    _uat_integrated(world)
    world.lcs_environments[UAT.environment_id].deployment_status = "Failed"


@scenario(
    "old-version",
    "like happy, but contoso-uat runs 10.0.8 on Platform update 32, below dual-write's documented minimum "
    "(10.0.9 / Platform update 33)",
)
def _old_version(world: World) -> None:
    _uat_integrated(world)
    uat = world.lcs_environments[UAT.environment_id]
    uat.application_release = "10.0.8"
    uat.application_version = "10.0.383.20"
    uat.platform_release = "Update32"
    uat.platform_version = "7.0.5493.35"
    uat.topology = "Standard Acceptance Test (10.0.8 with Platform update 32)"


@scenario(
    "dataverse-not-ready",
    "like happy, but [I] BAP says contoso-uat's Dataverse is not Ready (instanceState NotReady)",
)
def _dataverse_not_ready(world: World) -> None:
    _uat_integrated(world).instance_state = "NotReady"


OTHER_TENANT = "0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a"


@scenario(
    "tenant-mismatch",
    "like happy, but contoso-uat's Dataverse says it is integrated from another tenant "
    "(RetrieveFinanceAndOperationsIntegrationDetails TenantId): dual-write does not link across tenants",
)
def _tenant_mismatch(world: World) -> None:
    _uat_integrated(world).tenant_id = OTHER_TENANT


@scenario(
    "packages-broken",
    "like happy, but the package list says the Dual-write Application Core failed to install "
    "(InstallFailed) and Dual-write Notes is installed without Dual-write Finance, which it needs",
)
def _packages_broken(world: World) -> None:
    org = _uat_integrated(world, (*INTEGRATED, catalogue.NOTES))
    core = org.packages[catalogue.APP_CORE]
    core.state = "InstallFailed"
    core.error = dict(DEFAULT_FAILURE)


@scenario(
    "link-failed",
    "dual-write installed; [I] the gateway lists the last link request as failed with DW9003 (cannot "
    "connect to CRM)",
)
def _link_failed(world: World) -> None:
    _uat_integrated(world, APPLICATION)
    _link(world, UAT, "contosouat")
    link = world.connection_set_for(UAT.environment_id)
    assert link is not None
    request_id = ids.derived_guid("link-request", UAT.environment_id, "failed")
    world.operations[request_id] = Operation(
        operation_id=request_id,
        kind="link",
        started=world.now(),
        duration=0.0,
        outcome="Failed",
        detail={
            "lcs_id": UAT.environment_id,
            "bap_id": link.bap_id,
            "cid": link.cid,
            "cname": link.cname,
            "legal_entities": list(link.legal_entities),
            "failure": "CRM",
            "ends_at": 1.0,
            "created_iso": "2026-03-14T09:30:00.0000000Z",
        },
    )
    link.link_request = request_id


@scenario(
    "no-gateway-host",
    "like happy, but the profile the simulator writes names no dual-write gateway (dualwrite_gateway_url "
    "empty), as a real profile does until someone finds the host",
)
def _no_gateway_host(world: World) -> None:
    _uat_integrated(world)
    world.gateway_in_profile = False
