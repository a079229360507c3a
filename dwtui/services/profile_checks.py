"""The checks of a new profile that need no sign-in: the tenant's OpenID configuration answers, and
a device-code request with the app id is not refused as unknown (AADSTS700016).

Each call has a short time limit and no retry: a service that cannot be reached, or answers
something else, makes the check "could not check", never a problem. Calls go through the one HTTP
policy (TLS verified, the profile's ca_bundle, the Activity log and --trace); how each answer is
read, and its sources, are in dwtui.domain.profile_checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msal

from dwtui.domain.profile_checks import (
    OK,
    ProfileCheck,
    app_answered,
    app_subject,
    not_checked,
    tenant_answered,
    tenant_refused,
    tenant_subject,
)
from dwtui.services.auth import SERVICE, msal_guard
from dwtui.services.credentials import MsalHttp
from dwtui.services.errors import ServiceError
from dwtui.services.http import HttpPolicy

if TYPE_CHECKING:
    from dwtui.domain.profile import Profile
    from dwtui.services.activity import ActivityLog
    from dwtui.services.trace import TraceFile

CHECK_TIMEOUT = 10.0  # seconds for each answer; a person is waiting to add a profile


def check_profile(
    profile: Profile,
    activity: ActivityLog,
    *,
    trace: TraceFile | None = None,
    timeout: float = CHECK_TIMEOUT,
) -> list[ProfileCheck]:
    """The tenant check, then the app id check (which needs a tenant that answered)."""
    tenant, app = tenant_subject(profile.tenant_id), app_subject(profile.client_id)
    try:
        # One try, and no wait for a throttled answer: the check is "could not check" instead.
        http = HttpPolicy(
            ca_bundle=profile.ca_bundle or None,
            activity=activity,
            timeout=timeout,
            max_attempts=1,
            max_wait=0.0,
            trace=trace,
        )
    except ServiceError as error:  # an unusable ca_bundle
        return [not_checked(tenant, error.fault.message), not_checked(app, error.fault.message)]
    if trace is not None:
        trace.profile(profile)
    try:
        found = check_tenant(profile, http)
        if found.outcome != OK:
            return [found, not_checked(app, "it needs a tenant that answers")]
        return [found, check_app(profile, http)]
    finally:
        http.close()


def check_tenant(profile: Profile, http: HttpPolicy) -> ProfileCheck:
    # The OpenID configuration document of the tenant, at the URL MSAL reads it from:
    # https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc
    url = f"{profile.authority}/v2.0/.well-known/openid-configuration"
    try:
        response = http.request(SERVICE, "GET", url)
    except ServiceError as error:
        fault = error.fault
        status = fault.http_status
        if status is not None and 400 <= status < 500 and status != 429:
            return tenant_refused(profile.tenant_id, status, fault.code, fault.message)
        return not_checked(tenant_subject(profile.tenant_id), fault.message)
    try:
        document: object = response.json()
    except (ValueError, UnicodeDecodeError):
        document = None
    return tenant_answered(profile.tenant_id, document)


def check_app(profile: Profile, http: HttpPolicy) -> ProfileCheck:
    """Start a device-code sign-in with the app id, and leave it: nobody enters the code, and it
    expires on its own (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code).
    An app the tenant does not have is refused with AADSTS700016
    (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
    """
    try:
        with msal_guard("cannot reach the identity provider"):
            app = msal.PublicClientApplication(
                profile.client_id,
                authority=profile.authority,
                instance_discovery=False,
                http_client=MsalHttp(http),
            )
            result = app.initiate_device_flow(scopes=[profile.lcs_scope])
    except ServiceError as error:
        return not_checked(app_subject(profile.client_id), error.fault.message)
    return app_answered(profile.client_id, result if isinstance(result, dict) else {})
