"""Add Dataverse (key P): for a Power Platform environment that has none, the BAP provisionInstance call.

The dialog asks language, currency and template; a confirmation shows them; the request is claimed
in the operation store before the POST (never sent twice) and followed by the page's OperationWatch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dwtui.domain.assessment import Action
from dwtui.domain.models import DataverseEnvironment
from dwtui.domain.operations import (
    OPERATION_TITLES,
    TYPICAL_ADD_DATAVERSE_SECONDS,
    OperationKind,
    at_speed,
)
from dwtui.services.errors import ServiceError
from dwtui.tui.flow import Flow
from dwtui.tui.messages import OperationFinished, OperationStarted, ProgressNote
from dwtui.tui.page_state import PageState
from dwtui.tui.workers import service_worker

if TYPE_CHECKING:
    from dwtui.services.add_dataverse import AddDataversePlan
    from dwtui.services.session import Session
    from dwtui.tui.flows.dataverse.dialog import DataverseChoice

TITLE = OPERATION_TITLES[OperationKind.ADD_DATAVERSE]


class AddDataverseFlow(Flow):
    WORKER_TITLES = {"add-dataverse": TITLE}
    READ_AGAIN_AFTER = frozenset({"add-dataverse"})

    def start(self, state: PageState | None, *, under_way: bool) -> None:
        """P: ask language, currency and template; confirm; request."""
        busy = "Dataverse is being added; the Progress pane follows it."
        if under_way:
            self.notify(busy, title=TITLE)
            return
        state = self.startable(state, Action.ADD_DATAVERSE, TITLE, busy=busy, worker="add-dataverse")
        if state is None:
            return
        power_platform = state.snapshot.dataverse
        if not isinstance(power_platform, DataverseEnvironment):
            return
        from dwtui.services.add_dataverse import CANNOT_ADD_NOTE

        name = f"{power_platform.display_name} ({power_platform.bap_environment_id})"

        def chosen(choice: DataverseChoice | None) -> None:
            if choice is not None:
                self._confirm(state, choice)

        from dwtui.tui.flows.dataverse.dialog import AddDataverseScreen
        self.app.push_screen(AddDataverseScreen(state.environment.name, name, CANNOT_ADD_NOTE), chosen)

    def _confirm(self, state: PageState, choice: DataverseChoice) -> None:
        from dwtui.services.add_dataverse import plan_add_dataverse

        try:
            plan = plan_add_dataverse(
                state.session,
                state.environment,
                state.snapshot.dataverse,
                language=choice.language,
                currency=choice.currency,
                template=choice.template,
            )
        except ServiceError as error:
            self.notify(error.fault.message, title=TITLE, severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.post_message(ProgressNote("Requesting Dataverse..."))
                self._add(state.session, plan)

        body = (
            f"{plan.describe()}\n\nIt takes some minutes"
            f"{at_speed(TYPICAL_ADD_DATAVERSE_SECONDS, state.session.speed)}; dwtui watches it, and you "
            "may quit and come back."
        )
        from dwtui.tui.screens.confirm import ConfirmChangeScreen
        self.app.push_screen(ConfirmChangeScreen(TITLE, body, yes="Add"), confirmed)

    @service_worker("add-dataverse", "Requesting Dataverse")
    def _add(self, session: Session, plan: AddDataversePlan) -> None:
        from dwtui.services.add_dataverse import start_add_dataverse
        from dwtui.services.operations import AlreadyRunning

        try:
            record = start_add_dataverse(session, plan, session.operations)
        except AlreadyRunning as running:
            self.post_message(
                OperationStarted(running.record, "Dataverse was already being added; watching it.")
            )
            return
        self.post_message(OperationStarted(record))

    def finished(self, outcome: OperationFinished) -> None:
        outcome.notify_person(self.notify)
