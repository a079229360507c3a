"""The Activity pane holds a bounded number of rows; the activity log (memory and disk) keeps the rest.

Issue 13: a DataTable that re-rendered per row, and a pane that kept every entry, made the heap (and
full garbage collections) grow with the day. These check the bound, the on-disk trail, and that the
view follows the newest row only when a person has not scrolled up to read.
"""

from __future__ import annotations

import json
from pathlib import Path

from textual.app import App, ComposeResult

from dwtui.services.activity import ActivityEntry, ActivityLog
from dwtui.tui.widgets.activity_lines import ActivityLines, Column
from dwtui.tui.widgets.activity_pane import MAX_ROWS, ActivityPane

COLUMNS = (Column("status", "Status", 6), Column("detail", "Detail"))


def entry(number: int, status: int = 200) -> ActivityEntry:
    return ActivityEntry(
        at=1_767_225_600.0 + number,
        kind="http",
        summary="",
        service="LCS",
        method="GET",
        url=f"https://lcs.example.test/environments/{number}",
        status=status,
    )


class PaneApp(App[None]):
    def __init__(self, log: ActivityLog) -> None:
        super().__init__()
        self.log_ = log

    def compose(self) -> ComposeResult:
        yield ActivityPane(show_timings=False, follow=self.log_, id="activity-pane")


class LinesApp(App[None]):
    CSS = "ActivityLines > .activity-lines--failed { color: red; }"

    def __init__(self, max_rows: int) -> None:
        super().__init__()
        self.max_rows = max_rows

    def compose(self) -> ComposeResult:
        yield ActivityLines(COLUMNS, max_rows=self.max_rows, id="lines")


def add_rows(lines: ActivityLines, numbers: range) -> None:
    for number in numbers:
        lines.add(("200", f"row {number}"))


async def test_the_pane_holds_at_most_max_rows_while_the_log_on_disk_keeps_every_entry(
    tmp_path: Path,
) -> None:
    path = tmp_path / "activity.jsonl"
    log = ActivityLog(path)
    total = MAX_ROWS + 50
    app = PaneApp(log)
    async with app.run_test(size=(100, 20)) as pilot:
        for number in range(1, total + 1):
            log.record(entry(number))
        await pilot.pause()
        pane = app.query_one(ActivityPane)
        lines = app.query_one(ActivityLines)
        assert lines.row_count == MAX_ROWS
        # The oldest left the widget; the newest is the last row.
        assert lines.row_text(0).endswith("/environments/51")
        assert lines.row_text(MAX_ROWS - 1).endswith(f"/environments/{total}")
        assert pane.recorded == total
        assert len(pane.entries) == MAX_ROWS and pane.entries[0].url.endswith("/environments/51")
        assert pane.border_subtitle == f"{total} recorded, last {MAX_ROWS} shown"
    on_disk = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(on_disk) == total
    assert on_disk[0]["url"].endswith("/environments/1")


async def test_the_newest_row_is_followed_while_the_view_is_at_the_end() -> None:
    app = LinesApp(max_rows=100)
    async with app.run_test(size=(60, 10)) as pilot:
        lines = app.query_one(ActivityLines)
        add_rows(lines, range(40))
        await pilot.pause()
        assert lines.scroll_y == lines.max_scroll_y > 0
        # The last line on screen is the newest row; the first is always the header.
        assert "row 39" in lines.render_line(lines.size.height - 1).text
        assert lines.render_line(0).text.startswith("Status")


async def test_a_person_reading_older_rows_keeps_them_in_view_as_rows_arrive_and_leave() -> None:
    app = LinesApp(max_rows=30)
    async with app.run_test(size=(60, 10)) as pilot:
        lines = app.query_one(ActivityLines)
        add_rows(lines, range(30))
        await pilot.pause()
        lines.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        top = lines.render_line(1).text
        assert "row 10" in top
        # Ten new rows: the bound drops the ten oldest, and the view moves up with the rows read.
        add_rows(lines, range(30, 40))
        await pilot.pause()
        assert lines.row_count == 30
        assert lines.scroll_y == 0
        assert lines.render_line(1).text == top
        assert lines.scroll_y < lines.max_scroll_y


async def test_failed_rows_are_drawn_in_the_failed_style_and_cells_are_cut_to_their_column() -> None:
    app = LinesApp(max_rows=10)
    async with app.run_test(size=(60, 10)) as pilot:
        lines = app.query_one(ActivityLines)
        lines.add(("200", "fine"))
        lines.add(("4290000", "too many"), failed=True)
        await pilot.pause()
        plain, failed = lines.render_line(1), lines.render_line(2)
        red = failed_style_color(lines)
        assert {segment.style.color for segment in failed if segment.style} == {red}
        assert not any(segment.style and segment.style.color == red for segment in plain)
        # A cell longer than its column is cut, so the next column starts where the header says.
        assert failed.text.startswith("429000  too many")
        offsets = dict((key, offset) for key, offset, _ in lines.column_offsets())
        assert failed.text[offsets["detail"] :].startswith("too many")


def failed_style_color(lines: ActivityLines) -> object:
    color = lines.get_component_rich_style("activity-lines--failed").color
    assert color is not None and color.triplet is not None and color.triplet.red == 255
    return color


async def test_clear_empties_the_rows_and_keeps_the_header() -> None:
    app = LinesApp(max_rows=10)
    async with app.run_test(size=(60, 10)) as pilot:
        lines = app.query_one(ActivityLines)
        add_rows(lines, range(5))
        lines.clear()
        await pilot.pause()
        assert lines.row_count == 0
        assert lines.virtual_size.height == 1
        assert lines.render_line(0).text.startswith("Status")
        assert not lines.render_line(1).text.strip()


async def test_a_following_view_still_follows_after_the_pane_gets_shorter() -> None:
    """An install's Progress pane took rows from Activity, and the newest rows went out of view."""
    app = LinesApp(max_rows=100)
    async with app.run_test(size=(60, 20)) as pilot:
        lines = app.query_one(ActivityLines)
        add_rows(lines, range(40))
        await pilot.pause()
        await pilot.resize_terminal(60, 10)
        await pilot.pause()
        assert "row 39" in lines.render_line(lines.size.height - 1).text
        lines.add(("200", "row 40"))
        await pilot.pause()
        assert lines.following
        assert "row 40" in lines.render_line(lines.size.height - 1).text
