"""The documented way to link, first: the dual-write wizard in finance and operations (l, on real tenants).

Creating a link through the dual-write gateway is not documented anywhere (dwtui's request is an
inference), so against a real gateway `l` shows Microsoft's documented path with its URL (printed,
clickable, copied with c, as a QR code), and sends the unverified request only when the person
chooses it here.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from dwtui.domain.gateway import LINK_UNVERIFIED, LinkWizard
from dwtui.domain.text import inert
from dwtui.tui.safe_text import link_text
from dwtui.tui.screens.clipboard import send_link
from dwtui.tui.screens.dialog import Dialog
from dwtui.tui.widgets.qr import QrCode


class LinkWizardScreen(Dialog[bool]):
    """Dismissed with True when the person asks for the unverified gateway request; else False."""

    CSS_PATH = "admin_link.tcss"
    DIALOG_ID = "admin-dialog"
    BUTTONS_ID = "admin-buttons"
    BINDINGS = [
        Binding(
            "c",
            "copy",
            "Copy",
            id="dwtui.link-wizard.copy",
            tooltip="Send the address to your clipboard (OSC 52)",
        ),
        Binding("escape", "close", "Close", id="dwtui.link-wizard.close", tooltip="Close; request nothing"),
    ]

    def __init__(self, wizard: LinkWizard, environment_name: str) -> None:
        super().__init__()
        self.wizard = wizard
        self.environment_name = environment_name

    def dialog_title(self) -> str:
        return f"Link {inert(self.environment_name)}: the documented way"

    def compose_body(self) -> ComposeResult:
        steps = "\n".join(f"{number}. {step}" for number, step in enumerate(self.wizard.steps, start=1))
        with VerticalScroll(id="wizard-scroll", classes="dialog-body"), Horizontal(id="admin-body"):
            with Vertical(id="admin-text"):
                yield Static("Microsoft documents linking in finance and operations, at", classes="hint")
                yield Static(link_text(self.wizard.url), id="admin-url")
                yield Static(steps, id="wizard-steps", markup=False)
                yield Static(f"Guide: {self.wizard.doc}", id="admin-how", classes="hint", markup=False)
                yield Static(
                    f"dwtui can also ask the dual-write gateway to link ({LINK_UNVERIFIED}).",
                    id="wizard-note",
                    classes="hint",
                    markup=False,
                )
            yield QrCode(self.wizard.url, id="admin-qr")

    def compose_buttons(self) -> ComposeResult:
        # Below both columns, so the three buttons keep their full labels beside the QR code.
        yield Button("Copy (c)", id="wizard-copy", compact=True)
        yield Button("Close (Esc)", id="wizard-close", compact=True)
        yield Button("Request it through the gateway...", id="wizard-unverified", compact=True)

    def action_copy(self) -> None:
        send_link(self.app, "The address of the dual-write wizard", self.wizard.url)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "wizard-copy":
            self.action_copy()
        else:
            self.dismiss(event.button.id == "wizard-unverified")

    def action_close(self) -> None:
        self.dismiss(False)
