"""Reset dual-write connection: what it wipes, from which Dataverse to which, and a typed confirmation.

A reset cannot be undone (maps, keys and history are gone), so Enter or y is not enough: the
person types the environment's name. While table maps run the reset needs Force Reset, so the
button stays off until Force is ticked.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static

from dwtui.domain.linking import RESET_FORCE_NOTE, ResetPlan
from dwtui.domain.text import inert
from dwtui.tui.screens.dialog import Dialog


@dataclass(frozen=True, slots=True)
class ResetDecision:
    force: bool


def plan_text(environment_name: str, plan: ResetPlan) -> str:
    current = f"{plan.current_dataverse_name or '?'}  {plan.current_dataverse_url or ''}".strip()
    target = f"{plan.target_dataverse_name or '?'}  {plan.target_dataverse_url or ''}".strip()
    lines = [
        f"Environment:        {environment_name}",
        f"Scenario:           {plan.scenario.value}",
        f"Current Dataverse:  {current}",
        f"After the reset:    {target}",
        "",
        "A reset will:",
        *(f"  - {item}" for item in plan.wipes),
        "",
        plan.afterwards,
    ]
    return inert("\n".join(lines), multiline=True)


class ResetScreen(Dialog[ResetDecision | None]):
    """Dismissed with a ResetDecision only after the environment's name was typed; else None."""

    CSS_PATH = "dialog.tcss"
    DIALOG_ID = "reset-dialog"
    BUTTONS_ID = "reset-buttons"
    KEYS_HINT = "type the name, then enter resets"

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dwtui.reset.cancel", tooltip="Reset nothing"),
    ]

    def __init__(self, environment_name: str, plan: ResetPlan, running_maps: tuple[str, ...]) -> None:
        super().__init__()
        # The name the person types to confirm, as the dialog shows it (a service's name, inert).
        self.environment_name = inert(environment_name)
        self.plan = plan
        self.running_maps = running_maps

    def dialog_title(self) -> str:
        return "Reset dual-write connection"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="reset-body", classes="dialog-body"):
            yield Static(plan_text(self.environment_name, self.plan), id="reset-plan", markup=False)
            if self.running_maps:
                yield Static(
                    inert(f"{RESET_FORCE_NOTE}\nRunning now: {', '.join(self.running_maps)}", multiline=True),
                    id="reset-maps",
                    markup=False,
                )

    def compose_controls(self) -> ComposeResult:
        # In the foot, so the name field is in view however long the plan.
        yield Checkbox("Force reset (the running maps are stopped)", id="reset-force", compact=True)
        ask = f"Type the environment name ({self.environment_name}) to confirm:"
        yield Label(ask, classes="hint", markup=False)
        # An instruction, not the name: a placeholder that reads like a value is taken for one.
        yield Input(placeholder="type the environment name here", id="reset-name", compact=True)
        yield Label("", id="reset-refusal", markup=False)

    def compose_buttons(self) -> ComposeResult:
        yield Button("Reset", id="reset-yes", variant="error", compact=True, disabled=True)
        yield Button("Cancel (Esc)", id="reset-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#reset-force", Checkbox).display = bool(self.running_maps)
        self.query_one("#reset-name", Input).focus()

    @property
    def _force(self) -> bool:
        return self.query_one("#reset-force", Checkbox).value

    def refusal(self) -> str:
        """Why the reset cannot go ahead yet, or "" when it can."""
        typed = self.query_one("#reset-name", Input).value.strip()
        if typed != self.environment_name:
            return "The name does not match." if typed else ""
        if self.running_maps and not self._force:
            return "Table maps are running: tick Force reset, or stop the maps first."
        return ""

    def _update(self) -> None:
        typed = self.query_one("#reset-name", Input).value.strip()
        refusal = self.refusal()
        self.query_one("#reset-refusal", Label).update(refusal)
        self.query_one("#reset-yes", Button).disabled = bool(refusal) or typed != self.environment_name

    @on(Input.Changed, "#reset-name")
    @on(Checkbox.Changed, "#reset-force")
    def _changed(self) -> None:
        self._update()

    @on(Input.Submitted, "#reset-name")
    def _submitted(self) -> None:
        self._confirm()

    def _confirm(self) -> None:
        typed = self.query_one("#reset-name", Input).value.strip()
        if not typed:
            self.query_one("#reset-refusal", Label).update(
                f"Type the environment name ({self.environment_name}) first."
            )
            return
        refusal = self.refusal() or ("" if typed == self.environment_name else "The name does not match.")
        if refusal:
            self.query_one("#reset-refusal", Label).update(refusal)
            return
        self.dismiss(ResetDecision(force=self._force))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "reset-yes":
            self._confirm()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
