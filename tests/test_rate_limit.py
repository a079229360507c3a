"""The sliding-window limiter: never more than N calls per key in any window, counted to each answer."""

from __future__ import annotations

import random
import threading
import time

import pytest

from dwtui.services.errors import ServiceError
from dwtui.services.rate_limit import SlidingWindowLimiter

WINDOW = 0.3


def busiest(intervals: list[tuple[float, float]], window: float) -> int:
    """The most calls whose [sent, answered + window) spans overlap at one moment."""
    starts = [(sent, 1) for sent, _ in intervals]
    ends = [(answered + window, -1) for _, answered in intervals]
    level = most = 0
    for _, step in sorted(starts + ends):  # an end at the same moment as a start comes first (-1 < 1)
        level += step
        most = max(most, level)
    return most


def test_many_threads_never_put_more_than_the_limit_in_a_window() -> None:
    limiter = SlidingWindowLimiter(6, WINDOW)
    calls: dict[str, list[tuple[float, float]]] = {"p1": [], "p2": []}
    lock = threading.Lock()
    jitter = random.Random(12)

    def call(project: str, latency: float) -> None:
        with limiter.slot(project):
            sent = time.monotonic()
            time.sleep(latency)  # a slow answer occupies the window longer
            answered = time.monotonic()
        with lock:
            calls[project].append((sent, answered))

    threads = [
        threading.Thread(target=call, args=(project, jitter.uniform(0.0, 0.05)))
        for project in ("p1", "p2")
        for _ in range(15)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    took = time.monotonic() - started
    for project in calls:
        assert len(calls[project]) == 15
        assert busiest(calls[project], WINDOW) <= 6, project
    # 15 calls per project need three windows, the projects side by side: not 30 calls in a row.
    assert 2 * WINDOW <= took < 6 * WINDOW


def test_the_seventh_call_waits_for_the_first_answer_plus_the_window() -> None:
    waits: list[tuple[str, float]] = []
    limiter = SlidingWindowLimiter(6, WINDOW, on_wait=lambda key, seconds: waits.append((key, seconds)))
    answered = []
    for _ in range(6):
        with limiter.slot("1234567"):
            pass
        answered.append(time.monotonic())
    assert limiter.wait_needed("1234567") == pytest.approx(WINDOW, abs=0.05)
    assert limiter.wait_needed("7654321") == 0.0  # another project has its own window
    with limiter.slot("1234567"):
        sent = time.monotonic()
    assert sent >= answered[0] + WINDOW
    assert len(waits) == 1 and waits[0][0] == "1234567"
    assert 0 < waits[0][1] <= WINDOW


def test_counted_calls_take_room_without_waiting() -> None:
    limiter = SlidingWindowLimiter(2, 5.0)
    for _ in range(3):
        with limiter.counted("p"):  # the main screen's read is never held back...
            pass
    wait = limiter.wait_needed("p")
    assert wait is not None and wait > 4.0  # ...but a paced call leaves room for it


def test_a_call_under_way_holds_its_place_until_it_is_answered() -> None:
    limiter = SlidingWindowLimiter(1, WINDOW)
    entered = threading.Event()
    release = threading.Event()

    def slow() -> None:
        with limiter.slot("p"):
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=slow)
    thread.start()
    entered.wait(5)
    assert limiter.wait_needed("p") is None  # only the answer can make room
    release.set()
    thread.join(5)
    assert limiter.wait_needed("p") == pytest.approx(WINDOW, abs=0.05)


def test_a_cancelled_wait_ends_at_once_with_a_cancelled_fault() -> None:
    limiter = SlidingWindowLimiter(1, 60.0, service="LCS API")
    with limiter.slot("p"):
        pass
    cancel = threading.Event()
    outcome: list[BaseException | None] = []

    def waiting() -> None:
        try:
            with limiter.slot("p", cancel):
                outcome.append(None)
        except ServiceError as error:
            outcome.append(error)

    thread = threading.Thread(target=waiting)
    thread.start()
    time.sleep(0.05)
    started = time.monotonic()
    cancel.set()
    limiter.wake()
    thread.join(5)
    assert time.monotonic() - started < 1.0
    error = outcome[0]
    assert isinstance(error, ServiceError) and error.fault.code == "cancelled"
    assert error.fault.service == "LCS API"


def test_closing_ends_every_wait() -> None:
    limiter = SlidingWindowLimiter(1, 60.0)
    with limiter.slot("p"):
        pass
    limiter.close()
    with pytest.raises(ServiceError, match="closing"), limiter.slot("p"):
        pass


@pytest.mark.parametrize(("limit", "window"), [(0, 1.0), (1, 0.0), (1, float("nan"))])
def test_a_limit_that_allows_nothing_is_refused(limit: int, window: float) -> None:
    with pytest.raises(ValueError):
        SlidingWindowLimiter(limit, window)
