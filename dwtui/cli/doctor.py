"""`dwtui doctor`: every prerequisite of dual-write setup for the environment, checked live.

Exit 0 when every applicable check passes, 1 when one finds a problem, 3 when none does but one could
not run (README "Doctor").
"""

from __future__ import annotations

import json
import sys

import click

from dwtui.cli.params import CONNECTION_STRING_LIMIT, IDENTIFIER, BoundedText, FiniteFloat
from dwtui.cli.root import cli
from dwtui.cli.runtime import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_SERVICE,
    Failure,
    current_runtime,
    refuse_application_profile,
    resolve_environment,
    sign_in,
)
from dwtui.domain.appuser import APP_ID_HINT

TIME_LIMIT = FiniteFloat(1.0, 600.0)


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON with stable keys (README, Doctor).")
@click.option(
    "--no-interactive",
    is_flag=True,
    help="Never wait for a device-code sign-in; exit 4 when a silent sign-in is not possible.",
)
@click.option(
    "--app-id",
    "app_id",
    type=IDENTIFIER,
    default="",
    help=f"One-box: {APP_ID_HINT} (a GUID; the demo knows its own).",
)
@click.option(
    "--connection-string",
    "connection_string",
    type=BoundedText(CONNECTION_STRING_LIMIT),
    default="",
    help="One-box: the ODBC connection string of AXDB, to read the flight (the demo knows its own).",
)
@click.option(
    "--time-limit",
    "time_limit",
    type=TIME_LIMIT,
    default=None,
    help="Seconds each check may take (default: each check's own, 45 to 60 s).",
)
def doctor(
    as_json: bool, no_interactive: bool, app_id: str, connection_string: str, time_limit: float | None
) -> int:
    """Check every prerequisite of dual-write setup: sign-in and consent, your rights, the environment,
    Power Platform Integration, dual-write, and the one-box steps; each with its evidence and remedy.

    Exit 0 when all applicable checks pass, 1 when one finds a problem, 3 when one could not run.
    """
    from dwtui.domain.appuser import validate_app_id
    from dwtui.domain.doctor import CheckResult, Outcome
    from dwtui.services.doctor import Doctor, DoctorInputs
    from dwtui.services.doctor_json import report_to_json, report_to_text, result_line

    if app_id:
        try:
            app_id = validate_app_id(app_id)
        except ValueError as error:
            raise Failure(f"--app-id: {error}", EXIT_CONFIG) from error
    runtime = current_runtime()
    session = runtime.session()
    refuse_application_profile(session.profile)
    sign_in(session, interactive=not no_interactive)
    environment_id = resolve_environment(session, runtime.environment)
    runner = Doctor(
        session,
        DoctorInputs(environment_id, onebox_app_id=app_id, axdb_connection_string=connection_string),
        time_limit=time_limit,
    )
    total = len(runner.checks)
    finished = 0

    def progress(result: CheckResult) -> None:
        nonlocal finished
        finished += 1
        if _stderr_is_terminal():
            click.echo(f"dwtui: [{finished}/{total}] {result_line(result)}", err=True)

    report = runner.run(progress)
    signed_in = session.auth.signed_in()
    if as_json:
        click.echo(json.dumps(report_to_json(report, signed_in), indent=2))
    else:
        click.echo(report_to_text(report, session.profile.name, signed_in))
    outcome = report.outcome
    if outcome is Outcome.OK:
        return EXIT_OK
    worst = report.worst
    assert worst is not None
    counts = report.counts()
    if outcome is Outcome.PROBLEM:
        more = f" (and {counts['problem'] - 1} more)" if counts["problem"] > 1 else ""
        raise Failure(f"doctor: {worst.title}: {worst.summary}{more}", EXIT_FAILURE)
    more = f" (and {counts['unknown'] - 1} more)" if counts["unknown"] > 1 else ""
    raise Failure(f"doctor: could not check {worst.title}: {worst.summary}{more}", EXIT_SERVICE)
