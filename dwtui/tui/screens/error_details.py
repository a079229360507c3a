"""Everything known about the faults of a pane: code, meaning, remedy, the service's words, where."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Button, Static

from dwtui.domain.errors import explain
from dwtui.domain.models import Fault
from dwtui.domain.text import inert
from dwtui.services.activity import redact_url
from dwtui.tui.screens.dialog import Dialog


def fault_details(fault: Fault) -> str:
    """Every field of the fault, a service's words inert. The request URL is redacted here as well:
    a Fault made anywhere else than the HTTP policy may carry one that was not."""
    explanation = explain(fault)
    rows = [
        ("Service", fault.service),
        ("Code", explanation.code),
        ("HTTP status", "" if fault.http_status is None else str(fault.http_status)),
        ("Message", fault.message),
        ("Meaning", explanation.meaning),
        ("Remedy", explanation.remedy),
        ("Documentation", explanation.doc),
        ("Request", redact_url(fault.url)),
        ("Retry after", "" if fault.retry_after is None else f"{fault.retry_after:g} s"),
    ]
    return "\n".join(f"{label + ':':<15}{inert(value, multiline=True)}" for label, value in rows if value)


class ErrorDetailsScreen(Dialog[None]):
    CSS_PATH = "error_details.tcss"
    DIALOG_ID = "error-dialog"
    BINDINGS = [
        Binding("escape", "close", "Close", id="dwtui.error.close", tooltip="Close the error details")
    ]

    def __init__(self, faults: Sequence[Fault]) -> None:
        super().__init__()
        self.faults = tuple(faults)

    def dialog_title(self) -> str:
        return "Error details"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="error-body", classes="dialog-body"):
            if not self.faults:
                yield Static("No faults on screen.", markup=False)
            for fault in self.faults:
                yield Static(fault_details(fault), classes="error-fault", markup=False)

    def compose_buttons(self) -> ComposeResult:
        yield Button("Close (Esc)", id="error-close", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
