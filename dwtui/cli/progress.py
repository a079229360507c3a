"""Following an install or a link from the command line: progress lines on stderr, Ctrl-C to stop.

Stopping only stops the watching: the operation goes on in the service, and the saved record lets
`dwtui setup --wait` / `dwtui link --wait` (or the TUI) pick it up again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from dwtui.cli.runtime import WAIT_SHOWN, sign_in, speed_of
from dwtui.domain.operations import OperationKind, OperationRecord, OperationStatus, format_duration

if TYPE_CHECKING:
    from dwtui.domain.models import Fault, LcsEnvironment
    from dwtui.services.session import Session
    from dwtui.services.watch import Finished, GaveUp, WatchEvent

# Without a change, a progress line at least this often (real seconds), so a long wait shows life.
HEARTBEAT_SECONDS = 30.0
RESUME_COMMAND = {
    OperationKind.INSTALL: "dwtui setup --wait",
    OperationKind.LINK: "dwtui link --wait",
    OperationKind.ADD_DATAVERSE: "dwtui integrate --wait",
}
WHAT = {
    OperationKind.INSTALL: "install",
    OperationKind.LINK: "link",
    OperationKind.ADD_DATAVERSE: "adding of Dataverse",
}
LABEL = {OperationKind.INSTALL: "setup", OperationKind.LINK: "link", OperationKind.ADD_DATAVERSE: "integrate"}


@dataclass(frozen=True, slots=True)
class Followed:
    record: OperationRecord
    finished: Finished | None = None
    gave_up: GaveUp | None = None
    interrupted: bool = False


class ProgressPrinter:
    """Turns watcher events into lines: a stage change, a percent step, a transient fault, a heartbeat."""

    def __init__(
        self,
        session: Session,
        record: OperationRecord,
        *,
        interactive: bool,
        echo: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.record = record
        self.interactive = interactive
        self.echo = echo or (lambda line: click.echo(line, err=True))
        self.clock = clock
        self.label = LABEL[record.kind]
        if record.kind is OperationKind.INSTALL and record.plan:
            # Each package of a plan on lines of its own: "[setup 2/3 msdyn_... 1 min 05 s]".
            names = [name.lower() for name in record.plan]
            step = names.index(record.package.lower()) + 1 if record.package.lower() in names else 0
            self.label = f"setup {step}/{len(record.plan)} {package_title(record.package)}"
        self.finished: Finished | None = None
        self.gave_up: GaveUp | None = None
        self._last_key: tuple[Any, ...] | None = None
        self._last_at = 0.0

    def _say(self, elapsed: float, text: str) -> None:
        self._last_at = self.clock()
        self.echo(f"[{self.label} {format_duration(elapsed)}] {text}")

    def _elapsed(self) -> float:
        return max(0.0, time.time() - self.record.started_at)

    def __call__(self, event: WatchEvent) -> None:
        from dwtui.services.watch import Finished, GaveUp, Polled, SignInNeeded, TransientFault

        if isinstance(event, Polled):
            self.record = event.record
            percent = None if event.percent is None else int(event.percent)
            key = (event.status, event.message, percent)
            if key == self._last_key and self.clock() - self._last_at < HEARTBEAT_SECONDS:
                return
            self._last_key = key
            stage = f"{event.status.value}: {event.message}" if event.message else event.status.value
            self._say(
                event.elapsed,
                f"{stage}; {event.estimate.summary}; next poll in {_soon(event.next_poll_in)}"
                f"{_until(event.next_poll_in)}",
            )
        elif isinstance(event, TransientFault):
            fault = event.fault
            code = f" [{fault.code}]" if fault.code else ""
            self._say(
                self._elapsed(),
                f"note: {fault.service}{code}: {fault.message}; asking again in "
                f"{_soon(event.retry_in)}{_until(event.retry_in)} (the {WHAT[self.record.kind]} goes on)",
            )
        elif isinstance(event, SignInNeeded):
            self._say(
                self._elapsed(),
                f"note: sign-in needed to keep watching: {event.message}; asking again in "
                f"{_soon(event.retry_in)}{_until(event.retry_in)}",
            )
            self._sign_in_again()
        elif isinstance(event, Finished):
            self.finished = event
            self.record = event.record
            self._say(self._elapsed(), f"{event.status.value}: {event.record.message or ''}".rstrip(": "))
        elif isinstance(event, GaveUp):
            self.gave_up = event
            self.record = event.record

    def _sign_in_again(self) -> None:
        from dwtui.services.errors import ServiceError

        if not self.interactive:
            return
        try:
            sign_in(self.session, interactive=True)
        except ServiceError as error:  # the watcher asks again after its wait
            self._say(self._elapsed(), f"note: sign-in did not complete: {error.fault.message}")


def package_title(unique_name: str) -> str:
    from dwtui.domain.packages import PackageProblem, by_name

    try:
        return by_name(unique_name).title
    except PackageProblem:
        return unique_name


def _soon(seconds: float) -> str:
    return "under 1 s" if seconds < 0.5 else format_duration(seconds)


def _until(seconds: float) -> str:
    """ ", until 10:42:17 UTC" for a wait longer than WAIT_SHOWN; nothing for a shorter one."""
    from dwtui.services.http import clock_after

    return f", until {clock_after(seconds)}" if seconds > WAIT_SHOWN else ""


def follow(
    session: Session,
    environment: LcsEnvironment,
    record: OperationRecord,
    *,
    interactive: bool,
    remembered: bool = True,
) -> Followed:
    """Watch `record` to its end; Ctrl-C stops the watching (not the operation).

    `remembered` is False for an operation dwtui did not start (seen only in the package state),
    which has no claim in the store to update.
    """
    from dwtui.services.add_dataverse import watch_add_dataverse
    from dwtui.services.linking import watch_link
    from dwtui.services.watch import watch

    printer = ProgressPrinter(session, record, interactive=interactive)
    store = session.operations if remembered else None
    try:
        if record.kind is OperationKind.LINK:
            final = watch_link(
                session, environment, record, on_event=printer, store=store, speed=speed_of(session)
            )
        elif record.kind is OperationKind.ADD_DATAVERSE:
            final = watch_add_dataverse(
                session, environment, record, on_event=printer, store=store, speed=speed_of(session)
            )
        else:
            final = watch(session.ppapi, record, on_event=printer, store=store, speed=speed_of(session))
    except KeyboardInterrupt:
        return Followed(printer.record, interrupted=True)
    return Followed(final, printer.finished, printer.gave_up)


def stopped_watching(record: OperationRecord) -> str:
    what = WHAT[record.kind]
    return (
        f"stopped watching; the {what} goes on in the service. "
        f"`{RESUME_COMMAND[record.kind]}` resumes watching it"
    )


def failure_fault(followed: Followed) -> Fault | None:
    """The fault of a finished-but-failed operation, or of a watcher that gave up."""
    if followed.finished is not None and followed.finished.status is not OperationStatus.SUCCEEDED:
        return followed.finished.fault
    if followed.gave_up is not None:
        return followed.gave_up.fault
    return None


def outcome_of(followed: Followed) -> str:
    if followed.interrupted:
        return "watch_stopped"
    if followed.gave_up is not None:
        return "gave_up"
    if followed.finished is not None:
        return followed.finished.status.value.lower()
    return "running"


def explanation_lines(fault: Fault) -> list[str]:
    """The failure as a person reads it: the code and message, what it means, the remedy."""
    from dwtui.domain.errors import Surface, explain

    explanation = explain(fault, Surface.CLI)
    lines = [f"  {fault.service} [{fault.code or 'error'}]: {fault.message}"]
    if explanation.meaning and explanation.meaning != fault.message:
        lines.append(f"  What it means: {explanation.meaning}")
    lines.append(f"  Remedy: {explanation.remedy}")
    if explanation.doc:
        lines.append(f"  Documentation: {explanation.doc}")
    return lines
