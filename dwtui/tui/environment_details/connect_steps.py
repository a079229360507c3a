"""The remedy of a linking mismatch when Power Platform Integration was never set up.

No public API connects an LCS environment's Power Platform Integration to an existing Dataverse,
so dwtui gives the documented steps and where to take them.
"""

from __future__ import annotations

LCS_URL = "https://lcs.dynamics.com"
CONNECT_EXISTING_DOC = (
    "https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/power-platform/"
    "environment-lifecycle-connect-finops-existing-dv"
)


def connect_steps(dual_write_dataverse_url: str) -> str:
    """Steps to connect the integration to the Dataverse dual-write already uses (done in LCS)."""
    return "\n".join(
        (
            "Steps (in LCS; no public API does this):",
            f"1. Open {LCS_URL}, the project, and this environment's Environment details page.",
            "2. In Power Platform Integration, select Setup and connect to an existing Dataverse",
            f"   environment: the one dual-write uses, {dual_write_dataverse_url}.",
            "3. When the setup is complete, press r here: the warning clears once both agree.",
            f"Guide: {CONNECT_EXISTING_DOC}",
        )
    )
