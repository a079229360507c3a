"""The simulator's request log keeps the most recent requests only: `dwtui --demo` left open all day
polls thousands of times (benchmarks/soak.py)."""

from __future__ import annotations

from dwtui.sim.scenarios import build_world
from dwtui.sim.world import REQUEST_LOG_LIMIT


def test_the_request_log_keeps_the_most_recent_requests_up_to_its_limit() -> None:
    world = build_world("happy")
    for number in range(REQUEST_LOG_LIMIT + 5):
        world.log_request({"number": number})
    requests = world.requests()
    assert len(requests) == REQUEST_LOG_LIMIT
    assert requests[0]["number"] == 5
    assert requests[-1]["number"] == REQUEST_LOG_LIMIT + 4
    world.reset_log()
    assert world.requests() == []
