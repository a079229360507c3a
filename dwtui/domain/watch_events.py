"""What a watcher reports while it follows a long operation: pure data a front end turns into text.

services.watch produces these; the TUI and the CLI show them. They live in the domain so a front
end can know them without importing the HTTP stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from dwtui.domain.errors import Explanation
from dwtui.domain.models import Fault
from dwtui.domain.operations import OperationRecord, OperationStatus, ProgressEstimate


@dataclass(frozen=True, slots=True)
class Polled:
    record: OperationRecord
    status: OperationStatus
    message: str
    percent: float | None
    estimate: ProgressEstimate
    elapsed: float  # seconds since the operation was started
    next_poll_in: float  # seconds


@dataclass(frozen=True, slots=True)
class StateChanged:
    old: OperationStatus
    new: OperationStatus
    message: str
    at: float


@dataclass(frozen=True, slots=True)
class TransientFault:
    fault: Fault
    retry_in: float
    streak: int  # failed polls in a row, this one included


@dataclass(frozen=True, slots=True)
class SignInNeeded:
    message: str
    retry_in: float


@dataclass(frozen=True, slots=True)
class Finished:
    record: OperationRecord
    status: OperationStatus
    fault: Fault | None = None  # with the service's code when it failed
    explanation: Explanation | None = None  # what the code means and the documented remedy


@dataclass(frozen=True, slots=True)
class GaveUp:
    """The watcher stopped asking; the operation itself may still be running (resume later)."""

    record: OperationRecord
    fault: Fault
    streak: int


WatchEvent = Polled | StateChanged | TransientFault | SignInNeeded | Finished | GaveUp
