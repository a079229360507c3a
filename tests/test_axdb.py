"""The flight through pyodbc, unixODBC and the SQLite3 ODBC driver, on a file with the AXDB tables.

Needs the system packages unixodbc, odbcinst and libsqliteodbc (the test command installs them);
without them these tests fail and say so rather than skip.
"""

from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import pytest

from dwtui.domain.flight import DEFAULT_FLIGHT_NAME as NAME
from dwtui.domain.flight import DEFAULT_FLIGHT_SERVICE_ID as SID
from dwtui.domain.flight import FlightPlan, FlightResult
from dwtui.services import axdb
from dwtui.services.activity import ActivityLog
from dwtui.services.axdb_demo import DEMO_PARTITIONS, create_demo_database, demo_connection_string
from dwtui.services.errors import DatabaseDriverMissing, ServiceError

INITIAL, CONTOSO, FABRIKAM = (recid for recid, _key, _name in DEMO_PARTITIONS)


@pytest.fixture(scope="module", autouse=True)
def _sqlite_odbc_driver() -> None:
    drivers = axdb.installed_drivers()
    if "SQLite3" not in drivers:
        pytest.fail(
            f"the SQLite3 ODBC driver is not registered (installed: {drivers}); "
            "apt-get install unixodbc odbcinst libsqliteodbc"
        )


def rows(path: Path, name: str = NAME) -> list[tuple[int, int, int, int]]:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(
            "SELECT PARTITION, ENABLED, FLIGHTSERVICEID, RECID FROM SYSFLIGHTING WHERE FLIGHTNAME = ? "
            "ORDER BY PARTITION",
            (name,),
        ).fetchall()


def everything(path: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute("SELECT * FROM SYSFLIGHTING ORDER BY RECID").fetchall()


def execute(path: Path, *statements: str) -> None:
    with closing(sqlite3.connect(path)) as connection, connection:
        for statement in statements:
            connection.execute(statement)


def run(
    path: Path,
    plan: FlightPlan | None = None,
    activity: ActivityLog | None = None,
    *,
    driver: str = "",
    lock_timeout_ms: int = 5000,
) -> FlightResult:
    return axdb.run_flight(
        demo_connection_string(path, driver=driver, lock_timeout_ms=lock_timeout_ms),
        plan or FlightPlan(),
        activity=activity or ActivityLog(),
    )


def test_first_run_enables_every_partition_and_second_run_changes_nothing(tmp_path: Path) -> None:
    path = create_demo_database(tmp_path / "axdb.sqlite")
    others_before = [row for row in everything(path) if row[0] != NAME]
    activity = ActivityLog()
    first = axdb.run_flight(demo_connection_string(path), FlightPlan(), activity=activity)
    assert first.committed and first.changed and (first.inserted, first.updated) == (3, 0)
    assert [(p.partition.key, p.before, p.after is not None) for p in first.partitions] == [
        ("initial", None, True),
        ("contoso", None, True),
        ("fabrikam", None, True),
    ]
    written = rows(path)
    assert [(r[0], r[1], r[2]) for r in written] == [(INITIAL, 1, SID), (CONTOSO, 1, SID), (FABRIKAM, 1, SID)]
    assert [row for row in everything(path) if row[0] != NAME] == others_before  # other flights untouched

    second = axdb.run_flight(demo_connection_string(path), FlightPlan(), activity=activity)
    assert second.committed and not second.changed and (second.inserted, second.updated) == (0, 0)
    assert "nothing changed" in second.summary()
    assert rows(path) == written  # same rows, same RECIDs
    assert all(p.before == p.after for p in second.partitions)

    sql = [e for e in activity.entries() if e.kind == "sql"]
    assert any(e.summary.startswith("INSERT INTO SYSFLIGHTING") and f"'{NAME}'" in e.detail for e in sql)
    assert [e.summary for e in sql].count("COMMIT") == 2
    assert all(NAME not in e.summary for e in sql)  # the name travels as a parameter, never in SQL text


def test_a_partly_enabled_flight_is_completed(tmp_path: Path) -> None:
    path = create_demo_database(
        tmp_path / "axdb.sqlite",
        flight_rows=[(NAME, 1, SID, INITIAL), (NAME, 0, SID, CONTOSO)],  # fabrikam has no row
    )
    initial_recid = rows(path)[0][3]
    result = run(path)
    assert result.committed and (result.inserted, result.updated) == (1, 1)
    by_key = {p.partition.key: p for p in result.partitions}
    assert not by_key["initial"].changed
    assert by_key["contoso"].before.enabled == 0 and by_key["contoso"].after.enabled == 1
    assert by_key["fabrikam"].before is None and by_key["fabrikam"].after.service_id == SID
    assert rows(path)[0][3] == initial_recid


def test_another_service_id_is_corrected(tmp_path: Path) -> None:
    path = create_demo_database(tmp_path / "axdb.sqlite", flight_rows=[(NAME, 1, 999, INITIAL)])
    result = run(path, FlightPlan(NAME, SID))
    assert result.updated == 1 and result.inserted == 2
    assert {r[2] for r in rows(path)} == {SID}


def test_a_missing_table_is_one_clear_message(tmp_path: Path) -> None:
    path = create_demo_database(tmp_path / "axdb.sqlite")
    execute(path, "DROP TABLE PARTITIONS")
    activity = ActivityLog()
    with pytest.raises(ServiceError) as raised:
        run(path, activity=activity)
    fault = raised.value.fault
    assert fault.code == "missing_table" and "is it AXDB?" in fault.message
    assert "Nothing was written (rolled back)" in fault.message
    assert activity.entries()[-1].summary == "ROLLBACK"
    assert rows(path) == []


def test_a_failure_after_a_write_rolls_the_write_back(tmp_path: Path) -> None:
    # The UPDATE succeeds, then the INSERT is refused: the UPDATE must not survive.
    path = create_demo_database(tmp_path / "axdb.sqlite", flight_rows=[(NAME, 0, SID, INITIAL)])
    execute(
        path,
        "CREATE TRIGGER deny BEFORE INSERT ON SYSFLIGHTING "
        "BEGIN SELECT RAISE(ABORT, 'INSERT permission denied on SYSFLIGHTING'); END",
    )
    before = everything(path)
    with pytest.raises(ServiceError) as raised:
        run(path)
    assert raised.value.fault.code == "permission_denied"
    assert "rolled back" in raised.value.fault.message
    assert everything(path) == before


def test_a_failed_check_rolls_back(tmp_path: Path) -> None:
    # Something on the server (here a trigger) switches a new row off again: never commit that.
    path = create_demo_database(tmp_path / "axdb.sqlite", flight_rows=[(NAME, 0, SID, INITIAL)])
    execute(
        path,
        f"CREATE TRIGGER meddle AFTER INSERT ON SYSFLIGHTING WHEN NEW.PARTITION = {FABRIKAM} "
        "BEGIN UPDATE SYSFLIGHTING SET ENABLED = 0 WHERE RECID = NEW.RECID; END",
    )
    before = everything(path)
    result = run(path)
    assert not result.committed and not result.changed
    assert "fabrikam" in result.summary() and "Rolled back" in result.summary()
    assert everything(path) == before


def test_no_partitions_is_not_a_success(tmp_path: Path) -> None:
    path = create_demo_database(tmp_path / "axdb.sqlite", partitions=())
    result = run(path)
    assert not result.committed and "PARTITIONS has no rows" in result.summary()


def test_a_wrong_driver_name(tmp_path: Path) -> None:
    path = create_demo_database(tmp_path / "axdb.sqlite")
    with pytest.raises(ServiceError) as raised:
        run(path, driver="No Such Driver 99")
    fault = raised.value.fault
    assert fault.code == "driver_not_found" and "'No Such Driver 99'" in fault.message


def test_a_read_only_database(tmp_path: Path) -> None:
    path = create_demo_database(tmp_path / "axdb.sqlite")
    before = everything(path)
    readonly = f"Driver={{SQLite3}};Database=file:{path}?mode=ro"
    with pytest.raises(ServiceError) as raised:
        axdb.run_flight(readonly, FlightPlan(), activity=ActivityLog())
    assert raised.value.fault.code == "permission_denied"
    assert everything(path) == before


def test_a_locked_database(tmp_path: Path) -> None:
    path = create_demo_database(tmp_path / "axdb.sqlite")
    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another session holds the write lock
        with pytest.raises(ServiceError) as raised:
            run(path, lock_timeout_ms=50)
        other.execute("ROLLBACK")
    assert raised.value.fault.code == "locked"
    assert rows(path) == []


def test_a_database_that_cannot_be_opened(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "axdb.sqlite"
    with pytest.raises(ServiceError) as raised:
        axdb.run_flight(
            f"Driver={{SQLite3}};Database={missing};NoCreat=1", FlightPlan(), activity=ActivityLog()
        )
    assert raised.value.fault.code == "connection_failed"


def test_the_password_never_reaches_the_activity_log(tmp_path: Path) -> None:
    path = create_demo_database(tmp_path / "axdb.sqlite")
    activity = ActivityLog()
    # The SQLite driver ignores PWD without its encryption extension; SQL Server would use it.
    text = demo_connection_string(path) + ";PWD={Zq9;Vx}}Wy7}"
    axdb.run_flight(text, FlightPlan(), activity=activity)
    seen = " ".join(f"{e.summary} {e.detail}" for e in activity.entries())
    assert "Zq9" not in seen and "Vx" not in seen and "Wy7" not in seen and "PWD=***" in seen


def test_read_flight_only_reads(tmp_path: Path) -> None:
    path = create_demo_database(tmp_path / "axdb.sqlite", flight_rows=[(NAME, 1, SID, INITIAL)])
    check = axdb.read_flight(demo_connection_string(path), FlightPlan(), activity=ActivityLog())
    assert not check.ok and len(check.problems) == 2
    run(path)
    assert axdb.read_flight(demo_connection_string(path), FlightPlan(), activity=ActivityLog()).ok


# -- connection strings, drivers, a missing driver manager -------------------------------------------


def test_connection_strings_from_the_form() -> None:
    windows = axdb.connection_string(axdb.ConnectionForm("ODBC Driver 18 for SQL Server"))
    assert windows == (
        "Driver={ODBC Driver 18 for SQL Server};Server={localhost};Database={AXDB};Trusted_Connection=yes;"
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
    assert "UID={sa};PWD={p;w}}d}" in sql and "Encrypt=no;TrustServerCertificate=no" in sql
    assert axdb.redact_connection_string(sql).count("***") == 1
    assert "p;w" not in axdb.redact_connection_string(sql)
    with pytest.raises(ServiceError):
        axdb.connection_string(axdb.ConnectionForm("ODBC Driver 18 for SQL Server", login="sql"))
    assert axdb.connection_string(axdb.ConnectionForm("SQLite3", database="/tmp/a.db")).startswith(
        "Driver={SQLite3};Database=/tmp/a.db;"
    )


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
