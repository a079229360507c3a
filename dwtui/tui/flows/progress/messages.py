"""Messages the watcher and the resume lookup post back to OperationWatch.

The watcher reports many times a second when the simulator runs fast: consecutive `Watched`
messages carrying a Polled event replace each other in the queue (can_replace), so the screen
draws the newest state instead of falling behind. State changes, faults and the end never coalesce.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from dwtui.domain.operations import OperationKind, OperationRecord
from dwtui.domain.watch_events import Polled, WatchEvent

if TYPE_CHECKING:
    from dwtui.services.install import Resumed


class Watched(Message):
    """One event of a watcher; `watch_id` ties it to the watcher that is still wanted."""

    def __init__(self, kind: OperationKind, watch_id: int, event: WatchEvent) -> None:
        super().__init__()
        self.kind = kind
        self.watch_id = watch_id
        self.event = event

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, Watched)
            and isinstance(message.event, Polled)
            and isinstance(self.event, Polled)
            and message.watch_id == self.watch_id
        )


class WatchEnded(Message):
    """The watcher thread returned (finished, gave up, or was told to stop)."""

    def __init__(self, kind: OperationKind, watch_id: int) -> None:
        super().__init__()
        self.kind = kind
        self.watch_id = watch_id


class OperationsResumed(Message):
    """What start-up (or a refresh) found in the operation store for the environment on screen."""

    def __init__(
        self,
        environment_id: str,
        install: Resumed,
        link: OperationRecord | None,
        last_link: OperationRecord | None,
        add_dataverse: OperationRecord | None = None,
    ) -> None:
        super().__init__()
        self.environment_id = environment_id
        self.install = install
        self.link = link
        self.last_link = last_link
        self.add_dataverse = add_dataverse
