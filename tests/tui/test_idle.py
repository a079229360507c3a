"""Idle is idle (issue 13): with nothing running, no Textual timer is left running to wake the app.

Structural, not timed: each test looks at which timers are running once the app has settled. Also
what keeps memory flat over a working day: the Activity widget's bound. The figures (idle CPU,
memory over a working day) are benchmarks/soak.py's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.dom import DOMNode
from textual.screen import Screen
from textual.timer import Timer

from dwtui.tui.app import DwtuiApp
from dwtui.tui.flows.progress.pane import ProgressPane
from tests.conftest import SimFactory
from tests.tui.fleet_support import fleet_app, fleet_sim, open_fleet
from tests.tui.operations_support import configure_and_ok, drain, fast_sim, operations_app, progress
from tests.tui.support import FIXED_CLOCK, SIZE, ready, settle


def screens(app: App[Any]) -> list[Screen[Any]]:
    """The screens shown and the ones installed to be shown again (they keep their timers)."""
    found: list[Screen[Any]] = list(app.screen_stack)
    found += [screen for screen in app._installed_screens.values() if isinstance(screen, Screen)]
    return list(dict.fromkeys(found))


def running_timers(app: App[Any]) -> list[tuple[DOMNode, Timer]]:
    """Every timer of the app, its screens and their widgets that is started and not paused."""
    nodes: list[DOMNode] = [app]
    for screen in screens(app):
        nodes += screen.walk_children(with_self=True)
    return [
        (node, timer)
        for node in dict.fromkeys(nodes)
        for timer in list(node._timers)
        if timer._task is not None and not timer._task.done() and timer._active.is_set()
    ]


def named(timers: list[tuple[DOMNode, Timer]]) -> list[str]:
    return [f"{node!r}: {timer.name} every {timer._interval} s" for node, timer in timers]


async def test_the_page_at_rest_runs_no_timer(sim_factory: SimFactory) -> None:
    # The Progress pane's bar included: Textual's ProgressBar redraws itself every second from its
    # mount on, for an ETA the pane does not show.
    sim = fast_sim(sim_factory, "happy")
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await drain(pilot)
        await pilot.pause()
        assert named(running_timers(app)) == []
        assert not app.animator._animations


async def test_after_an_install_the_progress_ticker_is_stopped(sim_factory: SimFactory) -> None:
    sim = fast_sim(sim_factory, "happy")
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await configure_and_ok(pilot)
        pane = progress(app)
        await settle(pilot, lambda: pane.watching)
        ticking = [node for node, _ in running_timers(app) if isinstance(node, ProgressPane)]
        assert ticking, "the elapsed time moves on while the install is watched"
        await settle(pilot, lambda: pane.outcome is not None and not pane.watching)
        await drain(pilot)
        await pilot.pause()
        assert pane.outcome is not None and pane.outcome.succeeded
        assert named(running_timers(app)) == []


async def test_the_fleet_ticks_only_while_it_is_shown(sim_factory: SimFactory) -> None:
    from dwtui.tui.fleet.screen import TICK_SECONDS, FleetScreen

    assert TICK_SECONDS >= 1.0
    sim = fleet_sim(sim_factory)
    app = fleet_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        fleet = await open_fleet(pilot)
        ticking = running_timers(app)
        assert [node for node, _ in ticking] == [fleet], named(ticking)
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, FleetScreen))
        await drain(pilot)
        await pilot.pause()
        # Still installed, to be shown again as it was; its ages move on when it is.
        assert fleet in screens(app)
        assert named(running_timers(app)) == []
        await pilot.press("F")
        await settle(pilot, lambda: app.screen is fleet)
        assert [node for node, _ in running_timers(app)] == [fleet]


async def test_the_activity_widget_keeps_its_bound_while_the_file_keeps_every_row(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    # A working day records thousands of calls: the widget's rows leave it, the audit trail keeps them.
    from dwtui.services.activity import ActivityEntry, ActivityLog
    from dwtui.tui.widgets.activity_lines import ActivityLines
    from dwtui.tui.widgets.activity_pane import MAX_ROWS
    from tests.helpers import make_session

    trail = tmp_path / "activity.jsonl"
    sim = fast_sim(sim_factory, "happy")
    log = ActivityLog(trail)
    app = DwtuiApp(
        lambda: make_session(sim, activity=log, sign_in=True),
        profile_name="sim",
        clock=lambda: FIXED_CLOCK,
        show_timings=False,
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await drain(pilot)
        for number in range(MAX_ROWS + 50):
            log.record(ActivityEntry(at=FIXED_CLOCK, kind="command", summary=f"call {number}"))
        pane = app.page.activity_pane
        await settle(pilot, lambda: pane.entries[-1].summary == f"call {MAX_ROWS + 49}")
        table = pane.query_one(ActivityLines)
        assert table.row_count == len(pane.entries) == MAX_ROWS
        assert table.row_text(MAX_ROWS - 1).endswith(f"call {MAX_ROWS + 49}")
        recorded = len(trail.read_text(encoding="utf-8").splitlines())
        assert recorded >= MAX_ROWS + 50 + 1  # the app's own calls and every one of these
