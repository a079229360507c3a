"""Add Dataverse: the base language, the currency and the template, each checked as it is typed."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from dwtui.domain.templates import DEFAULT_TEMPLATE, TEMPLATES
from dwtui.domain.text import inert
from dwtui.tui.screens.dialog import Dialog


@dataclass(frozen=True, slots=True)
class DataverseChoice:
    language: int
    currency: str
    template: str


def check_language(value: str) -> str:
    """Why `value` is not a language id (an LCID such as 1033), or ""."""
    text = value.strip()
    if not text.isdigit():
        return "a language id is a number, such as 1033 for English (United States)"
    if not 1 <= int(text) <= 0xFFFF:
        return "a language id is between 1 and 65535"
    return ""


def check_currency(value: str) -> str:
    """Why `value` is not an ISO 4217 currency code, or ""."""
    text = value.strip()
    if len(text) != 3 or not text.isalpha() or not text.isascii():
        return "a currency is a three-letter ISO 4217 code, such as USD or EUR"
    return ""


class AddDataverseScreen(Dialog[DataverseChoice | None]):
    """Dismissed with the choice, or None for Cancel and Escape."""

    CSS_PATH = "dialog.tcss"
    DIALOG_ID = "dataverse-dialog"
    BUTTONS_ID = "dataverse-buttons"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dwtui.dataverse.cancel", tooltip="Add nothing")]

    def __init__(self, environment_name: str, power_platform: str, note: str) -> None:
        super().__init__()
        self.environment_name = environment_name
        self.power_platform = power_platform
        self.note = note

    def dialog_title(self) -> str:
        return f"Add Dataverse for {inert(self.environment_name)}"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="dataverse-body", classes="dialog-body"):
            yield Static(
                f"Power Platform environment: {inert(self.power_platform)} (it has no Dataverse yet).",
                id="dataverse-target",
                markup=False,
            )
            with Grid(id="dataverse-form"):
                yield Label("Template", classes="field-label")
                yield Select[str](
                    [(f"{key}  ({name})", key) for key, name in TEMPLATES.items()],
                    value=DEFAULT_TEMPLATE,
                    allow_blank=False,
                    id="dataverse-template",
                    compact=True,
                )
                yield Label("Language (LCID)", classes="field-label")
                yield Input("1033", id="dataverse-language", compact=True, max_length=5)
                yield Label("Currency", classes="field-label")
                yield Input("USD", id="dataverse-currency", compact=True, max_length=3)
            yield Static("", id="dataverse-check", markup=False)
            yield Static(self.note, id="dataverse-note", classes="hint", markup=False)

    def compose_buttons(self) -> ComposeResult:
        yield Button("Add Dataverse...", id="dataverse-yes", variant="warning", compact=True)
        yield Button("Cancel (Esc)", id="dataverse-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#dataverse-yes", Button).focus()

    def _problem(self) -> str:
        language = check_language(self.query_one("#dataverse-language", Input).value)
        currency = check_currency(self.query_one("#dataverse-currency", Input).value)
        return "; ".join(part for part in (language, currency) if part)

    @on(Input.Changed)
    def _changed(self) -> None:
        problem = self._problem()
        self.query_one("#dataverse-check", Static).update(
            problem[:1].upper() + problem[1:] + "." if problem else ""
        )
        self.query_one("#dataverse-yes", Button).disabled = bool(problem)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id != "dataverse-yes":
            self.dismiss(None)
            return
        if self._problem():
            return
        template = self.query_one("#dataverse-template", Select).value
        self.dismiss(
            DataverseChoice(
                int(self.query_one("#dataverse-language", Input).value.strip()),
                self.query_one("#dataverse-currency", Input).value.strip().upper(),
                template if isinstance(template, str) else DEFAULT_TEMPLATE,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
