"""Label/value rows drawn as one widget: labels in a column as wide as the longest, values wrap.

One widget, not a Label per cell: a pane of ten rows was twenty widgets to mount, style and lay out
before the first frame, and a read that fills the values was ten updates. Here `set` only records
the value, and the rows are drawn once at the next refresh.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from dwtui.domain.text import inert


class Fields(Widget):
    """One row per (key, label); `set(key, value)` fills a value."""

    COMPONENT_CLASSES = {"fields--label"}

    def __init__(self, prefix: str, rows: Sequence[tuple[str, str]], *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="fields")
        self.prefix = prefix
        self.rows = tuple(rows)
        self._values: dict[str, str] = dict.fromkeys((key for key, _label in self.rows), "")

    def set(self, key: str, value: str) -> None:
        """`value` is often a service's (a name, a URL): shown inert, a control as `\\x1b`."""
        if key not in self._values:
            raise KeyError(f"{self.prefix} has no field {key!r}")
        shown = inert(value) or "-"
        if shown != self._values[key]:
            self._values[key] = shown
            # A value may wrap onto more lines: the pane's height can change.
            self.refresh(layout=True)

    def value(self, key: str) -> str:
        return self._values[key]

    def labels(self) -> list[str]:
        return [label for _key, label in self.rows]

    def values(self) -> list[str]:
        return list(self._values.values())

    def render(self) -> RenderableType:
        label_style = self.get_component_rich_style("fields--label", partial=True)
        widest = max((Text.from_markup(label).cell_len for _key, label in self.rows), default=0)
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(no_wrap=True, min_width=widest)
        table.add_column(ratio=1, overflow="fold")
        for key, label in self.rows:
            table.add_row(Text.from_markup(label, style=label_style), Text(self._values[key]))
        return table
