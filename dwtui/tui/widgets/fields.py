"""Label/value rows in a two-column grid; values wrap, labels do not."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Label

from dwtui.domain.text import inert


class Fields(Grid):
    """One row per (key, label); `set(key, value)` fills a value (ids are `<prefix>-<key>`)."""

    def __init__(self, prefix: str, rows: Sequence[tuple[str, str]], *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="fields")
        self.prefix = prefix
        self.rows = tuple(rows)

    def compose(self) -> ComposeResult:
        for key, label in self.rows:
            yield Label(label, classes="field-label", id=f"{self.prefix}-{key}-label")
            yield Label("", classes="field-value", id=f"{self.prefix}-{key}", markup=False)

    def set(self, key: str, value: str) -> None:
        """`value` is often a service's (a name, a URL): shown inert, a control as `\\x1b`."""
        self.query_one(f"#{self.prefix}-{key}", Label).update(inert(value) or "-")

    def value(self, key: str) -> str:
        return str(self.query_one(f"#{self.prefix}-{key}", Label).content)
