"""The dual-write packages as the Power Platform API names them, their dependencies, and install plans.

Sources (public):
- "Separated Dual-write Application Orchestration package", MicrosoftDocs/dynamics-365-unified-
  operations-public, articles/fin-ops-core/dev-itpro/data-entities/dual-write/separated-solutions.md
  (SEP): the packages since 2021 and what each depends on.
- The Power Platform templates article, MicrosoftDocs/power-platform, power-platform/admin/unified-
  experience/unified-environment-types-and-templates.md (TPL): `DualWriteCoreAnchor` is "Dual-write
  core solution" and `msdyn_DualWriteAppCoreAnchor` "Dual-write Application Core Solutions"; the
  Power Platform Integration article (enable-power-platform-integration.md, 02/2023) says the
  Dynamics 365 Standard template installs DualWriteCoreAnchor (platform-level components) and only
  "Standard with dual-write" adds the application core.
- The unique names are the packages' anchor solutions, as a tenant's package catalogue lists them:
  microsoft/terraform-provider-power-platform @57ba091, internal/services/application/tests/
  datasource/tenant_application_packages/Validate_Read/get_tenant_applications.json (TF catalogue).

Unique names are compared without regard to case: the articles write `MsDyn_DualWriteAppCoreAnchor`
where the catalogue writes `msdyn_DualWriteAppCoreAnchor`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dwtui.domain.models import ApplicationPackage, PackageState


@dataclass(frozen=True, slots=True)
class DualWritePackage:
    key: str  # a short name for `dwtui setup --package`
    unique_name: str  # the Power Platform API's uniqueName (the anchor solution)
    title: str  # as the separated-packages article names it
    requires: tuple[str, ...] = ()  # keys, installed first
    application: bool = False  # part of "the dual-write application" (the LCS button's plan)


CORE = "core"
APP_CORE = "app-core"

# In dependency order (every package after those it requires).
CATALOGUE: tuple[DualWritePackage, ...] = (
    # Platform level: Power Platform Integration's templates install it (TPL; PPI). [I] That it must
    # be in place before the application core is inferred from the templates, which add the
    # application core on top of it; SEP lists no package dependency for the application core.
    DualWritePackage(CORE, "DualWriteCoreAnchor", "Dual-write core solution", application=True),
    # SEP: "The Dual-write Application Core package has no dependency on other packages."
    DualWritePackage(
        APP_CORE, "msdyn_DualWriteAppCoreAnchor", "Dual-write Application Core", (CORE,), application=True
    ),
    # SEP: "depends on the Dual-write Application Core package".
    DualWritePackage("finance", "msdyn_Dynamics365FinanceExtendedAnchor", "Dual-write Finance", (APP_CORE,)),
    # SEP names "Dynamics 365 HR Common Tables" as a package the HR package depends on; its own
    # dependencies are not stated.
    DualWritePackage("hr-common", "HCMCommonAnchor", "Dynamics 365 HR Common Tables"),
    # SEP: depends on the Application Core and the HR Common Tables packages.
    DualWritePackage(
        "hr", "msdyn_Dynamics365HCMAnchor", "Dual-write Human Resources", (APP_CORE, "hr-common")
    ),
    # SEP says "the following three packages" and lists four: Application Core, Finance, Human
    # Resources, HR Common Tables. All four are required here.
    DualWritePackage(
        "supply-chain",
        "msdyn_Dynamics365SupplyChainExtendedAnchor",
        "Dual-write Supply Chain",
        (APP_CORE, "finance", "hr", "hr-common"),
    ),
    # SEP: Application Core and Finance.
    DualWritePackage("notes", "msdyn_Dynamics365NotesAnchor", "Dual-write Notes", (APP_CORE, "finance")),
    # SEP: Application Core.
    DualWritePackage(
        "asset-management",
        "msdyn_DualWriteAssetManagementAnchor",
        "Dual-write Asset Management",
        (APP_CORE,),
    ),
    # SEP: Application Core, Finance and Supply Chain.
    DualWritePackage(
        "party-gab",
        "Dynamics365GABParty_Anchor",
        "Dual-write Party and global address book",
        (APP_CORE, "finance", "supply-chain"),
    ),
)
BY_KEY: dict[str, DualWritePackage] = {package.key: package for package in CATALOGUE}
APPLICATION_KEYS: tuple[str, ...] = tuple(package.key for package in CATALOGUE if package.application)


class PackageProblem(ValueError):
    """A plan that cannot be made: an unknown name, or a package the environment does not list."""


def by_name(name: str) -> DualWritePackage:
    """A package by its key (finance), unique name (msdyn_Dynamics365FinanceExtendedAnchor) or title."""
    wanted = name.strip().lower()
    for package in CATALOGUE:
        if wanted in (package.key, package.unique_name.lower(), package.title.lower()):
            return package
    known = ", ".join(package.key for package in CATALOGUE)
    raise PackageProblem(f"no dual-write package is called '{name.strip()}'; the packages are: {known}")


def with_dependencies(keys: set[str] | tuple[str, ...]) -> set[str]:
    """The keys and everything they need, transitively."""
    wanted: set[str] = set()
    pending = list(keys)
    while pending:
        key = pending.pop()
        if key in wanted:
            continue
        wanted.add(key)
        pending.extend(BY_KEY[key].requires)
    return wanted


def dependents(key: str) -> set[str]:
    """Every package that needs `key`, transitively (what unticking it unticks)."""
    found: set[str] = set()
    for package in CATALOGUE:
        if package.key != key and key in with_dependencies((package.key,)):
            found.add(package.key)
    return found


class Installed(StrEnum):
    """A catalogue package's state in one environment, as the package list says."""

    INSTALLED = "installed"
    NOT_INSTALLED = "not installed"
    FAILED = "failed"
    INSTALLING = "installing"
    NOT_LISTED = "not listed"
    UNKNOWN = "unknown"


_FROM_LIST = {
    PackageState.INSTALLED: Installed.INSTALLED,
    PackageState.NOT_INSTALLED: Installed.NOT_INSTALLED,
    PackageState.INSTALL_FAILED: Installed.FAILED,
    PackageState.INSTALLING: Installed.INSTALLING,
}


@dataclass(frozen=True, slots=True)
class PackageStatus:
    package: DualWritePackage
    state: Installed
    version: str = ""  # the installed version; the listing's offer is not a fact until installed
    error: str = ""  # errorDetails, when the list carries them
    listed: ApplicationPackage | None = None


def find(packages: tuple[ApplicationPackage, ...], unique_name: str) -> ApplicationPackage | None:
    wanted = unique_name.lower()
    return next((p for p in packages if p.unique_name.lower() == wanted), None)


def statuses(packages: tuple[ApplicationPackage, ...]) -> tuple[PackageStatus, ...]:
    """Every catalogue package with its state in this environment's package list."""
    result = []
    for package in CATALOGUE:
        listed = find(packages, package.unique_name)
        if listed is None:
            result.append(PackageStatus(package, Installed.NOT_LISTED))
            continue
        state = _FROM_LIST.get(listed.state, Installed.UNKNOWN)
        version = listed.version if state is Installed.INSTALLED else ""
        result.append(PackageStatus(package, state, version, listed.error, listed))
    return tuple(result)


def install_plan(
    packages: tuple[ApplicationPackage, ...], wanted: set[str] | tuple[str, ...] = APPLICATION_KEYS
) -> tuple[PackageStatus, ...]:
    """What to install, in dependency order, for `wanted` (keys) and what they need.

    Installed packages are left out; a failed one is installed again. A package that is being
    installed, or that the environment does not list, stops the plan (PackageProblem).
    """
    needed = with_dependencies(tuple(wanted))
    plan = []
    for status in statuses(packages):
        if status.package.key not in needed or status.state is Installed.INSTALLED:
            continue
        if status.state is Installed.NOT_LISTED:
            raise PackageProblem(
                f"{status.package.title} ({status.package.unique_name}) is not in this environment's "
                "package list, so it cannot be installed here"
            )
        if status.state is Installed.INSTALLING:
            raise PackageProblem(f"{status.package.title} is being installed; wait until it ends")
        if status.state is Installed.UNKNOWN:
            raise PackageProblem(f"{status.package.title} is in a state this version does not know; refresh")
        plan.append(status)
    return tuple(plan)
