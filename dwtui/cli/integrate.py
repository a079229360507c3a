"""`dwtui integrate`: add Dataverse to the Power Platform environment Power Platform Integration links.

LCS gives every environment a Power Platform environment without Dataverse at first; the seed
procedure's prerequisite needs one with Dataverse. This makes the documented BAP provisionInstance
call (services/add_dataverse.py) once, after a confirmation showing language, currency and template,
and with --wait follows its lifecycle operation to the end.
"""

from __future__ import annotations

import click

from dwtui.cli.operations import Output, conclude, operation_options, result_json
from dwtui.cli.root import cli
from dwtui.cli.runtime import EXIT_FAILURE, EXIT_OK, Failure, confirm, signed_in_status
from dwtui.domain.operations import TYPICAL_ADD_DATAVERSE_SECONDS, OperationRecord, at_speed
from dwtui.domain.templates import DEFAULT_TEMPLATE, TEMPLATES


@cli.command()
@operation_options("adding of Dataverse")
@click.option(
    "--language",
    type=click.IntRange(1, 0xFFFF),
    default=1033,
    show_default=True,
    help="Base language (LCID).",
)
@click.option("--currency", default="USD", show_default=True, help="Base currency (ISO 4217 code).")
@click.option(
    "--template",
    type=click.Choice(tuple(TEMPLATES)),
    default=DEFAULT_TEMPLATE,
    show_default=True,
    help="The finance and operations template (Power Platform templates article).",
)
def integrate(
    wait: bool, as_json: bool, yes: bool, no_interactive: bool, language: int, currency: str, template: str
) -> int:
    """Add Dataverse to the environment's Power Platform environment: confirm, request (once), and
    with --wait follow it. A request already under way is followed, never sent again."""
    from dwtui.domain.assessment import IntegrationState
    from dwtui.services.add_dataverse import (
        CANNOT_ADD_NOTE,
        dataverse_request,
        plan_add_dataverse,
        resume_add_dataverse,
        start_add_dataverse,
    )
    from dwtui.services.operations import AlreadyRunning
    from dwtui.services.status_json import operation_line

    dataverse_request(language, currency, template)  # a bad --currency ends here, before any sign-in
    session, report = signed_in_status(no_interactive, change=True)
    environment, snapshot = report.environment, report.snapshot
    out = Output(as_json)

    def go(record: OperationRecord, started: bool) -> int:
        return conclude(
            session,
            environment,
            record,
            started=started,
            wait=wait,
            out=out,
            interactive=not no_interactive,
            on_success=lambda: out.say(
                f"Dataverse was added for {environment.name}; `dwtui setup` installs dual-write next."
            ),
        )

    running = resume_add_dataverse(session, session.operations, environment.environment_id)
    if running is not None:
        out.say(f"Dataverse is already being added for {environment.name}; not requesting it again.")
        out.say(f"  {operation_line(running, speed=session.speed)}")
        return go(running, False)
    state = report.assessment.integration
    if state is IntegrationState.SET_UP:
        out.say(f"The Power Platform environment of {environment.name} already has Dataverse.")
        out.emit(result_json("integrate", environment, "already_integrated", started=False, record=None))
        return EXIT_OK
    if state is not IntegrationState.NO_DATAVERSE:
        raise Failure(
            f"cannot add Dataverse for {environment.name}: Power Platform Integration is {state.value}",
            EXIT_FAILURE,
        )
    plan = plan_add_dataverse(
        session, environment, snapshot.dataverse, language=language, currency=currency, template=template
    )
    out.say(plan.describe())
    out.say(CANNOT_ADD_NOTE)
    confirm(f"Add Dataverse for {environment.name}?", yes=yes, what="add Dataverse")
    try:
        record = start_add_dataverse(session, plan, session.operations)
    except AlreadyRunning as already:
        out.say("Dataverse was requested for this environment a moment ago; following it instead.")
        return go(already.record, False)
    out.say(
        "Dataverse requested; it typically takes some minutes"
        f"{at_speed(TYPICAL_ADD_DATAVERSE_SECONDS, session.speed)}."
    )
    return go(record, True)
