"""`dwtui onebox flight`: the documented T-SQL script to run yourself, or the flight run on AXDB.

--run executes the checked transaction of dwtui.services.axdb (commit only when every partition
shows the flight enabled) and prints each partition's row before and after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from dwtui.cli.onebox import onebox
from dwtui.cli.operations import JSON_SCHEMA, Output
from dwtui.cli.runtime import (
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_SERVICE,
    Failure,
    can_confirm,
    confirm,
    current_runtime,
    read_secret,
)
from dwtui.domain.flight import DEFAULT_FLIGHT_NAME, DEFAULT_FLIGHT_SERVICE_ID

if TYPE_CHECKING:
    from dwtui.domain.flight import FlightPlan, FlightResult, FlightRow
    from dwtui.domain.profile import Profile
    from dwtui.services.activity import ActivityLog
    from dwtui.services.secrets import SecretStore


# The flight talks to AXDB only: no LCS environment, no service call to trace.
@onebox.command(uses=("--config", "--profile", "--demo"))
@click.option("--sql", "show_sql", is_flag=True, help="Print the documented T-SQL script with its values.")
@click.option(
    "--statements", is_flag=True, help="Print the statements --run executes, with their parameters."
)
@click.option("--run", "run_it", is_flag=True, help="Enable the flight on AXDB, in one checked transaction.")
@click.option("--yes", is_flag=True, help="Run without asking.")
@click.option(
    "--connection-string", default="", help="A raw ODBC connection string (instead of the options below)."
)
@click.option(
    "--driver",
    default="",
    help="ODBC driver name: 'ODBC Driver 18 for SQL Server', 'FreeTDS', 'PostgreSQL Unicode' or 'SQLite3'.",
)
@click.option(
    "--server",
    default="localhost",
    show_default=True,
    help="Server name (host, host,port or host\\instance).",
)
@click.option("--port", default="", help="TCP port (default: the driver's, 1433 or 5432).")
@click.option(
    "--database", default="AXDB", show_default=True, help="Database name (for SQLite: the file's path)."
)
@click.option(
    "--sql-login", default="", help="Login user name (default: Windows login, or the driver's default)."
)
@click.option("--password-stdin", is_flag=True, help="Read the SQL login's password from one line of stdin.")
@click.option(
    "--remember-password", is_flag=True, help="Keep the SQL login's password in the keyring after a run."
)
@click.option(
    "--no-encrypt",
    is_flag=True,
    help="No TLS: Encrypt=no, SSLmode=disable, Encryption=off (default: TLS, trusting the certificate).",
)
@click.option("--flight-name", default=DEFAULT_FLIGHT_NAME, show_default=True, help="Flight name.")
@click.option(
    "--service-id", default=str(DEFAULT_FLIGHT_SERVICE_ID), show_default=True, help="Flight service id."
)
@click.option("--json", "as_json", is_flag=True, help="With --run: print one JSON object (README).")
def flight(
    show_sql: bool,
    statements: bool,
    run_it: bool,
    yes: bool,
    connection_string: str,
    driver: str,
    server: str,
    port: str,
    database: str,
    sql_login: str,
    password_stdin: bool,
    remember_password: bool,
    no_encrypt: bool,
    flight_name: str,
    service_id: str,
    as_json: bool,
) -> int:
    """Enable the DualWriteUnoAuthenticationFnoToCds flight on AXDB (then restart the AOS)."""
    from dwtui.domain.flight import FlightInputError, FlightPlan, documented_script

    if [show_sql, statements, run_it].count(True) != 1:
        raise Failure("choose one of --sql, --statements or --run", EXIT_CONFIG)
    try:
        plan = FlightPlan.from_input(flight_name, service_id)
    except FlightInputError as error:
        raise Failure(f"--{error.field_name.replace('_', '-')}: {error}", EXIT_CONFIG) from None
    if show_sql:
        click.echo(documented_script(plan.flight_name, plan.service_id), nl=False)
        return EXIT_OK
    if statements:
        click.echo(plan.describe(), nl=False)
        return EXIT_OK
    # The run always asks (or --yes): without a terminal, say so before a password is read or the
    # demo is started.
    can_confirm(yes=yes, what="run the flight")
    runtime = current_runtime()
    out = Output(as_json)
    session = runtime.session() if runtime.demo else None
    activity = session.activity if session is not None else runtime.activity_log()
    password = ""
    if connection_string.strip():
        connection = connection_string.strip()
    elif driver.strip():
        password = _password(sql_login, password_stdin)
        connection = _form_connection(driver, server, port, database, sql_login, password, no_encrypt)
    elif session is not None and session.demo is not None and session.demo.axdb_connection_string:
        connection = session.demo.axdb_connection_string
    else:
        raise Failure(f"say where AXDB is: --connection-string, or --driver ({_drivers_hint()})", EXIT_CONFIG)
    from dwtui.services.axdb import redact_connection_string

    out.say(f"AXDB: {redact_connection_string(connection)}")
    out.say(
        f"Enable the flight {plan.flight_name} with service id {plan.service_id} on every partition, "
        "in one transaction (rolled back unless every partition then shows it enabled)."
    )
    confirm("Run the flight on AXDB?", yes=yes, what="run the flight")
    result = _run(connection, plan, activity)
    for note in result.notes:
        click.echo(f"dwtui: note: {note}", err=True)
    _print_rows(out, result)
    out.say(result.summary())
    if remember_password and password and result.committed:
        _remember(password)
    out.emit(_json(result))
    if not result.committed:
        raise Failure(f"the flight was not enabled: {result.summary()}", EXIT_SERVICE)
    return EXIT_OK


def _run(connection: str, plan: FlightPlan, activity: ActivityLog) -> FlightResult:
    from dwtui.services.axdb import run_flight

    return run_flight(connection, plan, activity=activity)


def _drivers_hint() -> str:
    from dwtui.services.axdb import installed_drivers
    from dwtui.services.errors import ServiceError

    try:
        drivers = installed_drivers()
    except ServiceError as error:
        return error.fault.message
    return "installed: " + (", ".join(drivers) if drivers else "none")


def _form_connection(
    driver: str, server: str, port: str, database: str, sql_login: str, password: str, no_encrypt: bool
) -> str:
    from dwtui.services.axdb import ConnectionForm, connection_string

    form = ConnectionForm(
        driver=driver.strip(),
        server=server,
        port=port,
        database=database,
        login="sql" if sql_login.strip() else "windows",
        username=sql_login,
        encrypt=not no_encrypt,
    )
    return connection_string(form, password)


def _keyring() -> tuple[SecretStore, Profile] | None:
    """The profile's keyring, when a profile can be resolved (the flight itself needs none)."""
    from dwtui.domain.profile import ProfileError

    runtime = current_runtime()
    try:
        profile = runtime.profile()
    except ProfileError:
        return None
    session = runtime.session(profile)
    if session.secrets.needs_passphrase:
        from dwtui.cli.token_store import unlock_store

        try:
            unlock_store(session.secrets, interactive=True)
        except Failure as failure:  # the flight needs no keyring: go on without it, and say so
            session.secrets.keep_in_memory(str(failure))
            click.echo(f"dwtui: {session.secrets.warning}", err=True)
    return session.secrets, session.profile


def _password(sql_login: str, from_stdin: bool) -> str:
    if not sql_login.strip():
        return ""  # Windows login
    if not from_stdin:
        from dwtui.services.onebox import sql_password

        stored = _keyring()
        found = sql_password(*stored) if stored is not None else None
        if found:
            return found
    return read_secret(
        f"Password of the SQL login {sql_login}",
        from_stdin=from_stdin,
        missing="the SQL login needs a password: pass --password-stdin or run in a terminal to be asked",
        code=EXIT_CONFIG,
    )


def _remember(password: str) -> None:
    from dwtui.services.onebox import store_sql_password

    stored = _keyring()
    if stored is None:
        click.echo("dwtui: no profile to keep the password under; it was not stored", err=True)
        return
    store_sql_password(*stored, password)


def _row_text(row: FlightRow | None) -> str:
    if row is None:
        return "(no row)"
    return f"ENABLED={row.enabled} FLIGHTSERVICEID={row.service_id}"


def _print_rows(out: Output, result: FlightResult) -> None:
    header = ("PARTITION", "RECID", "BEFORE", "AFTER")
    rows = [
        (p.partition.key, str(p.partition.recid), _row_text(p.before), _row_text(p.after))
        for p in result.partitions
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out.say("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _row_json(row: FlightRow | None) -> dict[str, Any] | None:
    return None if row is None else {"enabled": row.enabled, "service_id": row.service_id}


def _json(result: FlightResult) -> dict[str, Any]:
    return {
        "schema": JSON_SCHEMA,
        "command": "onebox flight",
        "flight_name": result.plan.flight_name,
        "service_id": result.plan.service_id,
        "committed": result.committed,
        "changed": result.changed,
        "inserted": result.inserted,
        "updated": result.updated,
        "problems": list(result.check.problems),
        "notes": list(result.notes),
        "summary": result.summary(),
        "partitions": [
            {
                "partition": p.partition.key,
                "recid": p.partition.recid,
                "before": _row_json(p.before),
                "after": _row_json(p.after),
            }
            for p in result.partitions
        ],
    }
