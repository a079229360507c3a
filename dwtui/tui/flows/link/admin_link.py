"""The hyperlink to the dual-write administration area, for a person who may have no browser here.

Printed in full (a terminal that cannot follow links still lets it be read), clickable where the
terminal supports links, sent to the clipboard with c (OSC 52: where the terminal allows it, it
reaches the clipboard of the person's own machine, also over SSH), and as a QR code for a phone.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, Static

from dwtui.domain.linking import AdminLink
from dwtui.domain.text import inert
from dwtui.tui.safe_text import link_text
from dwtui.tui.screens.clipboard import send_link
from dwtui.tui.screens.dialog import Dialog
from dwtui.tui.widgets.qr import QrCode


class AdminLinkScreen(Dialog[None]):
    CSS_PATH = "admin_link.tcss"
    DIALOG_ID = "admin-dialog"
    BUTTONS_ID = "admin-buttons"
    BINDINGS = [
        Binding(
            "c",
            "copy",
            "Copy",
            id="dwtui.admin-link.copy",
            tooltip="Send the link to your clipboard (OSC 52)",
        ),
        Binding("escape", "close", "Close", id="dwtui.admin-link.close", tooltip="Close"),
    ]

    def __init__(self, admin: AdminLink, environment_name: str) -> None:
        super().__init__()
        self.admin = admin
        self.environment_name = environment_name

    def dialog_title(self) -> str:
        return f"Dual-write administration: {inert(self.environment_name)}"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="admin-scroll", classes="dialog-body"), Horizontal(id="admin-body"):
            with Vertical(id="admin-text"):
                yield Label("Sign in to the finance and operations environment at", classes="hint")
                yield Static(link_text(self.admin.url), id="admin-url")
                yield Label(f"then go to {self.admin.navigation}", id="admin-navigation", markup=False)
                yield Static(
                    "There you set up the table maps.\n\nc sends the link to your own clipboard (OSC "
                    "52, also over SSH); or scan the QR code with a phone.",
                    id="admin-how",
                    markup=False,
                )
                yield Static(f"Note: {self.admin.note}", id="admin-note", classes="hint", markup=False)
            yield QrCode(self.admin.url, id="admin-qr")

    def compose_buttons(self) -> ComposeResult:
        yield Button("Copy (c)", id="admin-copy", compact=True)
        yield Button("Close (Esc)", id="admin-close", compact=True)

    def action_copy(self) -> None:
        send_link(self.app, "The dual-write administration link", self.admin.url)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "admin-copy":
            self.action_copy()
        else:
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
