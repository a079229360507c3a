"""The Progress pane: the dual-write application install or the link, live, while dwtui watches it.

It draws from what the watcher last said (the record, its log and the service's percent) and the
app's clock, so elapsed time and "next poll in" tick between polls without asking the service, and
a fixed clock gives the same picture every run. When nothing runs it says what happened last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.events import Mount
from textual.timer import Timer
from textual.widgets import Label, ProgressBar, Static

from dwtui.domain.errors import Explanation
from dwtui.domain.linking import TYPICAL_LINK_SECONDS, AdminLink
from dwtui.domain.models import Fault
from dwtui.domain.operations import (
    OPERATION_TITLES,
    TYPICAL_ADD_DATAVERSE_SECONDS,
    TYPICAL_INSTALL_SECONDS,
    OperationKind,
    OperationRecord,
    OperationStatus,
    estimate_progress,
    format_duration,
)
from dwtui.domain.text import inert
from dwtui.tui.safe_text import link_text

TITLES = OPERATION_TITLES
TYPICAL = {
    OperationKind.INSTALL: TYPICAL_INSTALL_SECONDS,
    OperationKind.LINK: TYPICAL_LINK_SECONDS,
    OperationKind.ADD_DATAVERSE: TYPICAL_ADD_DATAVERSE_SECONDS,
}
RETRY_KEYS = {OperationKind.INSTALL: "d", OperationKind.LINK: "l", OperationKind.ADD_DATAVERSE: "P"}
LOG_LINES = 8
IDLE_TEXT = "No operation running"


@dataclass
class Outcome:
    """How the operation ended, as the pane shows it."""

    succeeded: bool
    text: str
    fault: Fault | None = None
    explanation: Explanation | None = None


def failure_text(fault: Fault, explanation: Explanation) -> str:
    lines = [
        f"Code: {explanation.code}",
        f"Message: {fault.message}",
        f"Meaning: {explanation.meaning}",
        f"Remedy: {explanation.remedy}",
    ]
    if explanation.doc:
        lines.append(f"See: {explanation.doc}")
    return inert("\n".join(lines), multiline=True)


def plan_text(record: OperationRecord, outcome: Outcome | None) -> str:
    """An install plan, a line a package: done, this one (and how it stands), then those to come."""
    from dwtui.domain.packages import PackageProblem, by_name

    if record.kind is not OperationKind.INSTALL or len(record.plan) < 2:
        return ""
    names = [name.lower() for name in record.plan]
    current = names.index(record.package.lower()) if record.package.lower() in names else -1
    lines = []
    for index, name in enumerate(record.plan):
        try:
            title = by_name(name).title
        except PackageProblem:
            title = name
        if index < current:
            mark, state = "[x]", "installed"
        elif index == current:
            if outcome is None:
                mark, state = "[~]", record.status.value
            else:
                mark, state = ("[x]", "installed") if outcome.succeeded else ("[-]", "failed")
        else:
            failed = outcome is not None and not outcome.succeeded
            mark, state = "[ ]", "not requested" if failed else "waiting"
        lines.append(f"{mark} {index + 1}. {title}: {state}")
    return "Plan:\n" + "\n".join(lines)


def stage_text(status: OperationStatus, message: str) -> str:
    return f"{status.value}: {message}" if message else status.value


def headline(kind: OperationKind, outcome: Outcome) -> str:
    if outcome.succeeded or outcome.explanation is None:
        return outcome.text
    return f"Failed: {outcome.explanation.code}. Fix it, then press {RETRY_KEYS[kind]} to try again."


class StillProgressBar(ProgressBar):
    """A progress bar that changes only when told to.

    Textual's redraws itself every second from the moment it is mounted, for an ETA the pane does
    not show: it woke an idle app once a second (benchmarks/soak.py). The pane's own ticker runs only
    while an operation is watched.
    """

    @on(Mount)
    def _mounted(self, event: Mount) -> None:
        # Stops ProgressBar.on_mount, which starts that timer; the only other mount handler, Widget's,
        # turns on scrollbars forced by the stylesheet, which a bar has none of.
        event.prevent_default()
        self.update()


class ProgressPane(Vertical):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="pane")
        self.border_title = "Progress"
        self.clock: Callable[[], float] | None = None
        self.speed = 1.0
        self.kind: OperationKind | None = None
        self.record: OperationRecord | None = None
        self.percent: float | None = None
        self.next_poll_at: float | None = None
        self.watching = False
        self.note = ""
        self.outcome: Outcome | None = None
        self.admin: AdminLink | None = None
        self._ticker: Timer | None = None
        self._shown: dict[str, str] = {"#progress-text": IDLE_TEXT}  # what each widget shows

    def compose(self) -> ComposeResult:
        yield Static(IDLE_TEXT, id="progress-text", markup=False)
        with VerticalScroll(id="progress-body"):
            yield Static("", id="progress-result", markup=False)
            yield Static("", id="progress-admin")
            yield Static("", id="progress-plan", markup=False)
            yield Label("", id="progress-stage", markup=False)
            yield StillProgressBar(total=100, show_eta=False, id="progress-bar")
            yield Label("", id="progress-estimate", markup=False)
            yield Label("", id="progress-times", markup=False)
            yield Static("", id="progress-note", markup=False)
            yield Static("", id="progress-log", markup=False)
            yield Label("", id="progress-keys", markup=False)

    def on_mount(self) -> None:
        self.query_one("#progress-body").display = False
        self._arrange()

    def _now(self) -> float:
        assert self.clock is not None
        return self.clock()

    # -- what the app tells it -------------------------------------------------------------------

    def show_idle(self, text: str, *, replace: bool = False) -> None:
        """Nothing is being watched: a sentence (what happened last, what is being prepared).

        An operation's outcome stays on screen unless `replace` (the person started something new).
        """
        if self.watching or (self.record is not None and not replace):
            return
        self.clear()
        self._put("#progress-text", text)
        self._arrange()

    def begin(self, kind: OperationKind, record: OperationRecord, note: str = "") -> None:
        """Start showing an operation being watched (new, or picked up after a restart)."""
        self.kind, self.record = kind, record
        self.percent = record.percent
        self.outcome = None
        self.admin = None
        self.note = note
        self.next_poll_at = None
        self.watching = True
        self.border_title = f"Progress: {TITLES[kind]}"
        self._arrange()
        self.query_one("#progress-body").display = True
        if self._ticker is None:
            self._ticker = self.set_interval(1.0, self.redraw)
        self.redraw()

    def polled(self, record: OperationRecord, percent: float | None, next_poll_in: float) -> None:
        self.record, self.percent = record, percent
        self.next_poll_at = self._now() + next_poll_in
        self.note = ""
        self.redraw()

    def changed(self, record: OperationRecord | None) -> None:
        if record is not None:
            self.record = record
        self.redraw()

    def set_note(self, note: str, retry_in: float | None = None) -> None:
        self.note = note
        if retry_in is not None:
            self.next_poll_at = self._now() + retry_in
        self.redraw()

    def finished(self, record: OperationRecord, outcome: Outcome, admin: AdminLink | None = None) -> None:
        self.record, self.outcome, self.admin = record, outcome, admin
        self.percent = record.percent
        self.note = ""
        self.stopped()

    def stopped(self, note: str = "") -> None:
        """The watcher ended: finished, gave up, or the person stopped watching."""
        self.watching = False
        self.next_poll_at = None
        if note:
            self.note = note
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self.redraw()
        self._arrange()

    def clear(self) -> None:
        """Another environment: forget the operation shown."""
        self.stopped()
        self.kind = self.record = None
        self.outcome = None
        self.admin = None
        self.note = ""
        self.border_title = "Progress"
        self.query_one("#progress-body").display = False
        self._put("#progress-text", IDLE_TEXT)
        self._arrange()

    def _arrange(self) -> None:
        """The page gives the pane room while an operation is watched (`active`, and `operation` on
        its row) and takes it back once it ends, so Activity has its columns again; `idle` says the
        pane has nothing to show (a narrow screen leaves it out)."""
        self.set_class(self.watching, "active")
        self.set_class(self.record is None and self._shown.get("#progress-text") == IDLE_TEXT, "idle")
        if self.parent is not None:
            self.parent.set_class(self.watching, "operation")

    # -- drawing -----------------------------------------------------------------------------

    def redraw(self) -> None:
        record, kind = self.record, self.kind
        if record is None or kind is None or self.clock is None:
            return
        now = self._now()
        end = record.finished_at if record.finished_at is not None else now
        elapsed = max(0.0, end - record.started_at)
        typical = TYPICAL[kind] / self.speed
        estimate = estimate_progress(elapsed, self.percent, record.status, typical=typical)

        self._put("#progress-text", self._headline(record))
        plan = plan_text(record, self.outcome)
        self._put("#progress-plan", plan)
        self.query_one("#progress-plan", Static).display = bool(plan)
        self._put("#progress-stage", stage_text(record.status, record.message), line=True)
        bar = self.query_one("#progress-bar", ProgressBar)
        bar.update(progress=round(estimate.fraction * 100, 1))
        # Once it ended the outcome says it all; a bar stuck at 35% would only mislead.
        bar.display = self.outcome is None
        estimate_text = "" if self.outcome is not None else estimate.summary
        if estimate.overdue and not self.outcome:
            estimate_text = f"Taking longer than usual: {estimate.summary}"
        self._put("#progress-estimate", estimate_text, line=True)
        self.query_one("#progress-estimate", Label).display = bool(estimate_text)
        self._put("#progress-times", self._times(record, elapsed, now), line=True)
        self._put("#progress-note", self.note)
        self.query_one("#progress-note", Static).display = bool(self.note)
        self._draw_outcome()
        self._put("#progress-log", self._log(record))
        keys = "p poll now   w stop watching" if self.watching else ""
        if self.admin is not None:
            keys = "c copy the link   a link and QR code"
        self._put("#progress-keys", keys, line=True)

    def _put(self, selector: str, text: str, *, line: bool = False) -> None:
        """Update a widget only when its text changed; a one-line label (fixed height in the
        stylesheet) never needs the screen laid out again. Polls come many times a minute, and a
        relayout of the whole screen for each one stalls the event loop."""
        before = self._shown.get(selector)
        if before == text:
            return
        self._shown[selector] = text
        widget = self.query_one(selector, Static)
        # Stages, messages and package names are the services' words: shown inert.
        shown = inert(text, multiline=not line)
        widget.update(shown, layout=not line and not self._same_height(widget, before, shown))

    @staticmethod
    def _same_height(widget: Static, before: str | None, after: str) -> bool:
        """Whether new text takes the lines the old took: as many lines, none wider than the widget
        (so none wraps), and the widget shown either way."""
        if before is None or not widget.display:
            return False
        width = widget.content_size.width
        old_lines, new_lines = before.split("\n"), after.split("\n")
        if width <= 0 or len(old_lines) != len(new_lines) or not after.strip():
            return False
        return max(cell_len(line) for line in old_lines + new_lines) < width

    def _headline(self, record: OperationRecord) -> str:
        if self.outcome is not None and self.kind is not None:
            return headline(self.kind, self.outcome)
        if self.watching:
            return "Watching; the service does the work." if record.operation_id else "Starting..."
        return "Not watching (the operation goes on in the service). Press r to watch again."

    def _times(self, record: OperationRecord, elapsed: float, now: float) -> str:
        parts = [f"elapsed {format_duration(elapsed)}"]
        if record.last_polled_at is not None:
            parts.append(f"polled {format_duration(max(0.0, now - record.last_polled_at))} ago")
        if self.watching and self.next_poll_at is not None:
            parts.append(f"next in {format_duration(max(0.0, self.next_poll_at - now))}")
        return ", ".join(parts)

    def _draw_outcome(self) -> None:
        result = self.query_one("#progress-result", Static)
        outcome = self.outcome
        result.set_class(outcome is not None and outcome.succeeded, "succeeded")
        result.set_class(outcome is not None and not outcome.succeeded, "failed")
        if outcome is None or self.kind is None:
            result.display = False
        elif outcome.fault is not None and outcome.explanation is not None:
            result.update(failure_text(outcome.fault, outcome.explanation))
            result.display = True
        else:
            result.display = False
        admin = self.query_one("#progress-admin", Static)
        admin.display = self.admin is not None
        if self.admin is not None:
            admin.update(
                Text.assemble(
                    "Dual-write administration: ",
                    link_text(self.admin.url),
                    f"\nthen {self.admin.navigation}",
                )
            )

    def _log(self, record: OperationRecord) -> str:
        # Times since the start: a log read after a restart makes sense without the wall clock.
        lines = [
            f"+{format_duration(max(0.0, entry.at - record.started_at)):<12} "
            f"{stage_text(entry.status, entry.message)}"
            for entry in record.log[-LOG_LINES:]
        ]
        return "State changes:\n" + "\n".join(lines) if lines else ""

    @property
    def status(self) -> OperationStatus | None:
        return self.record.status if self.record is not None else None
