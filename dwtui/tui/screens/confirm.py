"""The confirmation every one-box change goes through: what will happen, then y / n."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Button, Static

from dwtui.domain.text import inert
from dwtui.tui.screens.dialog import Dialog


class ConfirmChangeScreen(Dialog[bool]):
    """Dismissed with True only for an explicit yes; Escape and n say no."""

    CSS_PATH = "confirm.tcss"
    DIALOG_ID = "confirm-dialog"
    BUTTONS_ID = "confirm-buttons"

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="dwtui.confirm.yes", tooltip="Make the change"),
        Binding("n", "answer(False)", "No", id="dwtui.confirm.no", tooltip="Change nothing"),
        Binding("escape", "answer(False)", "Cancel", id="dwtui.confirm.cancel", tooltip="Change nothing"),
    ]

    def __init__(self, title: str, body: str, *, yes: str = "Yes") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.yes = yes

    def dialog_title(self) -> str:
        # Plans name business units, roles and users as Dataverse spells them: shown inert.
        return inert(self.title_text)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="confirm-body", classes="dialog-body"):
            yield Static(inert(self.body, multiline=True), id="confirm-text", markup=False)

    def compose_buttons(self) -> ComposeResult:
        yield Button(f"{self.yes} (y)", id="confirm-yes", variant="warning", compact=True)
        yield Button("No (n)", id="confirm-no", compact=True)

    def on_mount(self) -> None:
        # No is focused: Enter on an unread dialog must not make the change.
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
