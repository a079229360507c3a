"""Many environments in several LCS projects, in every state the fleet view shows (the `fleet` scenario).

Each generated environment takes one of KINDS in turn, so every project holds a mix; its type and
F&O version vary on their own cycles. Everything is derived from the environment's name, so the
world is the same on every run. What no source shows is marked [I]: LCS's words for an environment
being serviced, and a package list that says "Installing" while an install runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from dwtui.sim import catalogue, ids
from dwtui.sim.world import (
    ConnectionSetRecord,
    LcsEnvironmentRecord,
    LcsThrottle,
    Operation,
    PowerPlatformRecord,
    World,
    iso_time,
)

# The world's own project (Contoso) comes first; the fleet adds two more.
PROJECTS: tuple[tuple[str, str], ...] = (
    ("", "contoso"),  # "" is World.project_id
    ("2345678", "fabrikam"),
    ("3456789", "northwind"),
)
KINDS = (
    "linked",  # the dual-write application installed and linked
    "core-only",  # Power Platform Integration's template only: the application is missing
    "not-integrated",  # no Power Platform environment names this environment
    "no-dataverse",  # a Power Platform environment without Dataverse
    "mismatch",  # linked to another Dataverse than Power Platform Integration names
    "failed",  # the Application Core's install failed
    "installing",  # the Application Core is being installed
    "linking",  # a link request runs
    "servicing",  # LCS is servicing the environment
    "all-packages",  # every dual-write package installed, and linked
    "adding-dataverse",  # Dataverse is being added to its Power Platform environment
    "deploy-failed",  # LCS says the deployment failed; nothing else is set up
)
_VERSIONS = (
    ("10.0.41", "10.0.2015.54", "Update65", "7.0.7367.49"),
    ("10.0.42", "10.0.2095.13", "Update66", "7.0.7398.31"),
    ("10.0.40", "10.0.1935.92", "Update64", "7.0.7279.58"),
    ("10.0.39", "10.0.1860.50", "Update63", "7.0.7198.43"),
)
APPLICATION = (*catalogue.STANDARD_TEMPLATE, catalogue.APP_CORE)
EVERY_PACKAGE = (*catalogue.STANDARD_TEMPLATE, *(entry.unique_name for entry in catalogue.DUAL_WRITE))
# Operations a scenario finds under way: long enough to still run while a sped-up test reads them.
_RUNNING_SECONDS = 30 * 60.0
_INSTALL_DONE_SECONDS = 10 * 60.0  # how far the running installs have got


@dataclass(frozen=True, slots=True)
class FleetEnvironment:
    record: LcsEnvironmentRecord
    kind: str


def _environment(world: World, project: str, name: str, index: int) -> LcsEnvironmentRecord:
    application_release, application_version, platform_release, platform_version = _VERSIONS[
        index % len(_VERSIONS)
    ]
    if index == 0:
        environment_type, topology, host = "Production", "Production", f"{name}.operations.dynamics.com"
    elif index % 7 == 3:
        # A cloud-hosted one-box: LCS's DevTestDev with an axcloud host (d365bap.tools' rule).
        environment_type, topology = "DevTestDev", "Finance and Operations - Develop"
        host = f"{name.replace('-', '')}.axcloud.dynamics.com"
    else:
        environment_type, topology = "Sandbox", "Standard Acceptance Test"
        host = f"{name}.sandbox.operations.dynamics.com"
    return LcsEnvironmentRecord(
        short=name,
        environment_id=ids.derived_guid("fleet-lcs", name).replace("-", ""),
        name=name,
        environment_type=environment_type,
        fo_url=f"https://{host}/",
        topology=topology,
        deployed_on_utc=f"{1 + index % 12}/{1 + index % 27}/2026 {1 + index % 11}:{index % 60:02d} AM",
        application_version=application_version,
        application_release=application_release,
        platform_release=platform_release,
        platform_version=platform_version,
        project_id=project,
    )


def _org(
    world: World, unique_name: str, display_name: str, installed: tuple[str, ...]
) -> PowerPlatformRecord:
    record = PowerPlatformRecord(
        bap_id=ids.derived_guid("bap", unique_name),
        display_name=display_name,
        unique_name=unique_name,
        organization_id=ids.derived_guid("org", unique_name),
        sku="Sandbox",
        packages=catalogue.package_records(installed),
    )
    world.power_platform[record.bap_id] = record
    return record


def _link(world: World, lcs: LcsEnvironmentRecord, org: PowerPlatformRecord, request: str = "") -> None:
    cname = f"{lcs.name}-{org.unique_name}".lower()
    world.connection_sets[cname] = ConnectionSetRecord(
        cid=ids.derived_guid("connectionset", cname),
        cname=cname,
        lcs_id=lcs.environment_id,
        bap_id=org.bap_id,
        link_request=request,
    )


def _running(world: World, kind: str, key: str, done: float, detail: dict[str, object]) -> str:
    """An operation that started `done` simulated seconds ago and runs for _RUNNING_SECONDS."""
    operation_id = ids.derived_guid(f"fleet-{kind}", key)
    world.operations[operation_id] = Operation(
        operation_id=operation_id,
        kind=kind,
        started=world.now() - world.scaled(done),
        duration=world.scaled(_RUNNING_SECONDS),
        detail=detail,
    )
    return operation_id


def _set_up(world: World, lcs: LcsEnvironmentRecord, kind: str) -> None:
    """Give one environment the Power Platform side its kind describes."""
    if kind in ("not-integrated", "deploy-failed"):
        return
    unique = lcs.name.replace("-", "")
    installed = {
        "linked": APPLICATION,
        "mismatch": APPLICATION,
        "all-packages": EVERY_PACKAGE,
        "linking": APPLICATION,
        "servicing": APPLICATION,
    }.get(kind, catalogue.STANDARD_TEMPLATE)
    org = _org(world, unique, lcs.name, installed)
    org.linked_lcs_id = lcs.environment_id
    if kind in ("no-dataverse", "adding-dataverse"):
        org.has_dataverse = False
        org.packages = {}
        if kind == "adding-dataverse":
            _running(world, "add-dataverse", unique, 60.0, {"bap_id": org.bap_id, "templates": []})
    elif kind in ("linked", "all-packages"):
        _link(world, lcs, org)
    elif kind == "mismatch":
        old = _org(world, f"{unique}old", f"{lcs.name}-old", APPLICATION)
        _link(world, lcs, old)
    elif kind == "failed":
        package = org.packages[catalogue.APP_CORE]
        package.state = "InstallFailed"
        package.error = {
            "errorCode": "-2147188707",
            "errorName": "SolutionImportFailed",
            "message": "The import of solution msdyn_DualWriteAppCoreMaps failed.",
            "source": "Dataverse",
            "statusCode": 500,
            "type": "PackageDeploymentException",
        }
    elif kind == "installing":
        # [I] The list says Installing while it runs (the world's list_installing_state).
        org.packages[catalogue.APP_CORE].state = "Installing"
        _running(
            world,
            "install",
            unique,
            _INSTALL_DONE_SECONDS,
            {
                "bap_id": org.bap_id,
                "package": catalogue.APP_CORE,
                "created": world.wall() - _INSTALL_DONE_SECONDS,
                "error": {},
            },
        )
    elif kind == "linking":
        cname = f"{lcs.name}-{org.unique_name}".lower()
        request = _running(
            world,
            "link",
            unique,
            30.0,
            {
                "lcs_id": lcs.environment_id,
                "bap_id": org.bap_id,
                "cid": ids.derived_guid("connectionset", cname),
                "cname": cname,
                "legal_entities": ["usmf"],
                "failure": "",
                "ends_at": 1.0,
                "created_iso": iso_time(world.wall() - 30.0),
            },
        )
        _link(world, lcs, org, request)


def populate(world: World, per_project: int = 20) -> list[FleetEnvironment]:
    """Fill every project of PROJECTS up to `per_project` environments; the ones made, with their kind.

    The world's own project already holds contoso-uat, -prod and -dev: they count.
    """
    made: list[FleetEnvironment] = []
    counter = 0
    for project, company in PROJECTS:
        existing = len(world.lcs_in_project(project or world.project_id))
        for index in range(existing, per_project):
            name = f"{company}-{index:03d}"
            record = _environment(world, project, name, index)
            kind = KINDS[counter % len(KINDS)]
            counter += 1
            if kind == "servicing":
                # [I] No source lists LCS's words for an environment being serviced.
                record.deployment_status, record.deployment_state = "Servicing", "InProgress"
            elif kind == "deploy-failed":
                record.deployment_status, record.deployment_state = "Failed", "Failed"
            world.lcs_environments[record.environment_id] = record
            _set_up(world, record, kind)
            made.append(FleetEnvironment(record, kind))
    world.list_installing_state = True
    # LCS's documented limit (reference-environment-metadata.md): 6 calls per project per minute.
    world.lcs_throttle = LcsThrottle(limit=6, window=world.scaled(60.0))
    return made
