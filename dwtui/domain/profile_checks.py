"""What the identity provider says about a new profile before anyone signs in: does the tenant
exist, and does it know the app id. Pure: the services layer makes the calls and hands the answers
here, so the reading of each answer is tested without a network.

Sources:
- OpenID discovery: every tenant publishes its OpenID configuration at
  https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration
  (https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc).
- Device code flow: the first request, POST {tenant}/oauth2/v2.0/devicecode with client_id and scope,
  answers a user_code and device_code, or an OAuth error
  (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code).
- Error codes: AADSTS700016 (UnauthorizedClient_DoesNotMatchRequest: the application was not found in
  the directory/tenant) and AADSTS90002 (InvalidTenantName: the tenant was not found)
  (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from dwtui.domain.text import inert

OK = "ok"
PROBLEM = "problem"
UNKNOWN = "could not check"

APP_NOT_IN_TENANT = 700016
TENANT_NOT_FOUND = 90002
_DETAIL_LIMIT = 200
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True, slots=True)
class ProfileCheck:
    subject: str  # "tenant contoso.onmicrosoft.com", "app id 1111..."
    outcome: str  # OK, PROBLEM or UNKNOWN
    detail: str = ""  # what was seen (ok), what is wrong (problem), why it could not be told (unknown)
    fix: str = ""  # with a problem: what to change

    def line(self) -> str:
        """One line: `SUBJECT: ok`, `SUBJECT: problem: ...; fix: ...` or `SUBJECT: could not check: ...`."""
        detail = one_line(self.detail)
        if self.outcome == OK:
            return f"{self.subject}: ok" + (f" ({detail})" if detail else "")
        if self.outcome == PROBLEM:
            return f"{self.subject}: problem: {detail}; fix: {one_line(self.fix)}"
        return f"{self.subject}: could not check: {detail or 'no reason given'}"


def one_line(text: str, limit: int = _DETAIL_LIMIT) -> str:
    """The first line of a service's text, inert and at most `limit` characters."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = inert(line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def tenant_subject(tenant: str) -> str:
    return f"tenant {tenant}"


def app_subject(client_id: str) -> str:
    return f"app id {client_id}"


def not_checked(subject: str, why: str) -> ProfileCheck:
    return ProfileCheck(subject, UNKNOWN, why)


def tenant_answered(tenant: str, document: object) -> ProfileCheck:
    """A 200 from the tenant's OpenID configuration URL: the tenant exists if it is one."""
    subject = tenant_subject(tenant)
    if not isinstance(document, Mapping) or not isinstance(document.get("token_endpoint"), str):
        return not_checked(subject, "the answer is not an OpenID configuration (no token_endpoint)")
    # The issuer names the tenant by its GUID, also when the profile names it by a domain.
    found = _GUID.search(str(document.get("issuer") or ""))
    if found and found.group(0).lower() != tenant.lower():
        tenant_id = found.group(0).lower()
        return ProfileCheck(subject, OK, f"its OpenID configuration answers; tenant id {tenant_id}")
    return ProfileCheck(subject, OK, "its OpenID configuration answers")


def tenant_refused(tenant: str, status: int, code: str, message: str) -> ProfileCheck:
    """A 4xx from the tenant's OpenID configuration URL.

    [I] That discovery answers an unknown tenant with AADSTS90002 (invalid_tenant) is not shown on
    the OpenID page; the error-code reference lists AADSTS90002 as "tenant not found".
    """
    subject = tenant_subject(tenant)
    if code == "invalid_tenant" or message.startswith(f"AADSTS{TENANT_NOT_FOUND}"):
        return ProfileCheck(
            subject,
            PROBLEM,
            f"the identity provider knows no such tenant (AADSTS{TENANT_NOT_FOUND})",
            "use the Tenant ID (a GUID) or a verified domain from Microsoft Entra admin center > Overview",
        )
    return not_checked(subject, f"the identity provider answered HTTP {status}: {message or code}")


def app_answered(client_id: str, result: Mapping[str, object]) -> ProfileCheck:
    """MSAL's initiate_device_flow result: a started flow, or the identity provider's error."""
    subject = app_subject(client_id)
    if "user_code" in result:
        return ProfileCheck(subject, OK, "a device-code sign-in with it can start")
    codes = result.get("error_codes")
    description = str(result.get("error_description") or "")
    if (isinstance(codes, list) and APP_NOT_IN_TENANT in codes) or description.startswith(
        f"AADSTS{APP_NOT_IN_TENANT}"
    ):
        return ProfileCheck(
            subject,
            PROBLEM,
            f"the tenant has no app with this id (AADSTS{APP_NOT_IN_TENANT})",
            "use the Application (client) ID from Microsoft Entra admin center > App registrations > "
            "your app, registered in this tenant",
        )
    error = str(result.get("error") or "an error")
    return not_checked(subject, f"the identity provider answered {error}: {description or error}")
