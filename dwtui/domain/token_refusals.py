"""Tokens dwtui cannot have for an API, as Faults a person can act on.

Two refusals that no sign-in can fix:

- **Missing admin consent.** Microsoft Entra ID answers a token request for an API the app
  registration has no consent for with AADSTS65001 (DelegationDoesNotExist). Only an administrator
  granting consent for that API to the app fixes it, so the fault names the API, the scope that was
  asked for, the app and the admin-consent URL of the profile's tenant.
- **LCS with an application profile.** The LCS API accepts only delegated (user) tokens, so a
  client-secret or certificate profile is told so before any LCS call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dwtui.domain.errors import ADMIN_CONSENT_ROLES
from dwtui.domain.models import Fault
from dwtui.domain.profile import BAP_SCOPE, DUALWRITE_SCOPE, POWER_PLATFORM_SCOPE, Profile

CONSENT_REQUIRED = "consent_required"
DELEGATED_ONLY = "delegated_only"

# Microsoft Entra error-code reference, row AADSTS65001: "DelegationDoesNotExist - The user or
# administrator hasn't consented to use the application with ID X. Send an interactive
# authorization request for this user and resource."
# https://learn.microsoft.com/entra/identity-platform/reference-error-codes
_CONSENT_ERROR_CODE = 65001
# Only the exact code: AADSTS650056 (misconfigured application) and AADSTS650011 are other rows.
_CONSENT_PREFIX = re.compile(r"\s*AADSTS65001\b")

LCS_API = "LCS API"


@dataclass(frozen=True, slots=True)
class Api:
    """An API dwtui asks tokens for: its name as faults show it and the permission to add in Entra."""

    name: str
    permission: str  # as the Entra admin center lists it under API permissions > Add a permission


# The service names are the ones each client reports its faults under (dwtui.services.*.SERVICE).
_LCS = Api(
    LCS_API,
    # lifecycle-services/lcs-aad-app-reg.md: "Dynamics Lifecycle services" with this GUID, delegated.
    "Dynamics Lifecycle services (app id 913c6de4-2a4a-4a61-a9ce-945d2b2ce2e0, delegated user_impersonation)",
)
_BAP = Api(
    "BAP admin API",
    # power-platform/admin/programmability-authentication.md
    "Power Apps Service (app id 475226c6-020e-4fb2-8a90-7a972cbfc1d4, delegated)",
)
_POWER_PLATFORM = Api(
    "Power Platform API",
    # power-platform/admin/programmability-authentication-v2.md
    "Power Platform API (app id 8578e004-a5c6-46e7-913e-12f58912df43, delegated)",
)
_DATAVERSE = Api(
    "Dataverse",
    # powerapps-docs developer/data-platform/use-single-tenant-server-server-authentication.md: "In the
    # Microsoft APIs tab, choose Dynamics CRM", then Delegated permissions, user_impersonation.
    "Dynamics CRM (Microsoft APIs tab, delegated user_impersonation)",
)
_GATEWAY = Api(
    "dual-write gateway",
    # No public source names the permission for https://IntegratorApp.com (api-audit.md row 2).
    "for https://IntegratorApp.com [inferred: no public source names it]",
)


def api_of(profile: Profile, scope: str) -> Api:
    """Which API a scope the session asks for belongs to (any other `…/.default` is a Dataverse org)."""
    wanted = scope.strip().lower()
    known = {
        profile.lcs_scope.lower(): _LCS,
        BAP_SCOPE.lower(): _BAP,
        POWER_PLATFORM_SCOPE.lower(): _POWER_PLATFORM,
        DUALWRITE_SCOPE.lower(): _GATEWAY,
    }
    return known.get(wanted, _DATAVERSE)


def admin_consent_url(profile: Profile) -> str:
    """The tenant-wide admin-consent URL for the profile's app registration.

    Source: https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent
    ("Construct the URL for granting tenant-wide admin consent"):
    `https://login.microsoftonline.com/{organization}/adminconsent?client_id={client-id}`, where
    {organization} is the tenant id or a verified domain. The profile's authority host stands in for
    login.microsoftonline.com, so a sovereign cloud (or the simulator) gets its own.
    """
    authority = profile.authority_url.rstrip("/")
    return f"{authority}/{profile.tenant_id}/adminconsent?client_id={profile.client_id}"


def is_missing_consent(answer: Mapping[str, Any]) -> bool:
    """Whether a token-endpoint error (as MSAL returns it) means consent for the API is missing.

    The body shape is Entra's (error, error_description, error_codes, ...; reference-error-codes).
    `suberror: consent_required` beside `invalid_grant` (or `interaction_required`) is the shape
    seen across public test suites; Microsoft documents no body with it, and MSAL Python passes it
    through as `classification` (acquire_token_silent_with_error). So: the code first, then the
    suberror or classification, then an `error` of consent_required.
    """
    if _has_consent_code(answer):
        return True
    if CONSENT_REQUIRED in (answer.get("suberror"), answer.get("classification"), answer.get("error")):
        return True
    # Last resort. Entra's error-code reference says of error_description "Never use this field to
    # react to an error in your code", because its wording may change. It stays here because an
    # answer can arrive without error_codes (an intermediary that rewrites the body, an older
    # endpoint), and then the AADSTS code at the start of the description is all there is; only
    # that exact leading code is matched, never the wording after it.
    return bool(_CONSENT_PREFIX.match(str(answer.get("error_description") or "")))


def _has_consent_code(answer: Mapping[str, Any]) -> bool:
    codes = answer.get("error_codes")
    if not isinstance(codes, list | tuple):
        return False
    return str(_CONSENT_ERROR_CODE) in {str(code).strip() for code in codes}


def _reported(answer: Mapping[str, Any]) -> str:
    """What Entra said, for the message: error, suberror and the AADSTS code."""
    parts = [str(answer.get(key)) for key in ("error", "suberror") if answer.get(key)]
    if _has_consent_code(answer) or _CONSENT_PREFIX.match(str(answer.get("error_description") or "")):
        parts.append(f"AADSTS{_CONSENT_ERROR_CODE}")
    return ", ".join(dict.fromkeys(parts)) or CONSENT_REQUIRED


def consent_fault(profile: Profile, scope: str, answer: Mapping[str, Any]) -> Fault:
    """The fault of a token request for `scope` that Entra refused for want of consent."""
    api = api_of(profile, scope)
    url = admin_consent_url(profile)
    message = (
        f"Microsoft Entra ID gave no token for the {api.name} (scope {scope}) to app {profile.client_id}: "
        f"an administrator has not consented to this API for the app registration ({_reported(answer)})"
    )
    remedy = (
        f"An administrator ({ADMIN_CONSENT_ROLES}) grants admin consent for the {api.name} to app "
        f"{profile.client_id} in tenant {profile.tenant_id}: in the Microsoft Entra admin center, App "
        f"registrations > the app > API permissions, add the permission {api.permission} if it is not "
        f"listed, then select Grant admin consent; or open {url} to consent to the permissions the app "
        "lists. Then "
        "read again (r, or run the command again); a new sign-in cannot fix this."
    )
    return Fault(service=api.name, message=message, code=CONSENT_REQUIRED, remedy=remedy)


def lcs_refusal(profile: Profile) -> Fault | None:
    """For an application (client-secret or certificate) profile, why dwtui makes no LCS call.

    Source: https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/lifecycle-services/lcs-aad-app-reg
    "These APIs make use of delegated permissions only at this time. … Service Principal
    authentication, where the application calls the API using its own identity or a managed
    identity, isn't supported."
    """
    if not profile.is_confidential:
        return None
    message = (
        f"profile '{profile.name}' signs in as an application (auth = {profile.auth}), and the LCS API "
        "accepts only a person's sign-in, so dwtui made no LCS call"
    )
    return Fault(service=LCS_API, message=message, code=DELEGATED_ONLY)
