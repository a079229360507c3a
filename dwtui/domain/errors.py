"""Every documented error dwtui can meet: code -> what it means -> the documented remedy.

Sources are Microsoft's dual-write, Power Platform, LCS and Entra ID docs (mostly as collected in
shared/reference/peers-and-errors.md); `doc` is the page a person can open for the full text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dwtui.domain.models import Fault

_DW = "https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/dual-write/"
# Who can grant tenant-wide admin consent for a delegated permission (grant-admin-consent.md).
ADMIN_CONSENT_ROLES = (
    "Privileged Role Administrator, Cloud Application Administrator or Application Administrator"
)


class Surface(StrEnum):
    """Where a remedy is shown: what a person can do there differs (a key, or a command)."""

    TUI = "tui"
    CLI = "cli"


# What a remedy asks a person to do in dwtui, as `[[name]]`, said the way of the surface showing it:
# the command line has no keys and no panes, the terminal UI has no commands to type.
_WAYS: dict[str, dict[Surface, str]] = {
    "onebox": {
        Surface.TUI: "press o",
        Surface.CLI: "`dwtui onebox app-user`, `dwtui onebox flight --run` and `dwtui onebox restart-aos`",
    },
    "onebox_role": {
        Surface.TUI: "press o, step 1, Create adds only the missing role",
        Surface.CLI: "`dwtui onebox app-user` adds only the missing role",
    },
    "reset": {Surface.TUI: "press R", Surface.CLI: "`dwtui reset`"},
    "force_reset": {
        Surface.TUI: "press R and tick Force reset",
        Surface.CLI: "`dwtui reset --force`",
    },
    "again": {Surface.TUI: "press r", Surface.CLI: "run the command again"},
    "install": {Surface.TUI: "press d", Surface.CLI: "run `dwtui setup`"},
    "choose_environment": {
        Surface.TUI: "pick one of them with e",
        Surface.CLI: "give --environment the name or id of one of them, or set the profile's "
        "environment_id to one of them",
    },
    "calls": {
        Surface.TUI: "see the Activity pane",
        Surface.CLI: "run it again with --trace FILE, which records every request and answer "
        "(secrets removed) to look at or attach to a report",
    },
}
_WAY = re.compile(r"\[\[(" + "|".join(_WAYS) + r")\]\]")  # only these: a service's text may hold brackets
FALLBACK_REMEDY = "Try again; if it persists, [[calls]]."


def said(text: str, surface: Surface) -> str:
    """`text` with each `[[way]]` in it said the way of `surface`."""
    return _WAY.sub(lambda match: _WAYS[match.group(1)][surface], text)


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
        "and restart the AOS ([[onebox]]).",
        _DW + "dual-write-troubleshooting-live-sync",
    ),
    _Entry(
        "0x80040220",
        r"has not been assigned any roles",
        "The user (an application user, here) has no security role, so Dataverse refuses every "
        "privileged call; WhoAmI still answers for it (microsoft/coe-starter-kit#678; the code with "
        "this message is inferred).",
        "Give the application user a role such as System Administrator (on a one-box: [[onebox_role]]), "
        "then try again.",
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
        "otherwise reset the dual-write connection ([[reset]]).",
        _DW + "lcs-setup#linking-mismatch",
    ),
    _Entry(
        "DualWriteMapsRunning",
        r"",
        "Dual-write maps are still running, and a reset needs every map stopped.",
        "Stop all dual-write maps in Workspaces > Data management > Dual Write, or reset with Force "
        "Reset ([[force_reset]]), which stops them.",
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
        "not_configured",
        r"",
        "No dual-write gateway host is set for this profile, so link state, the linking mismatch and "
        "reset cannot be read; no documented way computes the host.",
        "Find the host as Microsoft's Dual-write automations tool does (the Data Integrator page's "
        "requests to projectmanagementservice...) and set dualwrite_gateway_url in the profile.",
        "https://github.com/microsoft/Dual-write-automations",
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
    # Microsoft Entra error-code reference, row AADSTS65001 (DelegationDoesNotExist); the remedy is
    # "Grant tenant-wide admin consent to an application" (grant-admin-consent.md), whose URL form is
    # https://login.microsoftonline.com/{organization}/adminconsent?client_id={client-id}. A fault
    # from dwtui.domain.token_refusals carries that URL filled in for its tenant and app.
    *(
        _Entry(
            code,
            r"",
            "An administrator has not consented to this API for the app registration (AADSTS65001, "
            "DelegationDoesNotExist), so Microsoft Entra ID gives no token for it. A new sign-in cannot "
            "change that.",
            f"An administrator ({ADMIN_CONSENT_ROLES}) grants admin consent for the API to the app: "
            "Microsoft Entra admin center > App registrations > the app > API permissions (add the API's "
            "permission if it is not listed) > Grant admin consent, or "
            "https://login.microsoftonline.com/{tenant}/adminconsent?client_id={client-id}; then read again.",
            "https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent",
        )
        for code in ("consent_required", "AADSTS65001")
    ),
    _Entry(
        "delegated_only",
        r"",
        "The LCS API accepts only a person's (delegated) sign-in: \"Service Principal authentication, "
        "where the application calls the API using its own identity or a managed identity, isn't "
        'supported." dwtui makes no LCS call with an application profile.',
        'Use a profile with auth = "device-code" and sign in as a person who is Project Owner or '
        "Environment Administrator in the LCS project. Every environment fact dwtui shows, and every "
        "change it makes, starts from the LCS environment (--environment included), so an application "
        "profile can run only what needs no sign-in: onebox flight, profiles, secret.",
        "https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/lifecycle-services/lcs-aad-app-reg",
    ),
    _Entry(
        "unknown_environment",
        r"",
        "The LCS project has no environment by this name or id that the signed-in person can see; "
        "the message lists the ones it has.",
        "[[choose_environment]]. A Project Owner or Environment Administrator of the project sees "
        "every environment in it.",
        "https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/lifecycle-services/api/v1/"
        "reference-environment-metadata",
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
        "dwtui does not repeat a request after an internal error (it may not be safe to); [[again]], and "
        "if it persists the service's status page or support can tell more.",
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


# When a service's code is not in the catalogue: what its failures mean and the documented way on.
_BY_SERVICE: dict[str, tuple[str, str, str]] = {
    # The LCS procedure, step 6: "If the setup failed, then a related error message is displayed.
    # You must fix any errors before moving to the next step"; the separated-packages transition
    # guide: "You must first install any dependencies" (dual-write/separated-solutions-transition-
    # guidance.md). The package's history is in the admin center (power-platform/admin/manage-apps).
    "Power Platform API": (
        "The Power Platform API could not install the package; its message says why.",
        "Fix what the message names (often a package it depends on, or a solution conflict in "
        "Dataverse); the package's install history is in the Power Platform admin center > the "
        "environment > Resources > Dynamics 365 apps. Then [[install]] to install it again: the "
        "packages already installed are skipped.",
        "https://learn.microsoft.com/power-platform/admin/manage-apps",
    ),
    "BAP admin API": (
        "The Power Platform admin API refused or failed the request; its message says why.",
        "If Dataverse cannot be added to this Power Platform environment, use Setup in LCS (Environment "
        "details > Power Platform Integration), which connects the environment with a new Dataverse.",
        "https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/power-platform/"
        "environment-lifecycle-connect-finops-new-dv",
    ),
}


def _http_family(code: str) -> str:
    match = re.fullmatch(r"HTTP (\d)(\d\d)", code)
    if match and match.group(1) == "5":
        return "HTTP 5xx"
    return code


def explain(fault: Fault, surface: Surface = Surface.TUI) -> Explanation:
    """The documented meaning and remedy of a fault, falling back to its HTTP status family, with
    what to do in dwtui said the way of `surface` (a key in the terminal UI, a command in the CLI).

    A fault's own remedy (one filled in for its tenant and app, say) wins over the catalogue's.
    """
    found = _explain(fault)
    return Explanation(found.code, found.meaning, said(found.remedy, surface), found.doc)


def _explain(fault: Fault) -> Explanation:
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
                return Explanation(fault.code or code, entry.meaning, fault.remedy or entry.remedy, entry.doc)
    by_service = _BY_SERVICE.get(fault.service)
    if by_service is not None and fault.code not in ("timeout", "network", "tls", "malformed"):
        meaning, remedy, doc = by_service
        return Explanation(fault.code or "error", meaning, fault.remedy or remedy, doc)
    return Explanation(fault.code or "error", fault.message, fault.remedy or FALLBACK_REMEDY)


def lookup(code: str, message: str = "") -> Explanation | None:
    """Offline look-up of a code a person pasted (e.g. from a portal message)."""
    found = explain(Fault(service="", message=message, code=code.strip()))
    return found if found.code != "error" and found.meaning != message else None


def every_remedy(surface: Surface) -> tuple[str, ...]:
    """Each remedy the catalogue can give (codes, services, the fallback), as said on `surface`."""
    remedies = [entry.remedy for entry in _CATALOGUE]
    remedies += [remedy for _, remedy, _ in _BY_SERVICE.values()]
    return tuple(said(remedy, surface) for remedy in (*remedies, FALLBACK_REMEDY))


def known_codes() -> tuple[str, ...]:
    return tuple(dict.fromkeys(entry.code for entry in _CATALOGUE))
