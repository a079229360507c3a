"""A sliding-window limit per key: at most N calls in any window of W seconds (LCS: 6 per project per minute).

A call counts from the moment it is sent until W seconds after its answer arrived. The service counts
it from when it received it, which lies between the two, so a call sent once an earlier one's
window has passed is never the service's N+1th, whatever the network's delays: counting from the
send instead could let a slow first answer and a fast seventh call meet within the service's
window. The price is one round trip per window.

`slot(key)` waits for room (paced callers: the fleet); `counted(key)` never waits but takes its
place in the window (callers that would rather be answered 429 than wait, such as the main
screen's one-environment read), so the paced ones leave room for them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

from dwtui.domain.models import Fault
from dwtui.services.errors import ServiceError


class SlidingWindowLimiter:
    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_wait: Callable[[str, float], None] | None = None,
        service: str = "",
    ) -> None:
        if limit < 1 or not window > 0:
            raise ValueError(f"a limit needs at least one call per window, not {limit} per {window} s")
        self.limit = limit
        self.window = window
        self.service = service
        self._clock = clock
        self._on_wait = on_wait
        self._changed = threading.Condition()
        self._answered: dict[str, deque[float]] = {}  # answer times still inside their window
        self._in_flight: dict[str, int] = {}
        self._closed = False

    def _prune(self, key: str, now: float) -> deque[float]:
        answered = self._answered.setdefault(key, deque())
        while answered and answered[0] <= now - self.window:
            answered.popleft()
        return answered

    def _used(self, key: str, now: float) -> int:
        return len(self._prune(key, now)) + self._in_flight.get(key, 0)

    def wait_needed(self, key: str) -> float | None:
        """Seconds until `key` has room (0.0: now); None when only a call under way can make room."""
        with self._changed:
            now = self._clock()
            if self._used(key, now) < self.limit:
                return 0.0
            answered = self._answered[key]
            return answered[0] + self.window - now if answered else None

    @contextlib.contextmanager
    def slot(self, key: str, cancel: threading.Event | None = None) -> Iterator[None]:
        """Wait for room, then hold a place for the call made inside the block.

        A set `cancel` ends the wait with a `cancelled` fault once wake() is called.
        """
        with self._changed:
            announced = False
            while True:
                if self._closed or (cancel is not None and cancel.is_set()):
                    why = "dwtui is closing" if self._closed else "the read was stopped"
                    raise ServiceError(Fault(self.service, f"stopped: {why}", "cancelled"))
                now = self._clock()
                if self._used(key, now) < self.limit:
                    break
                answered = self._answered[key]
                timeout = answered[0] + self.window - now if answered else None
                if not announced and self._on_wait is not None and timeout is not None:
                    announced = True  # once per wait: the rest of it is the same wait
                    self._on_wait(key, timeout)
                self._changed.wait(timeout)
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            yield
        finally:
            self._done(key)

    @contextlib.contextmanager
    def counted(self, key: str) -> Iterator[None]:
        """Count the call made inside the block without waiting for room."""
        with self._changed:
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            yield
        finally:
            self._done(key)

    def _done(self, key: str) -> None:
        with self._changed:
            self._in_flight[key] -= 1
            self._prune(key, self._clock()).append(self._clock())
            self._changed.notify_all()

    def wake(self) -> None:
        """Every waiting slot() looks at its `cancel` again."""
        with self._changed:
            self._changed.notify_all()

    def close(self) -> None:
        """Every wait ends with a `cancelled` fault (the app is closing or the read was stopped)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
