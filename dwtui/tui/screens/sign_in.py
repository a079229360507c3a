"""The device-code sign-in modal: where to go, the code to type, a QR code, time left, Cancel."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label

from dwtui.domain.models import DeviceCodePrompt
from dwtui.domain.text import inert
from dwtui.tui.screens.dialog import Dialog
from dwtui.tui.widgets.qr import QrCode


def countdown_text(seconds: float) -> str:
    if seconds <= 0:
        return "The code has expired. Press Escape, then r to sign in again."
    whole = int(seconds)
    return f"The code expires in {whole // 60}:{whole % 60:02d}"


class SignInScreen(Dialog[bool]):
    """Dismissed with True when the person cancels, False when sign-in finished or failed.

    `deadline` is on the app's clock (not the prompt's wall clock) so a fixed clock freezes the
    countdown for reproducible screenshots.
    """

    CSS_PATH = "sign_in.tcss"
    DIALOG_ID = "sign-in-dialog"

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dwtui.sign-in.cancel", tooltip="Stop waiting")]

    def __init__(self, prompt: DeviceCodePrompt, *, deadline: float, clock: Callable[[], float]) -> None:
        super().__init__()
        self.prompt = prompt
        self.deadline = deadline
        self.clock = clock

    def dialog_title(self) -> str:
        return "Sign in with a device code"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="sign-in-scroll", classes="dialog-body"), Horizontal(id="sign-in-body"):
            with Vertical(id="sign-in-text"):
                yield Label("On this or any other device, open", classes="hint")
                yield Label(inert(self.prompt.verification_uri), id="sign-in-url", markup=False)
                yield Label("and enter the code", classes="hint")
                yield Label(inert(self.prompt.user_code), id="sign-in-code", markup=False)
                yield Label(self._countdown(), id="sign-in-countdown")
                yield Label("Waiting for you to finish signing in...", id="sign-in-state")
                yield Label("Or scan the QR code with a phone.", classes="hint")
            yield QrCode(self.prompt.verification_uri, id="sign-in-qr")

    def compose_buttons(self) -> ComposeResult:
        yield Button("Cancel (Esc)", id="sign-in-cancel", compact=True)

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def _countdown(self) -> str:
        return countdown_text(self.deadline - self.clock())

    def _tick(self) -> None:
        self.query_one("#sign-in-countdown", Label).update(self._countdown())

    def mark_signed_in(self) -> None:
        """Signed in while another dialog covered this one: say so; Escape closes it."""
        self.query_one("#sign-in-state", Label).update("Signed in. Press Escape to close.")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "sign-in-cancel":
            event.stop()
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(True)
