"""`dwtui setup`: the Dual-write application button, as a plan of dual-write packages.

The plan is what is missing of the dual-write core solution and the Dual-write Application Core,
plus the optional packages named with --package (or --all) and what they need, in dependency order.
One confirmation covers the plan; the packages are installed one at a time, each requested once
and followed with its own progress lines; the first failure ends the plan with its code, meaning and
remedy. Without --wait only the first package is requested: `dwtui setup --wait` (or the TUI)
follows it and goes on with the rest.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from dwtui.cli.operations import Output, operation_options, result_json
from dwtui.cli.progress import (
    explanation_lines,
    failure_fault,
    follow,
    outcome_of,
    package_title,
    stopped_watching,
)
from dwtui.cli.root import cli
from dwtui.cli.runtime import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SERVICE,
    Failure,
    confirm,
    fault_line,
    signed_in_status,
)
from dwtui.domain.operations import OperationKind, OperationRecord, OperationStatus

if TYPE_CHECKING:
    from dwtui.domain.models import LcsEnvironment, PowerPlatformSnapshot
    from dwtui.services.install import InstallPlan
    from dwtui.services.session import Session


@cli.command()
@operation_options("install")
@click.option(
    "--package",
    "packages",
    multiple=True,
    metavar="NAME",
    help="Also install this dual-write package and what it needs (a key such as finance, notes, hr, "
    "supply-chain, asset-management, party-gab, hr-common, or its unique name). Repeatable.",
)
@click.option("--all", "every", is_flag=True, help="Install every dual-write package.")
def setup(
    wait: bool, as_json: bool, yes: bool, no_interactive: bool, packages: tuple[str, ...], every: bool
) -> int:
    """Install the dual-write application (and the packages asked for): show the plan and its terms,
    confirm once, request each package once, and with --wait follow them to the end.

    An install already under way for the environment is reported (and followed with --wait), never
    started again; with --wait the rest of its plan follows.
    """
    from dwtui.domain.assessment import AppState
    from dwtui.services.errors import ServiceError
    from dwtui.services.install import continue_plan, prepare_install, resume_install, wanted_keys
    from dwtui.services.operations import AlreadyRunning
    from dwtui.services.status_json import operation_line

    wanted = wanted_keys(packages, every=every)  # an unknown name ends here, before any sign-in
    session, report = signed_in_status(no_interactive, change=True)
    environment, snapshot = report.environment, report.snapshot
    out = Output(as_json)

    def go(record: OperationRecord, started: bool, remembered: bool = True) -> int:
        return _conclude(session, environment, record, started, wait, out, not no_interactive, remembered)

    resumed = resume_install(session, session.operations, environment.environment_id)
    if resumed.record is not None:
        out.say(f"An install is already under way on {environment.name}; not starting another.")
        out.say(f"  {operation_line(resumed.record, speed=session.speed)}")
        return go(resumed.record, False)
    if resumed.unfinished is not None:
        out.say(f"Going on with the plan started earlier on {environment.name}.")
        try:
            following = continue_plan(session, environment, resumed.unfinished, session.operations)
        except AlreadyRunning as running:
            out.say(f"{_sentence(running.fault.message)}; following it.")
            return go(running.record, False)
        if following is not None:
            return go(following, True)
    elif resumed.note:
        out.say(resumed.note)
    if report.assessment.app is AppState.INSTALLING:
        return go(_untracked_install(session, environment, snapshot, out), False, remembered=False)
    try:
        plan = prepare_install(session, environment, snapshot, wanted)
    except ServiceError as error:
        if error.fault.code == "already_installed":
            version = (
                f" (Application Core {report.assessment.app_version})"
                if report.assessment.app_version
                else ""
            )
            out.say(f"The dual-write packages asked for are installed on {environment.name}{version}.")
            out.emit(result_json("setup", environment, "already_installed", started=False, record=None))
            return EXIT_OK
        raise
    _show_plan(plan, out, yes)
    record, started = _start(session, plan, out)
    return go(record, started)


def _show_plan(plan: InstallPlan, out: Output, yes: bool) -> None:
    out.say(
        f"Dual-write packages for {plan.environment.name}, in Dataverse {plan.dataverse.display_name} "
        f"({plan.dataverse.instance_url}), in this order:"
    )
    for index, step in enumerate(plan.steps, start=1):
        version = f" {step.listing.package.version}" if step.listing.package.version else ""
        out.say(f"  {index}. {step.package.title} ({step.unique_name}{version})")
    uris = [doc.uri for step in plan.steps for doc in step.terms]
    if yes:
        out.say(f"Terms accepted with --yes: {', '.join(uris) or 'none listed before the install'}")
        return
    out.say("")
    out.say("Terms")
    for step in plan.steps:
        if step.notice:
            out.say(f"{step.package.title}: {step.notice}")
        for document in step.terms:
            out.say(f"--- {document.uri}")
            out.say(document.text or f"(could not be read: {document.error}; open the address above)")
    out.say("")
    count = f"these {len(plan.steps)} packages" if len(plan.steps) > 1 else plan.steps[0].package.title
    confirm(
        f"Configure: accept these terms and install {count} on {plan.environment.name}?",
        yes=yes,
        what="accept the terms",
    )


def _start(session: Session, plan: InstallPlan, out: Output) -> tuple[OperationRecord, bool]:
    from dwtui.services.errors import ServiceError
    from dwtui.services.install import InstallUncertain, settle_claim, start_install
    from dwtui.services.operations import AlreadyRunning

    store = session.operations
    try:
        record = start_install(session, plan, store)
    except AlreadyRunning as running:
        if running.note:  # the service refused it: another install runs (another machine's, say)
            out.say(f"{_sentence(running.note)}.")
        else:
            out.say("An install was started for this environment a moment ago; following it instead.")
        return running.record, False
    except InstallUncertain as uncertain:
        # The POST may have reached the service: only the package state can tell.
        settled = settle_claim(session, store, uncertain.record)
        if settled is None:
            raise ServiceError(uncertain.cause) from uncertain
        out.say(uncertain.fault.message)
        return settled, True
    out.say(f"Install of {plan.steps[0].package.title} requested (operation {record.operation_id}).")
    return record, True


def _sentence(text: str) -> str:
    return f"{text[0].upper()}{text[1:]}" if text else text


def _title(record: OperationRecord) -> str:
    return package_title(record.package)


def _conclude(
    session: Session,
    environment: LcsEnvironment,
    record: OperationRecord,
    started: bool,
    wait: bool,
    out: Output,
    interactive: bool,
    remembered: bool,
) -> int:
    """Without --wait: say how to follow it. With --wait: follow each package of the plan in turn."""
    from dwtui.services.install import continue_plan
    from dwtui.services.operations import AlreadyRunning

    installed: list[dict[str, Any]] = []
    if not wait:
        rest = len(record.rest_of_plan())
        more = f"; {rest} more package(s) follow after it" if rest else ""
        out.say(f"`dwtui setup --wait` or `dwtui status` follows it{more}.")
        outcome = "started" if started else "running"
        out.emit(
            result_json("setup", environment, outcome, started=started, record=record, packages=installed)
        )
        return EXIT_OK
    while True:
        followed = follow(session, environment, record, interactive=interactive, remembered=remembered)
        final = followed.record
        succeeded = followed.finished is not None and followed.finished.status is OperationStatus.SUCCEEDED
        installed.append(
            {"unique_name": final.package, "title": _title(final), "outcome": outcome_of(followed)}
        )
        if followed.interrupted:
            out.emit(
                result_json(
                    "setup", environment, "watch_stopped", started=started, record=final, packages=installed
                )
            )
            raise Failure(stopped_watching(final), EXIT_INTERRUPTED)
        if not succeeded:
            return _failed(environment, final, followed, started, out, installed)
        out.say(f"{_title(final)} is installed on {environment.name}.")
        try:
            following = continue_plan(session, environment, final, session.operations) if remembered else None
        except AlreadyRunning as running:
            out.say(f"{_sentence(running.fault.message)}; following it.")
            record, started = running.record, False
            continue
        if following is None:
            break
        out.say(f"Next: {_title(following)} (operation {following.operation_id}).")
        record, started = following, True
    out.say(f"The dual-write packages of the plan are installed on {environment.name}.")
    out.emit(
        result_json("setup", environment, "succeeded", started=started, record=final, packages=installed)
    )
    return EXIT_OK


def _failed(
    environment: LcsEnvironment,
    final: OperationRecord,
    followed: Any,
    started: bool,
    out: Output,
    installed: list[dict[str, Any]],
) -> int:
    fault = failure_fault(followed)
    assert fault is not None  # not interrupted, not succeeded: it failed, was canceled, or we gave up
    data = result_json(
        "setup",
        environment,
        outcome_of(followed),
        started=started,
        record=final,
        fault=fault,
        packages=installed,
    )
    not_started = final.rest_of_plan()
    if followed.gave_up is not None:
        out.emit(data)
        raise Failure(
            f"stopped watching the install of {_title(final)} after {followed.gave_up.streak} failed polls "
            f"in a row: {fault_line(fault)}; it may still run: `dwtui setup --wait` resumes watching",
            EXIT_SERVICE,
        )
    out.say(f"Install of {_title(final)}: {final.status.value}")
    for line in explanation_lines(fault):
        out.say(line)
    if not_started:
        out.say(f"Not requested, as they need it or come after it: {', '.join(not_started)}")
    out.emit(data)
    raise Failure(
        f"the install of {_title(final)} {final.status.value.lower()}: {fault_line(fault)}", EXIT_SERVICE
    )


def _untracked_install(
    session: Session, environment: LcsEnvironment, snapshot: PowerPlatformSnapshot, out: Output
) -> OperationRecord:
    """An install this machine did not start (LCS, another machine): followed by its package state."""
    from dwtui.domain.models import DataverseEnvironment
    from dwtui.domain.packages import Installed, statuses

    dataverse = snapshot.dataverse
    listed = snapshot.packages if isinstance(snapshot.packages, tuple) else ()
    installing = next((s for s in statuses(listed) if s.state is Installed.INSTALLING), None)
    if not isinstance(dataverse, DataverseEnvironment) or installing is None:
        raise Failure("a dual-write package is being installed; `dwtui status` shows when it ends")
    out.say(
        f"{installing.package.title} is being installed on {environment.name} (started elsewhere); "
        "not starting another."
    )
    return OperationRecord(
        kind=OperationKind.INSTALL,
        profile=session.profile.name,
        lcs_environment_id=environment.environment_id,
        bap_environment_id=dataverse.bap_environment_id,
        package=installing.package.unique_name,
        started_at=time.time(),
        status=OperationStatus.RUNNING,
        message="installing",
    )
