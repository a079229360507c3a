"""The packages a simulated environment lists, with the names and ids a real tenant's catalogue shows.

Names and application ids: microsoft/terraform-provider-power-platform @57ba091, internal/services/
application/tests/datasource/tenant_application_packages/Validate_Read/get_tenant_applications.json
(a captured catalogue answer). Dependencies: "Separated Dual-write Application Orchestration
package" (MicrosoftDocs/dynamics-365-unified-operations-public, articles/fin-ops-core/dev-itpro/
data-entities/dual-write/separated-solutions.md). Versions and package ids are the simulator's own.
The simulator keeps its own copy (it imports nothing from the rest of dwtui).
"""

from __future__ import annotations

from dataclasses import dataclass

from dwtui.sim import ids
from dwtui.sim.world import PackageRecord

CORE = "DualWriteCoreAnchor"
APP_CORE = "msdyn_DualWriteAppCoreAnchor"
FINANCE = "msdyn_Dynamics365FinanceExtendedAnchor"
HR_COMMON = "HCMCommonAnchor"
HR = "msdyn_Dynamics365HCMAnchor"
SUPPLY_CHAIN = "msdyn_Dynamics365SupplyChainExtendedAnchor"
NOTES = "msdyn_Dynamics365NotesAnchor"
ASSET_MANAGEMENT = "msdyn_DualWriteAssetManagementAnchor"
PARTY_GAB = "Dynamics365GABParty_Anchor"


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    unique_name: str
    application_name: str  # applicationName
    localized_name: str  # localizedName
    application_id: str  # applicationId
    version: str
    requires: tuple[str, ...] = ()  # unique names


DUAL_WRITE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        CORE,
        "Dual-write core solution",
        "Anchor solution for Dual Write Core",
        "7df1a324-fbb1-4a4e-9c9a-d5d9c7c6403b",
        "1.0.24091.2",
    ),
    CatalogueEntry(
        APP_CORE,
        "Dual-write Application Core Solutions",
        "Dual-write applications core anchor",
        "efae886e-3e7f-48de-8a80-4fe9a263ad6b",
        "1.0.24104.1",
        (CORE,),  # [I] core first, as the templates install it (SEP lists no package dependency)
    ),
    CatalogueEntry(
        FINANCE,
        "Dual Write Finance and Extended Solutions",
        "Dynamics 365 Finance extended anchor",
        "963e8d20-5896-4c02-b196-fb36f62ad90e",
        "1.0.24104.3",
        (APP_CORE,),
    ),
    CatalogueEntry(
        HR_COMMON,
        "Dynamics 365 HR Common Tables",
        "HCMCommon Anchor Solution",
        "0cfd9958-798a-4bc9-88bf-af797ff30326",
        "1.0.24090.2",
    ),
    CatalogueEntry(
        HR,
        "Dual-write Dynamics 365 Human Resources",
        "Dynamics 365 Human Resources anchor",
        "b40ad077-54f0-44f5-9891-e9575daca12f",
        "1.0.24104.2",
        (APP_CORE, HR_COMMON),
    ),
    CatalogueEntry(
        SUPPLY_CHAIN,
        "Dual Write Supply Chain Extended Solution",
        "Dynamics 365 Supply Chain Management extended anchor",
        "7810afcb-8b5e-41bb-aa65-9edf676e8327",
        "1.0.24104.4",
        (APP_CORE, FINANCE, HR, HR_COMMON),
    ),
    CatalogueEntry(
        NOTES,
        "Dual Write Notes Solution",
        "Dynamics 365 notes anchor",
        "4a0fdb12-e2c2-4589-9754-3ea7d288e8b3",
        "1.0.24090.5",
        (APP_CORE, FINANCE),
    ),
    CatalogueEntry(
        ASSET_MANAGEMENT,
        "Dual-Write Asset Management Solutions",
        "Dynamics 365 Asset Management anchor",
        "ee318198-9486-43c9-a6ba-6e506c3078e2",
        "1.0.24090.7",
        (APP_CORE,),
    ),
    CatalogueEntry(
        PARTY_GAB,
        "Dual-write Party and Global Address Book Solutions",
        "Dynamics 365 GAB and Party",
        "8e3e4454-ede0-4343-8b39-3225f221c0ba",
        "1.0.24095.1",
        (APP_CORE, FINANCE, SUPPLY_CHAIN),
    ),
)
# Other packages an integrated environment lists (installed by Power Platform Integration's
# "Dynamics 365 Standard" template: MicrosoftOperationsVEAnchor, DualWriteCoreAnchor, the CRM hub).
OTHERS: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        "MicrosoftOperationsVEAnchor",
        "Finance and Operations Virtual Entity",
        "Microsoft Operations VE Anchor",
        "46d46000-039a-4386-8024-177e9a2af26b",
        "1.0.0.41",
    ),
    CatalogueEntry(
        "msdynce_CRMHub",
        "Microsoft Dynamics 365 CRM Hub",
        "Crm Hub",
        "d462f359-b477-4ff2-9de1-7baab4488e75",
        "9.2.24101.1",
    ),
)
BY_NAME: dict[str, CatalogueEntry] = {entry.unique_name.lower(): entry for entry in (*DUAL_WRITE, *OTHERS)}
# What the "Dynamics 365 Standard" template installs (the core at platform level, no application).
STANDARD_TEMPLATE = ("MicrosoftOperationsVEAnchor", CORE, "msdynce_CRMHub")


def package_records(installed: tuple[str, ...] = STANDARD_TEMPLATE) -> dict[str, PackageRecord]:
    """Every catalogue package, `installed` ones Installed, the others None."""
    wanted = {name.lower() for name in installed}
    records = {}
    for entry in (*DUAL_WRITE, *OTHERS):
        records[entry.unique_name] = PackageRecord(
            unique_name=entry.unique_name,
            application_name=entry.application_name,
            version=entry.version,
            package_id=ids.derived_guid("package", entry.unique_name),
            application_id=entry.application_id,
            state="Installed" if entry.unique_name.lower() in wanted else "None",
            localized_name=entry.localized_name,
        )
    return records


def missing_dependencies(packages: dict[str, PackageRecord], unique_name: str) -> list[str]:
    """[I] The dependencies of `unique_name` that are not installed (the service's check is unknown)."""
    entry = BY_NAME.get(unique_name.lower())
    if entry is None:
        return []
    states = {name.lower(): record.state for name, record in packages.items()}
    return [name for name in entry.requires if states.get(name.lower()) != "Installed"]
