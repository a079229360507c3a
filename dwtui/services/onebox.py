"""The one-box screen's and `dwtui onebox`'s entry points, each taking a Session.

Thin on purpose: the work is in appuser, axdb, aos and verify; this wires them to the session's
HTTP policy, Activity log, clock and keyring, so both front ends call the same four functions.
"""

from __future__ import annotations

from collections.abc import Callable

from dwtui.domain.aos import RestartResult, StepResult
from dwtui.domain.flight import FlightPlan, FlightResult
from dwtui.domain.profile import Profile
from dwtui.services.aos import ServiceController, default_controller, restart_aos
from dwtui.services.appuser import ApplicationUsers
from dwtui.services.axdb import run_flight
from dwtui.services.secrets import SecretStore
from dwtui.services.session import Session

SQL_PASSWORD = "axdb-sql-password"


def app_users(session: Session, instance_url: str) -> ApplicationUsers:
    """Business units, roles and the application user of one Dataverse, as the signed-in admin."""
    return ApplicationUsers(session.dataverse(instance_url), clock=session.clock)


def enable_flight(session: Session, connection_string: str, plan: FlightPlan) -> FlightResult:
    return run_flight(connection_string, plan, activity=session.activity, clock=session.clock)


def restart(
    session: Session,
    *,
    controller: ServiceController | None = None,
    demo: bool = False,
    on_step: Callable[[StepResult], None] | None = None,
) -> RestartResult:
    chosen = controller or default_controller(demo=demo)
    return restart_aos(chosen, session.activity, clock=session.clock, on_step=on_step)


def store_sql_password(secrets: SecretStore, profile: Profile, value: str) -> None:
    """The SQL login's password lives in the keyring, never in the profile or a connection string on disk."""
    secrets.set(profile.secret_key(SQL_PASSWORD), value)


def sql_password(secrets: SecretStore, profile: Profile) -> str | None:
    return secrets.get(profile.secret_key(SQL_PASSWORD))
