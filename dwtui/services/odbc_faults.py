"""What an ODBC error means, per driver: one message naming the driver and the real cause, one remedy.

The drivers report the same causes in different words and SQLSTATEs (each seen through pyodbc and
unixODBC on Debian 12, or quoted from the driver's documentation):

- Microsoft's ODBC Driver 17/18 for SQL Server: 28000 "Login failed for user" (error 18456); 08001
  "TCP Provider" / "Server is not found or not accessible"; HYT00 "Login timeout expired"; 08001 "SSL
  Provider: ... certificate verify failed: self-signed certificate" (or, on Windows, "The certificate
  chain was issued by an authority that is not trusted") when Driver 18's default Encrypt=yes meets a
  one-box VM's self-signed certificate (https://learn.microsoft.com/sql/connect/odbc/connection-troubleshooting;
  the texts as reported in dbt-msft/dbt-sqlserver#219 and #267, mkleehammer/pyodbc#610); 42000
  "Cannot open database ... requested by the login" (4060).
- FreeTDS: 08S01 "Unable to connect: Adaptive Server is unavailable or does not exist" for a closed
  port, 08001 "Unable to connect to data source" for an unknown host, "Login failed" from the server.
- psqlODBC: every connection failure is 08001 with libpq's text: "password authentication failed",
  "Connection refused", "could not translate host name", 'database "x" does not exist', "server does
  not support SSL, but SSL was required"; statement errors carry PostgreSQL's SQLSTATEs (42P01 for a
  missing table, 42501 permission denied, 55P03 lock timeout).
- SQLite3 ODBC: HY000 "connect failed" when the file cannot be opened, "no such table", "database is
  locked", "attempt to write a readonly database".

Messages keep the driver's text as data: squashed onto one line and redacted, nothing more.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from dwtui.domain.models import Fault
from dwtui.services.odbc_strings import (
    SERVICE,
    DriverKind,
    attribute,
    connection_driver,
    driver_kind,
    driver_label,
    redact_connection_string,
)

INSTALL_HINT = (
    "install unixODBC (apt-get install unixodbc) and an ODBC driver: Microsoft ODBC Driver 18 for "
    "SQL Server, FreeTDS (tdsodbc), psqlODBC (odbc-postgresql), or libsqliteodbc for the demo"
)
_ROLLED_BACK = " Nothing was written (rolled back)."
_DEFAULT_PORTS = {DriverKind.SQL_SERVER: "1433", DriverKind.FREETDS: "1433", DriverKind.POSTGRESQL: "5432"}


def state_and_text(error: BaseException) -> tuple[str, str]:
    """pyodbc's (SQLSTATE, message) pair, or ("", text) for anything else."""
    args: tuple[Any, ...] = tuple(getattr(error, "args", ()))
    if len(args) >= 2 and isinstance(args[0], str):
        return args[0], str(args[1])
    return "", str(error)


def squash(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _has(lowered: str, *needles: str) -> bool:
    return any(needle in lowered for needle in needles)


class _Target:
    """Who was asked: the driver, the server (with its port) and the database, from the connection string."""

    def __init__(self, connection: str) -> None:
        self.driver = connection_driver(connection)
        self.kind = driver_kind(self.driver)
        self.label = driver_label(self.driver)
        self.database = attribute(connection, "Database")
        host = attribute(connection, "Server") or attribute(connection, "Servername")
        port = attribute(connection, "Port")
        if self.kind is DriverKind.SQL_SERVER:
            self.server = host or "the server"
        elif host:
            self.server = f"{host}:{port or _DEFAULT_PORTS.get(self.kind, '?')}"
        else:
            self.server = "the server"
        self.host = host


def database_fault(error: BaseException, connection: str, *, in_transaction: bool = False) -> Fault:
    """One clear fault per cause; `in_transaction` adds that nothing was written (rolled back)."""
    state, text = state_and_text(error)
    lowered = text.lower()
    target = _Target(connection)
    fault = _cause(state, lowered, target)
    if fault is None:
        return _statement_fault(state, lowered, text, target, in_transaction)
    message = fault.message if fault.message.endswith((".", "?")) else fault.message + "."
    if in_transaction:
        message += _ROLLED_BACK
    # The driver's own words follow as data: one line, redacted.
    message += f" ({target.label} said: {redact_connection_string(squash(text))})"
    return replace(fault, message=message)


def _cause(state: str, lowered: str, target: _Target) -> Fault | None:
    # "Cannot open database" comes with a second record, "Login failed": the database is the cause.
    for check in (_driver_missing, _tls, _database_missing, _login, _host_unknown, _timeout, _unreachable):
        fault = check(state, lowered, target)
        if fault is not None:
            return fault
    return None


def _driver_missing(state: str, lowered: str, target: _Target) -> Fault | None:
    if state == "IM002" or _has(lowered, "can't open lib", "data source name not found"):
        return Fault(
            SERVICE,
            f"the ODBC driver '{target.driver or '?'}' is not installed or not registered in odbcinst.ini",
            "driver_not_found",
            remedy=f"choose an installed driver (odbcinst -q -d lists them), or {INSTALL_HINT}",
        )
    return None


def _tls(state: str, lowered: str, target: _Target) -> Fault | None:
    kind = target.kind
    if kind is DriverKind.POSTGRESQL and "does not support ssl" in lowered:
        return Fault(
            SERVICE,
            f"PostgreSQL at {target.server} does not offer SSL, and the connection requires it (SSLmode)",
            "tls_failed",
            remedy="turn Encrypt off (--no-encrypt, SSLmode=disable) for a server on this machine, or "
            "enable ssl in the server's postgresql.conf",
        )
    if not _has(lowered, "certificate", "ssl provider", "ssl routines", "ssl error", "tls"):
        return None
    if kind is DriverKind.SQL_SERVER:
        return Fault(
            SERVICE,
            f"{target.label} refused the TLS connection to {target.server}: ODBC Driver 18 encrypts by "
            "default and checks the server's certificate, and a one-box VM's SQL Server presents a "
            f"self-signed one",
            "tls_failed",
            remedy="tick TrustServerCertificate (TrustServerCertificate=yes in a connection string), or "
            "give SQL Server a certificate this machine trusts",
        )
    if kind is DriverKind.POSTGRESQL:
        return Fault(
            SERVICE,
            f"psqlODBC could not verify PostgreSQL's certificate at {target.server}",
            "tls_failed",
            remedy="tick TrustServerCertificate (SSLmode=require encrypts without checking the "
            "certificate), or put the server's CA in ~/.postgresql/root.crt",
        )
    return Fault(
        SERVICE,
        f"the TLS connection to {target.server} through {target.label} failed",
        "tls_failed",
        remedy="turn Encrypt off (--no-encrypt) if the server does not require it, or fix the "
        "server's certificate",
    )


def _login(state: str, lowered: str, target: _Target) -> Fault | None:
    kind = target.kind
    if kind is DriverKind.POSTGRESQL:
        refused = _has(
            lowered,
            "password authentication failed",
            "authentication failed",
            "no pg_hba.conf entry",
            "no password supplied",
        ) or re.search(r'role "[^"]*" does not exist', lowered)
        if not refused:
            return None
        return Fault(
            SERVICE,
            f"PostgreSQL at {target.server} refused the login",
            "login_failed",
            remedy="check the user name and password (UID and PWD), and that the server's pg_hba.conf "
            "lets this user in from this host",
        )
    if state != "28000" and "login failed" not in lowered:
        return None
    if kind is DriverKind.SQL_SERVER:
        return Fault(
            SERVICE,
            f"SQL Server at {target.server} refused the login",
            "login_failed",
            remedy="check the user name and password, or use Windows login as a local administrator "
            "(a SQL login needs SQL Server's mixed-mode authentication)",
        )
    if kind is DriverKind.FREETDS:
        return Fault(
            SERVICE,
            f"SQL Server at {target.server} refused the login made through FreeTDS",
            "login_failed",
            remedy="check the user name and password; FreeTDS signs in with a SQL login, or with a "
            "domain login written DOMAIN\\user",
        )
    return Fault(
        SERVICE,
        f"the database at {target.server} refused the login",
        "login_failed",
        remedy="check the user name and password",
    )


def _database_missing(state: str, lowered: str, target: _Target) -> Fault | None:
    name = target.database or "?"
    if target.kind is DriverKind.POSTGRESQL and re.search(r'database "[^"]*" does not exist', lowered):
        return Fault(
            SERVICE,
            f"the database '{name}' does not exist on PostgreSQL at {target.server}",
            "database_missing",
            remedy="check the database name (Database=)",
        )
    if target.kind in (DriverKind.SQL_SERVER, DriverKind.FREETDS) and "cannot open database" in lowered:
        return Fault(
            SERVICE,
            f"SQL Server at {target.server} has no database '{name}', or this login may not open it",
            "database_missing",
            remedy="check the database name (AXDB on a one-box VM) and that the login is a user of it",
        )
    return None


def _host_unknown(state: str, lowered: str, target: _Target) -> Fault | None:
    if not _has(lowered, "could not translate host name", "name or service not known", "unknown host"):
        return None
    return Fault(
        SERVICE,
        f"the host name '{target.host or '?'}' cannot be resolved",
        "host_unknown",
        remedy="check the server name (localhost on a one-box VM)",
    )


def _timeout(state: str, lowered: str, target: _Target) -> Fault | None:
    if state != "HYT00" and not _has(lowered, "timeout expired", "timed out"):
        return None
    return Fault(
        SERVICE,
        f"{target.server} did not answer {target.label} in time",
        "timed_out",
        remedy="check the server name and port, and that no firewall drops the connection",
    )


def _unreachable(state: str, lowered: str, target: _Target) -> Fault | None:
    kind = target.kind
    if kind is DriverKind.SQLITE:
        if not _has(lowered, "connect failed", "unable to open"):
            return None
        return Fault(
            SERVICE,
            f"the SQLite ODBC driver cannot open the database file '{target.database or '?'}'",
            "connection_failed",
            remedy="check the path and that the file and its folder can be read and written",
        )
    if not (
        state.startswith("08")
        or _has(lowered, "connection refused", "unable to connect", "not found or not accessible")
    ):
        return None
    if kind is DriverKind.SQL_SERVER:
        where, remedy = (
            f"SQL Server at {target.server}",
            "check that SQL Server is running and accepts TCP/IP connections, and the server name "
            "(localhost on a one-box VM)",
        )
    elif kind is DriverKind.FREETDS:
        where, remedy = (
            f"SQL Server at {target.server} through FreeTDS",
            "check that SQL Server is running and listens on that host and port (1433 unless "
            "configured otherwise)",
        )
    elif kind is DriverKind.POSTGRESQL:
        where, remedy = (
            f"PostgreSQL at {target.server}",
            "check that PostgreSQL is running and listens on that address and port (listen_addresses "
            "and port in postgresql.conf)",
        )
    else:
        where, remedy = (
            f"{target.server}",
            "check that the database server is running, and the connection string",
        )
    return Fault(SERVICE, f"cannot reach {where}", "connection_failed", remedy=remedy)


_MAY_WRITE = {
    DriverKind.SQL_SERVER: "connect as a local administrator or a member of db_owner on AXDB",
    DriverKind.FREETDS: "connect as a local administrator or a member of db_owner on AXDB",
    DriverKind.POSTGRESQL: "connect as a role that may select, update and insert into SYSFLIGHTING (its "
    "owner, say), to a database that is not read-only",
    DriverKind.SQLITE: "make the database file and its folder writable",
    DriverKind.OTHER: "connect with a login that may change SYSFLIGHTING",
}


def _statement_fault(state: str, lowered: str, text: str, target: _Target, in_transaction: bool) -> Fault:
    """A statement the database refused, once connected."""
    database = target.database or "this database"
    tail = _ROLLED_BACK if in_transaction else ""
    said = f" ({target.label} said: {redact_connection_string(squash(text))})"
    if (
        state in ("42S02", "42P01")
        or _has(lowered, "invalid object name", "no such table")
        or re.search(r'relation "[^"]*" does not exist', lowered)
    ):
        return Fault(
            SERVICE,
            f"a table the flight needs (PARTITIONS or SYSFLIGHTING) does not exist in {database}: is it "
            f"AXDB?{tail}{said}",
            "missing_table",
            remedy="connect to the AXDB database (Database=AXDB on a one-box VM)",
        )
    if state in ("55P03", "40P01") or _has(
        lowered, "database is locked", "lock request time out", "lock timeout", "deadlock"
    ):
        return Fault(
            SERVICE,
            f"the database is locked by another session.{tail}{said}",
            "locked",
            remedy="try again when the other session has finished",
        )
    if state in ("42501", "25006") or _has(
        lowered, "permission", "denied", "readonly", "read-only", "read only"
    ):
        return Fault(
            SERVICE,
            f"the login may not change SYSFLIGHTING (permission denied or a read-only database).{tail}{said}",
            "permission_denied",
            remedy=_MAY_WRITE[target.kind],
        )
    return Fault(
        SERVICE,
        f"the database reported an error: {redact_connection_string(squash(text))}.{tail}",
        state or "sql_error",
    )
