"""Step 1, the application user: app id (checked while typed), business unit, role, Create.

The form reads the business units and their roles from Dataverse, looks up the application user,
and creates it (or only adds a missing role) after the person confirms. Every call is a thread
worker that answers with a message; a failure shows in the form's fault box.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from dwtui.domain.appuser import (
    APP_ID_HINT,
    DEFAULT_ROLE,
    ApplicationUser,
    AppUserPlan,
    AppUserResult,
    BusinessUnit,
    SecurityRole,
    check_app_id,
)
from dwtui.domain.models import Fault
from dwtui.domain.text import inert
from dwtui.services.appuser import ApplicationUsers
from dwtui.services.onebox import app_users
from dwtui.tui.flows.onebox.checklist import Step, StepMarked, StepState
from dwtui.tui.flows.onebox.step import StepReady, first_empty, press, pressable, usable
from dwtui.tui.formatting import fault_of
from dwtui.tui.safe_text import option_prompt
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from dwtui.tui.widgets.pane import FaultBox
from dwtui.tui.workers import service_worker

if TYPE_CHECKING:
    from dwtui.services.session import Session

HINT = APP_ID_HINT[0].upper() + APP_ID_HINT[1:] + "."
WHAT_CREATE_DOES = (
    "Create makes the application user through the Dataverse Web API (POST systemusers with the "
    "application id and the business unit, then the role association), after you confirm. It changes "
    "nothing that is already there: an existing application user is shown, and only a missing role is "
    "added."
)


def unit_label(unit: BusinessUnit) -> str:
    return f"{unit.name} (root)" if unit.is_root else unit.name


def role_label(role: SecurityRole) -> str:
    return f"{role.name} (documented)" if role.name.lower() == DEFAULT_ROLE.lower() else role.name


def describe_user(user: ApplicationUser) -> str:
    roles = ", ".join(role.name for role in user.roles) or "no role"
    state = " (disabled)" if user.is_disabled else ""
    name = f" {user.full_name}" if user.full_name else ""
    return f"Application user{name} {user.systemuser_id}{state}; roles: {roles}."


class BusinessUnitsLoaded(Message):
    def __init__(self, units: list[BusinessUnit]) -> None:
        super().__init__()
        self.units = units


class RolesLoaded(Message):
    """The roles of one business unit (dropped when another unit was chosen meanwhile)."""

    def __init__(self, business_unit_id: str, roles: list[SecurityRole]) -> None:
        super().__init__()
        self.business_unit_id = business_unit_id
        self.roles = roles


class AppUserPlanned(Message):
    """What Create would do, read before asking for confirmation."""

    def __init__(self, plan: AppUserPlan) -> None:
        super().__init__()
        self.plan = plan


class AppUserApplied(Message):
    def __init__(self, result: AppUserResult) -> None:
        super().__init__()
        self.result = result


class AppUserForm(Vertical):
    def __init__(
        self,
        session: Session,
        instance_url: str,
        *,
        application_id: str = "",
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(id=id, classes="onebox-panel")
        self.session = session
        self.instance_url = instance_url
        self.initial_application_id = application_id
        self.units: list[BusinessUnit] = []
        self.roles: list[SecurityRole] = []
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Static(
            f"Dataverse: {self.instance_url or 'none (Power Platform Integration is not set up)'}",
            id="app-user-target",
            classes="hint",
            markup=False,
        )
        with Grid(classes="onebox-form"):
            yield Label("Application (client) ID", classes="onebox-label")
            with Vertical(classes="onebox-field"):
                yield Input(
                    self.initial_application_id,
                    placeholder="type or paste the app's client id (a GUID)",
                    id="app-id",
                    compact=True,
                    max_length=40,
                )
                yield Static(HINT, id="app-id-check", markup=False)
            yield Label("Business unit", classes="onebox-label")
            yield Select[str]([], prompt="Loading business units...", id="business-unit", compact=True)
            yield Label("Security role", classes="onebox-label")
            yield Select[str]([], prompt="Choose a business unit first", id="role", compact=True)
        with Horizontal(classes="onebox-buttons"):
            yield Button("Create application user", id="app-user-create", compact=True, disabled=True)
        yield Static(WHAT_CREATE_DOES, classes="hint onebox-explain", markup=False)
        yield Static("", id="app-user-status", classes="onebox-status", markup=False)
        yield Static("", id="app-user-result", classes="onebox-result", markup=False)
        yield FaultBox(id="app-user-fault")

    def on_mount(self) -> None:
        self.query_one("#app-user-fault", FaultBox).display = False
        if not self.instance_url:
            for selector in ("#app-id", "#business-unit", "#role"):
                self.query_one(selector).disabled = True
            self.set_status("The application user lives in the Dataverse of Power Platform Integration.")
        else:
            self.query_one("#business-unit", Select).loading = True
            self._load_units()

    # -- state from the screen ------------------------------------------------------------------

    @property
    def application_id(self) -> str:
        check = check_app_id(self.query_one("#app-id", Input).value)
        return check.value if check.ok else ""

    def set_status(self, text: str) -> None:
        self.query_one("#app-user-status", Static).update(inert(text, multiline=True))

    # -- focus and Enter ------------------------------------------------------------------------------

    def focus_target(self) -> Widget | None:
        app_id = self.query_one("#app-id", Input)
        if not self.application_id and usable(app_id):
            return app_id  # empty, or not yet a GUID
        loaded = [
            select
            for select, options in (
                (self.query_one("#business-unit", Select), self.units),
                (self.query_one("#role", Select), self.roles),
            )
            if options
        ]
        return first_empty(*loaded) or pressable(self.query_one("#app-user-create", Button))

    def press_primary(self) -> None:
        press(self.query_one("#app-user-create", Button))

    @on(Input.Submitted, "#app-id")
    def _app_id_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        create = self.query_one("#app-user-create", Button)
        if usable(create):
            create.press()
        elif (target := self.focus_target()) is not None:
            target.focus()

    def set_busy(self, busy: bool, status: str = "") -> None:
        self.busy = busy
        self.set_status(status)
        self._update_create()

    def show_units(self, units: Sequence[BusinessUnit]) -> None:
        self.units = list(units)
        select = self.query_one("#business-unit", Select)
        select.loading = False
        select.set_options((option_prompt(unit_label(unit)), unit.business_unit_id) for unit in self.units)
        root = next((unit for unit in self.units if unit.is_root), None)
        if root is not None:
            select.value = root.business_unit_id
        else:
            select.prompt = "Choose a business unit"
            self.post_message(StepReady(Step.APP_USER))

    def show_roles(self, business_unit_id: str, roles: Sequence[SecurityRole]) -> bool:
        """False when the answer is for a unit no longer chosen (dropped)."""
        if self.query_one("#business-unit", Select).value != business_unit_id:
            return False
        self.roles = list(roles)
        select = self.query_one("#role", Select)
        select.loading = False
        select.set_options((option_prompt(role_label(role)), role.role_id) for role in self.roles)
        default = next((r for r in self.roles if r.name.lower() == DEFAULT_ROLE.lower()), None)
        if default is not None:
            select.value = default.role_id
        select.prompt = "Choose a role" if self.roles else "This business unit has no roles"
        self._update_create()
        self.post_message(StepReady(Step.APP_USER))
        return True

    def show_existing(self, user: ApplicationUser | None, soft_deleted: int = 0) -> None:
        skipped = f" ({soft_deleted} soft-deleted one(s) skipped: they do not count.)" if soft_deleted else ""
        self.query_one("#app-user-result", Static).update(
            inert(
                (describe_user(user) if user is not None else "No application user exists for this app yet.")
                + skipped,
                multiline=True,
            )
        )

    def show_result(self, result: AppUserResult) -> None:
        self.set_busy(False, "")
        self.query_one("#app-user-fault", FaultBox).display = False
        shown = f"{result.summary()}\n{describe_user(result.user)}"
        self.query_one("#app-user-result", Static).update(inert(shown, multiline=True))

    def show_fault(self, fault: Fault, note: str = "") -> None:
        self.set_busy(False, "")
        self.query_one("#app-user-fault", FaultBox).show([fault], note)

    def clear_fault(self) -> None:
        self.query_one("#app-user-fault", FaultBox).display = False

    # -- input ------------------------------------------------------------------------------------

    @on(Input.Changed, "#app-id")
    def _app_id_changed(self, event: Input.Changed) -> None:
        check = check_app_id(event.value)
        label = self.query_one("#app-id-check", Static)
        if not event.value.strip():
            label.update(HINT)
            label.set_classes("")
        else:
            label.update(check.message)
            label.set_classes("valid" if check.ok else "incomplete" if check.incomplete else "invalid")
        self._update_create()

    @on(Select.Changed, "#business-unit")
    def _unit_changed(self, event: Select.Changed) -> None:
        event.stop()
        unit = self._chosen_unit()
        roles = self.query_one("#role", Select)
        roles.set_options([])
        self.roles = []
        self._update_create()
        if unit is not None:
            roles.loading = True
            roles.prompt = "Loading roles..."
            self._load_roles(unit.business_unit_id)

    @on(Select.Changed, "#role")
    def _role_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._update_create()

    @on(Button.Pressed, "#app-user-create")
    def _create(self, event: Button.Pressed) -> None:
        event.stop()
        unit, role, app_id = self._chosen_unit(), self._chosen_role(), self.application_id
        if unit is not None and role is not None and app_id:
            self.clear_fault()
            self.set_busy(True, "Looking up the application user...")
            self.post_message(StepMarked(Step.APP_USER, StepState.RUNNING))
            self._plan(app_id, unit.business_unit_id, role.name)

    def _chosen_unit(self) -> BusinessUnit | None:
        value = self.query_one("#business-unit", Select).value
        return next((u for u in self.units if u.business_unit_id == value), None)

    def _chosen_role(self) -> SecurityRole | None:
        value = self.query_one("#role", Select).value
        return next((r for r in self.roles if r.role_id == value), None)

    def _update_create(self) -> None:
        ready = (
            bool(self.application_id) and self._chosen_unit() is not None and self._chosen_role() is not None
        )
        self.query_one("#app-user-create", Button).disabled = self.busy or not ready

    # -- Dataverse (thread workers) -------------------------------------------------------------------

    def _users(self) -> ApplicationUsers:
        return app_users(self.session, self.instance_url)

    @service_worker("onebox-units", "Reading the business units")
    def _load_units(self) -> None:
        self.post_message(BusinessUnitsLoaded(self._users().business_units()))

    @service_worker("onebox-roles", "Reading the business unit's security roles")
    def _load_roles(self, business_unit_id: str) -> None:
        self.post_message(RolesLoaded(business_unit_id, self._users().roles(business_unit_id)))

    @service_worker("onebox-app-user", "Looking up the application user")
    def _plan(self, application_id: str, business_unit_id: str, role_name: str) -> None:
        self.post_message(AppUserPlanned(self._users().plan(application_id, business_unit_id, role_name)))

    @service_worker("onebox-app-user", "Creating the application user")
    def _apply(self, plan: AppUserPlan) -> None:
        self.post_message(AppUserApplied(self._users().apply(plan)))

    @on(BusinessUnitsLoaded)
    def _units_loaded(self, message: BusinessUnitsLoaded) -> None:
        self.show_units(message.units)

    @on(RolesLoaded)
    def _roles_loaded(self, message: RolesLoaded) -> None:
        self.show_roles(message.business_unit_id, message.roles)

    @on(AppUserPlanned)
    def _planned(self, message: AppUserPlanned) -> None:
        plan = message.plan
        self.show_existing(plan.existing, len(plan.soft_deleted))
        if plan.nothing_to_do and plan.existing is not None:
            self.show_result(AppUserResult(plan.existing, plan.business_unit, plan.role, False, False))
            self.post_message(StepMarked(Step.APP_USER, StepState.DONE))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.set_busy(True, "Creating in Dataverse...")
                self._apply(plan)
            else:
                self.set_busy(False, "Nothing was changed.")
                self.post_message(StepMarked(Step.APP_USER, StepState.TODO))

        body = (
            f"{plan.describe()}\n\nDataverse: {self.instance_url}\n"
            f"Application (client) ID: {plan.application_id}"
        )
        self.app.push_screen(
            ConfirmChangeScreen("Create the application user?", body, yes="Create"), callback=answered
        )

    @on(AppUserApplied)
    def _applied(self, message: AppUserApplied) -> None:
        self.show_result(message.result)
        self.post_message(StepMarked(Step.APP_USER, StepState.DONE))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        fault = fault_of(event.worker.error)
        if event.worker.name in ("onebox-units", "onebox-roles"):
            self.show_fault(fault, "Could not read the business units and roles:")
        elif event.worker.name == "onebox-app-user":
            self.show_fault(fault)
            self.post_message(StepMarked(Step.APP_USER, StepState.FAILED))
