"""`dwtui status`: what the main screen shows, with the installs and links under way."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

import click

from dwtui.cli.root import cli
from dwtui.cli.runtime import EXIT_OK, EXIT_SERVICE, Failure, fault_line, signed_in_status

if TYPE_CHECKING:
    from dwtui.domain.models import LcsEnvironment
    from dwtui.services.session import Session


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON with stable keys (README).")
@click.option(
    "--no-interactive",
    is_flag=True,
    help="Never wait for a device-code sign-in; exit 4 when a silent sign-in is not possible.",
)
def status(as_json: bool, no_interactive: bool) -> int:
    """Print what the main screen shows: environment, integration, Dataverse, application, link.

    Also an install or link under way (started by any dwtui on this machine), the hyperlink to
    the dual-write administration area once linked, and any linking mismatch.
    """
    from dwtui.services.status_json import read_operations, report_to_json, report_to_text, with_operations

    session, report = signed_in_status(no_interactive)
    _settle_link(session, report.environment)
    operations = read_operations(session.operations, report.environment.environment_id)
    environment = report.environment
    read_only = environment.is_production and not session.profile.allow_production_changes
    report = with_operations(report, operations, read_only=read_only)
    if as_json:
        click.echo(json.dumps(report_to_json(report, operations), indent=2))
    else:
        click.echo(report_to_text(report, session.profile.name, operations, speed=session.speed))
    faults = report.assessment.faults
    if faults:
        first = faults[0]
        more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
        raise Failure(f"could not read everything: {fault_line(first)}{more}", EXIT_SERVICE)
    return EXIT_OK


def _settle_link(session: Session, environment: LcsEnvironment) -> None:
    """A link request left in doubt by a run that stopped is settled from the gateway first, so the
    operations below say what the gateway says (following, linked, failed, or nothing)."""
    from dwtui.services.errors import ServiceError
    from dwtui.services.linking import active_link

    if session.gateway is None:
        return
    # When the gateway cannot be read now the claim stays as it is (the faults say why).
    with contextlib.suppress(ServiceError):
        active_link(session, environment, session.operations)
