"""Step 2, the flight on AXDB: connection, flight name and service id, Generate / Run, what happened.

Generate shows Microsoft's documented T-SQL with its values (to copy or save as .sql) and the
exact statements dwtui runs with their parameters. Run asks first, then runs them in one transaction
in a thread worker (ODBC); the rows before and after, per partition, come back to `show_result`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Static
from textual.worker import Worker, WorkerState

from dwtui.domain.flight import (
    DEFAULT_FLIGHT_NAME,
    DEFAULT_FLIGHT_SERVICE_ID,
    FlightInputError,
    FlightPlan,
    FlightResult,
    FlightRow,
    documented_script,
    validate_flight_name,
    validate_service_id,
)
from dwtui.domain.models import Fault
from dwtui.domain.text import inert
from dwtui.services.axdb import connection_string, installed_drivers
from dwtui.services.errors import ServiceError
from dwtui.services.onebox import enable_flight, sql_password, store_sql_password
from dwtui.tui.flows.onebox.checklist import Step, StepMarked, StepState
from dwtui.tui.flows.onebox.connection import ConnectionChoice, ConnectionPanel
from dwtui.tui.flows.onebox.step import first_empty, press, pressable
from dwtui.tui.formatting import fault_of
from dwtui.tui.safe_text import table_cell
from dwtui.tui.screens.clipboard import send_text
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from dwtui.tui.widgets.pane import FaultBox
from dwtui.tui.workers import service_worker

if TYPE_CHECKING:
    from dwtui.services.session import Session

DEFAULT_SCRIPT_PATH = "dualwrite-onebox-flight.sql"


def row_text(row: FlightRow | None) -> str:
    """ENABLED and FLIGHTSERVICEID of one row, short enough for a narrow column."""
    if row is None:
        return "no row"
    enabled = {1: "on", 0: "off", None: "null"}.get(row.enabled, str(row.enabled))
    return f"{enabled}, {row.service_id if row.service_id is not None else 'null'}"


class DriversListed(Message):
    def __init__(self, drivers: list[str], stored_password: bool) -> None:
        super().__init__()
        self.drivers = drivers
        self.stored_password = stored_password


class FlightRan(Message):
    def __init__(self, result: FlightResult) -> None:
        super().__init__()
        self.result = result


class ScriptSaved(Message):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class FlightPanel(Horizontal):
    def __init__(self, session: Session, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="onebox-panel")
        self.session = session
        self.busy = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="flight-inputs"):
            yield ConnectionPanel(id="flight-connection")
            with Grid(classes="onebox-form"):
                yield Label("Flight name", classes="onebox-label")
                with Vertical(classes="onebox-field"):
                    yield Input(DEFAULT_FLIGHT_NAME, id="flight-name", compact=True, max_length=120)
                    yield Static("", id="flight-name-check", markup=False)
                yield Label("Service id", classes="onebox-label")
                with Vertical(classes="onebox-field"):
                    yield Input(
                        str(DEFAULT_FLIGHT_SERVICE_ID), id="flight-service-id", compact=True, max_length=12
                    )
                    yield Static("", id="flight-service-id-check", markup=False)
            with Horizontal(classes="onebox-buttons"):
                yield Button("Generate", id="flight-generate", compact=True)
                yield Button("Run...", id="flight-run", variant="warning", compact=True)
                yield Button("Copy script", id="flight-copy", compact=True, disabled=True)
            with Horizontal(classes="onebox-buttons"):
                yield Input(DEFAULT_SCRIPT_PATH, id="flight-save-path", compact=True)
                yield Button("Save .sql", id="flight-save", compact=True, disabled=True)
        with VerticalScroll(id="flight-output"):
            yield Static(
                "Generate shows the documented script and the statements dwtui runs; Run asks first.",
                id="flight-status",
                classes="onebox-status",
                markup=False,
            )
            yield FaultBox(id="flight-fault")
            with Vertical(id="flight-result-box"):
                yield Static("", id="flight-summary", classes="onebox-result", markup=False)
                table: DataTable[str] = DataTable(id="flight-rows", cursor_type="none", zebra_stripes=True)
                yield table
            with Vertical(id="flight-preview"):
                yield Label(
                    "Documented T-SQL with its values (to run in SSMS yourself)",
                    classes="onebox-heading",
                )
                yield Static("", id="flight-script", classes="onebox-code", markup=False)
                yield Label(
                    "What dwtui executes: values only as ? parameters",
                    id="flight-statements-heading",
                    classes="onebox-heading",
                )
                yield Static("", id="flight-statements", classes="onebox-code", markup=False)

    def on_mount(self) -> None:
        self.query_one("#flight-fault", FaultBox).display = False
        self.query_one("#flight-result-box").display = False
        self.query_one("#flight-preview").display = False
        for selector in ("#flight-name-check", "#flight-service-id-check"):
            self.query_one(selector).display = False
        table = self.query_one("#flight-rows", DataTable)
        for label, key in (
            ("Partition", "partition"),
            ("RECID", "recid"),
            ("Before", "before"),
            ("After", "after"),
            ("Changed", "changed"),
        ):
            table.add_column(label, key=key)
        self._list_drivers()
        demo = self.session.demo
        if demo is not None and demo.axdb_connection_string:
            self.connection.use_raw(demo.axdb_connection_string)

    @property
    def connection(self) -> ConnectionPanel:
        return self.query_one("#flight-connection", ConnectionPanel)

    # -- focus and Enter ------------------------------------------------------------------------------

    def focus_target(self) -> Widget | None:
        fields = (self.query_one("#flight-name", Input), self.query_one("#flight-service-id", Input))
        empty = self.connection.first_empty() or first_empty(*fields)
        return empty or pressable(self.query_one("#flight-run", Button))

    def press_primary(self) -> None:
        press(self.query_one("#flight-run", Button))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter in a field runs the step (Run asks first); in the file name, saves the script."""
        event.stop()
        press(
            self.query_one("#flight-save" if event.input.id == "flight-save-path" else "#flight-run", Button)
        )

    # -- validation while typed ---------------------------------------------------------------------

    @on(Input.Changed, "#flight-name")
    def _name_changed(self, event: Input.Changed) -> None:
        self._check("#flight-name-check", lambda: validate_flight_name(event.value))

    @on(Input.Changed, "#flight-service-id")
    def _service_id_changed(self, event: Input.Changed) -> None:
        self._check("#flight-service-id-check", lambda: validate_service_id(event.value))

    def _check(self, selector: str, validate: Callable[[], object]) -> None:
        label = self.query_one(selector, Static)
        try:
            validate()
        except FlightInputError as error:
            label.update(str(error)[0].upper() + str(error)[1:] + ".")
            label.set_classes("invalid")
            label.display = True
        else:
            label.update("")
            label.display = False

    def plan(self) -> FlightPlan | None:
        """The validated plan, or None with the reason under the field that is wrong."""
        try:
            return FlightPlan.from_input(
                self.query_one("#flight-name", Input).value, self.query_one("#flight-service-id", Input).value
            )
        except FlightInputError as error:
            field = "#flight-name" if error.field_name == "flight_name" else "#flight-service-id"
            self.query_one(field, Input).focus()
            self.set_status(
                f"Fix the {'flight name' if field == '#flight-name' else 'service id'} first: {error}."
            )
            return None

    # -- buttons ------------------------------------------------------------------------------------

    @on(Button.Pressed, "#flight-generate")
    def _generate(self, event: Button.Pressed) -> None:
        event.stop()
        plan = self.plan()
        if plan is not None:
            self.show_preview(plan)

    def show_preview(self, plan: FlightPlan) -> None:
        script = documented_script(plan.flight_name, plan.service_id)
        self.query_one("#flight-script", Static).update(script.rstrip())
        self.query_one("#flight-statements", Static).update(plan.describe().rstrip())
        self.query_one("#flight-preview").display = True
        for selector in ("#flight-copy", "#flight-save"):
            self.query_one(selector, Button).disabled = False
        self.set_status("Generated. Copy or save the script, or Run to let dwtui do it.")

    @on(Button.Pressed, "#flight-run")
    def _run(self, event: Button.Pressed) -> None:
        event.stop()
        plan = self.plan()
        if plan is None or self.busy:
            return
        choice = self.connection.choice()
        if choice.form is None and not choice.raw:
            self.show_fault(
                Fault("AXDB", "enter an ODBC connection string, or use the connection form", "input")
            )
            return
        try:
            target = choice.shown()
        except ServiceError as error:
            self.show_fault(error.fault)
            return
        self.show_preview(plan)

        def answered(yes: bool | None) -> None:
            if yes:
                self.set_busy(True, "Running in one transaction...")
                self.post_message(StepMarked(Step.FLIGHT, StepState.RUNNING))
                self._run_flight(choice, plan)
            else:
                self.set_status("Nothing was run.")

        body = f"Connection: {target}\n\n{plan.describe()}"
        self.app.push_screen(
            ConfirmChangeScreen("Run these statements on AXDB?", body, yes="Run"), callback=answered
        )

    @on(Button.Pressed, "#flight-copy")
    def _copy(self, event: Button.Pressed) -> None:
        event.stop()
        plan = self.plan()
        if plan is not None:
            # OSC 52: where the terminal allows it, the clipboard of the machine you sit at, even over SSH.
            send_text(
                self.app, "The documented flight script", documented_script(plan.flight_name, plan.service_id)
            )

    @on(Button.Pressed, "#flight-save")
    def _save(self, event: Button.Pressed) -> None:
        event.stop()
        plan = self.plan()
        path = self.query_one("#flight-save-path", Input).value.strip()
        if plan is None:
            return
        if not path:
            self.set_status("Type where to save the script, e.g. " + DEFAULT_SCRIPT_PATH)
            return
        self._save_script(path, documented_script(plan.flight_name, plan.service_id))

    # -- results ------------------------------------------------------------------------------------

    def set_status(self, text: str) -> None:
        self.query_one("#flight-status", Static).update(inert(text, multiline=True))

    def set_busy(self, busy: bool, status: str = "") -> None:
        self.busy = busy
        self.query_one("#flight-run", Button).disabled = busy
        if status:
            self.set_status(status)

    def show_fault(self, fault: Fault) -> None:
        self.set_busy(False)
        self.set_status("")
        self.query_one("#flight-fault", FaultBox).show([fault])

    def show_result(self, result: FlightResult) -> None:
        self.set_busy(False)
        self.query_one("#flight-fault", FaultBox).display = False
        status = "Committed." if result.committed else "Rolled back: nothing was written."
        # What the driver would not do (e.g. a query timeout) and what dwtui did instead.
        self.set_status(inert(" ".join([status, *(f"Note: {note}." for note in result.notes)])))
        self.query_one("#flight-summary", Static).update(inert(result.summary(), multiline=True))
        table = self.query_one("#flight-rows", DataTable)
        table.clear()
        for item in result.partitions:
            # Partition keys and rows are AXDB's text: inert, never markup.
            table.add_row(
                table_cell(item.partition.key),
                str(item.partition.recid),
                table_cell(row_text(item.before)),
                table_cell(row_text(item.after)),
                "yes" if item.changed else "no",
            )
        self.query_one("#flight-result-box").display = True
        self.query_one("#flight-output", VerticalScroll).scroll_home(animate=False)

    # -- ODBC and the file system (thread workers) -----------------------------------------------------

    @service_worker("onebox-drivers", "Listing the ODBC drivers")
    def _list_drivers(self) -> None:
        drivers = installed_drivers()
        stored = sql_password(self.session.secrets, self.session.profile) is not None
        self.post_message(DriversListed(drivers, stored))

    @service_worker("onebox-flight", "Enabling the flight on AXDB")
    def _run_flight(self, choice: ConnectionChoice, plan: FlightPlan) -> None:
        result = enable_flight(self.session, self._connection(choice), plan)
        if choice.needs_password and choice.password and choice.remember:
            # Only once the login worked: a mistyped password is not worth remembering.
            store_sql_password(self.session.secrets, self.session.profile, choice.password)
        self.post_message(FlightRan(result))

    def _connection(self, choice: ConnectionChoice) -> str:
        if choice.form is None:
            return choice.raw
        password = ""
        if choice.needs_password:
            password = choice.password or sql_password(self.session.secrets, self.session.profile) or ""
            if not password:
                raise ServiceError(
                    Fault(
                        "AXDB", "enter the SQL login's password (none is stored in the keyring)", "password"
                    )
                )
        return connection_string(choice.form, password)

    @service_worker("onebox-save", "Saving the flight script")
    def _save_script(self, path: str, script: str) -> None:
        target = Path(path).expanduser()
        if target.suffix.lower() != ".sql":
            target = target.with_name(target.name + ".sql")
        try:
            target.write_text(script, encoding="utf-8")
        except OSError as error:
            raise ServiceError(
                Fault(
                    "dwtui", f"cannot save the script to {target}: {error.strerror or error}", "save_failed"
                )
            ) from error
        self.post_message(ScriptSaved(str(target)))

    @on(DriversListed)
    def _drivers_listed(self, message: DriversListed) -> None:
        self.connection.show_drivers(message.drivers, message.stored_password)

    @on(FlightRan)
    def _flight_ran(self, message: FlightRan) -> None:
        self.show_result(message.result)
        state = StepState.DONE if message.result.committed else StepState.FAILED
        self.post_message(StepMarked(Step.FLIGHT, state))

    @on(ScriptSaved)
    def _saved(self, message: ScriptSaved) -> None:
        self.set_status(f"Saved the documented script to {message.path}.")

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        fault = fault_of(event.worker.error)
        name = event.worker.name
        if name == "onebox-drivers":
            self.connection.show_drivers_missing(fault.message)
            self.show_fault(fault)
        elif name == "onebox-flight":
            self.show_fault(fault)
            self.post_message(StepMarked(Step.FLIGHT, StepState.FAILED))
        elif name == "onebox-save":
            self.show_fault(fault)
