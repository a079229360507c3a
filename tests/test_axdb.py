"""The flight through pyodbc and unixODBC on two real databases: SQLite (SQLite3 ODBC driver) and
PostgreSQL (psqlODBC), each with the AXDB tables (tests/axdb_support.py).

Needs unixodbc, odbcinst, libsqliteodbc, postgresql and odbc-postgresql (the test command installs
them); without them these tests fail and say so rather than skip.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import types
from pathlib import Path
from typing import Any

import pyodbc
import pytest

from dwtui.domain.flight import DEFAULT_FLIGHT_NAME as NAME
from dwtui.domain.flight import DEFAULT_FLIGHT_SERVICE_ID as SID
from dwtui.domain.flight import FlightPlan, FlightResult
from dwtui.services import axdb
from dwtui.services.activity import ActivityLog
from dwtui.services.axdb_demo import DEMO_PARTITIONS, create_demo_database, demo_connection_string
from dwtui.services.errors import DatabaseDriverMissing, ServiceError
from tests.axdb_support import Axdb

INITIAL, CONTOSO, FABRIKAM = (recid for recid, _key, _name in DEMO_PARTITIONS)


@pytest.fixture(scope="module", autouse=True)
def _sqlite_odbc_driver() -> None:
    drivers = axdb.installed_drivers()
    if "SQLite3" not in drivers:
        pytest.fail(
            f"the SQLite3 ODBC driver is not registered (installed: {drivers}); "
            "apt-get install unixodbc odbcinst libsqliteodbc"
        )


def run(connection: str, plan: FlightPlan | None = None, activity: ActivityLog | None = None) -> FlightResult:
    return axdb.run_flight(connection, plan or FlightPlan(), activity=activity or ActivityLog())


def test_first_run_enables_every_partition_and_second_run_changes_nothing(database: Axdb) -> None:
    connection = database.create()
    others_before = [row for row in database.everything() if row[0] != NAME]
    activity = ActivityLog()
    first = run(connection, activity=activity)
    assert first.committed and first.changed and (first.inserted, first.updated) == (3, 0)
    assert [(p.partition.key, p.before, p.after is not None) for p in first.partitions] == [
        ("initial", None, True),
        ("contoso", None, True),
        ("fabrikam", None, True),
    ]
    written = database.rows()
    assert [(r[0], r[1], r[2]) for r in written] == [(INITIAL, 1, SID), (CONTOSO, 1, SID), (FABRIKAM, 1, SID)]
    assert [row for row in database.everything() if row[0] != NAME] == others_before  # others untouched

    second = run(connection, activity=activity)
    assert second.committed and not second.changed and (second.inserted, second.updated) == (0, 0)
    assert "nothing changed" in second.summary()
    assert database.rows() == written  # same rows, same RECIDs
    assert all(p.before == p.after for p in second.partitions)

    sql = [e for e in activity.entries() if e.kind == "sql"]
    assert any(e.summary.startswith("INSERT INTO SYSFLIGHTING") and f"'{NAME}'" in e.detail for e in sql)
    assert [e.summary for e in sql].count("COMMIT") == 2
    assert all(NAME not in e.summary for e in sql)  # the name travels as a parameter, never in SQL text


def test_a_partly_enabled_flight_is_completed(database: Axdb) -> None:
    # fabrikam has no row
    connection = database.create(flight_rows=[(NAME, 1, SID, INITIAL), (NAME, 0, SID, CONTOSO)])
    initial_recid = database.rows()[0][3]
    result = run(connection)
    assert result.committed and (result.inserted, result.updated) == (1, 1)
    by_key = {p.partition.key: p for p in result.partitions}
    assert not by_key["initial"].changed
    assert by_key["contoso"].before.enabled == 0 and by_key["contoso"].after.enabled == 1
    assert by_key["fabrikam"].before is None and by_key["fabrikam"].after.service_id == SID
    assert database.rows()[0][3] == initial_recid


def test_another_service_id_is_corrected(database: Axdb) -> None:
    connection = database.create(flight_rows=[(NAME, 1, 999, INITIAL)])
    result = run(connection, FlightPlan(NAME, SID))
    assert result.updated == 1 and result.inserted == 2
    assert {r[2] for r in database.rows()} == {SID}


def test_a_missing_table_is_one_clear_message(database: Axdb) -> None:
    connection = database.create()
    database.drop_partitions()
    activity = ActivityLog()
    with pytest.raises(ServiceError) as raised:
        run(connection, activity=activity)
    fault = raised.value.fault
    assert fault.code == "missing_table" and "is it AXDB?" in fault.message
    assert "Nothing was written (rolled back)" in fault.message
    assert activity.entries()[-1].summary == "ROLLBACK"
    assert database.rows() == []


def test_a_failure_after_a_write_rolls_the_write_back(database: Axdb) -> None:
    # The UPDATE succeeds, then the INSERT is refused: the UPDATE must not survive.
    database.create(flight_rows=[(NAME, 0, SID, INITIAL)])
    connection = database.deny_inserts()
    before = database.everything()
    activity = ActivityLog()
    with pytest.raises(ServiceError) as raised:
        run(connection, activity=activity)
    assert raised.value.fault.code == "permission_denied"
    assert "rolled back" in raised.value.fault.message
    summaries = [e.summary for e in activity.entries()]
    assert any(s.startswith("UPDATE SYSFLIGHTING") for s in summaries) and summaries[-1] == "ROLLBACK"
    assert database.everything() == before


def test_a_failed_check_rolls_back(database: Axdb) -> None:
    # Something on the server (here a trigger) switches a new row off again: never commit that.
    connection = database.create(flight_rows=[(NAME, 0, SID, INITIAL)])
    database.switch_off_after_insert(FABRIKAM)
    before = database.everything()
    result = run(connection)
    assert not result.committed and not result.changed
    assert "fabrikam" in result.summary() and "Rolled back" in result.summary()
    assert database.everything() == before


def test_no_partitions_is_not_a_success(database: Axdb) -> None:
    connection = database.create(partitions=())
    result = run(connection)
    assert not result.committed and "PARTITIONS has no rows" in result.summary()


def test_a_read_only_database(database: Axdb) -> None:
    database.create()
    connection = database.read_only()
    before = database.everything()
    with pytest.raises(ServiceError) as raised:
        run(connection)
    assert raised.value.fault.code == "permission_denied"
    assert database.everything() == before


def test_a_locked_database(database: Axdb) -> None:
    database.create()
    with database.write_locked() as connection, pytest.raises(ServiceError) as raised:
        run(connection)
    assert raised.value.fault.code == "locked"
    assert database.rows() == []


def test_read_flight_only_reads(database: Axdb) -> None:
    connection = database.create(flight_rows=[(NAME, 1, SID, INITIAL)])
    check = axdb.read_flight(connection, FlightPlan(), activity=ActivityLog())
    assert not check.ok and len(check.problems) == 2
    run(connection)
    assert axdb.read_flight(connection, FlightPlan(), activity=ActivityLog()).ok


def test_a_refused_query_timeout_is_a_note_not_a_failure(database: Axdb) -> None:
    # psqlODBC refuses SQL_ATTR_CONNECTION_TIMEOUT (113); the SQLite3 driver takes it.
    connection = database.create()
    activity = ActivityLog()
    result = run(connection, activity=activity)
    assert result.committed
    notes = [e.detail for e in activity.entries() if e.summary == "driver note"]
    if database.kind == "postgresql":
        [note] = result.notes
        assert note.startswith("psqlODBC ('PostgreSQL Unicode') does not support a query timeout")
        assert "statements run without one" in note and notes == [note]
    else:
        assert result.notes == () and notes == []


def test_the_password_never_reaches_the_activity_log(database: Axdb) -> None:
    connection = database.create()
    if database.kind == "postgresql":
        # The cluster's real password holds ';', braces and a space (tests/pg_support.py).
        secret = database.cluster.password  # type: ignore[attr-defined]
    else:
        # The SQLite driver ignores PWD without its encryption extension; SQL Server would use it.
        secret = "Zq9;Vx}Wy7"
        connection += ";PWD={Zq9;Vx}}Wy7}"
    activity = ActivityLog()
    run(connection, activity=activity)
    seen = " ".join(f"{e.summary} {e.detail}" for e in activity.entries())
    assert all(part not in seen for part in secret.replace("{", ";").replace("}", ";").split(";") if part)
    assert "PWD=***" in seen


# -- SQLite only: the driver, the file ------------------------------------------------------------


def test_a_wrong_driver_name(tmp_path: Path) -> None:
    path = create_demo_database(tmp_path / "axdb.sqlite")
    with pytest.raises(ServiceError) as raised:
        run(demo_connection_string(path, driver="No Such Driver 99"))
    fault = raised.value.fault
    assert fault.code == "driver_not_found" and "'No Such Driver 99'" in fault.message
    assert "odbcinst -q -d" in (fault.remedy or "")


@pytest.mark.parametrize("where", ["missing.sqlite", "nowhere/axdb.sqlite"])
def test_a_missing_sqlite_file_is_refused_and_never_created(tmp_path: Path, where: str) -> None:
    missing = tmp_path / where
    for connection in (f"Driver={{SQLite3}};Database={missing}", demo_connection_string(missing)):
        with pytest.raises(ServiceError) as raised:
            run(connection)
        fault = raised.value.fault
        assert fault.code == "path" and f"'{missing}' does not exist" in fault.message
        assert "nothing was opened or created" in fault.message
        assert not missing.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == []


def test_a_raw_sqlite_string_never_creates_a_file_even_when_checked_too_early(tmp_path: Path) -> None:
    # NoCreat=1 is added to a raw string, so the driver itself refuses to create the file: here the
    # file appears for the check and is gone when the driver opens it (as if removed in between).
    path = tmp_path / "axdb.sqlite"
    path.touch()
    text = axdb.prepare_connection(f"Driver={{SQLite3}};Database={path}")
    assert text.endswith(";NoCreat=1")
    path.unlink()
    with pytest.raises(pyodbc.Error):
        pyodbc.connect(text, autocommit=True)
    assert not path.exists()
    path.touch()
    assert axdb.prepare_connection(f"Driver={{SQLite3}};NoCreat=0;Database={path}") == (
        f"Driver={{SQLite3}};NoCreat=1;Database={path}"
    )


def test_sqlite_without_real_transactions_is_refused(tmp_path: Path) -> None:
    path = create_demo_database(tmp_path / "axdb.sqlite")
    before = sqlite3.connect(path).execute("SELECT COUNT(*) FROM SYSFLIGHTING").fetchone()
    with pytest.raises(ServiceError) as raised:
        run(demo_connection_string(path) + ";NoTXN=1")
    assert raised.value.fault.code == "no_transactions"
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM SYSFLIGHTING").fetchone() == before


def test_a_driver_that_refuses_manual_commit_runs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # No installed driver refuses SQL_ATTR_AUTOCOMMIT off, so a stand-in module plays one, raising
    # pyodbc's own Error class as the driver manager would.
    executed: list[str] = []

    class Refusing:
        timeout = 0
        closed = False

        @property
        def autocommit(self) -> bool:
            return True

        @autocommit.setter
        def autocommit(self, value: bool) -> None:
            raise pyodbc.Error("HYC00", "[HYC00] Optional feature not implemented (0) (SQLSetConnectAttr)")

        def cursor(self) -> Any:
            executed.append("cursor")

        def close(self) -> None:
            self.closed = True

    connection = Refusing()
    stand_in = types.SimpleNamespace(Error=pyodbc.Error, connect=lambda *a, **k: connection)
    monkeypatch.setitem(sys.modules, "pyodbc", stand_in)
    activity = ActivityLog()
    with pytest.raises(ServiceError) as raised:
        run("Driver={Some Driver};Server=x", activity=activity)
    fault = raised.value.fault
    assert fault.code == "no_transactions" and "refused to turn autocommit off" in fault.message
    assert "nothing was run or written" in fault.message
    assert connection.closed and executed == []
    assert [e.summary for e in activity.entries()] == ["connect", "autocommit off refused"]


# -- connection strings, drivers, a missing driver manager -------------------------------------------


def test_connection_strings_from_the_form() -> None:
    windows = axdb.connection_string(axdb.ConnectionForm("ODBC Driver 18 for SQL Server"))
    assert windows == (  # braces only where a value needs them (tests/test_odbc_strings.py)
        "Driver={ODBC Driver 18 for SQL Server};Server=localhost;Database=AXDB;Trusted_Connection=yes;"
        "Encrypt=yes;TrustServerCertificate=yes"
    )
    form = axdb.ConnectionForm(
        "ODBC Driver 17 for SQL Server",
        server="vm\\SQL",
        login="sql",
        username="sa",
        encrypt=False,
        trust_server_certificate=False,
    )
    sql = axdb.connection_string(form, "p;w}d")
    assert "UID=sa;PWD={p;w}}d}" in sql and "Encrypt=no;TrustServerCertificate=no" in sql
    assert axdb.redact_connection_string(sql).count("***") == 1
    assert "p;w" not in axdb.redact_connection_string(sql)
    with pytest.raises(ServiceError):
        axdb.connection_string(axdb.ConnectionForm("ODBC Driver 18 for SQL Server", login="sql"))
    assert axdb.connection_string(axdb.ConnectionForm("SQLite3", database="/tmp/a.db")).startswith(
        "Driver={SQLite3};Database=/tmp/a.db;"
    )
    assert axdb.connection_string(axdb.ConnectionForm("SQLite3", database="/tmp/a.db")).endswith(";NoCreat=1")


def test_sql_server_drivers_come_first() -> None:
    names = [
        "SQLite3",
        "ODBC Driver 17 for SQL Server",
        "SQL Server",
        "ODBC Driver 18 for SQL Server",
        "SQLite",
    ]
    assert axdb.sort_drivers(names) == [
        "ODBC Driver 18 for SQL Server",
        "ODBC Driver 17 for SQL Server",
        "SQL Server",
        "SQLite3",
        "SQLite",
    ]


def test_a_missing_pyodbc_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyodbc", None)  # import pyodbc now raises ImportError
    with pytest.raises(DatabaseDriverMissing) as raised:
        axdb.installed_drivers()
    assert "apt-get install unixodbc" in raised.value.fault.message
    assert "ODBC Driver 18 for SQL Server" in raised.value.fault.message


def test_each_run_closes_the_database_it_opened(tmp_path: Path) -> None:
    # A working day of flights and doctor reads must not leave a file descriptor open per run.
    path = tmp_path / "axdb.sqlite"
    connection = demo_connection_string(create_demo_database(path))

    def open_on_the_database() -> int:
        descriptors = Path("/proc/self/fd")
        opened = 0
        for descriptor in descriptors.iterdir():
            with contextlib.suppress(OSError):  # the listing's own descriptor, closed by now
                opened += descriptor.readlink() == path
        return opened

    for _ in range(3):
        assert run(connection).committed
        assert axdb.read_flight(connection, FlightPlan(), activity=ActivityLog()).ok
    assert open_on_the_database() == 0
