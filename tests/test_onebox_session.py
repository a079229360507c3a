"""The one-box entry points on a Session: the same Activity log sees SQL, commands and HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dwtui.domain.flight import FlightPlan
from dwtui.services.aos import SimulatedServiceController
from dwtui.services.axdb_demo import create_demo_database, demo_connection_string
from dwtui.services.onebox import app_users, enable_flight, restart, sql_password, store_sql_password
from dwtui.sim.server import SimServer
from tests.helpers import make_session


def test_one_session_drives_every_step(sim_factory: Callable[..., SimServer], tmp_path: Path) -> None:
    sim = sim_factory("onebox-no-app-user")
    session = make_session(sim, environment="dev", sign_in=True)
    units = app_users(session, sim.dataverse_url("contosodev")).business_units()
    assert units[0].is_root

    result = enable_flight(
        session, demo_connection_string(create_demo_database(tmp_path / "ax.db")), FlightPlan()
    )
    assert result.committed and result.inserted == 3

    restarted = restart(session, controller=SimulatedServiceController(sleep=lambda _s: None))
    assert restarted.ok and restarted.simulated

    kinds = {entry.kind for entry in session.activity.entries()}
    assert {"http", "sql", "command"} <= kinds

    assert sql_password(session.secrets, session.profile) is None
    store_sql_password(session.secrets, session.profile, "Pa55;word")
    assert sql_password(session.secrets, session.profile) == "Pa55;word"
    session.close()
