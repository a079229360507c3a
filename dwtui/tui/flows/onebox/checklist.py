"""The one-box checklist: the four documented steps, ticked as they succeed in this session.

Each step's panel says how its step went with a StepMarked message; the screen ticks the checklist.
"One-box set up" shows only while all four are ticked: a verification that passes while dwtui has not
seen the flight or the restart in this session ticks Verify, not the whole one-box.
"""

from __future__ import annotations

from enum import StrEnum

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Label


class Step(StrEnum):
    APP_USER = "app-user"
    FLIGHT = "flight"
    AOS = "aos"
    VERIFY = "verify"


class StepState(StrEnum):
    TODO = "todo"
    RUNNING = "running"
    DONE = "done"
    MISSING = "missing"  # verify named it as the step that is missing
    FAILED = "failed"


# Short, so the four steps and the badge fit one line of 80 columns (the tabs below say them in full).
TITLES: dict[Step, str] = {
    Step.APP_USER: "1 App user",
    Step.FLIGHT: "2 Flight",
    Step.AOS: "3 AOS restart",
    Step.VERIFY: "4 Verify",
}
# ASCII marks: they render the same in every terminal and font.
MARKS: dict[StepState, str] = {
    StepState.TODO: "[ ]",
    StepState.RUNNING: "[~]",
    StepState.DONE: "[x]",
    StepState.MISSING: "[!]",
    StepState.FAILED: "[-]",
}


class StepMarked(Message):
    """A panel's step is running, done, failed (or missing, as Verify found)."""

    def __init__(self, step: Step, state: StepState) -> None:
        super().__init__()
        self.step = step
        self.state = state


class Checklist(Horizontal):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.states: dict[Step, StepState] = dict.fromkeys(Step, StepState.TODO)

    def compose(self) -> ComposeResult:
        yield Label("Steps:", classes="checklist-heading")
        for step in Step:
            # markup=False: the marks are literal brackets, not Rich tags.
            yield Label(
                self._text(step), id=f"check-{step.value}", classes="checklist-step todo", markup=False
            )
        yield Label("One-box set up", id="onebox-set-up")

    def on_mount(self) -> None:
        self.query_one("#onebox-set-up", Label).display = False

    def _text(self, step: Step) -> str:
        return f"{MARKS[self.states[step]]} {TITLES[step]}"

    def mark(self, step: Step, state: StepState) -> None:
        self.states[step] = state
        label = self.query_one(f"#check-{step.value}", Label)
        label.update(self._text(step))
        label.set_classes(f"checklist-step {state.value}")
        self.query_one("#onebox-set-up", Label).display = self.set_up

    def done(self, step: Step) -> bool:
        return self.states[step] is StepState.DONE

    @property
    def set_up(self) -> bool:
        """Every step ticked."""
        return all(state is StepState.DONE for state in self.states.values())
