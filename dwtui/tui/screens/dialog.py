"""The frame every dialog shares: a title, a body that scrolls, and a foot that is always in view.

On a jump box's 80x24 a dialog's text is often taller than the terminal. Whatever the size, the foot
(the fields a dialog is answered with, its buttons, and a line naming the keys that press them) is
docked at the bottom of the frame and the body scrolls above it; the frame is never wider or taller
than the screen (dialog.tcss, loaded with the App's stylesheet so every screen has it).
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

ResultType = TypeVar("ResultType")


class Dialog(ModalScreen[ResultType]):
    """Subclasses say what goes in the body, the foot's controls and buttons; the frame is shared."""

    # Its own keys come from each dialog; Screen's tab/shift+tab stay in force through the MRO.
    BINDINGS: ClassVar[list[BindingType]] = []
    DIALOG_ID: ClassVar[str] = ""
    """The frame's id, for the dialog's own width (in its stylesheet)."""
    BUTTONS_ID: ClassVar[str] = ""
    KEYS_HINT: ClassVar[str] = "tab moves, enter presses"
    """Keys the bindings do not name, said after them on the keys line."""

    def dialog_title(self) -> str:
        return ""

    def compose_body(self) -> ComposeResult:
        """The dialog's text: a VerticalScroll with the class `dialog-body`, or a layout that scrolls."""
        yield from ()

    def compose_controls(self) -> ComposeResult:
        """What the dialog is answered with besides its buttons (a typed name): kept in view too."""
        yield from ()

    def compose_buttons(self) -> ComposeResult:
        yield from ()

    def compose(self) -> ComposeResult:
        with Vertical(id=self.DIALOG_ID or None, classes="dialog"):
            yield Label(self.dialog_title(), classes="dialog-title", markup=False)
            yield from self.compose_body()
            with Vertical(classes="dialog-foot"):
                yield from self.compose_controls()
                buttons = list(self.compose_buttons())
                if buttons:
                    with Horizontal(id=self.BUTTONS_ID or None, classes="dialog-buttons"):
                        yield from buttons
                yield Static(self.keys_text(), classes="dialog-keys", markup=False)

    def keys_text(self) -> str:
        """The dialog's own keys as its bindings declare them (keys of one action together), then
        KEYS_HINT: so the line cannot name a key that does nothing."""
        by_action: dict[str, list[Binding]] = {}
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.show and binding.description:
                by_action.setdefault(binding.action, []).append(binding)
        parts = [
            f"{'/'.join(self.app.get_key_display(b) for b in bindings)} {bindings[0].description.lower()}"
            for bindings in by_action.values()
        ]
        if self.KEYS_HINT:
            parts.append(self.KEYS_HINT)
        return "   ".join(parts)
