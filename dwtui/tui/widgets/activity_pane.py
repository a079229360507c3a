"""The Activity pane: every call dwtui made, newest at the bottom, the oldest dropped past a bound.

The pane keeps no history of its own: the ActivityLog it follows keeps the recent entries and the
on-disk activity log all of them; the pane holds its last MAX_ROWS rows (their text, and the entries
they came from, which are the log's own objects).
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message

from dwtui.domain.text import inert
from dwtui.tui.widgets.activity_lines import ActivityLines, Column

if TYPE_CHECKING:
    from collections.abc import Callable

    from dwtui.services.activity import ActivityEntry, ActivityLog

MAX_ROWS = 500
SERVICE_WIDTH = 18  # "Power Platform API", "dual-write gateway"; a longer name is cut


def _duration(entry: ActivityEntry) -> str:
    if entry.duration_ms is None:
        return ""
    if entry.duration_ms >= 1000:
        return f"{entry.duration_ms / 1000:.1f} s"
    return f"{entry.duration_ms:.0f} ms"


def _path(url: str) -> str:
    """The part of a URL that tells calls apart: the host is the same for every call to a service."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path or url


class _Recorded(Message, bubble=False):
    """An entry of the followed log, carried from the thread that recorded it."""

    def __init__(self, entry: ActivityEntry) -> None:
        super().__init__()
        self.entry = entry


class ActivityPane(Vertical):
    """`show_timings=False` leaves out wall-clock times and durations, which vary run to run.

    With `follow`, the pane shows what that log records while it is mounted (from any thread);
    without it, its screen calls `add`.
    """

    def __init__(
        self,
        *,
        show_timings: bool = True,
        follow: ActivityLog | None = None,
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(id=id, classes="pane")
        self.border_title = "Activity"
        self.show_timings = show_timings
        self.entries: deque[ActivityEntry] = deque(maxlen=MAX_ROWS)  # behind the rows shown
        self.recorded = 0  # every entry shown since mount, also those the rows no longer hold
        self._follow = follow
        self._unsubscribe: Callable[[], None] | None = None

    def on_mount(self) -> None:
        if self._follow is not None:
            # post_message is thread-safe: the log calls back on whichever thread made the call.
            self._unsubscribe = self._follow.subscribe(self._forward)

    def _forward(self, entry: ActivityEntry) -> None:
        self.post_message(_Recorded(entry))

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @on(_Recorded)
    def _recorded(self, message: _Recorded) -> None:
        self.add(message.entry)

    def compose(self) -> ComposeResult:
        # Fixed widths (the longest service name, method or kind, status, duration): the columns do not
        # move as calls arrive, and the path starts where the person last saw it.
        columns: tuple[Column, ...] = (
            Column("service", "Service", SERVICE_WIDTH),
            Column("what", "What", 7),
            Column("status", "Status", 6),
            Column("detail", "Path / detail"),
        )
        if self.show_timings:
            columns = (Column("time", "Time", 8), *columns[:3], Column("took", "Took", 7), columns[3])
        yield ActivityLines(columns, max_rows=MAX_ROWS, id="activity-table")

    def add(self, entry: ActivityEntry) -> None:
        self.entries.append(entry)
        self.recorded += 1
        if entry.kind == "http":
            what = entry.method
            detail = _path(entry.url)
        else:
            what = entry.kind
            detail = entry.summary
            if entry.url:
                detail = f"{detail} {_path(entry.url)}"
        status = "" if entry.status is None else str(entry.status)
        cells: tuple[str, ...] = (entry.service, what, status, detail)
        if self.show_timings:
            at = time.strftime("%H:%M:%S", time.localtime(entry.at))
            cells = (at, entry.service, what, status, _duration(entry), detail)
        # Paths, summaries and services' words: inert (an ESC shows as \x1b), drawn as plain text.
        failed = entry.status is not None and entry.status >= 400
        self.query_one("#activity-table", ActivityLines).add(
            tuple(inert(cell) for cell in cells), failed=failed
        )
        shown = "" if self.recorded <= MAX_ROWS else f", last {MAX_ROWS} shown"
        self.border_subtitle = f"{self.recorded} recorded{shown}"
