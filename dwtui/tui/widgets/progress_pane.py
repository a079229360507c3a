"""The Progress pane: the running long operation (the dual-write install and link arrive later)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static


class ProgressPane(Vertical):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="pane")
        self.border_title = "Progress"

    def compose(self) -> ComposeResult:
        yield Static("No operation running", id="progress-text")
