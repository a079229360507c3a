"""The One-box screen (key o): application user, flight on AXDB, AOS restart and verification.

It covers the main screen and is modal so the main screen's keys (d, l, R, r) cannot act behind
it; Escape goes back. The app installs one per environment, so the checklist and the forms keep
what happened in this session when the person comes back. Every change is confirmed first and
runs in a thread worker (onebox_workers); the services record it in the Activity log, which this
screen shows too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, Label, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from dwtui.domain.aos import restart_script
from dwtui.domain.appuser import AppUserResult
from dwtui.domain.models import DataverseEnvironment, LcsEnvironment, PowerPlatformSnapshot
from dwtui.domain.onebox import DEPRECATION_NOTE, STEP_AOS, STEP_APP_USER, STEP_FLIGHT, STEP_ROLE, OneboxFacts
from dwtui.tui.formatting import fault_of
from dwtui.tui.screens.onebox_confirm import ConfirmChangeScreen
from dwtui.tui.screens.onebox_messages import (
    AosRestarted,
    AosStepDone,
    AppUserApplied,
    AppUserPlanned,
    BusinessUnitsLoaded,
    DriversListed,
    FlightRan,
    OneboxActivity,
    RolesLoaded,
    ScriptSaved,
    Verified,
)
from dwtui.tui.screens.onebox_workers import OneboxWorkers, simulated_restart
from dwtui.tui.widgets.activity_pane import ActivityPane
from dwtui.tui.widgets.onebox_aos import SIMULATED_NOTE, AosPanel
from dwtui.tui.widgets.onebox_app_user import AppUserForm
from dwtui.tui.widgets.onebox_checklist import Checklist, Step, StepState
from dwtui.tui.widgets.onebox_flight import FlightPanel
from dwtui.tui.widgets.onebox_verify import VerifyPanel

if TYPE_CHECKING:
    from dwtui.services.activity import ActivityEntry
    from dwtui.services.session import Session

TABS: dict[Step, str] = {
    Step.APP_USER: "tab-app-user",
    Step.FLIGHT: "tab-flight",
    Step.AOS: "tab-aos",
    Step.VERIFY: "tab-verify",
}
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


class OneboxScreen(OneboxWorkers):
    BINDINGS = [
        Binding("escape", "back", "Back", id="dwtui.onebox.back", tooltip="Back to the main screen"),
        *(
            Binding(
                str(number),
                f"tab('{tab}')",
                show=False,
                id=f"dwtui.onebox.tab{number}",
                tooltip=f"Step {number}",
            )
            for number, tab in enumerate(TABS.values(), start=1)
        ),
    ]

    def __init__(
        self, session: Session, environment: LcsEnvironment, instance_url: str, *, show_timings: bool = True
    ) -> None:
        super().__init__(session, instance_url)
        self.environment = environment
        self.show_timings = show_timings
        self.flight_enabled: bool | None = None  # None: not run in this session
        self.restarted_after_flight: bool | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
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
                    demo_app = self.session.demo.onebox_application_id if self.session.demo else ""
                    yield AppUserForm(self.instance_url, application_id=demo_app, id="onebox-app-user")
                with TabPane("2 Flight SQL", id=TABS[Step.FLIGHT]):
                    yield FlightPanel(id="onebox-flight")
                with TabPane("3 AOS restart", id=TABS[Step.AOS]):
                    yield AosPanel(simulated=simulated_restart(self.session), id="onebox-aos")
                with TabPane("4 Verify", id=TABS[Step.VERIFY]):
                    yield VerifyPanel(self.instance_url, id="onebox-verify")
            yield ActivityPane(id="onebox-activity", show_timings=self.show_timings)
            yield Footer()

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
        self._unsubscribe = self.session.activity.subscribe(self._forward_activity)
        if self.instance_url:
            self.load_units()
        self.list_drivers()
        if self.session.demo is not None and self.session.demo.axdb_connection_string:
            self.flight.connection.use_raw(self.session.demo.axdb_connection_string)
        self.query_one("#app-id", Input).focus()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _forward_activity(self, entry: ActivityEntry) -> None:
        self.post_message(OneboxActivity(entry))  # any thread; post_message is thread-safe

    @on(OneboxActivity)
    def _activity(self, message: OneboxActivity) -> None:
        self.query_one("#onebox-activity", ActivityPane).add(message.entry)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_tab(self, tab: str) -> None:
        # Focus left in the pane being hidden would pull its tab back to the front.
        self.set_focus(None)
        self.query_one("#onebox-tabs", TabbedContent).active = tab

    def _confirm(self, title: str, body: str, then: Callable[[bool], None], *, yes: str = "Yes") -> None:
        def answered(answer: bool | None) -> None:
            then(bool(answer))

        self.app.push_screen(ConfirmChangeScreen(title, body, yes=yes), callback=answered)

    # -- application user -----------------------------------------------------------------------

    @on(BusinessUnitsLoaded)
    def _units(self, message: BusinessUnitsLoaded) -> None:
        self.app_user.show_units(message.units)

    @on(AppUserForm.UnitChosen)
    def _unit_chosen(self, message: AppUserForm.UnitChosen) -> None:
        self.load_roles(message.unit.business_unit_id)

    @on(RolesLoaded)
    def _roles(self, message: RolesLoaded) -> None:
        self.app_user.show_roles(message.business_unit_id, message.roles)

    @on(Input.Changed, "#app-id")
    def _app_id_changed(self) -> None:
        self.verify_panel.set_application(self.app_user.application_id)

    @on(AppUserForm.CreateRequested)
    def _create(self, message: AppUserForm.CreateRequested) -> None:
        self.app_user.clear_fault()
        self.app_user.set_busy(True, "Looking up the application user...")
        self.checklist.mark(Step.APP_USER, StepState.RUNNING)
        self.plan_app_user(message.application_id, message.unit.business_unit_id, message.role.name)

    @on(AppUserPlanned)
    def _planned(self, message: AppUserPlanned) -> None:
        plan = message.plan
        self.app_user.show_existing(plan.existing)
        if plan.nothing_to_do and plan.existing is not None:
            self.app_user.show_result(
                AppUserResult(plan.existing, plan.business_unit, plan.role, False, False)
            )
            self.checklist.mark(Step.APP_USER, StepState.DONE)
            return

        def answered(yes: bool) -> None:
            if yes:
                self.app_user.set_busy(True, "Creating in Dataverse...")
                self.apply_app_user(plan)
            else:
                self.app_user.set_busy(False, "Nothing was changed.")
                self.checklist.mark(Step.APP_USER, StepState.TODO)

        body = (
            f"{plan.describe()}\n\nDataverse: {self.instance_url}\n"
            f"Application (client) ID: {plan.application_id}"
        )
        self._confirm("Create the application user?", body, answered, yes="Create")

    @on(AppUserApplied)
    def _applied(self, message: AppUserApplied) -> None:
        self.app_user.show_result(message.result)
        self.checklist.mark(Step.APP_USER, StepState.DONE)

    # -- flight ---------------------------------------------------------------------------------------

    @on(DriversListed)
    def _drivers(self, message: DriversListed) -> None:
        self.flight.connection.show_drivers(message.drivers, message.stored_password)

    @on(FlightPanel.RunRequested)
    def _run_flight(self, message: FlightPanel.RunRequested) -> None:
        def answered(yes: bool) -> None:
            if yes:
                self.flight.set_busy(True, "Running in one transaction...")
                self.checklist.mark(Step.FLIGHT, StepState.RUNNING)
                self.run_flight(message.choice, message.plan)
            else:
                self.flight.set_status("Nothing was run.")

        body = f"Connection: {message.target}\n\n{message.plan.describe()}"
        self._confirm("Run these statements on AXDB?", body, answered, yes="Run")

    @on(FlightRan)
    def _flight_ran(self, message: FlightRan) -> None:
        result = message.result
        self.flight.show_result(result)
        self.checklist.mark(Step.FLIGHT, StepState.DONE if result.committed else StepState.FAILED)
        if result.committed:
            self.flight_enabled = True
            # A restart before this run did not load the flight: the AOS must be restarted again.
            self.restarted_after_flight = False
            if self.checklist.done(Step.AOS):
                self.checklist.mark(Step.AOS, StepState.TODO)

    @on(FlightPanel.SaveRequested)
    def _save(self, message: FlightPanel.SaveRequested) -> None:
        self.save_script(message.path, message.script)

    @on(ScriptSaved)
    def _saved(self, message: ScriptSaved) -> None:
        self.flight.set_status(f"Saved the documented script to {message.path}.")

    # -- AOS ------------------------------------------------------------------------------------------

    @on(AosPanel.RestartRequested)
    def _restart(self) -> None:
        def answered(yes: bool) -> None:
            if yes:
                self.aos.begin()
                self.checklist.mark(Step.AOS, StepState.RUNNING)
                self.restart_aos()

        note = (
            SIMULATED_NOTE
            if simulated_restart(self.session)
            else "This stops the AOS: users are disconnected."
        )
        self._confirm("Restart the AOS?", f"{restart_script()}\n\n{note}", answered, yes="Restart")

    @on(AosStepDone)
    def _aos_step(self, message: AosStepDone) -> None:
        self.aos.add_step(message.step)

    @on(AosRestarted)
    def _aos_done(self, message: AosRestarted) -> None:
        result = message.result
        self.aos.show_result(result)
        self.checklist.mark(Step.AOS, StepState.DONE if result.ok else StepState.FAILED)
        if result.ok and self.flight_enabled:
            self.restarted_after_flight = True

    # -- verify ---------------------------------------------------------------------------------------

    @on(VerifyPanel.VerifyRequested)
    def _verify(self, message: VerifyPanel.VerifyRequested) -> None:
        self.verify_panel.begin()
        self.checklist.mark(Step.VERIFY, StepState.RUNNING)
        facts = OneboxFacts(
            flight_enabled=self.flight_enabled, aos_restarted_after_flight=self.restarted_after_flight
        )
        self.verify(self.verify_panel.application_id, message.secret, facts)

    @on(Verified)
    def _verified(self, message: Verified) -> None:
        verdict = message.result.verdict
        self.verify_panel.show_result(message.result)
        if verdict.ok:
            self.checklist.mark(Step.APP_USER, StepState.DONE)  # Dataverse accepts the app
        missing = MISSING_STEPS.get(verdict.missing_step)
        if missing is not None:
            self.checklist.mark(missing, StepState.MISSING)
        self.checklist.mark(Step.VERIFY, StepState.DONE if verdict.set_up else StepState.FAILED)
        self.checklist.show_set_up(verdict.set_up)

    # -- failures -------------------------------------------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR:
            return
        fault = fault_of(worker.error)
        name = worker.name
        if name in ("onebox-units", "onebox-roles"):
            self.app_user.show_fault(fault, "Could not read the business units and roles:")
        elif name == "onebox-app-user":
            self.app_user.show_fault(fault)
            self.checklist.mark(Step.APP_USER, StepState.FAILED)
        elif name == "onebox-drivers":
            self.flight.connection.show_drivers_missing(fault.message)
            self.flight.show_fault(fault)
        elif name == "onebox-flight":
            self.flight.show_fault(fault)
            self.checklist.mark(Step.FLIGHT, StepState.FAILED)
        elif name == "onebox-save":
            self.flight.show_fault(fault)
        elif name == "onebox-aos":
            self.aos.show_fault(fault)
            self.checklist.mark(Step.AOS, StepState.FAILED)
        elif name == "onebox-verify":
            self.verify_panel.show_fault(fault)
            self.checklist.mark(Step.VERIFY, StepState.FAILED)
