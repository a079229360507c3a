"""Shared fixtures: simulators over real TLS on loopback, PostgreSQL for the flight; stopped at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dwtui.sim.server import SimServer
from tests.no_skips import pytest_sessionfinish, pytest_terminal_summary

__all__ = ["pytest_sessionfinish", "pytest_terminal_summary"]  # hooks: every run refuses skips

if TYPE_CHECKING:
    from tests.axdb_support import Axdb
    from tests.pg_support import PgCluster

SimFactory = Callable[..., SimServer]


@pytest.fixture(autouse=True)
def os_keyrings_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process, a SecretStore uses an OS keyring or memory, as it did before the headless stores.

    The kernel's persistent keyring is one per user, shared by every test: tests of it run the
    command in a user namespace of its own (tests/headless_store_support.py) or name their keys.
    """
    from dwtui.services import secrets

    monkeypatch.setattr(secrets, "AUTO_STORES", ("os",))


@pytest.fixture
def sim_factory() -> Iterator[SimFactory]:
    """callable(scenario="happy", speed=50.0, **kw) -> a started SimServer, stopped at teardown."""
    started: list[SimServer] = []

    def factory(scenario: str = "happy", speed: float = 50.0, **kw: Any) -> SimServer:
        server = SimServer(scenario=scenario, speed=speed, **kw)
        server.start()
        started.append(server)
        return server

    yield factory
    for server in reversed(started):
        server.stop()


@pytest.fixture
def sim(sim_factory: SimFactory) -> SimServer:
    """The happy scenario at speed 50."""
    return sim_factory()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgCluster]:
    """This worker's own PostgreSQL cluster (a temp directory, a free port), stopped at teardown.

    Fails, never skips, where the server or psqlODBC is missing (tests/pg_support.py)."""
    from tests.pg_support import start_cluster

    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Axdb:
    """AXDB behind the SQLite3 ODBC driver, then behind psqlODBC: the flight must behave the same."""
    from tests.axdb_support import PostgresAxdb, SqliteAxdb

    if request.param == "sqlite":
        return SqliteAxdb(tmp_path)
    return PostgresAxdb(request.getfixturevalue("postgres"))


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's config, state (operations) or cache."""
    home = tmp_path_factory.mktemp("home")
    for variable in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(variable, str(home / variable.lower()))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Snapshot tests serve the simulator on one fixed port: under xdist they share one worker. The
    simulator's contract tests share one recording of runs, made once on one worker."""
    for item in items:
        if item.path.name.endswith("snapshots.py"):
            item.add_marker(pytest.mark.xdist_group("snapshot-port"))
        elif item.path.name == "test_contracts_simulator.py":
            item.add_marker(pytest.mark.xdist_group("contracts"))
    # The groups run first: the snapshot group, the longest work one worker cannot share, started
    # last would leave the other worker idle at the end (about three minutes on 2 cores).
    items.sort(key=lambda item: 0 if item.path.name.endswith("snapshots.py") else 1)
