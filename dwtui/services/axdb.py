"""AXDB through ODBC: connection strings, installed drivers, and the flight in one transaction.

pyodbc is imported inside the functions that need it, so dwtui starts on machines without an
ODBC driver manager and says what to install only when a database feature is used. The same code
reaches SQL Server on a one-box VM and the demo's SQLite file (through the SQLite3 ODBC driver).
Every statement is recorded in the Activity log with its parameters (flight name and service id
are not secrets); a connection string is recorded only with its password masked.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from dwtui.domain.flight import (
    FlightCheck,
    FlightPlan,
    FlightResult,
    FlightRow,
    Partition,
    Statement,
    check_enabled,
    per_partition,
)
from dwtui.domain.models import Fault
from dwtui.services.activity import ActivityEntry, ActivityLog
from dwtui.services.errors import DatabaseDriverMissing, ServiceError

SERVICE = "AXDB"
INSTALL_HINT = (
    "install unixODBC (apt-get install unixodbc) and an ODBC driver: Microsoft ODBC Driver 18 for "
    "SQL Server, or libsqliteodbc for the demo"
)
LOGIN_TIMEOUT = 15  # seconds to connect
QUERY_TIMEOUT = 60  # seconds per statement


def _pyodbc() -> ModuleType:
    try:
        # Lazily: the app must start where no ODBC driver manager is installed.
        import pyodbc
    except ImportError as error:
        # pyodbc itself, or the libodbc.so.2 it links against.
        raise DatabaseDriverMissing(
            Fault(SERVICE, f"cannot load pyodbc ({error}); {INSTALL_HINT}", "odbc_missing")
        ) from error
    module: ModuleType = pyodbc
    return module


# -- drivers and connection strings ---------------------------------------------------------------


def _driver_rank(name: str) -> tuple[int, int, str]:
    lowered = name.lower()
    version = re.search(r"(\d+)", name)
    number = int(version.group(1)) if version else 0
    return (0 if "sql server" in lowered else 1, -number, lowered)


def sort_drivers(names: Sequence[str]) -> list[str]:
    """SQL Server drivers first, newest first; then the others by name."""
    return sorted(dict.fromkeys(names), key=_driver_rank)


def installed_drivers() -> list[str]:
    return sort_drivers(list(_pyodbc().drivers()))


def is_sqlite_driver(driver: str) -> bool:
    return "sqlite" in driver.lower()


@dataclass(frozen=True, slots=True)
class ConnectionForm:
    driver: str
    server: str = "localhost"
    database: str = "AXDB"  # for a SQLite driver: the database file's path
    login: str = "windows"  # windows | sql
    username: str = ""
    encrypt: bool = True
    # A one-box VM's SQL Server presents a self-signed certificate; ODBC Driver 18 refuses it unless told.
    trust_server_certificate: bool = True


def _braced(value: str) -> str:
    """An ODBC attribute value that may hold ; { } or spaces: {value} with } doubled."""
    return "{" + value.replace("}", "}}") + "}"


def connection_string(form: ConnectionForm, password: str = "") -> str:
    """The ODBC connection string for `form`; the password is used here and never kept."""
    driver = form.driver.strip()
    if not driver:
        raise ServiceError(Fault(SERVICE, "choose an ODBC driver", "driver_missing"))
    if is_sqlite_driver(driver):
        return sqlite_connection_string(driver, form.database.strip())
    parts = [
        f"Driver={_braced(driver)}",
        f"Server={_braced(form.server.strip() or 'localhost')}",
        f"Database={_braced(form.database.strip() or 'AXDB')}",
    ]
    if form.login == "sql":
        if not form.username.strip():
            raise ServiceError(Fault(SERVICE, "enter the SQL login's user name", "login_missing"))
        parts += [f"UID={_braced(form.username.strip())}", f"PWD={_braced(password)}"]
    else:
        parts.append("Trusted_Connection=yes")
    parts.append(f"Encrypt={'yes' if form.encrypt else 'no'}")
    parts.append(f"TrustServerCertificate={'yes' if form.trust_server_certificate else 'no'}")
    return ";".join(parts)


def sqlite_connection_string(driver: str, path: str, lock_timeout_ms: int = 5000) -> str:
    # The SQLite ODBC driver takes Database= literally (braces would become part of the path).
    if not path or ";" in path or path != path.strip():
        raise ServiceError(
            Fault(
                SERVICE, f"'{path}' cannot be used as a database file path (no ';', no edge spaces)", "path"
            )
        )
    return f"Driver={_braced(driver)};Database={path};Timeout={int(lock_timeout_ms)}"


_PASSWORD = re.compile(r"(?i)\b(pwd|password)(\s*=\s*)(\{(?:[^}]|\}\})*\}|[^;]*)")


def redact_connection_string(text: str) -> str:
    # Braced values may hold ';', which the Activity log's generic redaction would stop at.
    return _PASSWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def _attribute(text: str, name: str) -> str:
    match = re.search(rf"(?i)(?:^|;)\s*{name}\s*=\s*(\{{(?:[^}}]|\}}\}})*\}}|[^;]*)", text)
    if not match:
        return ""
    value = match.group(1).strip()
    if value.startswith("{") and value.endswith("}"):
        value = value[1:-1].replace("}}", "}")
    return value


# -- errors ---------------------------------------------------------------------------------------


def _state_and_text(error: BaseException) -> tuple[str, str]:
    args: tuple[Any, ...] = tuple(getattr(error, "args", ()))
    if len(args) >= 2 and isinstance(args[0], str):
        return args[0], str(args[1])
    return "", str(error)


def database_fault(error: BaseException, connection: str, *, written: bool = False) -> Fault:
    """One clear message per kind of failure; `written` False adds that nothing was written."""
    state, text = _state_and_text(error)
    lowered = text.lower()
    driver = _attribute(connection, "Driver")
    server = _attribute(connection, "Server") or _attribute(connection, "Database")
    database = _attribute(connection, "Database")
    detail = f" (driver: {redact_connection_string(_squash(text))})"
    tail = "" if written else " Nothing was written (rolled back)."
    if state == "IM002" or "can't open lib" in lowered or "data source name not found" in lowered:
        return Fault(
            SERVICE,
            f"the ODBC driver '{driver or '?'}' is not installed or not registered in odbcinst.ini; "
            f"choose an installed one, or {INSTALL_HINT}{detail}",
            "driver_not_found",
        )
    if state == "28000" or "login failed" in lowered:
        return Fault(
            SERVICE,
            f"SQL Server refused the login to {server or 'the server'}: check the user name and password, "
            f"or use Windows login as a local administrator{detail}",
            "login_failed",
        )
    if (
        state.startswith("08")
        or state == "HYT00"
        or "connect failed" in lowered
        or "unable to open" in lowered
    ):
        return Fault(
            SERVICE,
            f"cannot connect to {server or 'the database'}: check that SQL Server is running and the "
            f"server name (localhost on a one-box VM){detail}",
            "connection_failed",
        )
    if state == "42S02" or "invalid object name" in lowered or "no such table" in lowered:
        return Fault(
            SERVICE,
            f"a table the flight needs (PARTITIONS or SYSFLIGHTING) does not exist in "
            f"{database or 'this database'}: is it AXDB?{tail}{detail}",
            "missing_table",
        )
    if "database is locked" in lowered or "lock request time out" in lowered:
        return Fault(
            SERVICE,
            f"the database is locked by another session; try again when it is free.{tail}{detail}",
            "locked",
        )
    if (
        "permission" in lowered
        or "denied" in lowered
        or "readonly" in lowered
        or "read-only" in lowered
        or "read only" in lowered
    ):
        return Fault(
            SERVICE,
            "the login may not change SYSFLIGHTING (permission denied or a read-only database): "
            f"connect as a local administrator or a member of db_owner on AXDB.{tail}{detail}",
            "permission_denied",
        )
    return Fault(SERVICE, f"the database reported an error: {_squash(text)}.{tail}", state or "sql_error")


def _squash(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# -- running ----------------------------------------------------------------------------------------


class _Recorder:
    def __init__(self, activity: ActivityLog, clock: Callable[[], float]) -> None:
        self.activity = activity
        self.clock = clock

    def record(self, summary: str, detail: str, started: float, status: int | None = None) -> None:
        self.activity.record(
            ActivityEntry(
                at=self.clock(),
                kind="sql",
                summary=summary,
                service=SERVICE,
                duration_ms=(time.perf_counter() - started) * 1000.0,
                detail=detail,
                status=status,
            )
        )


def _params_text(statement: Statement) -> str:
    if not statement.params:
        return "no parameters"
    return "parameters: " + ", ".join(repr(p) if isinstance(p, str) else str(p) for p in statement.params)


class _Transaction:
    """One connection with autocommit off; every statement recorded; rollback unless committed."""

    def __init__(self, connection_string: str, recorder: _Recorder, login_timeout: int) -> None:
        self.pyodbc = _pyodbc()
        self.text = connection_string
        self.recorder = recorder
        started = time.perf_counter()
        shown = redact_connection_string(connection_string)
        try:
            self.connection: Any = self.pyodbc.connect(
                connection_string, autocommit=False, timeout=login_timeout
            )
        except self.pyodbc.Error as error:
            fault = database_fault(error, connection_string, written=True)
            recorder.record("connect failed", f"{shown}: {fault.message}", started)
            raise ServiceError(fault) from error
        recorder.record("connect", shown, started)
        self.connection.timeout = QUERY_TIMEOUT
        self.cursor = self.connection.cursor()
        self.finished = False

    def run(self, statement: Statement) -> tuple[list[tuple[Any, ...]], int]:
        started = time.perf_counter()
        try:
            self.cursor.execute(statement.sql, *statement.params)
            rows = [tuple(row) for row in self.cursor.fetchall()] if self.cursor.description else []
            count = len(rows) if self.cursor.description else int(self.cursor.rowcount)
        except self.pyodbc.Error as error:
            self.recorder.record(statement.sql, f"{_params_text(statement)}; failed: {error}", started)
            raise
        what = f"{count} row(s) read" if self.cursor.description else f"{count} row(s) affected"
        self.recorder.record(statement.sql, f"{_params_text(statement)}; {what}", started)
        return rows, count

    def commit(self) -> None:
        started = time.perf_counter()
        self.connection.commit()
        self.finished = True
        self.recorder.record("COMMIT", "the transaction was committed", started)

    def rollback(self, why: str) -> None:
        started = time.perf_counter()
        try:
            self.connection.rollback()
        except self.pyodbc.Error as error:
            # The connection is broken; the server discards the open transaction with it.
            why = f"{why}; rollback reported: {_squash(str(error))}"
        self.finished = True
        self.recorder.record("ROLLBACK", why, started)

    def close(self) -> None:
        if not self.finished:
            self.rollback("closing without commit")
        with contextlib.suppress(self.pyodbc.Error):  # nothing more can be done about it
            self.connection.close()


def _partitions(rows: list[tuple[Any, ...]]) -> list[Partition]:
    return [Partition(int(row[0]), str(row[1] or "").strip()) for row in rows]


def _flight_rows(rows: list[tuple[Any, ...]]) -> list[FlightRow]:
    return [
        FlightRow(
            int(row[0]), None if row[1] is None else int(row[1]), None if row[2] is None else int(row[2])
        )
        for row in rows
    ]


def run_flight(
    connection_string: str,
    plan: FlightPlan,
    *,
    activity: ActivityLog,
    clock: Callable[[], float] = time.time,
    login_timeout: int = LOGIN_TIMEOUT,
) -> FlightResult:
    """Enable the flight on every partition in one transaction; commit only if the check passes.

    Raises ServiceError for connection, login, missing-table, permission and other database
    errors; the transaction is rolled back first, so nothing is ever half-written.
    """
    transaction = _Transaction(connection_string, _Recorder(activity, clock), login_timeout)
    try:
        try:
            partition_rows, _ = transaction.run(plan.partitions())
            before_rows, _ = transaction.run(plan.read_rows("before"))
            _, updated = transaction.run(plan.update())
            _, inserted = transaction.run(plan.insert())
            after_rows, _ = transaction.run(plan.read_rows("after"))
        except transaction.pyodbc.Error as error:
            fault = database_fault(error, connection_string)
            transaction.rollback(fault.message)
            raise ServiceError(fault) from error
        partitions = _partitions(partition_rows)
        after = _flight_rows(after_rows)
        check = check_enabled(partitions, after, plan.service_id)
        if check.ok:
            try:
                transaction.commit()
            except transaction.pyodbc.Error as error:
                fault = database_fault(error, connection_string)
                transaction.rollback(fault.message)
                raise ServiceError(fault) from error
        else:
            transaction.rollback("; ".join(check.problems))
        return FlightResult(
            plan=plan,
            committed=check.ok,
            partitions=per_partition(partitions, _flight_rows(before_rows), after),
            updated=max(0, updated),
            inserted=max(0, inserted),
            check=check,
        )
    finally:
        transaction.close()


def read_flight(
    connection_string: str,
    plan: FlightPlan,
    *,
    activity: ActivityLog,
    clock: Callable[[], float] = time.time,
    login_timeout: int = LOGIN_TIMEOUT,
) -> FlightCheck:
    """Whether the flight is enabled on every partition, reading only (the transaction is rolled back)."""
    transaction = _Transaction(connection_string, _Recorder(activity, clock), login_timeout)
    try:
        try:
            partition_rows, _ = transaction.run(plan.partitions())
            rows, _ = transaction.run(plan.read_rows("after"))
        except transaction.pyodbc.Error as error:
            raise ServiceError(database_fault(error, connection_string, written=True)) from error
        return check_enabled(_partitions(partition_rows), _flight_rows(rows), plan.service_id)
    finally:
        transaction.close()
