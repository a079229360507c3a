"""The dual-write management gateway, honestly: where its host comes from and which calls are unverified.

The gateway (resource https://IntegratorApp.com) serves link state, table maps and reset to
Microsoft's public Dual-write automations tool (microsoft/Dual-write-automations @f14edd6). Its host
is not computed from anything documented: that tool opens the Data Integrator page
(DWLibary/GlobalVar.cs: https://dataintegrator.trafficmanager.net; DWLibary/EdgeUniversal.cs:
`dualWrite?axenv={finance and operations host}`) in a browser and takes the scheme and host of the
first request the page makes to a `projectmanagementservice` URL containing "Version"
(EdgeUniversal.cs processGateWayURL). dwtui cannot run that page, so the host is a profile setting.

Reading the link (Environments, ConnectionSet), the table maps (Entities) and Reset are calls that
tool makes. Creating a link and following its progress are not: no public source shows them, and
Microsoft's documented way to link is the wizard in finance and operations (link-your-environment.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

DATA_INTEGRATOR = "https://dataintegrator.trafficmanager.net"
SETTING = "dualwrite_gateway_url"
DWA_SOURCE = "https://github.com/microsoft/Dual-write-automations (DWLibary/EdgeUniversal.cs)"
LINK_UNVERIFIED = (
    "unverified: no public source shows the gateway's link request or its status; dwtui sends them as "
    "it infers them"
)
LINK_WIZARD_DOC = (
    "https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/dual-write/"
    "link-your-environment"
)


def fo_host(fo_url: str) -> str:
    text = fo_url.strip()
    return (urlsplit(text if "://" in text else f"https://{text}").hostname or "").lower()


def discovery_url(fo_url: str) -> str:
    """The Data Integrator page whose requests name the gateway for this environment (DWA)."""
    return f"{DATA_INTEGRATOR}/dualWrite?axenv={quote(fo_host(fo_url), safe='')}"


def candidate_host(cluster_uri_suffix: str) -> str:
    """[I] A guess, never used without the person: the gateway in DWA's example
    (projectmanagementservice.weu-il107.gateway.prod.island.powerapps.com) has the shape of the Power
    Platform environment's cluster.uriSuffix (e.g. eu-il107.gateway.prod.island) under powerapps.com.
    Which environment's cluster the gateway follows is not known."""
    suffix = cluster_uri_suffix.strip().strip(".")
    return f"https://projectmanagementservice.{suffix}.powerapps.com" if suffix else ""


def how_to_find(fo_url: str, cluster_uri_suffix: str = "") -> str:
    """What a person does to set the gateway host, in the words the pane and the CLI show."""
    lines = [
        f"Link state, the linking mismatch and reset need the dual-write gateway's host in the profile "
        f"({SETTING}); no documented way computes it.",
        f"To find it: in a browser signed in as the admin, open {discovery_url(fo_url)} with the "
        "developer tools' Network tab open, find the request to a projectmanagementservice... address "
        "whose URL contains 'Version', and put its scheme and host in the profile, e.g. "
        "https://projectmanagementservice.weu-il107.gateway.prod.island.powerapps.com "
        "(as Microsoft's Dual-write automations tool finds it).",
    ]
    candidate = candidate_host(cluster_uri_suffix)
    if candidate:
        lines.append(f"A guess from this environment's cluster (inferred, not verified): {candidate}")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class LinkWizard:
    """Microsoft's documented way to link: the dual-write wizard in finance and operations."""

    url: str
    steps: tuple[str, ...]
    doc: str = LINK_WIZARD_DOC


def link_wizard(fo_url: str) -> LinkWizard | None:
    """link-your-environment.md: sign in, Data management > Dual Write, New link to environment."""
    host = fo_host(fo_url)
    if not host:
        return None
    return LinkWizard(
        f"https://{host}/",
        (
            "Sign in to this finance and operations environment.",
            "Go to Workspaces > Data management, and select the Dual Write tile.",
            "Select New link to environment, choose the Dataverse environment, then the legal entities.",
            "After the health check, review the summary and select Create.",
        ),
    )


def is_loopback(url: str) -> bool:
    """A gateway on this machine is the simulator: a real gateway is never on loopback."""
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")
