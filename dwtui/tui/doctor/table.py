"""The doctor's table: a heading row per group, then one row per check, filled in as results arrive.

Titles wrap within the room the table has (rows grow to fit), so nothing is cut at 80 columns: when
the table's width changes, the rows are laid out again and the cursor stays on its check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from dwtui.domain.doctor import CheckResult, CheckSpec, Group
from dwtui.tui.doctor.presentation import STATE_WIDTH, Palette, duration_text, group_heading, state_cell

GROUP_PREFIX = "group:"
TIME_WIDTH = len("999.9 s")
PADDING = 2  # the cell padding DataTable puts around each column
SCROLLBAR = 2  # the vertical scrollbar's gutter, kept whether or not it shows (screen.tcss)
MIN_TITLE_WIDTH = 16


def group_key(group: Group) -> str:
    return f"{GROUP_PREFIX}{group.value}"


class CheckTable(DataTable[Text]):
    def __init__(self, *, show_timings: bool = True, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, cell_padding=1)
        self.show_timings = show_timings
        self.specs: tuple[CheckSpec, ...] = ()
        self.results: dict[str, CheckResult] = {}
        self.palette = Palette.of({})
        self._laid_out_width = 0

    def on_mount(self) -> None:
        self.palette = Palette.of(self.app.get_css_variables())

    # -- what is in it ---------------------------------------------------------------------------------

    def groups(self) -> Iterator[tuple[Group, list[CheckSpec]]]:
        """The checks under their group, in the order the doctor gave them."""
        current: Group | None = None
        members: list[CheckSpec] = []
        for spec in self.specs:
            if spec.group is not current:
                if current is not None:
                    yield current, members
                current, members = spec.group, []
            members.append(spec)
        if current is not None:
            yield current, members

    def spec_of(self, key: str) -> CheckSpec | None:
        return next((spec for spec in self.specs if spec.check_id == key), None)

    def group_of(self, key: str) -> Group | None:
        return next((group for group in Group if group_key(group) == key), None)

    @property
    def highlighted_key(self) -> str:
        if not self.row_count:
            return ""
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except CellDoesNotExist:
            return ""
        return str(row_key.value or "")

    def place_cursor(self, key: str) -> None:
        with contextlib.suppress(RowDoesNotExist):
            self.move_cursor(row=self.get_row_index(key), animate=False)

    # -- filling it ---------------------------------------------------------------------------------

    def start(self, specs: Sequence[CheckSpec]) -> None:
        """Every check as still running; the cursor on the first check."""
        self.specs = tuple(specs)
        self.results = {}
        self._lay_out(self.specs[0].check_id if self.specs else "")

    def fill(self, result: CheckResult) -> None:
        self.results[result.check_id] = result
        try:
            self.update_cell(result.check_id, "state", state_cell(result, self.palette))
            if self.show_timings:
                self.update_cell(result.check_id, "time", Text(duration_text(result)))
        except CellDoesNotExist:
            pass  # not a check of this run

    def on_resize(self, event: events.Resize) -> None:
        if self.specs and self._title_width() != self._laid_out_width:
            self._lay_out(self.highlighted_key)

    def _title_width(self) -> int:
        others = STATE_WIDTH + PADDING + (TIME_WIDTH + PADDING if self.show_timings else 0)
        return max(MIN_TITLE_WIDTH, self.size.width - others - PADDING - SCROLLBAR)

    def _lay_out(self, cursor_key: str) -> None:
        width = self._title_width()
        self._laid_out_width = width
        self.clear(columns=True)
        self.add_column("State", key="state", width=STATE_WIDTH)
        self.add_column("Check", key="check", width=width)
        if self.show_timings:
            self.add_column("Took", key="time", width=TIME_WIDTH)
        blank = [Text("")] if self.show_timings else []
        for group, members in self.groups():
            heading = Text(group_heading(group), style=self.palette.heading)
            self.add_row(Text(""), heading, *blank, key=group_key(group), height=None)
            for spec in members:
                result = self.results.get(spec.check_id)
                timing = [Text(duration_text(result))] if self.show_timings else []
                self.add_row(
                    state_cell(result, self.palette),
                    Text(spec.title),
                    *timing,
                    key=spec.check_id,
                    height=None,
                )
        if cursor_key:
            self.place_cursor(cursor_key)
