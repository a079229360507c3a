"""The Doctor screen (key D): every prerequisite of dual-write for the environment on the page, live.

It covers the Environment details page and is modal, so the page's keys cannot act behind it; Escape
goes back and r runs every check again. The doctor (dwtui.services.doctor) runs in a thread worker
and reports each check as it finishes with a message, so the table fills in while the slower checks
are still running and the screen never waits on a service. The row under the cursor is explained
in the panel beside or below the table: its evidence, remedy and documentation.

The page passes the environment it already read, so the doctor makes no LCS call for it; for a
one-box, the app registration and AXDB are the ones the session knows (the demo's), as on the
one-box screen. Every call goes through the session, so the page's Activity pane and the audit
trail get them as usual (and this screen's Activity pane, when there is room for it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static
from textual.worker import Worker, WorkerState

from dwtui.domain.doctor import CheckResult, CheckState, DoctorReport
from dwtui.domain.models import LcsEnvironment
from dwtui.domain.text import inert
from dwtui.services.doctor import Doctor, DoctorInputs
from dwtui.tui.doctor.messages import CheckFinished, DoctorFinished
from dwtui.tui.doctor.presentation import check_detail, environment_title, group_detail, summary
from dwtui.tui.doctor.table import CheckTable
from dwtui.tui.formatting import fault_of
from dwtui.tui.styles import beside
from dwtui.tui.widgets.activity_pane import ActivityPane
from dwtui.tui.widgets.footer import SteadyFooter
from dwtui.tui.widgets.pane import Pane, describe_fault
from dwtui.tui.workers import LatestWorkers, service_worker

if TYPE_CHECKING:
    from dwtui.services.session import Session

__all__ = ["DoctorScreen", "open_doctor"]


def open_doctor(
    app: App[int],
    session: Session,
    environment: LcsEnvironment | None,
    environment_id: str = "",
    *,
    show_timings: bool = True,
    time_limit: float | None = None,
) -> None:
    """Run the doctor on `environment` (as read), or on `environment_id` when none was read yet.

    `time_limit`, when given, replaces every check's own limit (seconds)."""
    if isinstance(app.screen, DoctorScreen):
        return
    inputs = DoctorInputs(
        environment_id=environment.environment_id if environment is not None else environment_id,
        environment=environment,
    )
    app.push_screen(DoctorScreen(session, inputs, show_timings=show_timings, time_limit=time_limit))


class DoctorScreen(ModalScreen[None]):
    CSS_PATH = ["screen.tcss", *beside(Pane, ActivityPane)]
    # The page's classes (-short under 30 rows), and -roomy from 48: room for the Activity pane too.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall"), (48, "-roomy")]
    BINDINGS = [
        Binding("escape", "back", "Back", id="dwtui.doctor.back", tooltip="Back to the main screen"),
        Binding(
            "r",
            "run_again",
            "Run again",
            id="dwtui.doctor.run-again",
            tooltip="Run every check again (a run still going is stopped first)",
        ),
    ]

    def __init__(
        self,
        session: Session,
        inputs: DoctorInputs,
        *,
        show_timings: bool = True,
        time_limit: float | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.inputs = inputs
        self.show_timings = show_timings
        self.time_limit = time_limit
        self.environment = inputs.environment
        self.report: DoctorReport | None = None
        self.runs = 0  # how many runs started; messages of an earlier one are dropped
        self._doctor: Doctor | None = None
        self._latest = LatestWorkers()
        self._placed = ""  # the row the screen last put the cursor on (not the person)

    def compose(self) -> ComposeResult:
        with Vertical(id="doctor-screen"):
            yield Label(self._title(), id="doctor-title", markup=False)
            yield Static("", id="doctor-summary", markup=False)
            with Container(id="doctor-body"):
                yield CheckTable(id="doctor-table", show_timings=self.show_timings)
                with VerticalScroll(id="doctor-detail"):
                    yield Static("", id="doctor-detail-text", markup=False)
            yield ActivityPane(
                id="doctor-activity", show_timings=self.show_timings, follow=self.session.activity
            )
            yield SteadyFooter()

    @property
    def table(self) -> CheckTable:
        return self.query_one("#doctor-table", CheckTable)

    @property
    def running(self) -> bool:
        return self._latest.running("doctor")

    def on_mount(self) -> None:
        self.table.focus()
        self.start()

    def on_unmount(self) -> None:
        self._stop()

    # -- running ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._stop()
        self.runs += 1
        self.report = None
        doctor = Doctor(self.session, self.inputs, time_limit=self.time_limit)
        self._doctor = doctor
        self.table.start(doctor.checks)
        self._placed = self.table.highlighted_key
        self._show_summary()
        self._show_detail()
        self._latest.track(self._check(doctor, self.runs))

    def _stop(self) -> None:
        """The run still going ends now: its checks still running end as unknown, and are not shown."""
        if self._doctor is not None:
            self._doctor.cancel()
            self._doctor = None

    @service_worker("doctor", "Checking every prerequisite")
    def _check(self, doctor: Doctor, run: int) -> None:

        def finished(result: CheckResult) -> None:
            self.post_message(CheckFinished(run, result))  # thread-safe: the screen handles it

        report = doctor.run(on_result=finished)
        self.post_message(DoctorFinished(run, report))

    @on(CheckFinished)
    def _check_finished(self, message: CheckFinished) -> None:
        if message.run != self.runs:
            return
        result = message.result
        self.table.fill(result)
        if result.state is CheckState.PROBLEM:
            self._point_at(result)
        self._show_summary()
        self._show_detail()

    @on(DoctorFinished)
    def _doctor_finished(self, message: DoctorFinished) -> None:
        if message.run != self.runs:
            return
        self.report = message.report
        self._doctor = None
        if self.environment is None and message.report.environment is not None:
            self.environment = message.report.environment
            self.query_one("#doctor-title", Label).update(self._title())
        worst = message.report.worst
        if worst is not None and worst.state is not CheckState.OK:
            self._point_at(worst)
        self._show_summary()
        self._show_detail()

    def _point_at(self, result: CheckResult) -> None:
        """The cursor goes to the first problem (or, at the end, the worst finding), unless the person
        moved it themselves or it is on a problem already."""
        table = self.table
        if not self._placed or table.highlighted_key != self._placed:
            return
        shown = table.results.get(self._placed)
        if shown is not None and shown.state is CheckState.PROBLEM:
            return
        table.place_cursor(result.check_id)
        self._placed = result.check_id

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR and self._latest.is_current(worker):
            summary_line = self.query_one("#doctor-summary", Static)
            summary_line.update(f"The doctor stopped: {describe_fault(fault_of(worker.error))}")
            summary_line.set_classes("problem")

    # -- what the screen shows ---------------------------------------------------------------------

    def _title(self) -> str:
        fallback = inert(self.inputs.environment_id) or "the profile's environment"
        where = environment_title(self.environment, fallback)
        return f"Doctor: {where}  (r runs again, Escape goes back)"

    def _show_summary(self) -> None:
        table = self.table
        line, outcome = summary(len(table.specs), table.results.values(), finished=self.report is not None)
        if self.report is None:
            line += " Every row fills in as its check finishes."
        widget = self.query_one("#doctor-summary", Static)
        widget.update(line)
        widget.set_classes(outcome)

    @on(DataTable.RowHighlighted, "#doctor-table")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        table = self.table
        key = table.highlighted_key
        spec = table.spec_of(key)
        detail = self.query_one("#doctor-detail-text", Static)
        if spec is not None:
            limit = self.time_limit if self.time_limit is not None else spec.time_limit
            detail.update(
                check_detail(
                    spec,
                    table.results.get(key),
                    table.palette,
                    time_limit=limit,
                    show_timings=self.show_timings,
                )
            )
            return
        group = table.group_of(key)
        for found, members in table.groups():
            if found is group:
                rows = [(spec, table.results.get(spec.check_id)) for spec in members]
                detail.update(group_detail(found, rows, table.palette))
                return
        detail.update("")

    # -- keys ----------------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_run_again(self) -> None:
        self.start()
