"""`dwtui link`, and what the commands that change something share (`setup` is in setup.py).

Each starts an operation at most once (a running one, from this or another terminal, is reported
and with --wait followed instead) and, with --wait, follows it to the end. Text goes to stdout; with
--json the text moves to stderr and stdout carries one JSON object (README "setup and link --json").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dwtui.cli.progress import (
    explanation_lines,
    failure_fault,
    follow,
    outcome_of,
    stopped_watching,
)
from dwtui.cli.root import cli
from dwtui.cli.runtime import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SERVICE,
    Failure,
    confirm,
    fault_line,
    hyperlink,
    signed_in_status,
)
from dwtui.domain.linking import TYPICAL_LINK_SECONDS
from dwtui.domain.operations import OperationKind, OperationRecord, OperationStatus, at_speed

if TYPE_CHECKING:
    from dwtui.domain.linking import AdminLink
    from dwtui.domain.models import Fault, LcsEnvironment
    from dwtui.services.session import Session

JSON_SCHEMA = 1
F = TypeVar("F", bound=Callable[..., Any])
COMMANDS = {
    OperationKind.INSTALL: "setup",
    OperationKind.LINK: "link",
    OperationKind.ADD_DATAVERSE: "integrate",
}
WHAT = {
    OperationKind.INSTALL: "the dual-write package install",
    OperationKind.LINK: "the link",
    OperationKind.ADD_DATAVERSE: "adding Dataverse",
}


def operation_options(what: str) -> Callable[[F], F]:
    def decorate(command: F) -> F:
        for option in reversed(
            (
                click.option(
                    "--wait", is_flag=True, help=f"Follow the {what} to its end (Ctrl+C stops watching)."
                ),
                click.option("--json", "as_json", is_flag=True, help="Print one JSON object (README)."),
                click.option("--yes", is_flag=True, help="Confirm without asking."),
                click.option(
                    "--no-interactive", is_flag=True, help="Never wait for a device-code sign-in (exit 4)."
                ),
            )
        ):
            command = option(command)
        return command

    return decorate


class Output:
    """Text for people (stdout, or stderr under --json) and the one JSON object for scripts."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def say(self, text: str = "") -> None:
        click.echo(text, err=self.as_json)

    def emit(self, data: dict[str, Any]) -> None:
        if self.as_json:
            click.echo(json.dumps(data, indent=2))


def result_json(
    command: str,
    environment: LcsEnvironment,
    outcome: str,
    *,
    started: bool,
    record: OperationRecord | None,
    fault: Fault | None = None,
    **extra: Any,
) -> dict[str, Any]:
    from dwtui.services.status_json import fault_to_json, operation_to_json

    return {
        "schema": JSON_SCHEMA,
        "command": command,
        "environment": {"id": environment.environment_id, "name": environment.name},
        "outcome": outcome,
        "started": started,
        "operation": operation_to_json(record),
        "error": fault_to_json(fault) if fault is not None else None,
        **extra,
    }


def conclude(
    session: Session,
    environment: LcsEnvironment,
    record: OperationRecord,
    *,
    started: bool,
    wait: bool,
    out: Output,
    interactive: bool,
    remembered: bool = True,
    extra: Callable[[bool], dict[str, Any]] = lambda succeeded: {},
    on_success: Callable[[], None] = lambda: None,
) -> int:
    """Without --wait: say how to follow it. With --wait: follow it and end with its outcome."""
    command = COMMANDS[record.kind]
    if not wait:
        out.say(f"`dwtui {command} --wait` or `dwtui status` follows it.")
        outcome = "started" if started else "running"
        out.emit(result_json(command, environment, outcome, started=started, record=record, **extra(False)))
        return EXIT_OK
    followed = follow(session, environment, record, interactive=interactive, remembered=remembered)
    final = followed.record
    succeeded = followed.finished is not None and followed.finished.status is OperationStatus.SUCCEEDED
    fault = failure_fault(followed)
    data = result_json(
        command,
        environment,
        outcome_of(followed),
        started=started,
        record=final,
        fault=fault,
        **extra(succeeded),
    )
    if followed.interrupted:
        out.emit(data)
        raise Failure(stopped_watching(final), EXIT_INTERRUPTED)
    if succeeded:
        on_success()
        out.emit(data)
        return EXIT_OK
    what = WHAT[record.kind]
    assert fault is not None  # not interrupted, not succeeded: it failed, was canceled, or we gave up
    if followed.gave_up is not None:
        out.emit(data)
        raise Failure(
            f"stopped watching {what} after {followed.gave_up.streak} failed polls in a row: "
            f"{fault_line(fault)}; it may still run: `dwtui {command} --wait` resumes watching",
            EXIT_SERVICE,
        )
    out.say(f"{what[0].upper()}{what[1:]}: {final.status.value}")
    for line in explanation_lines(fault):
        out.say(line)
    out.emit(data)
    raise Failure(f"{what} {final.status.value.lower()}: {fault_line(fault)}", EXIT_SERVICE)


# -- link ------------------------------------------------------------------------------------------


@cli.command()
@operation_options("link")
@click.option(
    "--unverified",
    is_flag=True,
    help="Ask the dual-write gateway to link even though no public source shows that call (a real "
    "gateway only; without it the documented way in finance and operations is printed).",
)
def link(wait: bool, as_json: bool, yes: bool, no_interactive: bool, unverified: bool) -> int:
    """Link to Power Platform environment: confirm, request (once), and with --wait follow it.

    Against a real gateway the documented way (the dual-write wizard in finance and operations) is
    printed unless --unverified asks for the gateway request. Once linked, prints the hyperlink to the
    dual-write administration area.
    """
    from dwtui.domain.assessment import Action, LinkState
    from dwtui.domain.gateway import LINK_UNVERIFIED, link_wizard
    from dwtui.domain.linking import admin_link, integration_dataverse
    from dwtui.services.linking import REQUESTED, active_link, start_link
    from dwtui.services.operations import AlreadyRunning
    from dwtui.services.status_json import admin_link_to_json, operation_line

    session, report = signed_in_status(no_interactive, change=True)
    environment, snapshot = report.environment, report.snapshot
    out = Output(as_json)
    target = admin_link(environment.fo_url)
    dataverse = integration_dataverse(snapshot)
    dataverse_json = (
        {"url": dataverse.instance_url, "name": dataverse.display_name} if dataverse is not None else None
    )

    def extra(succeeded: bool) -> dict[str, Any]:
        return {
            "dataverse": dataverse_json,
            "admin_link": admin_link_to_json(target) if succeeded else None,
            # No public source shows the gateway's link request or its status (README).
            "unverified": True,
        }

    def go(record: OperationRecord, started: bool) -> int:
        return conclude(
            session,
            environment,
            record,
            started=started,
            # A link that already ended (settled from the gateway) is reported as if followed.
            wait=wait or record.finished,
            out=out,
            interactive=not no_interactive,
            extra=extra,
            on_success=lambda: _linked(out, environment, target),
        )

    # Before anything else: a link request left in doubt (a run stopped between the request and
    # its id, or a lost answer) is settled from the gateway, and one the gateway shows running
    # (started by another run, here or on another machine) is followed instead of requested again.
    running = active_link(session, environment, session.operations, snapshot.link)
    if running is not None:
        if running.finished:
            out.say(
                f"An earlier link request on {environment.name} was interrupted; the gateway shows how "
                f"it ended: {running.status.value}."
            )
        else:
            out.say(f"A link is already under way on {environment.name}; not starting another.")
            out.say(f"  {operation_line(running, speed=session.speed)}")
        return go(running, False)
    if report.assessment.link is LinkState.LINKED:
        out.say(f"{environment.name} is already linked.")
        _show_admin_link(out, target)
        out.emit(
            result_json("link", environment, "already_linked", started=False, record=None, **extra(True))
        )
        return EXIT_OK
    availability = report.assessment.actions[Action.LINK]
    if not availability.enabled or dataverse is None:
        raise Failure(
            f"cannot link {environment.name}: {availability.reason or 'nothing to link to'}", EXIT_FAILURE
        )
    wizard = link_wizard(environment.fo_url)
    if not session.gateway_is_simulator and not unverified and wizard is not None:
        out.say(f"Link {environment.name} the documented way, in finance and operations:")
        out.say(f"  {hyperlink(wizard.url)}")
        for number, step in enumerate(wizard.steps, start=1):
            out.say(f"  {number}. {step}")
        out.say(f"  Guide: {wizard.doc}")
        out.say(f"`dwtui link --unverified` asks the dual-write gateway instead ({LINK_UNVERIFIED}).")
        out.emit(
            result_json(
                "link",
                environment,
                "documented_path",
                started=False,
                record=None,
                wizard={"url": wizard.url, "steps": list(wizard.steps), "doc": wizard.doc},
                **extra(False),
            )
        )
        return EXIT_OK
    out.say(
        f"Link {environment.name} ({environment.fo_url}) to the Dataverse environment "
        f"{dataverse.display_name} ({dataverse.instance_url}). It typically takes less than 5 minutes"
        f"{at_speed(TYPICAL_LINK_SECONDS, session.speed)}."
    )
    out.say(f"The request and its progress are {LINK_UNVERIFIED}.")
    confirm(f"Link {environment.name} to {dataverse.display_name}?", yes=yes, what="link")
    try:
        record = start_link(session, environment, snapshot, store=session.operations)
    except AlreadyRunning as already:
        note = already.note or "a link was started for this environment a moment ago; following it"
        out.say(f"{note[0].upper()}{note[1:]}.")
        return go(already.record, False)
    if record.finished:
        out.say(f"The link request got no clear answer; the gateway shows it ended: {record.status.value}.")
    elif not record.operation_id:
        out.say(f"The link request got no clear answer: {record.message}.")
    elif record.message != REQUESTED:
        out.say(f"The link request's answer was lost; {record.message} ({record.operation_id}).")
    else:
        out.say(f"Link requested ({record.operation_id}).")
    return go(record, True)


def _linked(out: Output, environment: LcsEnvironment, target: AdminLink | None) -> None:
    out.say(f"{environment.name} is linked to the Power Platform environment.")
    _show_admin_link(out, target)


def _show_admin_link(out: Output, target: AdminLink | None) -> None:
    if target is None:
        return
    out.say("Dual-write administration area:")
    out.say(f"  {hyperlink(target.url)}")
    out.say(f"  then {target.navigation}")
    out.say(f"  ({target.note})")
