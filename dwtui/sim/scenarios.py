"""Scenarios: the base world every scenario shares, and what each one changes about contoso-uat.

Later issues register more (dw9003-crm, flaky, maps-running, ...) with `@scenario(...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from dwtui.sim import ids
from dwtui.sim.chaos import Chaos
from dwtui.sim.directory import OrgDirectory, new_directory
from dwtui.sim.world import (
    ConnectionSetRecord,
    LcsEnvironmentRecord,
    LcsThrottle,
    PackageRecord,
    PowerPlatformRecord,
    World,
)

DUAL_WRITE_PACKAGE = "DualWriteCoreAnchor"


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


def _packages(dual_write_state: str) -> dict[str, PackageRecord]:
    packages = [
        PackageRecord(
            unique_name=DUAL_WRITE_PACKAGE,
            application_name="Dual-write core solution",
            version="1.0.24091.2",
            package_id="7523d261-f1be-46e7-8e68-f3de16eeabbb",
            application_id="4d41b7c3-0fd2-4a5c-9e8b-61a4c1f0a2d7",
            state=dual_write_state,
        ),
        PackageRecord(
            unique_name="msdyn_FinanceAndOperationsVirtualEntityAnchor",
            application_name="Finance and Operations Virtual Entity",
            version="1.0.0.41",
            package_id="f0c3b8a2-6d1e-4b7a-9c5f-2e8d1a0b3c4e",
            application_id="c6e2a9d4-8b3f-4e1a-a7d5-9f0b2c4e6a81",
            state="Installed",
        ),
        PackageRecord(
            unique_name="msdyn_PowerAppsChecker",
            application_name="Power Apps Checker",
            version="2.0.0.12",
            package_id="2b9e4d7a-1c3f-4a6b-8d2e-5f7a9c1b3d5e",
            application_id="8a1d3f5b-7c9e-4b2a-b4d6-0e2f4a6c8e13",
            state="None",
        ),
    ]
    return {p.unique_name: p for p in packages}


def _org(world: World, unique_name: str, display_name: str, sku: str, dual_write_state: str = "None") -> None:
    record = PowerPlatformRecord(
        bap_id=ids.derived_guid("bap", unique_name),
        display_name=display_name,
        unique_name=unique_name,
        organization_id=ids.derived_guid("org", unique_name),
        sku=sku,
        packages=_packages(dual_write_state),
    )
    world.power_platform[record.bap_id] = record


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
    _org(world, "contosodefault", "Contoso (default)", "Default")
    _org(world, "contosoprod", "contoso-prod", "Production", dual_write_state="Installed")
    _integrate(world, PROD, "contosoprod")
    _link(world, PROD, "contosoprod")
    _org(world, "contosodev", "contoso-dev", "Sandbox")
    _integrate(world, DEV, "contosodev")


def _uat_integrated(world: World, dual_write_state: str = "None") -> None:
    _org(world, "contosouat", "contoso-uat", "Sandbox", dual_write_state=dual_write_state)
    _integrate(world, UAT, "contosouat")


@scenario("happy", "Power Platform Integration set up; dual-write application not installed; not linked")
def _happy(world: World) -> None:
    _uat_integrated(world)


@scenario("installed", "dual-write application installed; not linked")
def _installed(world: World) -> None:
    _uat_integrated(world, "Installed")


@scenario("linked", "dual-write installed and linked to the Dataverse Power Platform Integration names")
def _linked(world: World) -> None:
    _uat_integrated(world, "Installed")
    _link(world, UAT, "contosouat")


@scenario("not-integrated", "no Power Platform Integration: Dataverse answers 0x80048d0b; not linked")
def _not_integrated(world: World) -> None:
    _org(world, "contosouatdv", "contoso-uat-dv", "Sandbox")


@scenario("mismatch", "Power Platform Integration names contoso-uat; dual-write is linked to contoso-uat-old")
def _mismatch(world: World) -> None:
    _uat_integrated(world, "Installed")
    _org(world, "contosouatold", "contoso-uat-old", "Sandbox", dual_write_state="Installed")
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
    _uat_integrated(world, "Installed")
    world.link_failure = "CRM"


@scenario("link-dw9003-ax", "dual-write installed; linking fails with DW9003 (cannot connect to AX)")
def _link_dw9003_ax(world: World) -> None:
    _uat_integrated(world, "Installed")
    world.link_failure = "AX"


@scenario("dw9003-crm", "like happy; installing the dual-write application fails with DW9003 (CRM)")
def _dw9003_crm(world: World) -> None:
    _uat_integrated(world)
    world.install_failure = "CRM"


@scenario("dw9003-ax", "like happy; installing the dual-write application fails with DW9003 (AX)")
def _dw9003_ax(world: World) -> None:
    _uat_integrated(world)
    world.install_failure = "AX"


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
