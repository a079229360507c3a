"""The Fleet screen (key F): every environment of the profile's LCS projects, a row each.

The projects are the profile's `lcs_project_id` and its `fleet_project_ids`. The reading is
dwtui.services.fleet's FleetReader (the same as `dwtui fleet`): in a thread worker, it hands each
row over as a message whenever the row changes, so the table fills in as reads finish: cached rows
at once with their ages, then LCS's listing, then each environment's facts. LCS's limit is the
reader's to keep; its waits arrive through the Activity log and show in the status line.

The screen covers the main screen and is modal, so the page's keys cannot act behind it. The app
installs one per session, so going back and pressing F again shows the table as it was (a read
under way goes on meanwhile); it is read again when its rows are older than the cache's lifetime,
or with r. Enter dismisses it with the highlighted row, which the main screen opens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, Static
from textual.worker import Worker, WorkerState

from dwtui.domain.fleet import Column, FleetRow
from dwtui.domain.fleet_table import COLUMNS, filter_rows, sort_rows
from dwtui.domain.models import Fault
from dwtui.domain.text import inert
from dwtui.services.fleet import FleetReader, FleetResult, ProjectRead, default_cache, fleet_doctor
from dwtui.services.fleet_cache import CACHE_LIFETIME, FleetCache
from dwtui.tui.fleet.detail import RowDetail
from dwtui.tui.fleet.table import FleetTable, name_width, row_key
from dwtui.tui.formatting import clock_text, fault_of
from dwtui.tui.messages import ActivityRecorded
from dwtui.tui.widgets.footer import SteadyFooter
from dwtui.tui.workers import LatestWorkers, service_worker

if TYPE_CHECKING:
    from dwtui.services.activity import ActivityEntry
    from dwtui.services.session import Session

SCREEN_NAME = "fleet"
SORT_ORDER = tuple(Column)
TICK_SECONDS = 2.0  # how often the ages on screen move on
LCS = "LCS API"


class FleetRowRead(Message):
    """A row changed (listed, read, or shown from the cache); from the reader's threads."""

    def __init__(self, row: FleetRow, generation: int) -> None:
        super().__init__()
        self.row = row
        self.generation = generation


class FleetProjectRead(Message):
    """A project's listing ended: listed (by LCS or from the cache), or why not."""

    def __init__(self, project: ProjectRead, generation: int) -> None:
        super().__init__()
        self.project = project
        self.generation = generation


class FleetReadDone(Message):
    def __init__(self, result: FleetResult, generation: int) -> None:
        super().__init__()
        self.result = result
        self.generation = generation


def _fault_words(fault: Fault) -> str:
    return " ".join(part for part in (fault.service, fault.code, fault.message) if part)


def open_fleet(
    app: App[int],
    session: Session,
    chosen: Callable[[FleetRow | None], None],
    *,
    clock: Callable[[], float] = time.time,
) -> None:
    """Show the fleet screen of `session` (the same one as before, if it was shown already)."""
    if isinstance(app.screen, FleetScreen):
        return
    if app.is_screen_installed(SCREEN_NAME):
        installed = app.get_screen(SCREEN_NAME)
        if isinstance(installed, FleetScreen) and installed.session is not session:
            app.uninstall_screen(SCREEN_NAME)  # a new session (after a failed start): a new fleet
    if not app.is_screen_installed(SCREEN_NAME):
        app.install_screen(FleetScreen(session, clock=clock), SCREEN_NAME)
    app.push_screen(SCREEN_NAME, callback=chosen)


class FleetScreen(ModalScreen[FleetRow | None]):
    CSS_PATH = ["screen.tcss"]
    # Beside the app's: from 150 columns the row's detail goes beside the table instead of under it.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide"), (150, "-roomy")]
    AUTO_FOCUS = "#fleet-table"
    BINDINGS = [
        Binding(
            "f",
            "filter",
            "Filter",
            id="dwtui.fleet.filter",
            tooltip="Type letters: the rows whose name, type or state hold them stay",
        ),
        Binding("s", "sort", "Sort", id="dwtui.fleet.sort", tooltip="Sort by the next column"),
        Binding("S", "reverse", "Reverse", id="dwtui.fleet.reverse", tooltip="Reverse the sort"),
        Binding(
            "r",
            "refresh",
            "Refresh",
            id="dwtui.fleet.refresh",
            tooltip="List LCS again and read every fact again",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            id="dwtui.fleet.back",
            tooltip="Back to the main screen (from the filter: back to the table)",
        ),
    ]

    def __init__(self, session: Session, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.session = session
        self.clock = clock
        profile = session.profile
        self.project_ids: tuple[str, ...] = tuple(
            dict.fromkeys((profile.lcs_project_id, *profile.fleet_project_ids))
        )
        self.rows: dict[str, FleetRow] = {}
        self.shown: list[FleetRow] = []
        self.projects: dict[str, ProjectRead] = {}
        self.sort_column = Column.NAME
        self.descending = False
        self.filter_text = ""
        self.reading = False
        self.failure: Fault | None = None
        self.read_at: float | None = None  # when the last read ended
        self.lcs_wait_until = 0.0  # time.time() when LCS's window lets the next call in
        self._generation = 0
        self._reader: FleetReader | None = None
        self._latest = LatestWorkers()
        self._redraw_pending = False
        self._unsubscribe: Callable[[], None] | None = None
        self._ticker: Timer | None = None

    # -- layout --------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        projects = ", ".join(self.project_ids)
        word = "project" if len(self.project_ids) == 1 else "projects"
        with Vertical(id="fleet-screen"):
            yield Label(
                inert(f"Fleet: LCS {word} {projects}  (Escape goes back)"), id="fleet-title", markup=False
            )
            yield Input(
                placeholder="f, then type letters: rows whose name, type or state hold them stay",
                id="fleet-filter",
                compact=True,
            )
            with Horizontal(id="fleet-body"):
                yield FleetTable(id="fleet-table")
                yield RowDetail(id="fleet-detail", markup=False)
            yield Static(id="fleet-status", markup=False)
            yield SteadyFooter()

    @property
    def table(self) -> FleetTable:
        return self.query_one("#fleet-table", FleetTable)

    @property
    def detail(self) -> RowDetail:
        return self.query_one("#fleet-detail", RowDetail)

    @property
    def status(self) -> Static:
        return self.query_one("#fleet-status", Static)

    def on_mount(self) -> None:
        self._unsubscribe = self.session.activity.subscribe(self._forward_activity)
        self._ticker = self.set_interval(TICK_SECONDS, self.schedule_redraw)
        self.schedule_redraw()

    def on_screen_suspend(self) -> None:
        # The app keeps this screen installed once shown: its ages need not move on while nobody sees
        # them, and redrawing its table every tick would wake an idle app (benchmarks/soak.py).
        if self._ticker is not None:
            self._ticker.pause()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._reader is not None:
            self._reader.cancel()

    def on_screen_resume(self) -> None:
        if self._ticker is not None:
            self._ticker.resume()
            self.schedule_redraw()
        stale = self.read_at is not None and self.clock() - self.read_at >= CACHE_LIFETIME
        if not self.reading and (self.read_at is None or stale):
            self.start_read(refresh=False)
        self.table.focus()

    @on(Resize)
    def _resized(self) -> None:
        self.schedule_redraw()

    # -- reading ---------------------------------------------------------------------------------------

    def start_read(self, *, refresh: bool) -> None:
        if self._reader is not None:
            self._reader.cancel()  # its rows stay on show until the new read replaces them
        self._generation += 1
        session = self.session
        cache = FleetCache(default_cache(session).path, clock=self.clock)
        self._reader = FleetReader(session, cache=cache, clock=self.clock, doctor=fleet_doctor(session))
        self.reading = True
        self.failure = None
        self.projects = {}
        self._latest.track(self._read(self._reader, refresh, self._generation))
        self.schedule_redraw()

    @service_worker("fleet", "Reading every environment of the projects")
    def _read(self, reader: FleetReader, refresh: bool, generation: int) -> None:

        def on_row(row: FleetRow) -> None:
            self.post_message(FleetRowRead(row, generation))

        def on_project(project: ProjectRead) -> None:
            self.post_message(FleetProjectRead(project, generation))

        result = reader.read(self.project_ids, on_row, on_project, refresh=refresh)
        self.post_message(FleetReadDone(result, generation))

    @on(FleetRowRead)
    def _row_read(self, message: FleetRowRead) -> None:
        if message.generation == self._generation:
            self.rows[row_key(message.row)] = message.row
            self.schedule_redraw()

    @on(FleetProjectRead)
    def _project_read(self, message: FleetProjectRead) -> None:
        if message.generation == self._generation:
            self.projects[message.project.project_id] = message.project
            self.schedule_redraw()

    @on(FleetReadDone)
    def _read_done(self, message: FleetReadDone) -> None:
        if message.generation != self._generation:
            return
        # The result is the truth: project by project, in LCS's order, without what LCS no longer lists.
        self.rows = {row_key(row): row for row in message.result.rows}
        self.projects = {project.project_id: project for project in message.result.projects}
        self.reading = False
        self.read_at = self.clock()
        self.schedule_redraw()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR and self._latest.is_current(worker):
            self.failure = fault_of(worker.error)
            self.reading = False
            self.schedule_redraw()

    def _forward_activity(self, entry: ActivityEntry) -> None:
        self.post_message(ActivityRecorded(entry))  # any thread; post_message is thread-safe

    @on(ActivityRecorded)
    def _activity(self, message: ActivityRecorded) -> None:
        entry = message.entry
        if entry.kind == "wait" and entry.service == LCS and entry.duration_ms:
            self.lcs_wait_until = max(self.lcs_wait_until, entry.at + entry.duration_ms / 1000.0)
            self.schedule_redraw()

    # -- drawing -------------------------------------------------------------------------------------

    def schedule_redraw(self) -> None:
        """Draw once the messages waiting now are handled: a burst of rows is one redraw."""
        if not self._redraw_pending:
            self._redraw_pending = True
            self.call_later(self._redraw)

    def _redraw(self) -> None:
        self._redraw_pending = False
        if not self.is_mounted:
            return
        now = self.clock()
        rows = list(self.rows.values())
        self.shown = sort_rows(
            filter_rows(rows, self.filter_text), self.sort_column, descending=self.descending, now=now
        )
        roomy = self.has_class("-roomy")
        room = 24 if roomy else self.size.width - 83  # the focus bar, 79 cells and a scrollbar
        self.table.show(
            self.shown, now, name=name_width(rows, room), sort=self.sort_column, descending=self.descending
        )
        self._show_detail(now)
        self.status.update(self.status_text())

    def highlighted(self) -> FleetRow | None:
        key = self.table.highlighted_key
        return self.rows.get(key) if key is not None else None

    def _show_detail(self, now: float | None = None) -> None:
        compact = self.has_class("-short") and not self.has_class("-roomy")
        self.detail.show(self.highlighted(), self.clock() if now is None else now, compact=compact)

    def status_text(self) -> str:
        parts: list[str] = []
        listed = [p for p in self.projects.values() if p.listed_at is not None]
        parts.append(f"{len(listed)} of {len(self.project_ids)} projects listed")
        cached = sum(1 for p in listed if p.from_cache)
        if cached:
            parts.append(f"{cached} from the cache (r lists LCS again)")
        read = sum(1 for row in self.rows.values() if row.complete and not row.from_cache)
        parts.append(f"{read} of {len(self.rows)} environments read")
        if self.reading and self.lcs_wait_until > time.time():
            parts.append(f"waiting for LCS's limit until {clock_text(self.lcs_wait_until)}")
        elif self.reading:
            parts.append("reading")
        if self.filter_text:
            parts.append(f"{len(self.shown)} match the filter")
        arrow = "descending" if self.descending else "ascending"
        parts.append(f"sorted by {COLUMNS[self.sort_column].header} {arrow}")
        for project in self.projects.values():
            if project.fault is not None:
                parts.append(f"project {project.project_id} not listed: {_fault_words(project.fault)}")
        if self.failure is not None:
            parts.append(f"the read stopped: {_fault_words(self.failure)}")
        return inert(" · ".join(parts))

    # -- keys ------------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one("#fleet-filter", Input).focus()

    @on(Input.Changed, "#fleet-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.schedule_redraw()

    @on(Input.Submitted, "#fleet-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def action_sort(self) -> None:
        self.sort_column = SORT_ORDER[(SORT_ORDER.index(self.sort_column) + 1) % len(SORT_ORDER)]
        self.schedule_redraw()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.schedule_redraw()

    @on(DataTable.HeaderSelected, "#fleet-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        column = Column(str(event.column_key.value))
        if column is self.sort_column:
            self.descending = not self.descending
        else:
            self.sort_column, self.descending = column, False
        self.schedule_redraw()

    @on(DataTable.RowHighlighted, "#fleet-table")
    def _row_highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#fleet-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        row = self.rows.get(str(event.row_key.value))
        if row is not None:
            self.dismiss(row)

    def action_refresh(self) -> None:
        self.start_read(refresh=True)

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.table.focus()
        else:
            self.dismiss(None)
