"""The baseline for benchmarks/first_paint.py: a bare Textual app with a header, a footer and one static."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static


class BareApp(App[int]):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("A bare Textual app: the baseline dwtui's first paint is measured against.")
        yield Footer()


if __name__ == "__main__":
    BareApp().run()
