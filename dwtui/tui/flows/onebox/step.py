"""What each step panel offers the one-box screen: where the focus goes when the step opens, and
its main button (what Enter does).

A step opens on its first empty field, or else on its main button, so the first key a person presses
either types what is missing or does the step; a field already filled in is not a place for a digit
meant as a step key to land.
"""

from __future__ import annotations

from typing import Protocol

from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Select

from dwtui.tui.flows.onebox.checklist import Step


class StepPanel(Protocol):
    def focus_target(self) -> Widget | None:
        """The first empty field, else the main button when it can be pressed, else None."""

    def press_primary(self) -> None:
        """The step's main button, pressed, when it can be."""


class StepReady(Message):
    """The step's main button can be pressed now (it waited for Dataverse); the screen may focus it."""

    def __init__(self, step: Step) -> None:
        super().__init__()
        self.step = step


def usable(widget: Widget) -> bool:
    """Shown (with every container above it) and enabled: it can have the focus."""
    shown = all(node.display for node in widget.ancestors_with_self if isinstance(node, Widget))
    return shown and not widget.disabled


def first_empty(*fields: Input | Select[str]) -> Input | Select[str] | None:
    """The first usable field with nothing in it (the caller passes a Select only once it has options)."""
    for field in fields:
        empty = field.is_blank() if isinstance(field, Select) else not field.value.strip()
        if empty and usable(field):
            return field
    return None


def pressable(button: Button) -> Button | None:
    return button if usable(button) else None


def press(button: Button) -> None:
    if usable(button):
        button.press()
