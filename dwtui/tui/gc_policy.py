"""When Python's full garbage collections run while dwtui is open: in quiet moments, not mid-update.

A full (generation 2) collection stops every thread for as long as it takes to scan every tracked
object: 60 to 200 ms here, measured by benchmarks/event_loop_stall.py while an install reports
progress many times a second. Python starts one whenever enough objects have survived two young
collections, which is exactly what a busy screen makes (drawn lines kept in caches for a while).

So, once the screen has been read the first time:
- what is loaded by then (Textual, MSAL, httpx, the simulator, the page) is frozen: it lives as long
  as the app, and full collections stop scanning it;
- automatic full collections are off; young collections (cheap) still run as usual;
- a full collection that Python would have started is owed, and runs in the event loop once no young
  collection has been needed for QUIET_SECONDS (nothing is being made: nobody is waiting for the
  screen), or after MAX_OWED_SECONDS of constant activity, so cyclic garbage never piles up for long.

Nothing wakes the app while nothing is owed: an idle app has no timer here.

Before each of those collections, Textual's own method caches that are keyed by the object they
belong to are emptied (`release_render_caches`): a StylesCache (every widget's drawn lines) and the
colour filter stay alive in them after their widget or theme is gone, up to 1,024 of each, which made
a working day's memory grow by a fifth (benchmarks/soak.py). Each is a cheap colour computation,
made again on the next frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

QUIET_SECONDS = 1.0
MAX_OWED_SECONDS = 60.0
# Python's own trigger for a full collection: this many generation-1 collections since the last.
FULL_AFTER_YOUNG = 10
NEVER = 2**30  # a generation-2 threshold no count reaches


def release_render_caches() -> None:
    """Empty Textual's lru caches on methods, whose keys hold the instance (and all it drew)."""
    # Private to Textual (pinned in pyproject.toml); should one move, there is nothing to release.
    with contextlib.suppress(ImportError, AttributeError):
        from textual._styles_cache import StylesCache

        StylesCache.get_inner_outer.cache_clear()
    with contextlib.suppress(ImportError, AttributeError):
        from textual.filter import ANSIToTruecolor

        ANSIToTruecolor.truecolor_style.cache_clear()


@dataclass
class CollectorStats:
    """What the collector did, for the benchmarks."""

    full_collections: int = 0
    longest_ms: float = 0.0
    durations_ms: list[float] = field(default_factory=list)


class IdleCollector:
    """Runs owed full collections in quiet moments of one event loop; `stop` gives Python its own back."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        collect: Callable[[], Any] = lambda: gc.collect(2),
        release: Callable[[], None] = release_render_caches,
        quiet_seconds: float = QUIET_SECONDS,
        max_owed_seconds: float = MAX_OWED_SECONDS,
    ) -> None:
        self._clock = clock
        self._collect = collect
        self._release = release
        self._quiet = quiet_seconds
        self._max_owed = max_owed_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._saved_threshold: tuple[int, int, int] | None = None
        self._young_since_full = 0
        self._last_young = 0.0
        self._owed_since: float | None = None
        self._check_pending = False
        self._timer: asyncio.TimerHandle | None = None
        self._lock = threading.RLock()  # a collection can start inside a block that holds it
        self.stats = CollectorStats()

    @property
    def running(self) -> bool:
        return self._loop is not None

    @property
    def owed(self) -> bool:
        return self._owed_since is not None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is not None:
            return
        self._loop = loop
        gc.collect()
        gc.freeze()
        threshold = gc.get_threshold()
        self._saved_threshold = (threshold[0], threshold[1], threshold[2])
        gc.set_threshold(threshold[0], threshold[1], NEVER)
        self._last_young = self._clock()
        gc.callbacks.append(self._on_gc)

    def stop(self) -> None:
        if self._loop is None:
            return
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._saved_threshold is not None:
            gc.set_threshold(*self._saved_threshold)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        # What was frozen goes back to the collector, so another app in this process (the tests)
        # starts from Python's usual state.
        gc.unfreeze()
        self._loop = None

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        # Called by the interpreter in whichever thread allocated: no locks held long, little made.
        if phase != "stop":
            return
        with self._lock:
            self._last_young = self._clock()
            if info["generation"] == 1:
                self._young_since_full += 1
            if self._young_since_full < FULL_AFTER_YOUNG or self._check_pending:
                return
            if self._owed_since is None:
                self._owed_since = self._last_young
            self._check_pending = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.check_owed)

    def check_owed(self) -> None:
        """Runs an owed full collection if the loop has been quiet long enough (the loop's timer calls
        this; so can a test with a moved clock); otherwise looks again when it could be."""
        if self._timer is not None:
            self._timer.cancel()  # harmless when it is the timer that called
            self._timer = None
        if self._loop is None:
            return
        now = self._clock()
        with self._lock:
            owed_since = self._owed_since
            quiet_for = now - self._last_young
        if owed_since is None:
            self._check_pending = False
            return
        if quiet_for >= self._quiet or now - owed_since >= self._max_owed:
            self.collect_now()
            return
        wait = min(self._quiet - quiet_for, self._max_owed - (now - owed_since))
        self._timer = self._loop.call_later(max(wait, 0.01), self.check_owed)

    def collect_now(self) -> None:
        started = time.perf_counter()
        self._release()
        self._collect()
        took = (time.perf_counter() - started) * 1000
        with self._lock:
            self._young_since_full = 0
            self._owed_since = None
            self._check_pending = False
        self.stats.full_collections += 1
        self.stats.longest_ms = max(self.stats.longest_ms, took)
        self.stats.durations_ms.append(took)
        del self.stats.durations_ms[:-100]
