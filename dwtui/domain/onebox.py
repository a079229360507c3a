"""The one-box checklist as a whole, and which step a failed verification points at.

Two checks say whether Dataverse is ready for the app. WhoAmI, called as the application, answers
for any active application user, with or without a role; it fails with 0x80072560 "The user is not
a member of the organization." (403) when Dataverse has no application user for the app
(dual-write-troubleshooting-live-sync.md). A user without a role fails only at its first privileged
call: "RetrievePrivilegeForUser: The user with id ... has not been assigned any roles. They need a
role with the ... privilege." (microsoft/coe-starter-kit#678). So the application user and its roles
are also read with the administrator's own sign-in. Whether the flight is enabled and the AOS
restarted cannot be seen from Dataverse; dwtui knows only what it did itself in this run, so the
verdict says how far it can tell.
"""

from __future__ import annotations

from dataclasses import dataclass

DEPRECATION_NOTE = (
    "Microsoft now documents Power Platform integration for cloud-hosted development environments "
    "as deprecated (use a sandbox or a Unified Developer Environment); it still works for those who need it."
)
NOT_MEMBER = "0x80072560"
NOT_MEMBER_MEANING = "The user is not a member of the organization"
NO_ROLES_SOURCE = "microsoft/coe-starter-kit#678"

STEP_APP_USER = "application user"
STEP_ROLE = "security role"
STEP_FLIGHT = "flight"
STEP_AOS = "AOS restart"


@dataclass(frozen=True, slots=True)
class OneboxFacts:
    """What is known about each step; None means unknown (not checked, or could not be read)."""

    app_user_exists: bool | None = None  # an active (not soft-deleted) application user for the app
    app_user_has_role: bool | None = None
    flight_enabled: bool | None = None
    aos_restarted_after_flight: bool | None = None
    app_user_enabled: bool | None = None
    soft_deleted_users: int = 0  # soft-deleted application users of the app, which do not count


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool  # Dataverse accepts the app (WhoAmI answered) and its application user has a role
    missing_step: str  # one of the STEP_* names, or "" when none can be named
    message: str
    set_up: bool = False  # no step is known to be missing


def verdict(who_am_i_code: str, facts: OneboxFacts) -> Verdict:
    """`who_am_i_code` is "" when WhoAmI answered, or the error code it failed with."""
    if who_am_i_code and who_am_i_code.lower() != NOT_MEMBER:
        return Verdict(False, "", f"WhoAmI failed with {who_am_i_code}; see the error for what to do.")
    not_member = bool(who_am_i_code)
    missing = _app_user_missing(not_member, facts)
    if missing is not None:
        return missing
    if not_member:
        return Verdict(
            False,
            "",
            f"{NOT_MEMBER}: {NOT_MEMBER_MEANING}, although the administrator sees an active application "
            "user with a role for this app: Dataverse may need a few minutes to see a new user; verify "
            "again shortly.",
        )
    if facts.app_user_exists is False:
        return Verdict(
            False,
            "",
            "WhoAmI answers as the app, but the administrator's lookup finds no active application user "
            "for it, so its roles could not be checked; verify again shortly.",
        )
    return _accepted(facts)


def _app_user_missing(not_member: bool, facts: OneboxFacts) -> Verdict | None:
    """The verdict when the application user or its role is known to be missing (or, for 0x80072560,
    cannot be confirmed), else None."""
    said = f"{NOT_MEMBER}: {NOT_MEMBER_MEANING}" if not_member else "WhoAmI answers as the app"
    if not_member and facts.app_user_exists is not True:
        deleted = (
            f" (only {facts.soft_deleted_users} soft-deleted one(s), which do not count)"
            if facts.soft_deleted_users
            else ""
        )
        unread = (
            " (dwtui could not read the application users to confirm it)"
            if facts.app_user_exists is None
            else ""
        )
        return Verdict(
            False,
            STEP_APP_USER,
            f"{said}: Dataverse has no application user for this app{deleted}{unread}. Create it "
            "(root business unit, System Administrator), then verify again.",
        )
    if facts.app_user_exists and facts.app_user_enabled is False:
        return Verdict(
            False,
            STEP_APP_USER,
            f"{said}, but the application user is disabled. Activate it (Power Platform admin center > "
            "Settings > Users + permissions > Application users), then verify again.",
        )
    if facts.app_user_exists and facts.app_user_has_role is False:
        return Verdict(
            False,
            STEP_ROLE,
            f"{said}, but its application user has no security role, so its first privileged call fails "
            f"with \"has not been assigned any roles\" ({NO_ROLES_SOURCE}). Give it a role such as System "
            "Administrator (the application user step adds only the missing role), then verify again.",
        )
    return None


def _accepted(facts: OneboxFacts) -> Verdict:
    """WhoAmI answered and no app-user fact is known to be wrong; `ok` needs the role to be known."""
    role_known = facts.app_user_has_role is True
    if facts.flight_enabled is False:
        return Verdict(
            role_known,
            STEP_FLIGHT,
            "Dataverse accepts the app, but the DualWriteUnoAuthenticationFnoToCds flight is not enabled "
            "on every partition of AXDB: run the flight.",
        )
    if facts.flight_enabled and facts.aos_restarted_after_flight is False:
        return Verdict(
            role_known,
            STEP_AOS,
            "Dataverse accepts the app and the flight is enabled; restart the AOS to apply it.",
        )
    if not role_known:
        return Verdict(
            False,
            "",
            "WhoAmI answers as the app, but dwtui could not read its application user's roles with your "
            "sign-in (see the error), and a user without a role fails at its first privileged call: "
            "check that it has one, then verify again.",
        )
    if facts.flight_enabled and facts.aos_restarted_after_flight:
        return Verdict(
            True,
            "",
            "One-box set up: Dataverse accepts the app, its application user has a role, the flight is "
            "enabled and the AOS was restarted since.",
            set_up=True,
        )
    unknown = []
    if facts.flight_enabled is None:
        unknown.append("the flight")
    if facts.aos_restarted_after_flight is None:
        unknown.append("the AOS restart")
    # WhoAmI answering and a role on the user mark the one-box set up; the caveat names what is unseen.
    return Verdict(
        True,
        "",
        "One-box set up as far as dwtui can tell: Dataverse accepts the app and its application user has "
        f"a role. dwtui cannot see {' or '.join(unknown)} from here; run them if not done yet.",
        set_up=True,
    )
