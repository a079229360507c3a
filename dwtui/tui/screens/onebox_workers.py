"""The one-box screen's thread workers: every blocking call (Dataverse, ODBC, keyring, PowerShell).

Workers never touch widgets; each posts one message with its result (the AOS restart also one per
step). A failure is raised, not posted: the screen's Worker.StateChanged handler routes it by the
worker's name to the panel it belongs to. `exclusive` makes a newer request of the same kind
supersede an older one (e.g. the roles of a business unit chosen a moment ago).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from textual.screen import ModalScreen

from dwtui.domain.aos import StepResult
from dwtui.domain.appuser import AppUserPlan
from dwtui.domain.flight import FlightPlan
from dwtui.domain.models import Fault
from dwtui.domain.onebox import OneboxFacts
from dwtui.services.aos import ServiceController, SimulatedServiceController, default_controller
from dwtui.services.axdb import connection_string, installed_drivers
from dwtui.services.errors import ServiceError
from dwtui.services.onebox import app_users, enable_flight, restart, sql_password, store_sql_password
from dwtui.services.verify import has_app_secret, store_app_secret, verify_onebox
from dwtui.tui.screens.onebox_messages import (
    AosRestarted,
    AosStepDone,
    AppUserApplied,
    AppUserPlanned,
    BusinessUnitsLoaded,
    DriversListed,
    FlightRan,
    RolesLoaded,
    ScriptSaved,
    Verified,
)
from dwtui.tui.widgets.onebox_connection import ConnectionChoice
from dwtui.tui.workers import service_worker

if TYPE_CHECKING:
    from dwtui.services.session import Session


def simulated_restart(session: Session) -> bool:
    """The demo, and anything but Windows, restarts through the simulated service controller."""
    return session.demo is not None or sys.platform != "win32"


def aos_controller(session: Session) -> ServiceController:
    if session.demo is not None:
        return SimulatedServiceController(speed=session.demo.speed)
    return default_controller()


class OneboxWorkers(ModalScreen[None]):
    def __init__(self, session: Session, instance_url: str) -> None:
        super().__init__()
        self.session = session
        self.instance_url = instance_url

    # -- application user -----------------------------------------------------------------------

    @service_worker("onebox-units", "Reading the business units")
    def load_units(self) -> None:
        units = app_users(self.session, self.instance_url).business_units()
        self.post_message(BusinessUnitsLoaded(units))

    @service_worker("onebox-roles", "Reading the business unit's security roles")
    def load_roles(self, business_unit_id: str) -> None:
        roles = app_users(self.session, self.instance_url).roles(business_unit_id)
        self.post_message(RolesLoaded(business_unit_id, roles))

    @service_worker("onebox-app-user", "Looking up the application user")
    def plan_app_user(self, application_id: str, business_unit_id: str, role_name: str) -> None:
        plan = app_users(self.session, self.instance_url).plan(application_id, business_unit_id, role_name)
        self.post_message(AppUserPlanned(plan))

    @service_worker("onebox-app-user", "Creating the application user")
    def apply_app_user(self, plan: AppUserPlan) -> None:
        self.post_message(AppUserApplied(app_users(self.session, self.instance_url).apply(plan)))

    # -- flight ---------------------------------------------------------------------------------------

    @service_worker("onebox-drivers", "Listing the ODBC drivers")
    def list_drivers(self) -> None:
        drivers = installed_drivers()
        stored = sql_password(self.session.secrets, self.session.profile) is not None
        self.post_message(DriversListed(drivers, stored))

    @service_worker("onebox-flight", "Enabling the flight on AXDB")
    def run_flight(self, choice: ConnectionChoice, plan: FlightPlan) -> None:
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
    def save_script(self, path: str, script: str) -> None:
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

    # -- AOS and verify -------------------------------------------------------------------------------

    @service_worker("onebox-aos", "Restarting the AOS")
    def restart_aos(self) -> None:
        def step_done(step: StepResult) -> None:
            self.post_message(AosStepDone(step))

        result = restart(self.session, controller=aos_controller(self.session), on_step=step_done)
        self.post_message(AosRestarted(result))

    @service_worker("onebox-verify", "Verifying the one-box")
    def verify(self, application_id: str, secret: str, facts: OneboxFacts) -> None:
        secrets, profile = self.session.secrets, self.session.profile
        if secret.strip():
            store_app_secret(secrets, profile, application_id, secret.strip())
        elif not has_app_secret(secrets, profile, application_id):
            raise ServiceError(
                Fault(
                    "sign-in",
                    "enter the application's client secret: Verify signs in as the app, and the keyring "
                    "holds no secret for it yet",
                    "no_secret",
                )
            )
        self.post_message(
            Verified(verify_onebox(self.session, self.instance_url, application_id, facts=facts))
        )
