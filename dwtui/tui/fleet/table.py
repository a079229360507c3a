"""The fleet's table: one row per environment, the narrow words of `dwtui fleet`, in its column widths.

At 80 columns it is the command line's table (each column as wide as fleet_table.COLUMNS says, one
space between): 79 cells and the focus bar. With room to spare the names get it, up to the
longest. A redraw with the rows in the same order only updates the cells that changed; a new
order (a row listed, a value that moves it, another sort or filter) lays the rows out again and
keeps the highlighted environment highlighted.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from dwtui.domain.fleet import Column, FleetRow
from dwtui.domain.fleet_table import COLUMNS, cell, cells_wide, fit
from dwtui.domain.text import inert

NAME_NARROW = COLUMNS[Column.NAME].width
NAME_WIDEST = 40  # a longer name is cut in the middle even where there is room
LAST = list(Column)[-1]


def row_key(row: FleetRow) -> str:
    project, environment = row.key
    return f"{project}|{environment}"


def name_width(rows: Sequence[FleetRow], room: int) -> int:
    """The NAME column: the command line's 12 cells, or as wide as the longest name where there is room."""
    longest = max((cells_wide(inert(row.environment.name)) for row in rows), default=0)
    return max(NAME_NARROW, min(longest, NAME_NARROW + max(0, room), NAME_WIDEST))


class FleetTable(DataTable[Text]):
    # DataTable's own Enter, shown in the footer under the name of what it does here.
    BINDINGS = [
        Binding(
            "enter",
            "select_cursor",
            "Open",
            id="dwtui.fleet.open",
            tooltip="Open the highlighted environment on the main screen",
        )
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", cell_padding=0, zebra_stripes=False)
        self.keys: list[str] = []  # the row keys, in the order shown
        self._cells: dict[str, tuple[str, ...]] = {}
        self._name_width = 0
        self._sorted: tuple[Column, bool] | None = None

    def widths(self) -> dict[Column, int]:
        """Each column's width: its words and the space after them (none after the last)."""
        widths = {column: spec.width for column, spec in COLUMNS.items()}
        widths[Column.NAME] = self._name_width
        return widths

    def _columns(self, name: int, sort: Column, descending: bool) -> None:
        """Lay the columns out again: the rows are added back by show()."""
        self._name_width = name
        self._sorted = (sort, descending)
        self.clear(columns=True)
        self.keys = []
        self._cells = {}
        for column, width in self.widths().items():
            style = "bold underline" if column is sort else ""
            label = Text(COLUMNS[column].header, style=style)
            self.add_column(label, width=width + (0 if column is LAST else 1), key=column.value)

    def cells_of(self, row: FleetRow, now: float) -> tuple[str, ...]:
        widths = self.widths()
        return tuple(fit(cell(row, column, now), widths[column]) for column in Column)

    @property
    def highlighted_key(self) -> str | None:
        if not self.keys or not 0 <= self.cursor_row < len(self.keys):
            return None
        return self.keys[self.cursor_row]

    def show(
        self, rows: Sequence[FleetRow], now: float, *, name: int, sort: Column, descending: bool
    ) -> None:
        """Show `rows`, in this order; `name` is the NAME column's width."""
        # The highlighted environment stays highlighted where it moves; at the top, the top stays
        # highlighted (while the rows fill in, the first row is whichever sorts first).
        follow = self.highlighted_key if self.cursor_row > 0 else None
        if name != self._name_width or self._sorted != (sort, descending):
            self._columns(name, sort, descending)
            self._lay_out(rows, now, follow)
            return
        keys = [row_key(row) for row in rows]
        if keys != self.keys:
            self._lay_out(rows, now, follow)
            return
        for row, key in zip(rows, keys, strict=True):
            cells = self.cells_of(row, now)
            before = self._cells.get(key)
            if cells == before:
                continue
            for index, column in enumerate(Column):
                if before is None or before[index] != cells[index]:
                    self.update_cell(key, column.value, Text(cells[index]))
            self._cells[key] = cells

    def _lay_out(self, rows: Sequence[FleetRow], now: float, highlighted: str | None) -> None:
        scrolled = self.scroll_y
        self.clear()
        self.keys = []
        self._cells = {}
        for row in rows:
            key = row_key(row)
            cells = self.cells_of(row, now)
            self.add_row(*(Text(text) for text in cells), key=key)
            self.keys.append(key)
            self._cells[key] = cells
        if highlighted in self.keys:
            self.move_cursor(row=self.keys.index(highlighted), scroll=False)
        # Once the new rows are measured: the view stays where it was (the rows around the highlighted
        # one may have moved, the view does not jump), and the highlighted row stays in it.
        self.call_after_refresh(self._restore, scrolled)

    def _restore(self, scrolled: float) -> None:
        self.scroll_to(y=scrolled, animate=False, immediate=True)
        self.move_cursor(row=self.cursor_row, scroll=True)
