"""Sending text to the person's clipboard, and saying only what dwtui knows about it.

Textual copies with OSC 52: an escape sequence the terminal may obey, ignore or ask about, and never
answers. So dwtui cannot know whether anything arrived, and never says "copied": it says the text was
sent, how to let OSC 52 through where something in between is known to stop it (tmux without
`set-clipboard on`; GNU screen, which has no setting for it), and shows the text in a dialog where it
can be selected and copied by hand.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from dwtui.domain.text import inert
from dwtui.tui.safe_text import copy_url

SENT = "Sent to your clipboard with OSC 52. Your terminal does not say whether it arrived."
TMUX = (
    "dwtui runs inside tmux, which passes OSC 52 on to your terminal only with `set -g set-clipboard on` "
    "in ~/.tmux.conf (then `tmux source-file ~/.tmux.conf`); your terminal must allow it too."
)
SCREEN = (
    "dwtui runs inside GNU screen, which does not pass OSC 52 on to your terminal and has no setting "
    "for it: select the text below instead, or run dwtui outside screen (or in tmux)."
)
TERMINAL = "Most terminals allow OSC 52, also over SSH; some ask first or need it enabled in their settings."
SELECT = (
    "If it did not arrive, select the text below (in most terminals Shift+drag selects past dwtui; "
    "in tmux, its copy mode)."
)


def clipboard_note(environ: Mapping[str, str]) -> str:
    """What is known about the way from dwtui to the clipboard, for this terminal."""
    if environ.get("TMUX"):
        return TMUX
    if environ.get("STY"):
        return SCREEN
    return TERMINAL


class ClipboardScreen(ModalScreen[None]):
    """What was sent, what is known about it, and the text itself to select."""

    CSS_PATH = "clipboard.tcss"
    BINDINGS = [Binding("escape", "close", "Close", id="dwtui.clipboard.close", tooltip="Close")]

    def __init__(self, what: str, text: str, note: str) -> None:
        super().__init__()
        self.what = what
        self.text = text
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="clipboard-dialog", classes="dialog"):
            yield Label(inert(self.what), classes="dialog-title", markup=False)
            yield Static(SENT, id="clipboard-sent", markup=False)
            yield Static(self.note, id="clipboard-note", classes="hint", markup=False)
            yield Static(SELECT, id="clipboard-select", classes="hint", markup=False)
            # Read-only and whole: the text as sent, to select by hand.
            yield TextArea(
                inert(self.text, multiline=True),
                read_only=True,
                soft_wrap=True,
                show_line_numbers=False,
                compact=True,
                id="clipboard-text",
            )
            with Horizontal(id="clipboard-buttons"):
                yield Button("Close (Esc)", id="clipboard-close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#clipboard-close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


def send_text(app: App[Any], what: str, text: str, *, environ: Mapping[str, str] | None = None) -> None:
    """Send `text` with OSC 52 and show what is known, and the text to select."""
    app.copy_to_clipboard(text)
    app.push_screen(ClipboardScreen(what, text, clipboard_note(os.environ if environ is None else environ)))


def send_link(app: App[Any], what: str, url: str, *, environ: Mapping[str, str] | None = None) -> None:
    """The same for a URL, sent only when it could also be a hyperlink (copy_url says why not)."""
    if copy_url(app, url):
        app.push_screen(
            ClipboardScreen(what, url, clipboard_note(os.environ if environ is None else environ))
        )
