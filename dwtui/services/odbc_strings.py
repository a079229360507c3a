"""ODBC connection strings, per driver: which family a driver belongs to, and how it reads a value.

Every driver reads `keyword=value;` pairs, but they differ in which values may be wrapped in braces:

- The ODBC grammar (SQLDriverConnect, "Comments": https://learn.microsoft.com/sql/odbc/reference/
  syntax/sqldriverconnect-function): a value may be enclosed in braces, and values holding any of
  []{}(),;?*=!@ should not appear without them. Inside braces a '}' is written '}}' (PHP's
  odbc_connection_string_quote applies the same rule: https://www.php.net/odbc_connection_string_quote).
- Microsoft's ODBC Driver 17/18 for SQL Server follows that grammar for every keyword
  (https://learn.microsoft.com/sql/connect/odbc/dsn-connection-string-attribute).
- psqlODBC strips braces from the password only (postgresql-interfaces/psqlodbc, dlg_specific.c:
  `decode_or_remove_braces` for PWD/Password); every other value is taken as written, so
  `Server={127.0.0.1}` is looked up as the host name "{127.0.0.1}" (seen with psqlODBC 13.02 on Debian 12).
- FreeTDS reads braces for every keyword (FreeTDS/freetds, src/odbc/unittests/connection_string_parse.c),
  but before 1.4 a braced value ends at the first "};" and "}}" stays doubled (seen with 1.3.17, Debian
  12's version, through its DumpFile setting), so a '}' cannot reach it intact.
- The SQLite3 ODBC driver takes Database= literally (its README, http://www.ch-werner.de/sqliteodbc/):
  braces would become part of the path.

Nothing a person types can add a keyword: a value either reaches the driver intact or is refused here
with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dwtui.domain.models import Fault
from dwtui.services.errors import ServiceError

SERVICE = "AXDB"

# The ODBC grammar's characters that need braces; edge spaces would be trimmed by some parsers.
_NEEDS_BRACES = re.compile(r"[\[\]{}(),;?*=!@]|^\s|\s$")


class DriverKind(StrEnum):
    SQL_SERVER = "sql_server"  # Microsoft ODBC Driver 17/18 for SQL Server (or the older "SQL Server")
    FREETDS = "freetds"
    POSTGRESQL = "postgresql"  # psqlODBC
    SQLITE = "sqlite"
    OTHER = "other"


LABELS = {
    DriverKind.SQL_SERVER: "Microsoft's SQL Server ODBC driver",
    DriverKind.FREETDS: "FreeTDS",
    DriverKind.POSTGRESQL: "psqlODBC",
    DriverKind.SQLITE: "the SQLite ODBC driver",
    DriverKind.OTHER: "the ODBC driver",
}


def driver_kind(driver: str) -> DriverKind:
    """The family of a driver by its registered name (odbcinst.ini) or library path."""
    lowered = driver.lower()
    if "sqlite" in lowered:
        return DriverKind.SQLITE
    if "postgres" in lowered or "psqlodbc" in lowered:
        return DriverKind.POSTGRESQL
    if "freetds" in lowered or "tdsodbc" in lowered:
        return DriverKind.FREETDS
    if "sql server" in lowered or "msodbcsql" in lowered:
        return DriverKind.SQL_SERVER
    return DriverKind.OTHER


def is_sqlite_driver(driver: str) -> bool:
    return driver_kind(driver) is DriverKind.SQLITE


def driver_label(driver: str) -> str:
    """How a message names the driver: its own name, with the family when the name does not say it."""
    kind = driver_kind(driver)
    if not driver:
        return LABELS[kind]
    if kind is DriverKind.OTHER:
        return f"the ODBC driver '{driver}'"
    if kind is DriverKind.SQL_SERVER and "sql server" in driver.lower() and "/" not in driver:
        return driver  # "ODBC Driver 18 for SQL Server" says it all
    if driver.lower() == LABELS[kind].lower():
        return LABELS[kind]
    return f"{LABELS[kind]} ('{driver}')"


def needs_braces(value: str) -> bool:
    return bool(_NEEDS_BRACES.search(value))


def braced(value: str) -> str:
    """{value} with every '}' doubled: the ODBC grammar's quoting."""
    return "{" + value.replace("}", "}}") + "}"


def odbc_value(value: str) -> str:
    """The value as the ODBC grammar wants it: as written when it can be, else braced."""
    return braced(value) if needs_braces(value) else value


def _refuse(keyword: str, value: str, why: str, *, secret: bool = False) -> ServiceError:
    shown = "the password" if secret else f"'{value}'"
    return ServiceError(Fault(SERVICE, f"{keyword}: {shown} {why}", "connection_value"))


def _literal(kind: DriverKind, keyword: str, value: str) -> str:
    """A value for a driver that reads it as written: one that would change meaning is refused."""
    if ";" in value or value.startswith("{") or value != value.strip():
        raise _refuse(
            keyword,
            value,
            f"cannot be passed to {LABELS[kind]}, which takes {keyword} as written "
            "(no ';', no leading '{', no spaces at either end)",
        )
    return value


def quote(kind: DriverKind, keyword: str, value: str, *, secret: bool = False) -> str:
    """`keyword=value` quoted as `kind` reads it (see the module's sources)."""
    if kind is DriverKind.POSTGRESQL and keyword.upper() != "PWD":
        return f"{keyword}={_literal(kind, keyword, value)}"
    if kind is DriverKind.SQLITE:
        return f"{keyword}={_literal(kind, keyword, value)}"
    if kind is DriverKind.FREETDS and "}" in value:
        raise _refuse(
            keyword,
            value,
            "holds a '}', which FreeTDS before 1.4 (Debian 12 ships 1.3) does not read back from the "
            "ODBC quoting ('}}'); use a value without '}', or Microsoft's ODBC Driver 18 for SQL Server",
            secret=secret,
        )
    return f"{keyword}={odbc_value(value)}"


# -- the connection form ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectionForm:
    driver: str
    server: str = "localhost"  # also host,port (SQL Server's own form) or host:port
    database: str = "AXDB"  # for a SQLite driver: the database file's path
    login: str = "windows"  # windows (integrated: no user name) | sql (user name and password)
    username: str = ""
    encrypt: bool = True
    # A one-box VM's SQL Server presents a self-signed certificate; ODBC Driver 18 refuses it unless told.
    trust_server_certificate: bool = True
    port: str = ""  # "" = the driver's default (1433 for SQL Server and FreeTDS, 5432 for PostgreSQL)


def _server_and_port(form: ConnectionForm) -> tuple[str, str]:
    server = form.server.strip() or "localhost"
    port = form.port.strip()
    # "host,1433" is SQL Server's own form; "host:5432" the usual one elsewhere (one ':' only: not IPv6).
    embedded = re.fullmatch(r"(?P<host>[^,:]+)[,:](?P<port>\d+)", server)
    if embedded:
        server = embedded.group("host").strip()
        port = port or embedded.group("port")
    if port and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise ServiceError(
            Fault(SERVICE, f"the port '{port}' is not a TCP port (1 to 65535)", "connection_value")
        )
    return server, port


def connection_string(form: ConnectionForm, password: str = "") -> str:
    """The ODBC connection string for `form` with each driver's own keywords; the password is used
    here and never kept."""
    driver = form.driver.strip()
    if not driver:
        raise ServiceError(Fault(SERVICE, "choose an ODBC driver", "driver_missing"))
    kind = driver_kind(driver)
    if kind is DriverKind.SQLITE:
        return sqlite_connection_string(driver, form.database.strip())
    if form.login == "sql" and not form.username.strip():
        raise ServiceError(Fault(SERVICE, "enter the SQL login's user name", "login_missing"))
    server, port = _server_and_port(form)
    database = form.database.strip() or "AXDB"
    parts = [f"Driver={braced(driver)}"]
    if kind is DriverKind.SQL_SERVER:
        # Server=[tcp:]host[\instance][,port] (dsn-connection-string-attribute, "Server").
        parts.append(quote(kind, "Server", f"{server},{port}" if port else server))
    else:
        parts.append(quote(kind, "Server", server))
        if port:
            parts.append(quote(kind, "Port", port))
    parts.append(quote(kind, "Database", database))
    if form.login == "sql":
        parts.append(quote(kind, "UID", form.username.strip()))
        parts.append(quote(kind, "PWD", password, secret=True))
    elif kind is DriverKind.SQL_SERVER:
        parts.append("Trusted_Connection=yes")
    # psqlODBC and FreeTDS without UID: the driver's own default sign-in (libpq: the OS user name
    # with peer auth or ~/.pgpass; FreeTDS: Kerberos where built with it) [I].
    parts += _encryption(kind, form)
    return ";".join(parts)


def _encryption(kind: DriverKind, form: ConnectionForm) -> list[str]:
    if kind is DriverKind.SQL_SERVER:
        # Encrypt and TrustServerCertificate: dsn-connection-string-attribute; ODBC Driver 18 encrypts
        # by default and verifies the certificate.
        return [
            f"Encrypt={'yes' if form.encrypt else 'no'}",
            f"TrustServerCertificate={'yes' if form.trust_server_certificate else 'no'}",
        ]
    if kind is DriverKind.POSTGRESQL:
        # SSLmode takes libpq's sslmode values (https://odbc.postgresql.org/docs/config-opt.html;
        # https://www.postgresql.org/docs/current/libpq-ssl.html): require encrypts without checking the
        # certificate, verify-full checks it and the host name.
        if not form.encrypt:
            return ["SSLmode=disable"]
        return [f"SSLmode={'require' if form.trust_server_certificate else 'verify-full'}"]
    if kind is DriverKind.FREETDS:
        # TDS 7.4 is SQL Server 2012 and later; Encryption off|request|require
        # (https://www.freetds.org/userguide/odbcconnattr.htm, https://www.freetds.org/userguide/freetdsconf.html).
        # FreeTDS checks a certificate only when freetds.conf names a CA file, so there is no
        # TrustServerCertificate to pass [I].
        return ["TDS_Version=7.4", f"Encryption={'require' if form.encrypt else 'off'}"]
    return []


def sqlite_connection_string(driver: str, path: str, lock_timeout_ms: int = 5000) -> str:
    """Database= as written (the driver reads no braces); NoCreat=1: a missing file is an error, not a
    new empty database (the driver's README: "NoCreat (boolean) if true and database file doesn't exist,
    don't create it automatically")."""
    if not path or ";" in path or path != path.strip() or path.startswith("{"):
        raise ServiceError(
            Fault(
                SERVICE,
                f"'{path}' cannot be used as a database file path (no ';', no leading '{{', no edge spaces)",
                "path",
            )
        )
    return f"Driver={braced(driver)};Database={path};Timeout={int(lock_timeout_ms)};NoCreat=1"


# -- reading a connection string ------------------------------------------------------------------

_PASSWORD = re.compile(r"(?i)\b(pwd|password)(\s*=\s*)(\{(?:[^}]|\}\})*\}|[^;]*)")


def redact_connection_string(text: str) -> str:
    # Braced values may hold ';', which the Activity log's generic redaction would stop at.
    return _PASSWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def attribute(text: str, name: str) -> str:
    """The value of keyword `name` in a connection string ("" when absent), braces removed."""
    match = re.search(rf"(?i)(?:^|;)\s*{name}\s*=\s*(\{{(?:[^}}]|\}}\}})*\}}|[^;]*)", text)
    if not match:
        return ""
    value = match.group(1).strip()
    if value.startswith("{") and value.endswith("}"):
        value = value[1:-1].replace("}}", "}")
    return value


def connection_driver(text: str) -> str:
    """The Driver= of a connection string, or the DSN's name when it names a data source instead."""
    return attribute(text, "Driver") or attribute(text, "DSN")


def connection_kind(text: str) -> DriverKind:
    return driver_kind(connection_driver(text))
