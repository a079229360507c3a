"""The encrypted token store's passphrase, asked before sign-in where no OS keyring nor the kernel
keyring can keep tokens (dwtui.services.secrets). Never a prompt hidden behind the screen."""

from __future__ import annotations

from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from dwtui.domain.text import inert
from dwtui.services.secrets import PASSPHRASE_VARIABLE, SecretStore


class PassphraseScreen(ModalScreen[bool]):
    """Dismissed with True once the store is open, False when the person keeps tokens in memory."""

    CSS_PATH = "passphrase.tcss"

    BINDINGS = [
        Binding(
            "escape",
            "skip",
            "Don't keep tokens",
            id="dwtui.passphrase.skip",
            tooltip="Sign in without keeping tokens after dwtui ends",
        )
    ]

    def __init__(self, secrets: SecretStore) -> None:
        super().__init__()
        self.secrets = secrets
        self.new = not secrets.file_exists

    def compose(self) -> ComposeResult:
        title = "A passphrase for a new token store" if self.new else "The token store's passphrase"
        with Vertical(id="passphrase-dialog", classes="dialog"):
            yield Label(title, classes="dialog-title")
            with VerticalScroll(id="passphrase-body"):
                yield Static(inert(self._explanation(), multiline=True), id="passphrase-text", markup=False)
            yield Input(password=True, id="passphrase-input", placeholder="passphrase", compact=True)
            if self.new:
                yield Input(password=True, id="passphrase-again", placeholder="the same again", compact=True)
            yield Label(self.secrets.passphrase_error or "", id="passphrase-error", markup=False)
            with Horizontal(id="passphrase-buttons"):
                opening = "Create (Enter)" if self.new else "Open (Enter)"
                yield Button(opening, id="passphrase-open", variant="primary", compact=True)
                yield Button("Don't keep tokens (Esc)", id="passphrase-skip", compact=True)

    def _explanation(self) -> str:
        why = "; ".join(self.secrets.not_used) or "no other store"
        ask = (
            "Choose a passphrase of 8 characters or more; dwtui asks for it at each start."
            if self.new
            else "Type its passphrase."
        )
        return (
            f"dwtui keeps sign-in tokens in an encrypted file here ({why}):\n{self.secrets.file_path}\n\n"
            f"{ask} For automation, set {PASSPHRASE_VARIABLE} before starting dwtui. Without a "
            "passphrase, tokens are kept in memory until dwtui ends."
        )

    def on_mount(self) -> None:
        self.query_one("#passphrase-input", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.new and event.input.id == "passphrase-input":
            self.query_one("#passphrase-again", Input).focus()
            return
        self._open()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "passphrase-open":
            self._open()
        else:
            self.dismiss(False)

    def action_skip(self) -> None:
        self.dismiss(False)

    def _open(self) -> None:
        passphrase = self.query_one("#passphrase-input", Input).value
        if not passphrase:
            self._failed("Type the passphrase first.")
            return
        if self.new and passphrase != self.query_one("#passphrase-again", Input).value:
            self._failed("The two passphrases differ; type them again.")
            return
        self._busy(True)
        # scrypt takes a good part of a second by design: off the UI thread.
        self.run_worker(partial(self._unlock, passphrase), thread=True, exclusive=True, group="passphrase")

    def _unlock(self, passphrase: str) -> None:
        try:
            self.secrets.unlock(passphrase)
        except (ValueError, OSError) as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        self.app.call_from_thread(self.dismiss, True)

    def _busy(self, busy: bool) -> None:
        self.query_one("#passphrase-error", Label).update("Opening..." if busy else "")
        for button in self.query(Button):
            button.disabled = busy

    def _failed(self, message: str) -> None:
        self._busy(False)
        self.query_one("#passphrase-error", Label).update(inert(message))
        for field in self.query(Input):
            field.value = ""
        self.query_one("#passphrase-input", Input).focus()
