"""The one-box steps: app id, application user with a role, the flight, the AOS restart, verification.

The application user is judged as Dataverse behaves (dwtui.domain.onebox): a soft-deleted user does
not count, and a user without a role passes WhoAmI but fails its first privileged call
(microsoft/coe-starter-kit#678). Whether the AOS was restarted after the flight is not readable from
any service: dwtui knows only the restarts and flight commits it made itself, from this run's
Activity log and the audit trail on this machine [I].
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from dwtui.domain.appuser import AppUserLookup
from dwtui.domain.doctor import catalogue as c
from dwtui.domain.doctor.common import could_not_read, fault_text, short
from dwtui.domain.doctor.model import CheckState, Evidence, Finding
from dwtui.domain.flight import FlightCheck
from dwtui.domain.models import DataverseEnvironment, Fault, LcsEnvironment
from dwtui.domain.onebox import NO_ROLES_SOURCE, NOT_MEMBER, Verdict

NOT_ONEBOX = "not a one-box development VM"
# What the AXDB and AOS services record in the Activity log (services/axdb.py, services/aos.py).
AXDB_SERVICE = "AXDB"
AOS_SERVICE = "AOS"
COMMIT = "COMMIT"
START_SERVICE = "Start-Service"


def _not_onebox(environment: LcsEnvironment) -> Finding | None:
    if environment.is_onebox:
        return None
    return Finding(CheckState.NOT_APPLICABLE, f"{environment.name} is {NOT_ONEBOX}")


def _no_dataverse(dataverse: DataverseEnvironment | Fault | None) -> Finding | None:
    if isinstance(dataverse, Fault):
        return could_not_read("the Power Platform environments", dataverse, c.BAP_ENVIRONMENTS)
    if dataverse is None or not dataverse.instance_url:
        return Finding(CheckState.NOT_APPLICABLE, "no Dataverse (see Power Platform Integration)")
    return None


def _no_app_id() -> Finding:
    return Finding(
        CheckState.UNKNOWN,
        "needs the one-box app's id (see the app registration id check)",
        remedy="Give the app registration's Application (client) ID with --app-id.",
    )


def app_id(environment: LcsEnvironment, application_id: str, where: str, problem: str = "") -> Finding:
    """`where` says where the id came from; `problem` why a given id cannot be used."""
    skipped = _not_onebox(environment)
    if skipped is not None:
        return skipped
    if problem:
        return Finding(CheckState.PROBLEM, short(f"the app id {application_id!r} cannot be used: {problem}"))
    if not application_id:
        return Finding(
            CheckState.UNKNOWN,
            "no app registration id is known for this one-box, so its application user and verification "
            "cannot be checked",
        )
    return Finding(
        CheckState.OK,
        f"app {application_id} ({where})",
        (Evidence.of(c.PROFILE, f"app id {application_id} ({where})"),),
    )


def app_user(
    environment: LcsEnvironment,
    dataverse: DataverseEnvironment | Fault | None,
    application_id: str,
    lookup: AppUserLookup | Fault | None,
) -> Finding:
    skipped = _not_onebox(environment) or _no_dataverse(dataverse)
    if skipped is not None:
        return skipped
    if not application_id:
        return _no_app_id()
    if isinstance(lookup, Fault):
        return could_not_read("the application users", lookup, c.APP_USERS)
    if lookup is None:
        return Finding(CheckState.UNKNOWN, "the application user was not read")
    deleted = len(lookup.soft_deleted)
    skipped_note = f"; {deleted} soft-deleted one(s), which do not count" if deleted else ""
    user = lookup.active
    if user is None:
        return Finding(
            CheckState.PROBLEM,
            f"Dataverse has no active application user for app {application_id}{skipped_note}",
            (Evidence.of(c.APP_USERS, f"no active user{skipped_note}"),),
        )
    roles = ", ".join(role.name for role in user.roles) or "no role"
    evidence = (
        Evidence.of(
            c.APP_USERS,
            f"systemuser {user.systemuser_id}, roles: {roles}"
            f"{', disabled' if user.is_disabled else ''}{skipped_note}",
        ),
    )
    if user.is_disabled:
        return Finding(
            CheckState.PROBLEM,
            f"the application user {user.systemuser_id} is disabled",
            evidence,
            remedy="Activate it: Power Platform admin center > Settings > Users + permissions > "
            "Application users.",
        )
    if not user.roles:
        return Finding(
            CheckState.PROBLEM,
            f"the application user {user.systemuser_id} has no security role, so its first privileged "
            f'call fails with "has not been assigned any roles" ({NO_ROLES_SOURCE})',
            evidence,
            remedy="Give it a role such as System Administrator (press o, step 1, or dwtui onebox "
            "app-user: it adds only the missing role).",
        )
    return Finding(CheckState.OK, f"application user {user.systemuser_id} with roles: {roles}", evidence)


def flight(environment: LcsEnvironment, check: FlightCheck | Fault | None) -> Finding:
    """`check` is None when no AXDB connection was given."""
    skipped = _not_onebox(environment)
    if skipped is not None:
        return skipped
    if check is None:
        return Finding(
            CheckState.UNKNOWN,
            "no AXDB connection was given, so the flight could not be read",
            remedy="Give the one-box's AXDB with --connection-string (as for dwtui onebox flight --run).",
        )
    if isinstance(check, Fault):
        return could_not_read("the flight in AXDB", check, c.AXDB_FLIGHT)
    if check.ok:
        return Finding(
            CheckState.OK,
            "enabled on every partition",
            (Evidence.of(c.AXDB_FLIGHT, "every partition has the flight enabled with service id 12719367"),),
        )
    problems = "; ".join(check.problems) or "not enabled on every partition"
    return Finding(
        CheckState.PROBLEM,
        short(f"not enabled on every partition: {problems}", 400),
        (Evidence.of(c.AXDB_FLIGHT, short(problems, 400)),),
    )


class ActivityRecord(Protocol):
    """What the doctor reads of an Activity log entry (services.activity.ActivityEntry)."""

    @property
    def at(self) -> float: ...

    @property
    def kind(self) -> str: ...

    @property
    def service(self) -> str: ...

    @property
    def summary(self) -> str: ...

    @property
    def status(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class OneboxHistory:
    """What dwtui's own records say: when it last committed the flight and last restarted the AOS."""

    flight_committed_at: float | None = None
    restarted_at: float | None = None
    restart_simulated: bool = False


def history_from(entries: Iterable[ActivityRecord]) -> OneboxHistory:
    flight_at: float | None = None
    restart_at: float | None = None
    simulated = False
    for entry in entries:
        if entry.kind == "sql" and entry.service == AXDB_SERVICE and entry.summary.strip() == COMMIT:
            flight_at = max(flight_at or entry.at, entry.at)
        elif (
            entry.kind == "command"
            and entry.service == AOS_SERVICE
            and START_SERVICE in entry.summary
            and entry.status == 0
            and (restart_at is None or entry.at >= restart_at)
        ):
            restart_at = entry.at
            simulated = entry.summary.startswith("simulated:")
    return OneboxHistory(flight_at, restart_at, simulated)


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))


def aos_restart(environment: LcsEnvironment, history: OneboxHistory, flight_ok: bool | None) -> Finding:
    skipped = _not_onebox(environment)
    if skipped is not None:
        return skipped
    if flight_ok is False:
        return Finding(
            CheckState.NOT_APPLICABLE,
            "the flight is not enabled yet: restart the AOS once it is (see the flight check)",
        )
    flight_at, restart_at = history.flight_committed_at, history.restarted_at
    simulated = " (simulated)" if history.restart_simulated else ""
    records = []
    if flight_at is not None:
        records.append(f"flight committed {_when(flight_at)}")
    if restart_at is not None:
        records.append(f"AOS restarted {_when(restart_at)}{simulated}")
    evidence = (Evidence.of(c.AUDIT_TRAIL, "; ".join(records) or "no flight commit or AOS restart recorded"),)
    if flight_at is None:
        return Finding(
            CheckState.UNKNOWN,
            "dwtui has no record of enabling the flight, so it cannot tell whether the AOS was restarted "
            "since (no service shows it)",
            evidence,
            remedy="If you enabled the flight yourself and have not restarted the AOS since, restart it "
            "(press o, step 3, or dwtui onebox restart-aos).",
            inferred=True,
        )
    if restart_at is None or restart_at < flight_at:
        return Finding(
            CheckState.PROBLEM,
            f"dwtui enabled the flight at {_when(flight_at)} and has no record of an AOS restart since "
            "(a restart made outside dwtui is not seen; inferred)",
            evidence,
            inferred=True,
        )
    return Finding(
        CheckState.OK,
        f"dwtui restarted the AOS at {_when(restart_at)}{simulated}, after it enabled the flight (inferred "
        "from dwtui's own records)",
        evidence,
        inferred=True,
    )


def verification(
    environment: LcsEnvironment,
    dataverse: DataverseEnvironment | Fault | None,
    application_id: str,
    verdict: Verdict | None,
    fault: Fault | None,
) -> Finding:
    """`verdict` and `fault` are dwtui.services.verify's: WhoAmI as the app, and why it failed."""
    skipped = _not_onebox(environment) or _no_dataverse(dataverse)
    if skipped is not None:
        return skipped
    if not application_id:
        return _no_app_id()
    if verdict is None:
        return Finding(CheckState.UNKNOWN, "verification did not run")
    said = fault_text(fault) if fault is not None else "WhoAmI answered"
    evidence = (Evidence.of(c.APP_WHO_AM_I, said),)
    if fault is not None and fault.code.lower() != NOT_MEMBER:
        return Finding(
            CheckState.UNKNOWN,
            short(f"could not sign in or ask as the app: {said}"),
            evidence,
            remedy="Store the app's client secret (dwtui onebox verify asks for it once and keeps it in the "
            "keyring), then run the doctor again.",
        )
    if verdict.set_up:
        return Finding(CheckState.OK, short(verdict.message, 400), evidence)
    if verdict.missing_step or not verdict.ok:
        state = CheckState.PROBLEM if verdict.missing_step else CheckState.UNKNOWN
        return Finding(state, short(verdict.message, 400), evidence)
    return Finding(CheckState.OK, short(verdict.message, 400), evidence)
