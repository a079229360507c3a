"""Dual-write application (key d): read the package and its terms, Configure, OK, then install.

The terms come first (TermsScreen), then one more confirmation; the install is claimed in the
operation store before the POST, so pressing d twice, or in two terminals, never starts a second
one. Once posted, the page's OperationWatch follows it in the Progress pane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.message import Message

from dwtui.domain.assessment import Action
from dwtui.domain.models import LcsEnvironment, PowerPlatformSnapshot
from dwtui.domain.operations import OPERATION_TITLES, OperationKind
from dwtui.services.errors import ServiceError
from dwtui.tui.flow import Flow
from dwtui.tui.flows.install.terms import TermsScreen
from dwtui.tui.messages import OperationFinished, OperationStarted, ProgressNote
from dwtui.tui.page_state import PageState
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from dwtui.tui.workers import service_worker

if TYPE_CHECKING:
    from dwtui.services.install import InstallPlan
    from dwtui.services.session import Session

TITLE = OPERATION_TITLES[OperationKind.INSTALL]


class InstallPrepared(Message):
    """The package was read again and its terms fetched: show the terms."""

    def __init__(self, session: Session, plan: InstallPlan) -> None:
        super().__init__()
        self.session = session
        self.plan = plan


class InstallFlow(Flow):
    WORKER_TITLES = {"prepare-install": TITLE, "install": TITLE}
    READ_AGAIN_AFTER = frozenset({"install"})

    def start(self, state: PageState | None, *, under_way: bool) -> None:
        """d: unless an install is under way, read the package and show its terms."""
        busy = "The install is under way; the Progress pane follows it."
        if under_way:
            self.notify(busy, title=TITLE)
            return
        state = self.startable(state, Action.SETUP_DUAL_WRITE, TITLE, busy=busy, worker="install")
        if state is None:
            return
        self.post_message(ProgressNote("Reading the package and its terms..."))
        self._prepare(state.session, state.environment, state.snapshot)

    def finished(self, outcome: OperationFinished) -> None:
        """The watched install ended: say how."""
        outcome.notify_person(self.notify)

    @service_worker("prepare-install", "Reading the package and its terms")
    def _prepare(
        self, session: Session, environment: LcsEnvironment, snapshot: PowerPlatformSnapshot
    ) -> None:
        from dwtui.services.install import prepare_install

        self.post_message(InstallPrepared(session, prepare_install(session, environment, snapshot)))

    @on(InstallPrepared)
    def _prepared(self, message: InstallPrepared) -> None:
        session, plan = message.session, message.plan
        self.post_message(ProgressNote("No operation running"))

        def configured(yes: bool | None) -> None:
            if not yes:
                return
            package = plan.listing.package
            body = (
                f"Install {package.application_name or package.unique_name} "
                f"into {plan.dataverse.display_name} ({plan.dataverse.instance_url}) for "
                f"{plan.environment.name}?\n\nIt typically takes 30 minutes or less; dwtui watches it, "
                "and you may quit and come back: the install goes on."
            )
            self.app.push_screen(ConfirmChangeScreen(TITLE, body, yes="OK"), confirmed)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.post_message(ProgressNote("Starting the install..."))
                self._install(session, plan)

        self.app.push_screen(TermsScreen(plan), configured)

    @service_worker("install", "Starting the dual-write application install")
    def _install(self, session: Session, plan: InstallPlan) -> None:
        from dwtui.services.install import InstallUncertain, settle_claim, start_install
        from dwtui.services.operations import AlreadyRunning

        store = session.operations
        try:
            record = start_install(session, plan, store)
        except AlreadyRunning as running:
            note = "An install was already under way for this environment; watching it."
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
