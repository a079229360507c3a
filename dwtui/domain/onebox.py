"""The one-box checklist as a whole, and which step a failed verification points at.

WhoAmI, called as the application, tells whether Dataverse knows the app (an application user
with a role). Whether the flight is enabled and the AOS restarted cannot be seen from Dataverse;
dwtui knows only what it did itself in this run, so the verdict says how far it can tell.
"""

from __future__ import annotations

from dataclasses import dataclass

DEPRECATION_NOTE = (
    "Microsoft now documents Power Platform integration for cloud-hosted development environments "
    "as deprecated (use a sandbox or a Unified Developer Environment); it still works for those who need it."
)
NOT_MEMBER = "0x80072560"

STEP_APP_USER = "application user"
STEP_ROLE = "security role"
STEP_FLIGHT = "flight"
STEP_AOS = "AOS restart"


@dataclass(frozen=True, slots=True)
class OneboxFacts:
    """What is known about each step; None means unknown (not checked, or could not be read)."""

    app_user_exists: bool | None = None
    app_user_has_role: bool | None = None
    flight_enabled: bool | None = None
    aos_restarted_after_flight: bool | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool  # Dataverse accepted the application (WhoAmI answered)
    missing_step: str  # one of the STEP_* names, or "" when none can be named
    message: str
    set_up: bool = False  # no step is known to be missing


def verdict(who_am_i_code: str, facts: OneboxFacts) -> Verdict:
    """`who_am_i_code` is "" when WhoAmI answered, or the error code it failed with."""
    if who_am_i_code == "":
        return _accepted(facts)
    if who_am_i_code.lower() != NOT_MEMBER:
        return Verdict(False, "", f"WhoAmI failed with {who_am_i_code}; see the error for what to do.")
    if facts.app_user_exists is False:
        return Verdict(
            False,
            STEP_APP_USER,
            "0x80072560: Dataverse has no application user for this app. Create it (root business unit, "
            "System Administrator), then verify again.",
        )
    if facts.app_user_has_role is False:
        return Verdict(
            False,
            STEP_ROLE,
            "0x80072560: the application user exists but has no security role. Add one such as "
            "System Administrator, then verify again.",
        )
    if facts.app_user_exists is None:
        return Verdict(
            False,
            STEP_APP_USER,
            "0x80072560: Dataverse does not accept this app. Most likely the application user or its "
            "role is missing (dwtui could not look it up).",
        )
    return Verdict(
        False,
        "",
        "0x80072560 although the application user and its role exist: Dataverse may need a few "
        "minutes to see a new user; verify again shortly.",
    )


def _accepted(facts: OneboxFacts) -> Verdict:
    if facts.flight_enabled is False:
        return Verdict(
            True,
            STEP_FLIGHT,
            "Dataverse accepts the app, but the DualWriteUnoAuthenticationFnoToCds flight is not enabled "
            "on every partition of AXDB: run the flight.",
        )
    if facts.flight_enabled and facts.aos_restarted_after_flight is False:
        return Verdict(
            True,
            STEP_AOS,
            "Dataverse accepts the app and the flight is enabled; restart the AOS to apply it.",
        )
    if facts.flight_enabled and facts.aos_restarted_after_flight:
        return Verdict(
            True,
            "",
            "One-box set up: Dataverse accepts the app, the flight is enabled and "
            "the AOS was restarted since.",
            set_up=True,
        )
    unknown = []
    if facts.flight_enabled is None:
        unknown.append("the flight")
    if facts.aos_restarted_after_flight is None:
        unknown.append("the AOS restart")
    # The rule: WhoAmI answering marks the one-box set up; the caveat names what is unseen.
    return Verdict(
        True,
        "",
        "One-box set up as far as dwtui can tell: Dataverse accepts the app (application user and role "
        f"in place). dwtui cannot see {' or '.join(unknown)} from here; run them if not done yet.",
        set_up=True,
    )
