"""Link to Power Platform environment (key l), and the hyperlink to the dual-write administration area
(a shows it with a QR code, c copies it).

The link is confirmed first, claimed in the operation store before the request (never sent twice),
then followed in the Progress pane by the page's OperationWatch; once it succeeds the hyperlink
opens by itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import ModalScreen

from dwtui.domain.assessment import Action, LinkState
from dwtui.domain.gateway import LINK_UNVERIFIED, link_wizard
from dwtui.domain.linking import TYPICAL_LINK_SECONDS, AdminLink, admin_link
from dwtui.domain.models import LcsEnvironment, PowerPlatformSnapshot
from dwtui.domain.operations import OPERATION_TITLES, OperationKind, at_speed
from dwtui.tui.flow import Flow
from dwtui.tui.messages import OperationFinished, OperationStarted, ProgressNote
from dwtui.tui.page_state import PageState
from dwtui.tui.workers import service_worker

if TYPE_CHECKING:
    from dwtui.services.session import Session

TITLE = OPERATION_TITLES[OperationKind.LINK]
NOT_YET = "The link to the dual-write administration area shows once linked."


class LinkFlow(Flow):
    WORKER_TITLES = {"link": TITLE}
    READ_AGAIN_AFTER = frozenset({"link"})

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.admin: AdminLink | None = None
        self._environment: LcsEnvironment | None = None

    def read(self, state: PageState) -> None:
        """Power Platform Integration was read: the hyperlink is known once linked."""
        environment = state.environment
        if self._environment is not None and self._environment.environment_id != environment.environment_id:
            self.admin = None
        self._environment = environment
        if state.assessment.link is LinkState.LINKED:
            self.admin = admin_link(environment.fo_url)

    def start(self, state: PageState | None, *, under_way: bool) -> None:
        """l: confirm, then request the link."""
        busy = "The link is under way; the Progress pane follows it."
        if under_way:
            self.notify(busy, title=TITLE)
            return
        state = self.startable(state, Action.LINK, TITLE, busy=busy, worker="link")
        if state is None:
            return
        wizard = link_wizard(state.environment.fo_url)
        if state.session.gateway_is_simulator or wizard is None:
            self._confirm(state)
            return

        def chosen(unverified: bool | None) -> None:
            if unverified:
                self._confirm(state)

        # A real gateway: the documented way comes first; the unverified request only on request.
        from dwtui.tui.flows.link.wizard import LinkWizardScreen
        self.app.push_screen(LinkWizardScreen(wizard, state.environment.name), chosen)

    def _confirm(self, state: PageState) -> None:
        session, environment, snapshot = state.session, state.environment, state.snapshot
        body = (
            f"Link {environment.name} ({environment.fo_url}) to the Dataverse Power Platform Integration "
            f"names:\n{state.assessment.dataverse_url}\n\nIt typically takes less than 5 minutes"
            f"{at_speed(TYPICAL_LINK_SECONDS, session.speed)}; dwtui "
            f"watches it.\n\nThe request and its progress are {LINK_UNVERIFIED}."
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.post_message(ProgressNote("Requesting the link..."))
                self._link(session, environment, snapshot)

        from dwtui.tui.screens.confirm import ConfirmChangeScreen
        self.app.push_screen(ConfirmChangeScreen(TITLE, body, yes="Link"), confirmed)

    @service_worker("link", "Requesting the link")
    def _link(self, session: Session, environment: LcsEnvironment, snapshot: PowerPlatformSnapshot) -> None:
        from dwtui.services.linking import REQUESTED, start_link
        from dwtui.services.operations import AlreadyRunning

        try:
            record = start_link(session, environment, snapshot, store=session.operations)
        except AlreadyRunning as running:
            note = running.note or "A link was already under way for this environment; watching it."
            self.post_message(OperationStarted(running.record, note))
            return
        # A lost answer was settled from the gateway: the record says what was found there.
        lost = record.message != REQUESTED
        note = f"The link request got no clear answer: {record.message}" if lost else ""
        self.post_message(OperationStarted(record, note))

    def finished(self, outcome: OperationFinished) -> None:
        """The watched link ended; once it succeeded, the hyperlink is shown unless a dialog is open."""
        outcome.notify_person(self.notify)
        environment = self._environment
        if not outcome.succeeded or environment is None:
            return
        admin = self.admin = admin_link(environment.fo_url)
        self.refresh_bindings()
        if admin is not None and not isinstance(self.app.screen, ModalScreen):
            from dwtui.tui.flows.link.admin_link import AdminLinkScreen
            self.app.push_screen(AdminLinkScreen(admin, environment.name))

    def show_admin_link(self) -> None:
        if self.admin is None or self._environment is None:
            self.notify(NOT_YET, severity="warning")
            return
        from dwtui.tui.flows.link.admin_link import AdminLinkScreen
        self.app.push_screen(AdminLinkScreen(self.admin, self._environment.name))

    def copy_link(self) -> None:
        if self.admin is None:
            self.notify(NOT_YET, severity="warning")
            return
        from dwtui.tui.screens.clipboard import send_link
        send_link(self.app, "The dual-write administration link", self.admin.url)
