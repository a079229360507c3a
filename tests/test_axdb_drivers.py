"""Connection failures name the driver and the real cause, with that driver's remedy.

psqlODBC and FreeTDS are exercised for real (the PostgreSQL cluster of tests/pg_support.py; a closed
port on 127.0.0.1 for FreeTDS, since SQL Server cannot run here). Microsoft's driver cannot be
installed from Debian's archive, so its failures are fed through the same code as pyodbc raises them,
with the texts public reports quote (cited beside each).
"""

from __future__ import annotations

import pyodbc
import pytest

from dwtui.domain.errors import explain
from dwtui.domain.flight import FlightPlan
from dwtui.domain.models import Fault
from dwtui.services import axdb
from dwtui.services.activity import ActivityLog
from dwtui.services.errors import ServiceError
from dwtui.services.odbc_faults import database_fault
from dwtui.services.odbc_strings import ConnectionForm, connection_string
from tests.axdb_support import PostgresAxdb
from tests.pg_support import USER, PgCluster, free_port


def failure(connection: str) -> Fault:
    with pytest.raises(ServiceError) as raised:
        axdb.run_flight(connection, FlightPlan(), activity=ActivityLog())
    return raised.value.fault


def remedy(fault: Fault) -> str:
    return explain(fault).remedy


# -- psqlODBC, for real ------------------------------------------------------------------------------


def test_postgresql_wrong_password(postgres: PgCluster) -> None:
    fault = failure(postgres.connection_string(password="not the password"))
    assert fault.code == "login_failed"
    assert fault.message.startswith(f"PostgreSQL at 127.0.0.1:{postgres.port} refused the login.")
    assert "password authentication failed" in fault.message
    assert "pg_hba.conf" in remedy(fault)
    assert "SQL Server" not in fault.message + remedy(fault)


def test_postgresql_nothing_listening(postgres: PgCluster) -> None:
    closed = free_port()
    fault = failure(postgres.connection_string().replace(f"Port={postgres.port}", f"Port={closed}"))
    assert fault.code == "connection_failed"
    assert fault.message.startswith(f"cannot reach PostgreSQL at 127.0.0.1:{closed}.")
    assert "Connection refused" in fault.message and "postgresql.conf" in remedy(fault)
    assert "SQL Server" not in fault.message + remedy(fault)


def test_postgresql_missing_database(postgres: PgCluster) -> None:
    fault = failure(postgres.connection_string("AXDB"))
    assert fault.code == "database_missing"
    assert "the database 'AXDB' does not exist on PostgreSQL" in fault.message


def test_postgresql_without_ssl_when_the_form_asks_for_it(postgres: PgCluster) -> None:
    form = ConnectionForm(
        "PostgreSQL Unicode",
        server="127.0.0.1",
        port=str(postgres.port),
        database="postgres",
        login="sql",
        username=USER,
    )  # Encrypt on: the form's default
    fault = failure(connection_string(form, postgres.password))
    assert fault.code == "tls_failed" and "does not offer SSL" in fault.message
    assert "--no-encrypt" in remedy(fault)


@pytest.mark.parametrize("server", ["127.0.0.1", "127.0.0.1:{port}", "127.0.0.1,{port}"])
def test_the_form_reaches_postgresql_with_a_password_that_needs_quoting(
    postgres: PgCluster, server: str
) -> None:
    database = PostgresAxdb(postgres)
    database.create()
    form = ConnectionForm(
        "PostgreSQL Unicode",
        server=server.format(port=postgres.port),
        port="" if "{port}" in server else str(postgres.port),
        database=database.database,
        login="sql",
        username=USER,
        encrypt=False,
    )
    result = axdb.run_flight(connection_string(form, postgres.password), FlightPlan(), activity=ActivityLog())
    assert result.committed and result.inserted == 3
    assert [r[1] for r in database.rows()] == [1, 1, 1]


# -- FreeTDS, for real -------------------------------------------------------------------------------


def test_freetds_to_a_closed_port_says_it_cannot_reach_sql_server() -> None:
    if "FreeTDS" not in pyodbc.drivers():
        pytest.fail(f"FreeTDS is not registered (installed: {pyodbc.drivers()}); apt-get install tdsodbc")
    closed = free_port()
    form = ConnectionForm("FreeTDS", server="127.0.0.1", port=str(closed), login="sql", username="sa")
    fault = failure(connection_string(form, "p;w@rd"))
    assert fault.code == "connection_failed"
    assert fault.message.startswith(f"cannot reach SQL Server at 127.0.0.1:{closed} through FreeTDS.")
    assert "Adaptive Server is unavailable" in fault.message  # FreeTDS's own words, as data
    assert "1433" in remedy(fault)
    assert "p;w@rd" not in fault.message


# -- Microsoft's ODBC Driver 18, as pyodbc reports it ------------------------------------------------

SQL18 = "Driver={ODBC Driver 18 for SQL Server};Server=localhost;Database=AXDB;UID=sa;PWD=x"


def sql18(state: str, text: str) -> Fault:
    return database_fault(pyodbc.Error(state, text), SQL18)


def test_sql_server_login_failed() -> None:
    fault = sql18(
        "28000",
        "[28000] [Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Login failed for user 'sa'. (18456)",
    )
    assert fault.code == "login_failed" and fault.message.startswith(
        "SQL Server at localhost refused the login."
    )
    assert "Windows login" in remedy(fault)


def test_sql_server_self_signed_certificate() -> None:
    # As quoted in mkleehammer/pyodbc#610 and dbt-msft/dbt-sqlserver#219.
    fault = sql18(
        "08001",
        "[08001] [Microsoft][ODBC Driver 18 for SQL Server]SSL Provider: [error:0A000086:SSL "
        "routines::certificate verify failed:self-signed certificate] (-1) (SQLDriverConnect)",
    )
    assert fault.code == "tls_failed" and "self-signed" in fault.message
    assert "TrustServerCertificate" in remedy(fault)


def test_sql_server_untrusted_chain_on_windows() -> None:
    # As quoted in dbt-msft/dbt-sqlserver#267.
    fault = sql18(
        "08001",
        "[08001] [Microsoft][ODBC Driver 18 for SQL Server]SSL Provider: The certificate chain was issued "
        "by an authority that is not trusted. (-2146893019) (SQLDriverConnect)",
    )
    assert fault.code == "tls_failed" and "TrustServerCertificate" in remedy(fault)


def test_sql_server_missing_database_comes_before_its_login_failed_record() -> None:
    fault = sql18(
        "42000",
        '[42000] [Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Cannot open database "AXDB" '
        "requested by the login. The login failed. (4060) (SQLDriverConnect); [28000] Login failed for user "
        "'sa'. (18456)",
    )
    assert fault.code == "database_missing" and "has no database 'AXDB'" in fault.message


def test_sql_server_not_reachable_and_timeout() -> None:
    unreachable = sql18(
        "08001", "[08001] [Microsoft][ODBC Driver 18 for SQL Server]TCP Provider: Error code 0x2749 (10057)"
    )
    assert unreachable.code == "connection_failed"
    assert unreachable.message.startswith("cannot reach SQL Server at localhost.")
    assert "TCP/IP" in remedy(unreachable)
    timeout = sql18("HYT00", "[HYT00] [Microsoft][ODBC Driver 18 for SQL Server]Login timeout expired (0)")
    assert timeout.code == "timed_out" and "did not answer" in timeout.message


def test_an_unknown_host_through_psqlodbc() -> None:
    # The text psqlODBC gave for a name that does not resolve (recorded, not looked up: no network here).
    text = (
        '[08001] could not translate host name "axdb.invalid" to address: Name or service not known\n (101) '
        "(SQLDriverConnect)"
    )
    fault = database_fault(
        pyodbc.Error("08001", text), "Driver={PostgreSQL Unicode};Server=axdb.invalid;Database=AXDB"
    )
    assert fault.code == "host_unknown" and "'axdb.invalid' cannot be resolved" in fault.message


def test_advice_for_sql_server_stays_with_sql_server() -> None:
    text = "[42501] ERROR: permission denied for table sysflighting;\nError while executing the query (1)"
    postgres = database_fault(
        pyodbc.Error("42501", text), "Driver={PostgreSQL Unicode};Server=h;Database=AXDB", in_transaction=True
    )
    assert postgres.code == "permission_denied" and "Nothing was written (rolled back)." in postgres.message
    assert "db_owner" not in postgres.message + remedy(postgres)
    sql_server = sql18(
        "42000", "[42000] The UPDATE permission was denied on the object 'SYSFLIGHTING'. (229)"
    )
    assert sql_server.code == "permission_denied" and "db_owner" in remedy(sql_server)
