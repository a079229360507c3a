"""AXDB through ODBC: installed drivers, and the flight in one transaction.

pyodbc is imported inside the functions that need it, so dwtui starts on machines without an
ODBC driver manager and says what to install only when a database feature is used. The same code
reaches SQL Server on a one-box VM (Microsoft's driver or FreeTDS), PostgreSQL through psqlODBC, and
the demo's SQLite file (through the SQLite3 ODBC driver). Connection strings are built in
odbc_strings, driver errors explained in odbc_faults; an attribute a driver refuses is noted, not fatal.
Every statement is recorded in the Activity log with its parameters (flight name and service id
are not secrets); a connection string is recorded only with its password masked.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlparse

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
from dwtui.services.odbc_faults import INSTALL_HINT, database_fault, squash
from dwtui.services.odbc_strings import (
    SERVICE,
    ConnectionForm,
    DriverKind,
    attribute,
    connection_driver,
    connection_kind,
    connection_string,
    driver_label,
    is_sqlite_driver,
    redact_connection_string,
    sqlite_connection_string,
)

__all__ = [
    "INSTALL_HINT",
    "SERVICE",
    "ConnectionForm",
    "connection_string",
    "database_fault",
    "installed_drivers",
    "is_sqlite_driver",
    "prepare_connection",
    "read_flight",
    "redact_connection_string",
    "run_flight",
    "sort_drivers",
    "sqlite_connection_string",
]

LOGIN_TIMEOUT = 15  # seconds to connect
QUERY_TIMEOUT = 60  # seconds per statement, where the driver supports one


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


# -- drivers ----------------------------------------------------------------------------------------


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


# -- before connecting ------------------------------------------------------------------------------

_FALSE = ("", "0", "false", "no", "off")


def _sqlite_file(database: str) -> str | None:
    """The file a SQLite Database= names, or None for an in-memory database."""
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        parsed = urlparse(database)
        if "mode=memory" in parsed.query:
            return None
        return unquote(parsed.path) or None
    return database


def prepare_connection(text: str) -> str:
    """The connection string as dwtui connects with it, or a ServiceError before anything is opened.

    For the SQLite ODBC driver: a Database= file that does not exist is refused (the driver would
    create an empty one), NoCreat=1 is added so that not even a race can create one, and NoTXN (which
    "only pretends transactions", the driver's README) is refused: the flight needs a real one.
    """
    if connection_kind(text) is not DriverKind.SQLITE:
        return text
    if attribute(text, "NoTXN").strip().lower() not in _FALSE:
        raise ServiceError(
            Fault(
                SERVICE,
                "NoTXN makes the SQLite ODBC driver only pretend transactions, and the flight runs in one: "
                "nothing was opened",
                "no_transactions",
                remedy="remove NoTXN from the connection string",
            )
        )
    database = attribute(text, "Database")
    path = _sqlite_file(database)
    if path is not None and not Path(path).is_file():
        raise ServiceError(
            Fault(
                SERVICE,
                f"the SQLite database file '{path}' does not exist; nothing was opened or created",
                "path",
                remedy="check the Database= path (in the demo, dwtui creates and names the file itself)",
            )
        )
    if attribute(text, "NoCreat").strip().lower() in _FALSE:
        given = re.compile(r"(?i)((?:^|;)\s*NoCreat\s*=)[^;]*")
        text = given.sub(r"\g<1>1", text) if given.search(text) else text.rstrip("; ") + ";NoCreat=1"
    return text


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
    """One connection in manual-commit mode; every statement recorded; rollback unless committed.

    `notes` says what the driver would not do that dwtui asked for (e.g. a query timeout) and what
    dwtui did instead; each note is in the Activity log too.
    """

    def __init__(self, connection_string: str, recorder: _Recorder, login_timeout: int) -> None:
        self.text = prepare_connection(connection_string)
        self.pyodbc = _pyodbc()
        self.recorder = recorder
        self.notes: list[str] = []
        self.finished = False
        self.label = driver_label(connection_driver(self.text))
        started = time.perf_counter()
        shown = redact_connection_string(self.text)
        try:
            # Autocommit on (ODBC's default) to connect: a driver's refusal of manual commit is then
            # told apart from a connection failure.
            self.connection: Any = self.pyodbc.connect(self.text, autocommit=True, timeout=login_timeout)
        except self.pyodbc.Error as error:
            fault = database_fault(error, self.text)
            recorder.record("connect failed", f"{shown}: {fault.message}", started)
            raise ServiceError(fault) from error
        recorder.record("connect", shown, started)
        self._manual_commit()
        self._query_timeout()
        self.cursor = self.connection.cursor()

    def _manual_commit(self) -> None:
        started = time.perf_counter()
        try:
            self.connection.autocommit = False
        except self.pyodbc.Error as error:
            with contextlib.suppress(self.pyodbc.Error):
                self.connection.close()
            self.finished = True
            fault = Fault(
                SERVICE,
                f"{self.label} refused to turn autocommit off (SQL_ATTR_AUTOCOMMIT), so the statements "
                "cannot run in one transaction; nothing was run or written "
                f"({self.label} said: {redact_connection_string(squash(str(error)))})",
                "no_transactions",
                remedy="use a driver that supports transactions (SQL Server's, FreeTDS, psqlODBC, SQLite's)",
            )
            self.recorder.record("autocommit off refused", fault.message, started)
            raise ServiceError(fault) from error

    def _query_timeout(self) -> None:
        # pyodbc's Connection.timeout is SQL_ATTR_CONNECTION_TIMEOUT (113), which pyodbc then applies to
        # every statement; psqlODBC refuses it ("Couldn't set unsupported connect attribute 113").
        started = time.perf_counter()
        try:
            self.connection.timeout = QUERY_TIMEOUT
        except self.pyodbc.Error as error:
            self.note(
                f"{self.label} does not support a query timeout (connection attribute 113); statements "
                f"run without one ({squash(str(error))})",
                started,
            )

    def note(self, text: str, started: float) -> None:
        self.notes.append(text)
        self.recorder.record("driver note", text, started)

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
            why = f"{why}; rollback reported: {squash(str(error))}"
        self.finished = True
        self.recorder.record("ROLLBACK", why, started)

    def close(self) -> None:
        if not self.finished:
            self.rollback("closing without commit")
        # The cursor first: the SQLite3 ODBC driver cannot close a database whose last SELECT is still
        # prepared, and kept its file open for as long as the process ran, one per flight.
        with contextlib.suppress(self.pyodbc.Error):  # nothing more can be done about it
            self.cursor.close()
        with contextlib.suppress(self.pyodbc.Error):
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
            fault = database_fault(error, transaction.text, in_transaction=True)
            transaction.rollback(fault.message)
            raise ServiceError(fault) from error
        partitions = _partitions(partition_rows)
        after = _flight_rows(after_rows)
        check = check_enabled(partitions, after, plan.service_id)
        if check.ok:
            try:
                transaction.commit()
            except transaction.pyodbc.Error as error:
                fault = database_fault(error, transaction.text, in_transaction=True)
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
            notes=tuple(transaction.notes),
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
            raise ServiceError(database_fault(error, transaction.text)) from error
        return check_enabled(_partitions(partition_rows), _flight_rows(rows), plan.service_id)
    finally:
        transaction.close()
