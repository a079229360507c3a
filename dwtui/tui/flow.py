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

from dwtui.services.errors import SignInRequired
from dwtui.tui.formatting import fault_of
from dwtui.tui.messages import FlowFailed, SignInNeeded


class Flow(Widget):
    DEFAULT_CSS = "Flow { display: none; }"

    WORKER_TITLES: ClassVar[dict[str, str]] = {}
    """Worker name -> the title its failure is shown under; workers not named here fail silently."""
    READ_AGAIN_AFTER: ClassVar[frozenset[str]] = frozenset()
    """Workers after whose failure Power Platform Integration is read again (it may have changed)."""

    def worker_running(self, name: str) -> bool:
        return any(worker.name == name and not worker.is_finished for worker in self.workers)

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
