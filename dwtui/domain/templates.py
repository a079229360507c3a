"""The finance and operations templates for a Power Platform environment's Dataverse.

Source: "Power Platform environment types and templates" (MicrosoftDocs/power-platform,
power-platform/admin/unified-experience/unified-environment-types-and-templates.md): template IDs by
the licence they need. Each installs the dual-write core solution and the Dual-write Application
Core Solutions among its applications.
"""

from __future__ import annotations

TEMPLATES: dict[str, str] = {
    "D365_FinOps_Finance": "Finance",
    "D365_FinOps_SCM": "Supply Chain Management",
    "D365_FinOps_ProjOps": "Project Operations Integrated",
    "D365_FinOps_Commerce": "Commerce (available for trials only)",
}
DEFAULT_TEMPLATE = "D365_FinOps_Finance"
