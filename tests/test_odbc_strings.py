"""Connection strings per driver: each driver's keywords, values quoted only where needed and as that
driver reads them, and nothing a person types able to add a keyword."""

from __future__ import annotations

import pytest

from dwtui.services.errors import ServiceError
from dwtui.services.odbc_strings import (
    ConnectionForm,
    DriverKind,
    attribute,
    connection_string,
    driver_kind,
    odbc_value,
    redact_connection_string,
)

SQL18 = "ODBC Driver 18 for SQL Server"
PSQL = "PostgreSQL Unicode"
TDS = "FreeTDS"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        (SQL18, DriverKind.SQL_SERVER),
        ("SQL Server", DriverKind.SQL_SERVER),
        ("/opt/microsoft/msodbcsql18/lib64/libmsodbcsql-18.3.so.2.1", DriverKind.SQL_SERVER),
        (TDS, DriverKind.FREETDS),
        ("/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so", DriverKind.FREETDS),
        (PSQL, DriverKind.POSTGRESQL),
        ("PostgreSQL ANSI", DriverKind.POSTGRESQL),
        ("SQLite3", DriverKind.SQLITE),
        ("MySQL ODBC 8.0 Unicode Driver", DriverKind.OTHER),
    ],
)
def test_driver_families(name: str, kind: DriverKind) -> None:
    assert driver_kind(name) is kind


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("localhost", "localhost"),
        ("vm\\SQL", "vm\\SQL"),
        ("AXDB", "AXDB"),
        ("p;w", "{p;w}"),
        ("a}b", "{a}}b}"),
        ("{x}", "{{x}}}"),
        (" edge", "{ edge}"),
        ("x=1", "{x=1}"),
        ("", ""),
    ],
)
def test_odbc_values_are_braced_only_where_needed(value: str, quoted: str) -> None:
    assert odbc_value(value) == quoted
    assert attribute(f"K={quoted};L=1", "K") == value


def test_sql_server_keywords() -> None:
    windows = connection_string(ConnectionForm(SQL18, server="vm\\SQL", port="1433"))
    assert windows == (
        f"Driver={{{SQL18}}};Server={{vm\\SQL,1433}};Database=AXDB;Trusted_Connection=yes;"
        "Encrypt=yes;TrustServerCertificate=yes"
    )
    sql = connection_string(
        ConnectionForm(SQL18, login="sql", username="sa", encrypt=False, trust_server_certificate=False),
        "p;w}d",
    )
    assert sql == (
        f"Driver={{{SQL18}}};Server=localhost;Database=AXDB;UID=sa;PWD={{p;w}}}}d}};"
        "Encrypt=no;TrustServerCertificate=no"
    )
    assert attribute(sql, "PWD") == "p;w}d"


def test_psqlodbc_keywords_and_its_literal_values() -> None:
    text = connection_string(
        ConnectionForm(PSQL, server="127.0.0.1", port="5433", login="sql", username="dwtui", encrypt=False),
        "pw;{x}} y",
    )
    assert text == (
        "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5433;Database=AXDB;UID=dwtui;PWD={pw;{x}}}} y};"
        "SSLmode=disable"
    )
    assert attribute(text, "PWD") == "pw;{x}} y"
    # No Trusted_Connection, Encrypt or TDS_Version: those are other drivers' keywords.
    assert "Trusted" not in text and "Encrypt" not in text and "TDS" not in text
    assert connection_string(ConnectionForm(PSQL)).endswith(";Database=AXDB;SSLmode=require")
    verify = ConnectionForm(PSQL, server="db.example", trust_server_certificate=False)
    assert connection_string(verify).endswith(";SSLmode=verify-full")


@pytest.mark.parametrize("server", ["127.0.0.1:5433", "127.0.0.1,5433"])
def test_a_port_in_the_server_field_becomes_the_port_keyword(server: str) -> None:
    text = connection_string(ConnectionForm(PSQL, server=server))
    assert ";Server=127.0.0.1;Port=5433;" in text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("server", "host;Database=postgres"),
        ("database", "AXDB;UID=postgres"),
        ("username", "dwtui;SSLmode=disable"),
        ("database", "{AXDB}"),
    ],
)
def test_psqlodbc_refuses_a_value_it_would_misread(field: str, value: str) -> None:
    values = {"server": "localhost", "database": "AXDB", "username": "dwtui", field: value}
    form = ConnectionForm(PSQL, login="sql", **values)
    with pytest.raises(ServiceError) as raised:
        connection_string(form, "pw")
    fault = raised.value.fault
    assert fault.code == "connection_value" and "psqlODBC" in fault.message and "as written" in fault.message


def test_freetds_keywords() -> None:
    text = connection_string(
        ConnectionForm(TDS, server="vm", port="1433", login="sql", username="sa", database="AX;DB"), "p;w@"
    )
    assert text == (
        f"Driver={{{TDS}}};Server=vm;Port=1433;Database={{AX;DB}};UID=sa;PWD={{p;w@}};"
        "TDS_Version=7.4;Encryption=require"
    )
    off = connection_string(ConnectionForm(TDS, encrypt=False))
    assert off == f"Driver={{{TDS}}};Server=localhost;Database=AXDB;TDS_Version=7.4;Encryption=off"


def test_freetds_refuses_a_closing_brace_and_never_shows_the_password() -> None:
    with pytest.raises(ServiceError) as raised:
        connection_string(ConnectionForm(TDS, login="sql", username="sa"), "s3cr}t")
    fault = raised.value.fault
    assert fault.code == "connection_value" and "FreeTDS" in fault.message
    assert "s3cr" not in fault.message and "the password" in fault.message


def test_sqlite_takes_the_path_as_written_and_never_creates_it() -> None:
    text = connection_string(ConnectionForm("SQLite3", database="/tmp/a b/AXDB.sqlite"))
    assert text == "Driver={SQLite3};Database=/tmp/a b/AXDB.sqlite;Timeout=5000;NoCreat=1"
    for bad in ("/tmp/a;b.db", "{/tmp/a.db}"):
        with pytest.raises(ServiceError) as raised:
            connection_string(ConnectionForm("SQLite3", database=bad))
        assert raised.value.fault.code == "path"


def test_another_driver_gets_the_generic_keywords() -> None:
    form = ConnectionForm("MySQL ODBC 8.0 Unicode Driver", port="3306", login="sql", username="u")
    text = connection_string(form, "p;w")
    assert (
        text
        == "Driver={MySQL ODBC 8.0 Unicode Driver};Server=localhost;Port=3306;Database=AXDB;UID=u;PWD={p;w}"
    )


@pytest.mark.parametrize("port", ["0", "65536", "14x3", "\uff11433"])
def test_a_port_must_be_a_tcp_port(port: str) -> None:
    with pytest.raises(ServiceError) as raised:
        connection_string(ConnectionForm(SQL18, port=port))
    assert raised.value.fault.code == "connection_value"


@pytest.mark.parametrize("driver", [SQL18, TDS, PSQL])
def test_no_value_adds_a_keyword_and_the_password_is_masked(driver: str) -> None:
    form = ConnectionForm(driver, server="vm", login="sql", username="sa", database="AXDB")
    password = "a;PWD=b;Server=evil" if driver != TDS else "a;Server=evil"
    text = connection_string(form, password)
    assert attribute(text, "Server") == "vm" and attribute(text, "PWD") == password
    shown = redact_connection_string(text)
    assert "evil" not in shown and shown.count("***") == 1
