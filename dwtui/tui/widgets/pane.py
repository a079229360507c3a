"""A titled pane with a status line, a body that can show a loading indicator, and a fault box.

Every pane of the main screen is one of these, so loading, waiting ("LCS API throttled,
retrying in 10 s") and failure look the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, Static

from dwtui.domain.errors import explain
from dwtui.domain.models import Fault
from dwtui.domain.text import inert


def describe_fault(fault: Fault) -> str:
    """Code, meaning and remedy in a few lines (the error details modal shows everything)."""
    explanation = explain(fault)
    lines = [f"{fault.service}: {explanation.code}", explanation.meaning]
    if explanation.meaning != fault.message:
        lines.append(f"Service said: {fault.message}")
    lines.append(f"Remedy: {explanation.remedy}")
    return inert("\n".join(lines), multiline=True)


class FaultBox(Vertical):
    """The faults a pane ran into, each with code, meaning and remedy, and a Details button.

    Its text and button are mounted when the first fault is shown: most pages never show one, and
    every widget mounted before the first frame delays it.
    """

    def __init__(self, *, id: str | None = None, classes: str = "") -> None:  # noqa: A002
        super().__init__(id=id, classes=f"fault-box {classes}".strip())
        self.faults: tuple[Fault, ...] = ()
        self._text = Static("", classes="fault-text", markup=False)

    def on_mount(self) -> None:
        self.display = bool(self.faults)

    def show(self, faults: Sequence[Fault], note: str = "") -> None:
        self.faults = tuple(faults)
        text = "\n\n".join(describe_fault(fault) for fault in self.faults)
        self._text.update(f"{note}\n{text}".strip() if note else text)
        if self.faults and self._text.parent is None:
            self.mount(
                self._text,
                Horizontal(Button("Details", classes="fault-details", compact=True), classes="fault-actions"),
            )
        self.display = bool(self.faults)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        from dwtui.tui.screens.error_details import ErrorDetailsScreen

        self.app.push_screen(ErrorDetailsScreen(self.faults))


class PaneBody(VerticalScroll):
    """A pane's scrollable body: empty in the first frame, its content composed by `Pane.fill`."""

    def __init__(self, content: Callable[[], ComposeResult]) -> None:
        super().__init__(classes="pane-body")
        self._content = content
        self.filled = False

    def compose(self) -> ComposeResult:
        if self.filled:
            yield from self._content()


class Pane(Vertical):
    """Status line on top, then the fault box, then the scrollable body.

    The first frame shows the pane's frame, title and status line only; `fill` composes the body
    right after it (the page fills its panes before it connects), so the first frame does not wait
    for widgets nothing has been read into yet.
    """

    TITLE = ""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="pane")
        self.border_title = self.TITLE
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Label("", classes="pane-status", markup=False)
        yield FaultBox(classes="pane-fault")
        yield PaneBody(self.compose_body)

    def compose_body(self) -> ComposeResult:
        yield from ()

    async def fill(self) -> None:
        """Compose the body's content (once)."""
        body = self.query_one(PaneBody)
        if not body.filled:
            body.filled = True
            await body.recompose()

    @property
    def _fault_box(self) -> FaultBox:
        return self.query_one(".pane-fault", FaultBox)

    @property
    def body(self) -> VerticalScroll:
        return self.query_one(".pane-body", VerticalScroll)

    def set_status(self, text: str) -> None:
        status = self.query_one(".pane-status", Label)
        status.update(inert(text))
        status.display = bool(text)

    def begin_loading(self, status: str) -> None:
        """Before the first answer the body shows a loading indicator; later loads keep the content."""
        self.set_status(status)
        if not self.loaded:
            self.body.loading = True

    def show_fault(self, faults: Sequence[Fault], note: str = "") -> None:
        self.set_status("")
        self.body.loading = False
        self._fault_box.show(faults, note)
        self.body.display = self.loaded

    def show_message(self, text: str) -> None:
        """A state that is neither content nor fault, e.g. "Sign-in cancelled"."""
        self.body.loading = False
        self._fault_box.display = False
        self.set_status(text)

    def content_shown(self, status: str = "", read_at: str = "") -> None:
        self.border_subtitle = read_at
        self.loaded = True
        self.body.loading = False
        self.body.display = True
        self._fault_box.display = False
        self.set_status(status)

    @property
    def faults(self) -> tuple[Fault, ...]:
        box = self._fault_box
        return box.faults if box.display else ()
