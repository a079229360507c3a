"""The One-box screen (key o): application user, flight on AXDB, AOS restart and verification.

It covers the main screen and is modal so the page's keys (d, l, R, r) cannot act behind it; Escape
goes back. The app installs one per environment, so the checklist and the forms keep what happened
in this session when the person comes back. Each step is a panel of its own (app_user, flight, aos,
verify) that confirms its change, runs it in a thread worker and reports with a StepMarked message;
this screen ticks the checklist and keeps what Verify needs to know. The services record every call
in the Activity log, which this screen shows too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static, TabbedContent, TabPane

from dwtui.domain.models import DataverseEnvironment, LcsEnvironment, PowerPlatformSnapshot
from dwtui.domain.onebox import DEPRECATION_NOTE, STEP_AOS, STEP_APP_USER, STEP_FLIGHT, STEP_ROLE, OneboxFacts
from dwtui.tui.flows.onebox.aos import AosPanel
from dwtui.tui.flows.onebox.app_user import AppUserForm
from dwtui.tui.flows.onebox.checklist import Checklist, Step, StepMarked, StepState
from dwtui.tui.flows.onebox.connection import ConnectionPanel
from dwtui.tui.flows.onebox.flight import FlightPanel
from dwtui.tui.flows.onebox.step import StepPanel, StepReady
from dwtui.tui.flows.onebox.verify import VerifyPanel
from dwtui.tui.styles import beside
from dwtui.tui.widgets.activity_pane import ActivityPane
from dwtui.tui.widgets.footer import SteadyFooter
from dwtui.tui.widgets.pane import Pane

if TYPE_CHECKING:
    from dwtui.services.session import Session

TABS: dict[Step, str] = {
    Step.APP_USER: "tab-app-user",
    Step.FLIGHT: "tab-flight",
    Step.AOS: "tab-aos",
    Step.VERIFY: "tab-verify",
}
STEP_NAMES: dict[Step, str] = {
    Step.APP_USER: "application user",
    Step.FLIGHT: "flight on AXDB",
    Step.AOS: "AOS restart",
    Step.VERIFY: "verify",
}
# 1 to 4 in the footer as one entry: "1234 Steps".
STEP_KEYS = Binding.Group("Steps", compact=True)
# The verdict's step names, as checklist steps.
MISSING_STEPS: dict[str, Step] = {
    STEP_APP_USER: Step.APP_USER,
    STEP_ROLE: Step.APP_USER,
    STEP_FLIGHT: Step.FLIGHT,
    STEP_AOS: Step.AOS,
}


def instance_url_of(snapshot: PowerPlatformSnapshot | None) -> str:
    dataverse = snapshot.dataverse if snapshot is not None else None
    return dataverse.instance_url if isinstance(dataverse, DataverseEnvironment) else ""


def open_onebox(
    app: App[int],
    session: Session,
    environment: LcsEnvironment,
    snapshot: PowerPlatformSnapshot | None,
    *,
    show_timings: bool = True,
) -> None:
    """Show the one-box screen of `environment`, the same one as before if it was opened already."""
    if isinstance(app.screen, OneboxScreen):
        return
    instance_url = instance_url_of(snapshot)
    name = f"onebox:{environment.environment_id}:{instance_url}"
    if not app.is_screen_installed(name):
        app.install_screen(OneboxScreen(session, environment, instance_url, show_timings=show_timings), name)
    app.push_screen(name)


class OneboxScreen(ModalScreen[None]):
    CSS_PATH = [
        "screen.tcss",
        *beside(Checklist, ConnectionPanel, FlightPanel, AosPanel, Pane, ActivityPane),
    ]
    # The focus goes where the step says (focus_step), not to the first widget that can have it.
    AUTO_FOCUS = ""
    BINDINGS = [
        Binding("escape", "back", "Back", id="dwtui.onebox.back", tooltip="Back to the main screen"),
        *(
            Binding(
                str(number),
                f"tab('{tab}')",
                f"Step {number}",
                id=f"dwtui.onebox.tab{number}",
                tooltip=f"Step {number}: {STEP_NAMES[step]}",
                group=STEP_KEYS,
            )
            for number, (step, tab) in enumerate(TABS.items(), start=1)
        ),
        # Shown while a text field has the focus (the step keys then leave the footer): how to leave it.
        Binding("tab", "next_field", "Next field", id="dwtui.onebox.next-field", tooltip="Leave the field"),
        Binding(
            "tab",
            "app.focus_next",
            "Next",
            show=False,
            id="dwtui.onebox.focus-next",
            tooltip="Focus the next widget",
        ),
        Binding(
            "enter",
            "primary",
            "Step's action",
            show=False,
            id="dwtui.onebox.primary",
            tooltip="The step's main button (when nothing has the focus)",
        ),
    ]

    def __init__(
        self, session: Session, environment: LcsEnvironment, instance_url: str, *, show_timings: bool = True
    ) -> None:
        super().__init__()
        self.session = session
        self.environment = environment
        self.instance_url = instance_url
        self.show_timings = show_timings
        self.flight_enabled: bool | None = None  # None: not run in this session
        self.restarted_after_flight: bool | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        session = self.session
        with Vertical(id="onebox-screen"):
            yield Label(
                f"One-box: {self.environment.name}  {self.environment.fo_url}  (Escape goes back)",
                id="onebox-title",
                markup=False,
            )
            yield Static(DEPRECATION_NOTE, id="onebox-deprecation", markup=False)
            yield Checklist(id="onebox-checklist")
            with TabbedContent(id="onebox-tabs"):
                with TabPane("1 Application user", id=TABS[Step.APP_USER]):
                    # The demo knows the simulated one-box's app registration; a real VM's is typed.
                    demo_app = session.demo.onebox_application_id if session.demo else ""
                    yield AppUserForm(
                        session, self.instance_url, application_id=demo_app, id="onebox-app-user"
                    )
                with TabPane("2 Flight SQL", id=TABS[Step.FLIGHT]):
                    yield FlightPanel(session, id="onebox-flight")
                with TabPane("3 AOS restart", id=TABS[Step.AOS]):
                    yield AosPanel(session, id="onebox-aos")
                with TabPane("4 Verify", id=TABS[Step.VERIFY]):
                    yield VerifyPanel(session, self.instance_url, id="onebox-verify")
            yield ActivityPane(
                id="onebox-activity", show_timings=self.show_timings, follow=self.session.activity
            )
            yield SteadyFooter()

    @property
    def app_user(self) -> AppUserForm:
        return self.query_one("#onebox-app-user", AppUserForm)

    @property
    def flight(self) -> FlightPanel:
        return self.query_one("#onebox-flight", FlightPanel)

    @property
    def aos(self) -> AosPanel:
        return self.query_one("#onebox-aos", AosPanel)

    @property
    def verify_panel(self) -> VerifyPanel:
        return self.query_one("#onebox-verify", VerifyPanel)

    @property
    def checklist(self) -> Checklist:
        return self.query_one("#onebox-checklist", Checklist)

    def on_mount(self) -> None:
        self.focus_step(Step.APP_USER)

    # -- keys ----------------------------------------------------------------------------------------

    def typing(self) -> bool:
        """A text field has the focus: what is typed goes into it."""
        return isinstance(self.focused, Input)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The step keys need nothing here: while a text field has the focus, Textual leaves the keys
        # it consumes (digits) to it and out of the footer.
        if action == "next_field":
            return self.typing()
        return True

    def step_panel(self, step: Step) -> StepPanel:
        panels: dict[Step, StepPanel] = {
            Step.APP_USER: self.app_user,
            Step.FLIGHT: self.flight,
            Step.AOS: self.aos,
            Step.VERIFY: self.verify_panel,
        }
        return panels[step]

    @property
    def current_step(self) -> Step:
        active = self.query_one("#onebox-tabs", TabbedContent).active
        return next((step for step, tab in TABS.items() if tab == active), Step.APP_USER)

    def focus_step(self, step: Step) -> None:
        """The step's first empty field, or its main button; nothing while it is not ready."""
        target = self.step_panel(step).focus_target()
        self.set_focus(target)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_tab(self, tab: str) -> None:
        # Focus left in the pane being hidden would pull its tab back to the front.
        self.set_focus(None)
        self.query_one("#onebox-tabs", TabbedContent).active = tab
        step = next(step for step, name in TABS.items() if name == tab)
        # Once the pane is shown: a hidden widget cannot take the focus.
        self.call_after_refresh(self.focus_step, step)

    def action_next_field(self) -> None:
        self.focus_next()

    def action_primary(self) -> None:
        """Enter with nothing focused: the current step's main button, when it can be pressed."""
        self.step_panel(self.current_step).press_primary()

    @on(StepReady)
    def _step_ready(self, message: StepReady) -> None:
        # A step whose button waited for Dataverse (the business units, the roles): now it can
        # have the focus, unless the person has put it somewhere meanwhile.
        if self.focused is None and message.step is self.current_step:
            self.focus_step(message.step)

    # -- between the steps ------------------------------------------------------------------------

    @on(Input.Changed, "#app-id")
    def _app_id_changed(self) -> None:
        self.verify_panel.set_application(self.app_user.application_id)

    @on(StepMarked)
    def _step_marked(self, message: StepMarked) -> None:
        step, state = message.step, message.state
        self.checklist.mark(step, state)
        if step is Step.FLIGHT and state is StepState.DONE:
            self.flight_enabled = True
            # A restart before this run did not load the flight: the AOS must be restarted again.
            self.restarted_after_flight = False
            if self.checklist.done(Step.AOS):
                self.checklist.mark(Step.AOS, StepState.TODO)
        elif step is Step.AOS and state is StepState.DONE and self.flight_enabled:
            self.restarted_after_flight = True

    @on(VerifyPanel.VerifyRequested)
    def _verify(self, message: VerifyPanel.VerifyRequested) -> None:
        facts = OneboxFacts(
            flight_enabled=self.flight_enabled, aos_restarted_after_flight=self.restarted_after_flight
        )
        self.verify_panel.verify(message.secret, facts)

    @on(VerifyPanel.Verified)
    def _verified(self, message: VerifyPanel.Verified) -> None:
        verdict = message.result.verdict
        if verdict.ok:
            self.checklist.mark(Step.APP_USER, StepState.DONE)  # Dataverse accepts the app
        missing = MISSING_STEPS.get(verdict.missing_step)
        if missing is not None:
            self.checklist.mark(missing, StepState.MISSING)
        self.checklist.mark(Step.VERIFY, StepState.DONE if verdict.set_up else StepState.FAILED)
