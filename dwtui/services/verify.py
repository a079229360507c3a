"""Verify the one-box: sign in as its application (client credentials) and call WhoAmI.

The app's secret or certificate sits in the keyring under a profile derived from the session's
(same name and tenant, the app's client id), so the existing Authenticator signs in exactly as
it does for a confidential profile. When WhoAmI says 0x80072560, the admin's own token looks up
the application user to name the missing step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dwtui.domain.appuser import validate_app_id
from dwtui.domain.models import Fault
from dwtui.domain.onebox import NOT_MEMBER, OneboxFacts, Verdict, verdict
from dwtui.domain.profile import Profile, dataverse_scope
from dwtui.services.appuser import ApplicationUsers
from dwtui.services.auth import Authenticator, store_client_secret
from dwtui.services.dataverse import DataverseClient, WhoAmI
from dwtui.services.errors import ServiceError
from dwtui.services.secrets import SecretStore
from dwtui.services.session import Session


def app_profile(profile: Profile, application_id: str, certificate_path: str = "") -> Profile:
    """The session's profile, signing in as the one-box app instead."""
    app = validate_app_id(application_id)
    auth = "certificate" if certificate_path else "client-secret"
    return replace(profile, client_id=app, auth=auth, certificate_path=certificate_path)


def store_app_secret(secrets: SecretStore, profile: Profile, application_id: str, secret: str) -> None:
    """Keep the one-box app's client secret in the keyring, where verify_onebox looks for it."""
    store_client_secret(secrets, app_profile(profile, application_id), secret)


def has_app_secret(secrets: SecretStore, profile: Profile, application_id: str) -> bool:
    return bool(secrets.get(app_profile(profile, application_id).secret_key("client-secret")))


@dataclass(frozen=True, slots=True)
class VerifyResult:
    verdict: Verdict
    who_am_i: WhoAmI | None = None
    fault: Fault | None = None  # why WhoAmI (or the sign-in) failed


def verify_onebox(
    session: Session,
    instance_url: str,
    application_id: str,
    *,
    certificate_path: str = "",
    facts: OneboxFacts | None = None,
) -> VerifyResult:
    """WhoAmI as the application; `facts` carries what dwtui knows of the flight and AOS restart."""
    known = facts or OneboxFacts()
    profile = app_profile(session.profile, application_id, certificate_path)
    auth = Authenticator(
        profile, session.http, session.secrets, activity=session.activity, clock=session.clock
    )
    client = DataverseClient(instance_url, session.http, auth.token_getter(dataverse_scope(instance_url)))
    try:
        me = client.who_am_i()
    except ServiceError as error:
        fault = error.fault
        if fault.code.lower() != NOT_MEMBER:
            # Sign-in problems (no secret, invalid_client) and other errors: not a missing step.
            return VerifyResult(verdict(fault.code or "error", known), fault=fault)
        return VerifyResult(
            verdict(NOT_MEMBER, _look_up(session, instance_url, profile.client_id, known)), fault=fault
        )
    return VerifyResult(verdict("", known), who_am_i=me)


def _look_up(session: Session, instance_url: str, application_id: str, facts: OneboxFacts) -> OneboxFacts:
    """The application user as the admin sees it; unknown (None) when that cannot be read."""
    if facts.app_user_exists is not None:
        return facts
    try:
        user = ApplicationUsers(session.dataverse(instance_url)).find(application_id)
    except ServiceError:
        return facts
    if user is None:
        return replace(facts, app_user_exists=False, app_user_has_role=False)
    return replace(facts, app_user_exists=True, app_user_has_role=bool(user.roles) and not user.is_disabled)
