"""Every documented error dwtui can meet: code -> what it means -> the documented remedy.

Sources are Microsoft's dual-write and Power Platform docs, as collected in
shared/reference/peers-and-errors.md; `doc` is the page a person can open for the full text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dwtui.domain.models import Fault

_DW = "https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/dual-write/"


@dataclass(frozen=True, slots=True)
class Explanation:
    code: str
    meaning: str
    remedy: str
    doc: str = ""


@dataclass(frozen=True, slots=True)
class _Entry:
    code: str
    pattern: str  # a regular expression matched against the message when the code alone is ambiguous
    meaning: str
    remedy: str
    doc: str


_CATALOGUE: tuple[_Entry, ...] = (
    _Entry(
        "DW9003",
        r"connect to CRM",
        "Dual-write could not reach Dataverse: the service principal lacks permissions on CRM.",
        "Set up the dual-write application users in Dataverse with the required roles "
        "(System requirements and prerequisites), then retry.",
        _DW + "requirements-and-prerequisites",
    ),
    _Entry(
        "DW9003",
        r"connect to AX",
        "Dual-write could not reach finance and operations: the service principal lacks permissions on AX.",
        "Add the dual-write apps to Microsoft Entra ID applications in finance and operations, mapped "
        "to an enabled user (System requirements and prerequisites), then retry.",
        _DW + "requirements-and-prerequisites",
    ),
    _Entry(
        "DW9003",
        r"",
        "The application users created for dual-write don't have the permissions they need.",
        "Configure the application users as described in System requirements and prerequisites.",
        _DW + "requirements-and-prerequisites",
    ),
    _Entry(
        "0x80072560",
        r"",
        "The user is not a member of the organization: Dataverse has no application user for this "
        "identity (a soft-deleted one does not count).",
        "Create the application user in the root business unit with a role such as System "
        "Administrator; on a one-box VM also enable the DualWriteUnoAuthenticationFnoToCds flight "
        "and restart the AOS (press o).",
        _DW + "dual-write-troubleshooting-live-sync",
    ),
    _Entry(
        "0x80040220",
        r"has not been assigned any roles",
        "The user (an application user, here) has no security role, so Dataverse refuses every "
        "privileged call; WhoAmI still answers for it (microsoft/coe-starter-kit#678; the code with "
        "this message is inferred).",
        "Give the application user a role such as System Administrator (on a one-box: press o, step 1, "
        "Create adds only the missing role), then try again.",
        "https://github.com/microsoft/coe-starter-kit/issues/678",
    ),
    _Entry(
        "0x80040220",
        r"",
        "The user or team is missing a privilege this call needs (Principal user is missing privilege).",
        "Add the missing privilege to one of the user's or team's security roles, then try again.",
        "https://learn.microsoft.com/troubleshoot/power-platform/dataverse/user-permissions/client-errors",
    ),
    _Entry(
        "0x80048d0b",
        r"",
        "This Dataverse instance isn't integrated with finance and operations.",
        "Set up Power Platform Integration for the environment in LCS (Environment details > Power "
        "Platform Integration > Setup), then refresh.",
        "https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/power-platform/"
        "enable-power-platform-integration",
    ),
    _Entry(
        "MISMATCH",
        r"",
        "Dual-write is linked to a different Dataverse than Power Platform Integration names.",
        "If Power Platform Integration was never set up, connect it to the Dataverse dual-write uses; "
        "otherwise reset the dual-write connection (press R).",
        _DW + "lcs-setup#linking-mismatch",
    ),
    _Entry(
        "DualWriteMapsRunning",
        r"",
        "Dual-write maps are still running, and a reset needs every map stopped.",
        "Stop all dual-write maps in Workspaces > Data management > Dual Write, or reset with Force "
        "Reset (dwtui reset --force), which stops them.",
        _DW + "reset",
    ),
    _Entry(
        "PowerPlatformIntegrationNotSetUp",
        r"",
        "Power Platform integration is blank for this environment, so a reset has no Dataverse to "
        "restore the connection to.",
        "Set up Power Platform integration for the environment with the Dataverse dual-write uses, "
        "then reset again.",
        _DW + "reset",
    ),
    _Entry(
        "DWDVEV1001",
        r"",
        "The Dataverse API connection for dual-write is missing.",
        "Reset the dual-write connections.",
        _DW + "configuration-health-check",
    ),
    _Entry(
        "DWFOEV1001",
        r"",
        "The finance and operations API connection for dual-write is missing.",
        "Reset the dual-write connections.",
        _DW + "configuration-health-check",
    ),
    _Entry(
        "DWDVEV1003",
        r"",
        "The companies linked in Dataverse don't match the dual-write configuration.",
        "Remove the mismatched companies, or reset the dual-write connections.",
        _DW + "configuration-health-check",
    ),
    _Entry(
        "DWFOEV1003",
        r"",
        "The companies linked in finance and operations don't match the dual-write configuration.",
        "Remove the mismatched companies, or reset the dual-write connections.",
        _DW + "configuration-health-check",
    ),
    _Entry(
        "DWDVEV1004",
        r"",
        "Stale dual-write configuration in Dataverse.",
        "Clean it up as the live-sync troubleshooting page describes ('recently changed Dataverse').",
        _DW + "dual-write-troubleshooting-live-sync",
    ),
    _Entry(
        "DWFOEV1004",
        r"",
        "Stale dual-write configuration in finance and operations.",
        "Clean it up as the live-sync troubleshooting page describes ('recently changed Dataverse').",
        _DW + "dual-write-troubleshooting-live-sync",
    ),
    _Entry(
        "DWFOEV1006",
        r"",
        "The default team name doesn't match the root business unit's default team.",
        "Reset the dual-write connections, or open a support ticket giving the root BU default team.",
        _DW + "configuration-health-check",
    ),
    _Entry(
        "DWDVEV1007",
        r"",
        "A company has no default owning team.",
        "Set Default owning team on the Company table and give that team a security role.",
        _DW + "configuration-health-check",
    ),
    _Entry(
        "invalid_client",
        r"",
        "Microsoft Entra ID rejected the application's credentials (wrong or expired client secret "
        "or certificate).",
        "Check the client id, and store a current secret or certificate for the profile "
        "(dwtui stores it in the OS keyring).",
        "https://learn.microsoft.com/entra/identity-platform/reference-error-codes",
    ),
    _Entry(
        "expired_token",
        r"",
        "The device code expired before sign-in was finished.",
        "Start sign-in again and enter the new code within its time limit.",
        "https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code",
    ),
    _Entry(
        "authorization_declined",
        r"",
        "The sign-in was declined on the other device.",
        "Start sign-in again and approve it.",
        "https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code",
    ),
    _Entry(
        "HTTP 429",
        r"",
        "The service is throttling requests (LCS allows 6 calls per project per minute).",
        "dwtui waits as long as the service asks (Retry-After) and tries again; "
        "wait a minute if it persists.",
        "https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/lifecycle-services/api/v1/"
        "reference-environment-metadata",
    ),
    _Entry(
        "HTTP 401",
        r"",
        "The service did not accept the sign-in token.",
        "Sign in again (dwtui signs in silently when it can). The LCS API accepts only a person's "
        "sign-in (device code), not an application.",
        "",
    ),
    _Entry(
        "HTTP 403",
        r"",
        "The signed-in identity is not allowed to do this.",
        "LCS needs a Project Owner or Environment Administrator; Power Platform calls need a Power "
        "Platform or Dynamics 365 admin; dual-write needs a system administrator in both apps.",
        "",
    ),
    _Entry(
        "HTTP 404",
        r"",
        "The service does not know this item (environment, project or connection set).",
        "Check the ids in the profile (dwtui profiles) and that the signed-in user can see them.",
        "",
    ),
    _Entry(
        "HTTP 500",
        r"",
        "The service had an internal error answering this request.",
        "dwtui does not repeat a request after an internal error (it may not be safe to); press r or "
        "run the command again, and if it persists the service's status page or support can tell more.",
        "",
    ),
    _Entry(
        "HTTP 5xx",
        r"",
        "The service is unavailable or its gateway timed out.",
        "dwtui retried safe requests already; try again in a few minutes.",
        "",
    ),
    _Entry(
        "timeout",
        r"",
        "The service did not answer in time.",
        "Check the network path from this machine (proxy, VPN); dwtui retried safe requests already.",
        "",
    ),
    _Entry(
        "tls",
        r"",
        "The service's TLS certificate could not be verified.",
        "If your network inspects TLS, set ca_bundle in the profile to your organisation's CA file. "
        "dwtui never turns verification off.",
        "",
    ),
    _Entry(
        "malformed",
        r"",
        "The service answered with something that is not the JSON it documents.",
        "Try again; if it persists, a proxy may be rewriting the answer.",
        "",
    ),
)


def _http_family(code: str) -> str:
    match = re.fullmatch(r"HTTP (\d)(\d\d)", code)
    if match and match.group(1) == "5":
        return "HTTP 5xx"
    return code


def explain(fault: Fault) -> Explanation:
    """The documented meaning and remedy of a fault, falling back to its HTTP status family."""
    candidates = [fault.code, _http_family(fault.code)]
    if fault.http_status is not None:
        candidates.append(_http_family(f"HTTP {fault.http_status}"))
    for code in candidates:
        if not code:
            continue
        for entry in _CATALOGUE:
            if entry.code.lower() == code.lower() and (
                not entry.pattern or re.search(entry.pattern, fault.message, re.IGNORECASE)
            ):
                return Explanation(fault.code or code, entry.meaning, entry.remedy, entry.doc)
    return Explanation(
        fault.code or "error", fault.message, "Try again; if it persists, see the Activity pane."
    )


def lookup(code: str, message: str = "") -> Explanation | None:
    """Offline look-up of a code a person pasted (e.g. from a portal message)."""
    found = explain(Fault(service="", message=message, code=code.strip()))
    return found if found.code != "error" and found.meaning != message else None


def known_codes() -> tuple[str, ...]:
    return tuple(dict.fromkeys(entry.code for entry in _CATALOGUE))
