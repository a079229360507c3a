"""The one kind of worker dwtui runs for service calls, and how a component keeps track of its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import work
from textual.worker import Worker


def service_worker(name: str, description: str) -> Callable[[Callable[..., None]], Any]:
    """A thread worker for blocking service calls (httpx, MSAL, keyring, pyodbc).

    One at a time per name on its component (a new call cancels the old one's result), and failures
    are not raised in the app: they arrive as Worker.StateChanged on the component that started the
    worker, which routes them by this name.
    """
    return work(
        thread=True, exclusive=True, exit_on_error=False, group=name, name=name, description=description
    )


class LatestWorkers:
    """The newest worker of each name a component started, so answers of superseded ones are dropped."""

    def __init__(self) -> None:
        self._latest: dict[str, Worker[Any]] = {}

    def track(self, worker: Worker[Any]) -> None:
        self._latest[worker.name] = worker

    def is_current(self, worker: Worker[Any]) -> bool:
        """False for a worker that a later call of the same name superseded."""
        return self._latest.get(worker.name) is worker

    def running(self, name: str) -> bool:
        worker = self._latest.get(name)
        return worker is not None and not worker.is_finished
