"""Step 3, the AOS restart: what will run, a Restart button, each step as it finishes, the outcome.

The restart asks first, then runs in a thread worker through a service controller (the real one on
a Windows one-box, a simulated one in the demo and elsewhere), one message per step.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Label, Static
from textual.worker import Worker, WorkerState

from dwtui.domain.aos import AOS_SERVICES, AOS_WEBSITE, RestartResult, StepResult, restart_script
from dwtui.domain.models import Fault
from dwtui.domain.text import inert
from dwtui.services.aos import ServiceController, SimulatedServiceController, default_controller
from dwtui.services.onebox import restart
from dwtui.tui.flows.onebox.checklist import Step, StepMarked, StepState
from dwtui.tui.flows.onebox.step import press, pressable
from dwtui.tui.formatting import fault_of
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from dwtui.tui.widgets.pane import FaultBox
from dwtui.tui.workers import service_worker

if TYPE_CHECKING:
    from dwtui.services.session import Session

SIMULATED_NOTE = (
    "Simulated: this is the demo or not a Windows one-box, so a simulated service controller takes "
    "the same steps and nothing is restarted."
)
ELEVATION_NOTE = (
    "Needs an elevated shell (Run as administrator); dwtui checks that first and says how to get one."
)


def simulated_restart(session: Session) -> bool:
    """The demo, and anything but Windows, restarts through the simulated service controller."""
    return session.demo is not None or sys.platform != "win32"


def aos_controller(session: Session) -> ServiceController:
    if session.demo is not None:
        return SimulatedServiceController(speed=session.demo.speed)
    return default_controller()


class AosStepDone(Message):
    """One step of the AOS restart finished (posted while the restart goes on)."""

    def __init__(self, step: StepResult) -> None:
        super().__init__()
        self.step = step


class AosRestarted(Message):
    def __init__(self, result: RestartResult) -> None:
        super().__init__()
        self.result = result


def step_line(step: StepResult) -> str:
    mark = "ok  " if step.ok else "FAIL"
    output = " ".join(step.output.split())
    return f"{mark} {step.name} ({step.duration_s:.1f} s){': ' + output if output else ''}"


class AosPanel(Vertical):
    def __init__(self, session: Session, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="onebox-panel")
        self.session = session
        self.simulated = simulated_restart(session)
        self.lines: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(
            f"Stops and starts {' and '.join(AOS_SERVICES)}, then starts the {AOS_WEBSITE} web site "
            "(as Restart-D365Environment -Aos does). In PowerShell:",
            classes="hint",
            markup=False,
        )
        yield Static(restart_script(), id="aos-script", classes="onebox-code", markup=False)
        yield Static(SIMULATED_NOTE if self.simulated else ELEVATION_NOTE, id="aos-note", markup=False)
        with Horizontal(classes="onebox-buttons"):
            yield Button("Restart the AOS...", id="aos-restart", variant="warning", compact=True)
        yield Static("", id="aos-status", classes="onebox-status", markup=False)
        yield Label("Steps", classes="onebox-heading")
        with VerticalScroll(id="aos-steps-scroll"):
            yield Static("Not restarted in this session.", id="aos-steps", markup=False)
        yield Static("", id="aos-result", classes="onebox-result", markup=False)
        yield FaultBox(id="aos-fault")

    def on_mount(self) -> None:
        self.query_one("#aos-fault", FaultBox).display = False

    def focus_target(self) -> Widget | None:
        return pressable(self.query_one("#aos-restart", Button))

    def press_primary(self) -> None:
        press(self.query_one("#aos-restart", Button))

    @on(Button.Pressed, "#aos-restart")
    def _restart(self, event: Button.Pressed) -> None:
        event.stop()

        def answered(yes: bool | None) -> None:
            if yes:
                self.begin()
                self.post_message(StepMarked(Step.AOS, StepState.RUNNING))
                self._run_restart()

        note = SIMULATED_NOTE if self.simulated else "This stops the AOS: users are disconnected."
        self.app.push_screen(
            ConfirmChangeScreen("Restart the AOS?", f"{restart_script()}\n\n{note}", yes="Restart"),
            callback=answered,
        )

    def begin(self) -> None:
        self.lines = []
        self.query_one("#aos-restart", Button).disabled = True
        self.query_one("#aos-fault", FaultBox).display = False
        self.query_one("#aos-result", Static).update("")
        self.query_one("#aos-steps", Static).update("Checking for an elevated shell...")
        self.query_one("#aos-status", Static).update("Restarting the AOS; each step shows when it finishes.")

    def add_step(self, step: StepResult) -> None:
        self.lines.append(step_line(step))
        self.query_one("#aos-steps", Static).update("\n".join(self.lines))

    def show_result(self, result: RestartResult) -> None:
        self.query_one("#aos-restart", Button).disabled = False
        self.query_one("#aos-status", Static).update("")
        if not self.lines:
            self.query_one("#aos-steps", Static).update("\n".join(step_line(s) for s in result.steps))
        down = [f"{name}={status}" for name, status in result.statuses.items()]
        status = f"\nServices: {', '.join(down)}" if down else ""
        result_label = self.query_one("#aos-result", Static)
        shown = f"{'Done' if result.ok else 'Failed'}: {result.message}{status}"
        result_label.update(inert(shown, multiline=True))
        result_label.set_classes("onebox-result " + ("valid" if result.ok else "invalid"))

    def show_fault(self, fault: Fault) -> None:
        self.query_one("#aos-restart", Button).disabled = False
        self.query_one("#aos-status", Static).update("")
        self.query_one("#aos-fault", FaultBox).show([fault])

    # -- the service controller (thread worker) ------------------------------------------------------

    @service_worker("onebox-aos", "Restarting the AOS")
    def _run_restart(self) -> None:
        def step_done(step: StepResult) -> None:
            self.post_message(AosStepDone(step))

        result = restart(self.session, controller=aos_controller(self.session), on_step=step_done)
        self.post_message(AosRestarted(result))

    @on(AosStepDone)
    def _step_done(self, message: AosStepDone) -> None:
        self.add_step(message.step)

    @on(AosRestarted)
    def _restarted(self, message: AosRestarted) -> None:
        self.show_result(message.result)
        self.post_message(StepMarked(Step.AOS, StepState.DONE if message.result.ok else StepState.FAILED))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.name == "onebox-aos":
            self.show_fault(fault_of(event.worker.error))
            self.post_message(StepMarked(Step.AOS, StepState.FAILED))
