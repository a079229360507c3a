"""Dual-write application (key d): choose the packages, review their terms, Configure, OK, install.

The packages and their terms come first (TermsScreen), then one more confirmation for the whole
plan. Each package is claimed in the operation store before its POST, so pressing d twice, or in two
terminals, never starts a second install; once posted, the page's OperationWatch follows it in the
Progress pane, and when it succeeded this flow requests the plan's next package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.message import Message

from dwtui.domain.assessment import Action
from dwtui.domain.models import LcsEnvironment, PowerPlatformSnapshot
from dwtui.domain.operations import OPERATION_TITLES, TYPICAL_INSTALL_SECONDS, OperationKind, at_speed
from dwtui.services.errors import ServiceError
from dwtui.tui.flow import Flow
from dwtui.tui.messages import OperationFinished, OperationStarted, ProgressNote
from dwtui.tui.page_state import PageState
from dwtui.tui.workers import service_worker

if TYPE_CHECKING:
    from dwtui.domain.operations import OperationRecord
    from dwtui.services.install import InstallPlan, PreparedChoice
    from dwtui.services.session import Session

TITLE = OPERATION_TITLES[OperationKind.INSTALL]


class InstallPrepared(Message):
    """The packages were read again and their terms fetched: show the choice and the terms."""

    def __init__(self, session: Session, prepared: PreparedChoice) -> None:
        super().__init__()
        self.session = session
        self.prepared = prepared


class InstallFlow(Flow):
    WORKER_TITLES = {"prepare-install": TITLE, "install": TITLE, "install-next": TITLE}
    READ_AGAIN_AFTER = frozenset({"install", "install-next"})

    def start(self, state: PageState | None, *, under_way: bool) -> None:
        """d: unless an install is under way, read the package and show its terms."""
        busy = "The install is under way; the Progress pane follows it."
        if under_way:
            self.notify(busy, title=TITLE)
            return
        state = self.startable(state, Action.SETUP_DUAL_WRITE, TITLE, busy=busy, worker="install")
        if state is None:
            return
        self.post_message(ProgressNote("Reading the packages and their terms..."))
        self._prepare(state.session, state.environment, state.snapshot)

    def finished(self, outcome: OperationFinished, state: PageState | None) -> None:
        """The watched install ended: say how, and once it succeeded go on with the plan."""
        outcome.notify_person(self.notify)
        record = outcome.record
        if outcome.succeeded and record is not None and record.rest_of_plan() and state is not None:
            self.post_message(ProgressNote("Requesting the next package of the plan..."))
            self._install_next(state.session, state.environment, record)

    @service_worker("prepare-install", "Reading the packages and their terms")
    def _prepare(
        self, session: Session, environment: LcsEnvironment, snapshot: PowerPlatformSnapshot
    ) -> None:
        from dwtui.services.install import prepare_choice, read_packages

        choice = read_packages(session, environment, snapshot)
        self.post_message(InstallPrepared(session, prepare_choice(session, choice)))

    @on(InstallPrepared)
    def _prepared(self, message: InstallPrepared) -> None:
        session, prepared = message.session, message.prepared
        self.post_message(ProgressNote("No operation running"))

        def configured(keys: tuple[str, ...] | None) -> None:
            if not keys:
                return
            try:
                plan = prepared.plan(keys)
            except ServiceError as error:
                self.notify(error.fault.message, title=TITLE, severity="warning")
                return
            steps = "\n".join(
                f"  {number}. {step.package.title} ({step.unique_name})"
                for number, step in enumerate(plan.steps, start=1)
            )
            body = (
                f"Install into {plan.dataverse.display_name} ({plan.dataverse.instance_url}) for "
                f"{plan.environment.name}, one after the other:\n{steps}\n\nEach typically takes 30 "
                f"minutes or less{at_speed(TYPICAL_INSTALL_SECONDS, session.speed)}; dwtui watches them, "
                "and you may quit and come back: an install goes on, and the rest of the plan follows "
                "when dwtui is open again."
            )
            from dwtui.tui.screens.confirm import ConfirmChangeScreen
            self.app.push_screen(ConfirmChangeScreen(TITLE, body, yes="OK"), lambda yes: confirmed(yes, plan))

        def confirmed(yes: bool | None, plan: InstallPlan) -> None:
            if yes:
                self.post_message(ProgressNote("Starting the install..."))
                self._install(session, plan)

        from dwtui.tui.flows.install.terms import TermsScreen
        self.app.push_screen(TermsScreen(prepared), configured)

    @service_worker("install", "Starting the dual-write application install")
    def _install(self, session: Session, plan: InstallPlan) -> None:
        from dwtui.services.install import InstallUncertain, settle_claim, start_install
        from dwtui.services.operations import AlreadyRunning

        store = session.operations
        try:
            record = start_install(session, plan, store)
        except AlreadyRunning as running:
            note = running.note or "An install was already under way for this environment; watching it."
            self.post_message(OperationStarted(running.record, note))
            return
        except InstallUncertain as uncertain:
            # The POST may have reached the service: only the package state can tell.
            settled = settle_claim(session, store, uncertain.record)
            if settled is None:
                raise ServiceError(uncertain.cause) from uncertain
            self.post_message(OperationStarted(settled, uncertain.fault.message))
            return
        self.post_message(OperationStarted(record))

    @service_worker("install-next", "Requesting the next package of the plan")
    def _install_next(self, session: Session, environment: LcsEnvironment, finished: OperationRecord) -> None:
        from dwtui.services.install import continue_plan
        from dwtui.services.operations import AlreadyRunning

        try:
            record = continue_plan(session, environment, finished, session.operations)
        except AlreadyRunning as running:
            self.post_message(
                OperationStarted(running.record, "An install was already under way; watching it.")
            )
            return
        if record is not None:
            self.post_message(OperationStarted(record))
