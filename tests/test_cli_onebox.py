"""`dwtui onebox`: the flight SQL, the flight on a real ODBC driver, the application user, verify, AOS."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from dwtui.cli import EXIT_CONFIG, EXIT_SERVICE
from dwtui.domain.flight import DEFAULT_FLIGHT_NAME, documented_script
from dwtui.services.activity import default_activity_path
from dwtui.services.axdb_demo import create_demo_database, demo_connection_string
from tests.axdb_support import PostgresAxdb
from tests.cli_support import MemoryKeyring, clear_overrides, run_cli, run_installed, use_memory_keyring
from tests.conftest import SimFactory
from tests.pg_support import USER, PgCluster, free_port

FAST = ["--demo", "--speed", "400"]


@pytest.fixture(autouse=True)
def _no_profile_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_memory_keyring()


def flight_rows(path: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(
            "SELECT PARTITION, ENABLED, FLIGHTSERVICEID FROM SYSFLIGHTING WHERE FLIGHTNAME = ? "
            "ORDER BY PARTITION",
            (DEFAULT_FLIGHT_NAME,),
        ).fetchall()


# -- flight -------------------------------------------------------------------------------------


def test_flight_sql_prints_the_documented_script(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["onebox", "flight", "--sql"], capsys)
    assert code == 0, err
    assert out == documented_script()
    assert "DualWriteUnoAuthenticationFnoToCds" in out
    assert "12719367" in out

    code, out, _ = run_cli(["onebox", "flight", "--sql", "--service-id", "42"], capsys)
    assert code == 0
    assert out == documented_script(DEFAULT_FLIGHT_NAME, 42)


@pytest.mark.parametrize(
    ("option", "value"), [("--flight-name", "x'; DROP TABLE PARTITIONS; --"), ("--service-id", "1 OR 1=1")]
)
def test_flight_refuses_values_that_are_not_a_flight(
    capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    code, out, err = run_cli(["onebox", "flight", "--sql", option, value], capsys)
    assert code == EXIT_CONFIG
    assert out == ""
    assert err.startswith(f"dwtui: {option}: ")


def test_flight_run_on_the_demo_axdb_shows_rows_before_and_after() -> None:
    done = run_installed([*FAST, "onebox", "flight", "--run", "--yes", "--json"])
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["committed"] is True
    assert data["inserted"] == 3
    assert [p["partition"] for p in data["partitions"]] == ["initial", "contoso", "fabrikam"]
    assert all(p["before"] is None for p in data["partitions"])
    assert all(p["after"] == {"enabled": 1, "service_id": 12719367} for p in data["partitions"])
    assert "PARTITION" in done.stderr and "(no row)" in done.stderr  # the table, on stderr under --json


def test_flight_run_through_a_connection_string_is_idempotent_and_partial_flights_are_completed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = create_demo_database(
        tmp_path / "AXDB.sqlite", flight_rows=[(DEFAULT_FLIGHT_NAME, 0, 12719367, 5637144577)]
    )
    argv = ["onebox", "flight", "--run", "--yes", "--connection-string", demo_connection_string(database)]
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    assert (
        "contoso    5637144577  ENABLED=0 FLIGHTSERVICEID=12719367  ENABLED=1 FLIGHTSERVICEID=12719367" in out
    )
    assert "(2 inserted, 1 updated)" in out
    assert flight_rows(database) == [(p, 1, 12719367) for p in (5637144576, 5637144577, 5637144578)]

    code, out, err = run_cli([*argv, "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["changed"] is False
    assert "nothing changed" in data["summary"]


def test_flight_run_without_yes_and_without_a_terminal_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = create_demo_database(tmp_path / "AXDB.sqlite")
    argv = ["onebox", "flight", "--run", "--connection-string", demo_connection_string(database)]
    code, _, err = run_cli(argv, capsys)
    assert code == EXIT_CONFIG
    assert "use --yes to run the flight" in err
    assert flight_rows(database) == []


def test_flight_run_on_a_database_without_the_tables_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "empty.sqlite"
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("CREATE TABLE OTHER (X INTEGER)")
    argv = ["onebox", "flight", "--run", "--yes", "--connection-string", demo_connection_string(database)]
    code, _, err = run_cli(argv, capsys)
    assert code == EXIT_SERVICE
    [line] = [x for x in err.splitlines() if x.startswith("dwtui: ")]
    assert "AXDB [missing_table]" in line
    assert "Traceback" not in err


def test_flight_run_needs_to_know_where_axdb_is(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["onebox", "flight", "--run", "--yes"], capsys)
    assert code == EXIT_CONFIG
    assert "--connection-string" in err


def pg_flight_argv(postgres: PgCluster, database: str, *extra: str) -> list[str]:
    return [
        "onebox",
        "flight",
        "--run",
        "--yes",
        "--driver",
        "PostgreSQL Unicode",
        "--server",
        "127.0.0.1",
        "--port",
        str(postgres.port),
        "--database",
        database,
        "--sql-login",
        USER,
        "--password-stdin",
        *extra,
    ]


def test_flight_run_through_psqlodbc_with_the_driver_form(
    postgres: PgCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    axdb = PostgresAxdb(postgres)
    axdb.create()
    argv = pg_flight_argv(postgres, axdb.database, "--no-encrypt", "--json")
    code, out, err = run_cli(argv, capsys, stdin=postgres.password + "\n")
    assert code == 0, err
    data = json.loads(out)
    assert data["committed"] is True and data["inserted"] == 3
    [note] = data["notes"]
    assert "does not support a query timeout" in note and "statements run without one" in note
    assert f"dwtui: note: {note}" in err
    assert "Server=127.0.0.1;Port=" in err  # no braces psqlODBC would take as part of the host name
    assert [row[1] for row in axdb.rows()] == [1, 1, 1]
    # The password (';', braces, a space) reaches no output and not the audit trail.
    audit = default_activity_path().read_text(encoding="utf-8")
    assert "PWD=***" in audit and "PWD=***" in err
    for part in postgres.password.replace("{", ";").replace("}", ";").split(";"):
        if part.strip():
            assert part not in audit and part not in out + err


def test_flight_run_through_psqlodbc_names_postgresql_when_the_password_is_wrong(
    postgres: PgCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    axdb = PostgresAxdb(postgres)
    axdb.create()
    code, _, err = run_cli(pg_flight_argv(postgres, axdb.database, "--no-encrypt"), capsys, stdin="wrong\n")
    assert code == EXIT_SERVICE
    [line] = [x for x in err.splitlines() if x.startswith("dwtui: AXDB")]
    assert line.startswith(
        f"dwtui: AXDB [login_failed]: PostgreSQL at 127.0.0.1:{postgres.port} refused the login."
    )
    assert "password authentication failed" in line and "pg_hba.conf" in line
    assert "SQL Server" not in err and "Traceback" not in err
    assert axdb.rows() == []


def test_flight_run_through_psqlodbc_says_when_the_server_has_no_tls(
    postgres: PgCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    axdb = PostgresAxdb(postgres)
    axdb.create()
    code, _, err = run_cli(pg_flight_argv(postgres, axdb.database), capsys, stdin=postgres.password + "\n")
    assert code == EXIT_SERVICE
    assert "AXDB [tls_failed]" in err and "does not offer SSL" in err and "--no-encrypt" in err


def test_flight_run_through_freetds_to_a_closed_port_is_one_clear_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    closed = free_port()
    argv = ["onebox", "flight", "--run", "--yes", "--driver", "FreeTDS", "--server", f"127.0.0.1,{closed}"]
    code, out, err = run_cli([*argv, "--sql-login", "sa", "--password-stdin"], capsys, stdin="s3cret;x\n")
    assert code == EXIT_SERVICE
    assert (
        f"Server=127.0.0.1;Port={closed};Database=AXDB;UID=sa;PWD=***;TDS_Version=7.4;Encryption=require"
        in out
    )
    [line] = [x for x in err.splitlines() if x.startswith("dwtui: AXDB")]
    assert f"[connection_failed]: cannot reach SQL Server at 127.0.0.1:{closed} through FreeTDS." in line
    assert "Traceback" not in err and "s3cret" not in out + err


def test_flight_run_on_a_missing_sqlite_file_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "AXDB.sqlite"
    argv = ["onebox", "flight", "--run", "--yes", "--driver", "SQLite3", "--database", str(missing)]
    code, _, err = run_cli(argv, capsys)
    assert code == EXIT_CONFIG
    assert f"AXDB [path]: the SQLite database file '{missing}' does not exist" in err
    assert not missing.exists() and list(tmp_path.iterdir()) == []


def test_flight_run_refuses_a_value_psqlodbc_would_misread(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "onebox",
        "flight",
        "--run",
        "--yes",
        "--driver",
        "PostgreSQL Unicode",
        "--database",
        "AXDB;UID=x",
    ]
    code, _, err = run_cli(argv, capsys)
    assert code == EXIT_CONFIG
    assert "AXDB [connection_value]: Database: 'AXDB;UID=x' cannot be passed to psqlODBC" in err


# -- application user and verify -------------------------------------------------------------------


def test_verify_names_the_missing_app_user_then_app_user_fixes_it(
    sim_factory: SimFactory, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = sim_factory("onebox-no-app-user", speed=50.0, device_code_lifetime=60.0)
    config = tmp_path / "config.toml"
    sim.write_config(config, environment="dev")
    base = ["--config", str(config)]
    app = ["--app-id", sim.onebox_client_id]
    secret = sim.onebox_client_secret

    code, out, err = run_cli([*base, "onebox", "verify", *app, "--secret-stdin"], capsys, stdin=secret + "\n")
    assert code == EXIT_SERVICE
    assert "0x80072560" in out
    assert "The user is not a member of the organization" in out
    assert "Application user, read with your sign-in: none active" in out
    assert "missing step: application user" in err
    assert secret not in out + err

    code, out, err = run_cli(
        [*base, "onebox", "app-user", *app, "--yes", "--json", "--no-interactive"], capsys
    )
    assert code == 0, err
    created = json.loads(out)
    assert created["created"] is True
    assert created["role_added"] is True
    assert created["business_unit"]["root"] is True
    assert created["role"]["name"] == "System Administrator"
    assert created["systemuser_id"]

    # Idempotent: the second run finds the user with its role and changes nothing, without asking.
    code, out, err = run_cli([*base, "onebox", "app-user", *app, "--no-interactive"], capsys)
    assert code == 0, err
    assert "already has the role System Administrator; nothing to do" in out

    # The secret given to the first verify is in the keyring now.
    code, out, err = run_cli([*base, "onebox", "verify", *app, "--json", "--no-interactive"], capsys)
    assert code == 0, err
    verified = json.loads(out)
    assert verified["ok"] is True
    assert verified["set_up"] is True
    assert verified["who_am_i"]["user_id"] == created["systemuser_id"]
    assert secret not in out + err


def test_app_user_without_a_terminal_asks_for_yes(
    sim_factory: SimFactory, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = sim_factory("onebox-no-app-user", speed=50.0, device_code_lifetime=60.0)
    config = tmp_path / "config.toml"
    sim.write_config(config, environment="dev")
    code, out, err = run_cli(
        ["--config", str(config), "onebox", "app-user", "--app-id", sim.onebox_client_id], capsys
    )
    assert code == EXIT_CONFIG
    assert "Create an application user" in out
    assert "use --yes to create the application user" in err
    posts = [r for r in sim.requests() if r["method"] == "POST" and "systemusers" in r["path"]]
    assert posts == []


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--app-id", "not-a-guid"], "is not a hexadecimal digit"),
        (["--role", "Nobody In Particular"], "has no role 'Nobody In Particular'"),
        (["--business-unit", "Atlantis"], "no business unit 'Atlantis'"),
    ],
)
def test_app_user_input_errors_exit_2(
    capsys: pytest.CaptureFixture[str], extra: list[str], words: str
) -> None:
    code, _, err = run_cli(
        [*FAST, "--environment", "contoso-dev", "onebox", "app-user", *extra, "--yes"], capsys
    )
    assert code == EXIT_CONFIG
    [line] = [x for x in err.splitlines() if x.startswith("dwtui: ")]
    assert words in line


@pytest.mark.parametrize("command", [["app-user", "--yes"], ["verify"], ["restart-aos", "--yes"]])
def test_onebox_commands_refuse_an_environment_that_is_not_a_onebox(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    # The demo's own environment, contoso-uat, is a sandbox.
    code, out, err = run_cli([*FAST, "onebox", *command], capsys)
    assert code == EXIT_CONFIG
    assert "contoso-uat is a Sandbox environment, not a one-box development VM" in err
    assert "[aos]" not in out  # nothing was stopped


def test_verify_in_the_demo_as_an_installed_command() -> None:
    done = run_installed(
        [
            *FAST,
            "--scenario",
            "onebox-no-app-user",
            "--environment",
            "contoso-dev",
            "onebox",
            "verify",
            "--json",
        ]
    )
    assert done.returncode == EXIT_SERVICE, done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] is False
    assert data["missing_step"] == "application user"
    assert data["error"]["code"] == "0x80072560"


def test_verify_an_app_user_without_a_role(capsys: pytest.CaptureFixture[str]) -> None:
    base = [*FAST, "--scenario", "onebox-app-user-no-role", "--environment", "contoso-dev", "onebox"]
    code, out, err = run_cli([*base, "verify"], capsys)
    assert code == EXIT_SERVICE
    assert "WhoAmI answers as the app, but its application user has no security role" in out
    assert "  WhoAmI as the app: user " in out
    assert "  Application user, read with your sign-in: " in out and "; roles: no role" in out
    assert "missing step: security role" in err
    assert "0x80072560" not in out + err

    code, out, err = run_cli([*base, "verify", "--json"], capsys)
    assert code == EXIT_SERVICE
    data = json.loads(out)
    assert data["ok"] is False and data["set_up"] is False
    assert data["missing_step"] == "security role"
    assert data["who_am_i"]["user_id"] == data["app_user"]["systemuser_id"]
    assert data["app_user"]["roles"] == [] and data["app_user"]["disabled"] is False
    assert data["error"] is None and data["app_user_error"] is None
    assert data["soft_deleted_app_users"] == []
    assert len(data["checks"]) == 2


def test_app_user_purges_a_soft_deleted_user_once_confirmed(
    sim_factory: SimFactory, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = sim_factory("onebox-app-user-deleted", speed=50.0, device_code_lifetime=60.0)
    config = tmp_path / "config.toml"
    sim.write_config(config, environment="dev")
    base = ["--config", str(config)]
    app = ["--app-id", sim.onebox_client_id]

    code, out, err = run_cli(
        [*base, "onebox", "verify", *app, "--secret-stdin", "--json"], capsys, stdin=sim.onebox_client_secret
    )
    assert code == EXIT_SERVICE
    before = json.loads(out)
    assert before["missing_step"] == "application user" and before["error"]["code"] == "0x80072560"
    assert before["app_user"] is None
    [deleted] = before["soft_deleted_app_users"]

    # Without --yes nothing changes: neither the purge nor the create.
    code, out, err = run_cli([*base, "onebox", "app-user", *app, "--no-interactive"], capsys)
    assert code == EXIT_CONFIG
    assert f"soft-deleted application user(s) for this app ({deleted})" in out
    assert "deletes them permanently" in out
    changes = [r for r in sim.requests() if r["method"] in ("POST", "DELETE") and "/dataverse/" in r["path"]]
    assert changes == []

    code, out, err = run_cli(
        [*base, "onebox", "app-user", *app, "--yes", "--json", "--no-interactive"], capsys
    )
    assert code == 0, err
    created = json.loads(out)
    assert created["created"] is True and created["purged"] == [deleted]
    assert created["soft_deleted"] == [deleted] and created["systemuser_id"] != deleted
    deletes = [r["path"] for r in sim.requests() if r["method"] == "DELETE"]
    assert deletes == [deletes[0]] * 2 and deletes[0].endswith(f"/systemusers({deleted})")

    code, out, err = run_cli([*base, "onebox", "verify", *app, "--json", "--no-interactive"], capsys)
    assert code == 0, err
    after = json.loads(out)
    assert after["ok"] is True and after["soft_deleted_app_users"] == []
    assert [r["name"] for r in after["app_user"]["roles"]] == ["System Administrator"]


# -- AOS restart ----------------------------------------------------------------------------------


def test_restart_aos_in_the_demo_takes_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--demo", "--speed", "1000", "--environment", "contoso-dev", "onebox", "restart-aos", "--yes"]
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    assert "[aos] ok: check elevation" in out
    assert "[aos] ok: stop w3svc, DynamicsAxBatch" in out
    assert "[aos] ok: start w3svc, DynamicsAxBatch and web site AOSService" in out
    assert "w3svc=Running" in out
    assert "simulated" in out


def test_restart_aos_needs_confirmation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        ["--demo", "--speed", "1000", "--environment", "contoso-dev", "onebox", "restart-aos"], capsys
    )
    assert code == EXIT_CONFIG
    assert "[aos]" not in out
    assert "use --yes to restart the AOS" in err


def test_demo_session_knows_the_simulated_one_box_and_its_database() -> None:
    """--demo hands the one-box screen the app id to prefill and an AXDB file, never the real state."""
    from dwtui.cli.runtime import Runtime
    from dwtui.services.operations import default_store_path

    runtime = Runtime(None, None, True, "happy", 50.0, "")
    try:
        session = runtime.session(announce=False)
        assert session.demo is not None
        assert session.demo.onebox_application_id == runtime.sim().onebox_client_id
        assert "AXDB.sqlite" in session.demo.axdb_connection_string
        assert session.demo.speed == 50.0
        assert session.operations.path != default_store_path()
    finally:
        runtime.close()
