"""A table of one-line rows in fixed-width columns, drawn a line at a time, holding at most N rows.

The Activity pane gets a row per call, many a second while an install is watched. A DataTable
re-rendered every visible row for each row added (Rich Text, Segments, cached Strips): hundreds of
objects that lived long enough to be collected by full garbage collections, which stopped the event
loop for 150 ms at a time (benchmarks/event_loop_stall.py). Here a row is one plain string, drawn
only when it first comes into view; the Strips of the rows on screen are all that is kept.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

GAP = "  "  # between columns, as a DataTable's cell padding spaced them


@dataclass(frozen=True)
class Column:
    """`width` None: the last column, as wide as its text."""

    key: str
    label: str
    width: int | None = None


@dataclass(frozen=True)
class _Row:
    number: int  # never reused: the key of its drawn Strips
    text: str
    cells: int
    failed: bool


def _cell(text: str, width: int | None) -> str:
    return text if width is None else set_cell_size(text, width)


class ActivityLines(ScrollView, can_focus=True):
    """Rows of plain, already inert text under a header that stays in view; the newest row is followed
    while the view is at the end, and stays still under a person who scrolled up to read."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"activity-lines--header", "activity-lines--failed"}

    def __init__(self, columns: tuple[Column, ...], *, max_rows: int, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.columns = columns
        self.max_rows = max_rows
        self._rows: deque[_Row] = deque()
        self._numbered = 0
        self._header = GAP.join(_cell(column.label, column.width) for column in columns)
        # Drawn lines by (row number, scroll x, width); -1 is the header. Only what is on screen is
        # worth keeping: the oldest half goes when it holds more than a few screens' lines.
        self._drawn: dict[tuple[int, int, int], Strip] = {}
        # Whether the view follows the newest row: it stops when a person scrolls up and starts again
        # at the end. Kept, not computed from the offset, because a resize (the Progress pane taking
        # part of the row) moves the end away from a view that was following it.
        self.following = True

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def column_offsets(self) -> list[tuple[str, int, int | None]]:
        """Each column's key, first cell from the left of the content, and width."""
        offsets, x = [], 0
        for column in self.columns:
            offsets.append((column.key, x, column.width))
            x += (column.width or 0) + len(GAP)
        return offsets

    def row_text(self, index: int) -> str:
        return self._rows[index].text

    def add(self, cells: tuple[str, ...], *, failed: bool = False) -> None:
        """A row at the bottom; cells are inert text, one per column."""
        text = GAP.join(_cell(cell, column.width) for cell, column in zip(cells, self.columns, strict=True))
        self._numbered += 1
        self._rows.append(_Row(self._numbered, text, cell_len(text), failed))
        dropped = 0
        while len(self._rows) > self.max_rows:
            self._rows.popleft()
            dropped += 1
        width = max(cell_len(self._header), max(row.cells for row in self._rows))
        size = Size(width, len(self._rows) + 1)
        if size != self.virtual_size:
            # The table's own size does not depend on its rows (it fills its pane): a new row moves
            # the scrollbar, not the screen's layout, which assigning virtual_size would redo whole.
            self.set_reactive(ActivityLines.virtual_size, size)
            self._scroll_update(size)
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif dropped:
            # The rows a person is reading move up as the oldest leave; the view moves with them.
            self.scroll_to(y=max(0, self.scroll_y - dropped), animate=False, immediate=True)
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = new_value >= self.max_scroll_y

    def on_resize(self) -> None:
        if self.following:
            # After the new size is laid out, so the end is where the new height puts it.
            self.scroll_end(animate=False, immediate=False, x_axis=False)

    def clear(self) -> None:
        self._rows.clear()
        self._drawn.clear()
        self.set_reactive(ActivityLines.virtual_size, Size(cell_len(self._header), 1))
        self._scroll_update(self.virtual_size)
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            header = base + self.get_component_rich_style("activity-lines--header")
            return self._draw(-1, self._header, header, scroll_x, width)
        index = scroll_y + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, base)
        row = self._rows[index]
        style = base + self.get_component_rich_style("activity-lines--failed") if row.failed else base
        return self._draw(row.number, row.text, style, scroll_x, width)

    def _draw(self, number: int, text: str, style: Style, scroll_x: int, width: int) -> Strip:
        key = (number, scroll_x, width)
        strip = self._drawn.get(key)
        if strip is None:
            if len(self._drawn) > 4 * max(self.size.height, 1) + 8:
                for old in list(self._drawn)[: len(self._drawn) // 2]:
                    del self._drawn[old]
            whole = Strip([Segment(text, style)], cell_len(text))
            strip = self._drawn[key] = whole.crop_extend(scroll_x, scroll_x + width, style)
        return strip
