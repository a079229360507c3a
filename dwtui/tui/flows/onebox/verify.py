"""Step 4, Verify: WhoAmI as the one-box application, its user's roles as you; name the missing step.

WhoAmI answers for an application user without a role, so the panel also shows the application
user and its roles as the signed-in administrator reads them.

The screen hands over what this session knows of the flight and the restart (OneboxFacts), so the
verdict can name the step that is missing; the check runs in a thread worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from dwtui.domain.models import Fault
from dwtui.domain.onebox import OneboxFacts
from dwtui.domain.text import inert
from dwtui.services.errors import ServiceError
from dwtui.services.verify import VerifyResult, has_app_secret, store_app_secret, verify_onebox
from dwtui.tui.flows.onebox.checklist import Step, StepMarked, StepState
from dwtui.tui.flows.onebox.step import first_empty, press, pressable
from dwtui.tui.formatting import fault_of
from dwtui.tui.widgets.pane import FaultBox
from dwtui.tui.workers import service_worker

if TYPE_CHECKING:
    from dwtui.services.session import Session

NO_APP = "type it under 1 Application user"


class VerifyPanel(Vertical):
    class VerifyRequested(Message):
        """Verify was pressed: the screen answers with `verify()` and what it knows of the steps."""

        def __init__(self, secret: str) -> None:
            super().__init__()
            self.secret = secret  # "" = use the one in the keyring

    class Verified(Message):
        """The verdict, after the panel showed it; the screen ticks the checklist from it."""

        def __init__(self, result: VerifyResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, session: Session, instance_url: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="onebox-panel")
        self.session = session
        self.instance_url = instance_url
        self.application_id = ""

    def compose(self) -> ComposeResult:
        yield Static(
            "Signs in as the application (client credentials) and calls WhoAmI on "
            f"{self.instance_url or 'the Dataverse of Power Platform Integration (none is set up)'}, "
            "then reads its application user and roles with your sign-in.",
            classes="hint",
            markup=False,
        )
        with Grid(classes="onebox-form"):
            yield Label("Application (client) ID", classes="onebox-label")
            yield Static(NO_APP, id="verify-app-id", markup=False)
            yield Label("Client secret", classes="onebox-label")
            yield Input(
                placeholder="type the app's client secret (empty: the one kept in the keyring)",
                id="verify-secret",
                password=True,
                compact=True,
            )
        with Horizontal(classes="onebox-buttons"):
            yield Button("Verify", id="verify-run", variant="primary", compact=True, disabled=True)
        yield Static("", id="verify-status", classes="onebox-status", markup=False)
        yield Static("", id="verify-result", classes="onebox-result", markup=False)
        yield Static("", id="verify-who", markup=False)
        yield Static("", id="verify-app-user", markup=False)
        yield FaultBox(id="verify-fault")

    def on_mount(self) -> None:
        self.query_one("#verify-fault", FaultBox).display = False

    def focus_target(self) -> Widget | None:
        """The secret field while empty (Enter there verifies with the keyring's), else Verify; nothing
        while there is no application id to verify."""
        button = self.query_one("#verify-run", Button)
        if pressable(button) is None:
            return None
        return first_empty(self.query_one("#verify-secret", Input)) or button

    def press_primary(self) -> None:
        press(self.query_one("#verify-run", Button))

    def set_application(self, application_id: str) -> None:
        self.application_id = application_id
        self.query_one("#verify-app-id", Static).update(application_id or NO_APP)
        self.query_one("#verify-run", Button).disabled = not (application_id and self.instance_url)

    @on(Button.Pressed, "#verify-run")
    def _verify(self, event: Button.Pressed) -> None:
        event.stop()
        if self.application_id:
            self.post_message(self.VerifyRequested(self.query_one("#verify-secret", Input).value))

    @on(Input.Submitted, "#verify-secret")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.application_id and self.instance_url:
            self.post_message(self.VerifyRequested(event.value))

    def begin(self) -> None:
        self.query_one("#verify-run", Button).disabled = True
        self.query_one("#verify-fault", FaultBox).display = False
        self.query_one("#verify-status", Static).update(
            "Signing in as the application and calling WhoAmI, then reading its application user..."
        )

    def show_result(self, result: VerifyResult) -> None:
        self.set_application(self.application_id)
        self.query_one("#verify-status", Static).update("")
        verdict = result.verdict
        label = self.query_one("#verify-result", Static)
        label.update(inert(verdict.message, multiline=True))
        label.set_classes("onebox-result " + ("valid" if verdict.ok else "invalid"))
        me = result.who_am_i
        self.query_one("#verify-who", Static).update(
            inert(
                f"WhoAmI: user {me.user_id}, business unit {me.business_unit_id}, "
                f"organization {me.organization_id}"
            )
            if me is not None
            else ""
        )
        self.query_one("#verify-app-user", Static).update(inert(result.checks()[1], multiline=True))
        box = self.query_one("#verify-fault", FaultBox)
        faults = [fault for fault in (result.fault, result.lookup_fault) if fault is not None]
        if faults:
            box.show(faults)
        else:
            box.display = False

    def show_fault(self, fault: Fault) -> None:
        self.set_application(self.application_id)
        self.query_one("#verify-status", Static).update("")
        self.query_one("#verify-result", Static).update("")
        self.query_one("#verify-app-user", Static).update("")
        self.query_one("#verify-fault", FaultBox).show([fault])

    def verify(self, secret: str, facts: OneboxFacts) -> None:
        self.begin()
        self.post_message(StepMarked(Step.VERIFY, StepState.RUNNING))
        self._verify_worker(self.application_id, secret, facts)

    @service_worker("onebox-verify", "Verifying the one-box")
    def _verify_worker(self, application_id: str, secret: str, facts: OneboxFacts) -> None:
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
            self.Verified(verify_onebox(self.session, self.instance_url, application_id, facts=facts))
        )

    @on(Verified)
    def _verified(self, message: Verified) -> None:
        self.show_result(message.result)  # then on to the screen, which ticks the checklist

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.name == "onebox-verify":
            self.show_fault(fault_of(event.worker.error))
            self.post_message(StepMarked(Step.VERIFY, StepState.FAILED))
