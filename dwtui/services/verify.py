"""Verify the one-box: WhoAmI as its application, and its application user's roles as the admin.

The app's secret or certificate sits in the keyring under a profile derived from the session's
(same name and tenant, the app's client id), so the existing Authenticator signs in exactly as
it does for a confidential profile. WhoAmI answers for any active application user, role or not,
so the admin's own token also reads the application user and its roles (the lookup skips
soft-deleted users); 0x80072560 means Dataverse has no application user for the app
(dual-write-troubleshooting-live-sync.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dwtui.domain.appuser import AppUserLookup, validate_app_id
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
    lookup: AppUserLookup | None = None  # the application user, read with the admin's sign-in
    lookup_fault: Fault | None = None  # why that read failed

    def checks(self) -> list[str]:
        """What was checked, one line each, as a person reads it."""
        me = self.who_am_i
        if me is not None:
            who = f"WhoAmI as the app: user {me.user_id}, business unit {me.business_unit_id}"
        elif self.fault is not None:
            who = f"WhoAmI as the app: {self.fault.code or 'error'} {self.fault.message}"
        else:
            who = "WhoAmI as the app: not called"
        return [who, f"Application user, read with your sign-in: {self._user_line()}"]

    def _user_line(self) -> str:
        if self.lookup_fault is not None:
            return f"could not be read ({self.lookup_fault.code or 'error'} {self.lookup_fault.message})"
        if self.lookup is None:
            return "not read"
        deleted = len(self.lookup.soft_deleted)
        skipped = f"; {deleted} soft-deleted one(s) skipped" if deleted else ""
        user = self.lookup.active
        if user is None:
            return f"none active{skipped}"
        roles = ", ".join(role.name for role in user.roles) or "no role"
        state = ", disabled" if user.is_disabled else ""
        return f"{user.systemuser_id}{state}; roles: {roles}{skipped}"


def verify_onebox(
    session: Session,
    instance_url: str,
    application_id: str,
    *,
    certificate_path: str = "",
    facts: OneboxFacts | None = None,
) -> VerifyResult:
    """WhoAmI as the application, then its user and roles as the admin; `facts` carries what dwtui
    knows of the flight and AOS restart (and of the user, which then is not read)."""
    known = facts or OneboxFacts()
    profile = app_profile(session.profile, application_id, certificate_path)
    auth = Authenticator(
        profile, session.http, session.secrets, activity=session.activity, clock=session.clock
    )
    client = DataverseClient(instance_url, session.http, auth.token_getter(dataverse_scope(instance_url)))
    me: WhoAmI | None = None
    fault: Fault | None = None
    try:
        me = client.who_am_i()
    except ServiceError as error:
        fault = error.fault
        if fault.code.lower() != NOT_MEMBER:
            # Sign-in problems (no secret, invalid_client) and other errors: not a missing step.
            return VerifyResult(verdict(fault.code or "error", known), fault=fault)
    lookup, lookup_fault = _look_up(session, instance_url, profile.client_id, known)
    return VerifyResult(
        verdict(fault.code if fault is not None else "", _facts(known, lookup)),
        who_am_i=me,
        fault=fault,
        lookup=lookup,
        lookup_fault=lookup_fault,
    )


def _look_up(
    session: Session, instance_url: str, application_id: str, facts: OneboxFacts
) -> tuple[AppUserLookup | None, Fault | None]:
    """The application user as the admin sees it, or why it could not be read."""
    if facts.app_user_exists is not None:
        return None, None
    try:
        return ApplicationUsers(session.dataverse(instance_url)).lookup(application_id), None
    except ServiceError as error:
        return None, error.fault


def _facts(known: OneboxFacts, lookup: AppUserLookup | None) -> OneboxFacts:
    if lookup is None:
        return known  # given by the caller, or unknown (the read failed)
    user = lookup.active
    deleted = len(lookup.soft_deleted)
    if user is None:
        return replace(known, app_user_exists=False, app_user_has_role=False, soft_deleted_users=deleted)
    return replace(
        known,
        app_user_exists=True,
        app_user_has_role=bool(user.roles),
        app_user_enabled=not user.is_disabled,
        soft_deleted_users=deleted,
    )
