"""Reset dual-write connection (key R): read which table maps run, confirm by typing the environment's
name (ResetScreen), then reset, and read Power Platform Integration again.

A reset cannot be undone and ends at once (no operation to watch); it is never retried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.message import Message

from dwtui.domain.assessment import Action
from dwtui.domain.linking import reset_plan
from dwtui.domain.models import LcsEnvironment, PowerPlatformSnapshot
from dwtui.tui.flow import Flow
from dwtui.tui.messages import ProgressNote, ReadAgain
from dwtui.tui.page_state import PageState
from dwtui.tui.workers import service_worker

if TYPE_CHECKING:
    from dwtui.services.linking import ResetResult
    from dwtui.services.session import Session
    from dwtui.tui.flows.reset.dialog import ResetDecision

TITLE = "Reset dual-write connection"


class ResetPrepared(Message):
    """The maps still running on the connection set, read before the confirmation."""

    def __init__(self, running_maps: tuple[str, ...]) -> None:
        super().__init__()
        self.running_maps = running_maps


class ResetFinished(Message):
    def __init__(self, result: ResetResult) -> None:
        super().__init__()
        self.result = result


class ResetFlow(Flow):
    WORKER_TITLES = {"prepare-reset": TITLE, "reset": TITLE}
    READ_AGAIN_AFTER = frozenset({"reset"})

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._state: PageState | None = None

    def start(self, state: PageState | None) -> None:
        """R: unless the reset is refused, read which maps run, then ask."""
        state = self.startable(state, Action.RESET, TITLE)
        if state is None:
            return
        plan = reset_plan(state.environment, state.snapshot)
        if plan is None or not plan.allowed:
            reason = plan.reason if plan is not None else "dual-write is not linked"
            self.notify(f"{TITLE} is not available: {reason}", severity="warning", timeout=10)
            return
        self._state = state
        self._prepare(state.session, state.snapshot)

    @service_worker("prepare-reset", "Reading which table maps run")
    def _prepare(self, session: Session, snapshot: PowerPlatformSnapshot) -> None:
        from dwtui.services.linking import running_maps

        self.post_message(ResetPrepared(running_maps(session, snapshot)))

    @on(ResetPrepared)
    def _prepared(self, message: ResetPrepared) -> None:
        state = self._state
        plan = reset_plan(state.environment, state.snapshot) if state is not None else None
        if state is None or plan is None:
            return
        session, environment, snapshot = state.session, state.environment, state.snapshot

        def decided(decision: ResetDecision | None) -> None:
            if decision is not None:
                self.post_message(ProgressNote("Resetting the dual-write connection..."))
                self._reset(session, environment, snapshot, decision.force)

        from dwtui.tui.flows.reset.dialog import ResetScreen
        self.app.push_screen(ResetScreen(environment.name, plan, message.running_maps), decided)

    @service_worker("reset", "Resetting the dual-write connection")
    def _reset(
        self, session: Session, environment: LcsEnvironment, snapshot: PowerPlatformSnapshot, force: bool
    ) -> None:
        from dwtui.services.linking import reset_connection

        self.post_message(ResetFinished(reset_connection(session, environment, snapshot, force)))

    @on(ResetFinished)
    def _finished(self, message: ResetFinished) -> None:
        plan = message.result.plan
        text = (
            f"Reset dual-write connection{' (force)' if message.result.forced else ''}: done. Dual-write "
            f"now uses {plan.target_dataverse_name or plan.target_dataverse_url}. Apply the solutions and "
            "maps again."
        )
        self.post_message(ProgressNote(text))
        self.notify(text, title=TITLE, timeout=10)
        self.post_message(ReadAgain())
