"""The AOS restart: what will run, a Restart button, each step as it finishes, and the outcome."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Label, Static

from dwtui.domain.aos import AOS_SERVICES, AOS_WEBSITE, RestartResult, StepResult, restart_script
from dwtui.domain.models import Fault
from dwtui.tui.widgets.pane import FaultBox

SIMULATED_NOTE = (
    "Simulated: this is the demo or not a Windows one-box, so a simulated service controller takes "
    "the same steps and nothing is restarted."
)
ELEVATION_NOTE = (
    "Needs an elevated shell (Run as administrator); dwtui checks that first and says how to get one."
)


def step_line(step: StepResult) -> str:
    mark = "ok  " if step.ok else "FAIL"
    output = " ".join(step.output.split())
    return f"{mark} {step.name} ({step.duration_s:.1f} s){': ' + output if output else ''}"


class AosPanel(Vertical):
    class RestartRequested(Message):
        """Restart the AOS (the screen confirms first)."""

    def __init__(self, *, simulated: bool, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="onebox-panel")
        self.simulated = simulated
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

    @on(Button.Pressed, "#aos-restart")
    def _restart(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.RestartRequested())

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
        result_label.update(f"{'Done' if result.ok else 'Failed'}: {result.message}{status}")
        result_label.set_classes("onebox-result " + ("valid" if result.ok else "invalid"))

    def show_fault(self, fault: Fault) -> None:
        self.query_one("#aos-restart", Button).disabled = False
        self.query_one("#aos-status", Static).update("")
        self.query_one("#aos-fault", FaultBox).show([fault])
