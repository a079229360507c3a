"""The base of every flow: a controller on its page that owns the flow's workers, dialogs and messages.

A flow shows nothing itself (its dialogs are screens, its results go to the panes through
messages), so it takes no room; the page composes one of each and calls it when a key is pressed.
Flows never import each other: what one flow tells another crosses the page as a message from
dwtui.tui.messages.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from dwtui.domain.assessment import Action
from dwtui.services.errors import SignInRequired
from dwtui.tui.formatting import fault_of
from dwtui.tui.messages import FlowFailed, SignInNeeded
from dwtui.tui.page_state import PageState, refusal


class Flow(Widget):
    DEFAULT_CSS = "Flow { display: none; }"

    WORKER_TITLES: ClassVar[dict[str, str]] = {}
    """Worker name -> the title its failure is shown under; workers not named here fail silently."""
    READ_AGAIN_AFTER: ClassVar[frozenset[str]] = frozenset()
    """Workers after whose failure Power Platform Integration is read again (it may have changed)."""

    def worker_running(self, name: str) -> bool:
        return any(worker.name == name and not worker.is_finished for worker in self.workers)

    def startable(
        self, state: PageState | None, action: Action, title: str, *, busy: str = "", worker: str = ""
    ) -> PageState | None:
        """The state to start `action` on, or None after telling the person why it cannot start.

        `busy` says that it is under way already (when it is watched, or its `worker` runs).
        """
        if busy and worker and self.worker_running(worker):
            self.notify(busy, title=title)
            return None
        why = refusal(state, action, title)
        if why or state is None:
            self.notify(why, severity="warning")
            return None
        return state

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR or worker.name not in self.WORKER_TITLES:
            return
        if isinstance(worker.error, SignInRequired):
            self.post_message(SignInNeeded())
        self.post_message(
            FlowFailed(
                self.WORKER_TITLES[worker.name],
                fault_of(worker.error),
                read_again=worker.name in self.READ_AGAIN_AFTER,
            )
        )
