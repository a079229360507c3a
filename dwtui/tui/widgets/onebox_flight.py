"""The flight on AXDB: connection, flight name and service id, Generate / Run, and what happened.

Generate shows Microsoft's documented T-SQL with its values (to copy or save as .sql) and the
exact statements dwtui runs with their parameters. Run goes through the screen (confirmation,
then a worker); the rows before and after, per partition, come back to `show_result`.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, Static

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
from dwtui.services.errors import ServiceError
from dwtui.tui.widgets.onebox_connection import ConnectionChoice, ConnectionPanel
from dwtui.tui.widgets.pane import FaultBox

DEFAULT_SCRIPT_PATH = "dualwrite-onebox-flight.sql"


def row_text(row: FlightRow | None) -> str:
    """ENABLED and FLIGHTSERVICEID of one row, short enough for a narrow column."""
    if row is None:
        return "no row"
    enabled = {1: "on", 0: "off", None: "null"}.get(row.enabled, str(row.enabled))
    return f"{enabled}, {row.service_id if row.service_id is not None else 'null'}"


class FlightPanel(Horizontal):
    class RunRequested(Message):
        def __init__(self, choice: ConnectionChoice, plan: FlightPlan, target: str) -> None:
            super().__init__()
            self.choice = choice
            self.plan = plan
            self.target = target  # the connection string with its password masked

    class SaveRequested(Message):
        def __init__(self, path: str, script: str) -> None:
            super().__init__()
            self.path = path
            self.script = script

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="onebox-panel")
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

    @property
    def connection(self) -> ConnectionPanel:
        return self.query_one("#flight-connection", ConnectionPanel)

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
        self.post_message(self.RunRequested(choice, plan, target))

    @on(Button.Pressed, "#flight-copy")
    def _copy(self, event: Button.Pressed) -> None:
        event.stop()
        plan = self.plan()
        if plan is not None:
            # OSC 52: the terminal puts it on the clipboard of the machine you sit at, even over SSH.
            self.app.copy_to_clipboard(documented_script(plan.flight_name, plan.service_id))
            self.app.notify("The documented script is on the clipboard (if the terminal allows OSC 52).")

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
        self.post_message(self.SaveRequested(path, documented_script(plan.flight_name, plan.service_id)))

    # -- results ------------------------------------------------------------------------------------

    def set_status(self, text: str) -> None:
        self.query_one("#flight-status", Static).update(text)

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
        self.set_status("Committed." if result.committed else "Rolled back: nothing was written.")
        self.query_one("#flight-summary", Static).update(result.summary())
        table = self.query_one("#flight-rows", DataTable)
        table.clear()
        for item in result.partitions:
            table.add_row(
                item.partition.key,
                str(item.partition.recid),
                row_text(item.before),
                row_text(item.after),
                "yes" if item.changed else "no",
            )
        self.query_one("#flight-result-box").display = True
        self.query_one("#flight-output", VerticalScroll).scroll_home(animate=False)
