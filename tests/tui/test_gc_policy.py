"""Full garbage collections wait for a quiet moment while dwtui is open (issue 13), and stop() gives
Python its own policy back."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from dwtui.tui.gc_policy import FULL_AFTER_YOUNG, MAX_OWED_SECONDS, NEVER, QUIET_SECONDS, IdleCollector
from tests.conftest import SimFactory
from tests.tui.support import build_app, ready, settle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def collected() -> list[float]:
    return []


@pytest.fixture
def collector(clock: Clock, collected: list[float]) -> Iterator[IdleCollector]:
    # Only the test's own collections count: none started by the interpreter in between.
    gc.disable()
    made = IdleCollector(clock=clock, collect=lambda: collected.append(clock.now))
    try:
        yield made
    finally:
        made.stop()
        gc.enable()


async def owe_a_full_collection(collector: IdleCollector) -> None:
    """As many generation-1 collections as make Python start a full one, then a turn of the loop."""
    for _ in range(FULL_AFTER_YOUNG):
        gc.collect(1)
    await asyncio.sleep(0)  # the loop runs the check the collector's callback asked for


async def test_start_switches_automatic_full_collections_off_and_stop_restores_them(
    collector: IdleCollector,
) -> None:
    before = gc.get_threshold()
    collector.start(asyncio.get_running_loop())
    assert gc.get_threshold() == (before[0], before[1], NEVER)
    assert gc.get_freeze_count() > 0
    assert collector._on_gc in gc.callbacks
    collector.stop()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert collector._on_gc not in gc.callbacks
    assert not collector.running


async def test_an_owed_full_collection_waits_until_no_young_collection_for_the_quiet_time(
    collector: IdleCollector, clock: Clock, collected: list[float]
) -> None:
    collector.start(asyncio.get_running_loop())
    await owe_a_full_collection(collector)
    assert collector.owed and not collected
    clock.now += QUIET_SECONDS / 2
    collector.check_owed()
    assert not collected  # still busy
    clock.now += QUIET_SECONDS
    collector.check_owed()
    assert collected == [clock.now]
    assert not collector.owed
    assert collector.stats.full_collections == 1


async def test_constant_activity_delays_a_full_collection_no_longer_than_the_maximum(
    collector: IdleCollector, clock: Clock, collected: list[float]
) -> None:
    collector.start(asyncio.get_running_loop())
    await owe_a_full_collection(collector)
    owed_at = clock.now
    while clock.now - owed_at < MAX_OWED_SECONDS:
        clock.now += QUIET_SECONDS / 2
        gc.collect(0)  # something is always being made: never quiet
        collector.check_owed()
        if collected:
            break
    assert collected == [owed_at + MAX_OWED_SECONDS]


async def test_nothing_is_owed_and_no_timer_runs_before_python_would_have_collected(
    collector: IdleCollector, collected: list[float]
) -> None:
    collector.start(asyncio.get_running_loop())
    for _ in range(FULL_AFTER_YOUNG - 1):
        gc.collect(1)
    await asyncio.sleep(0)
    assert not collector.owed
    assert collector._timer is None
    assert not collected


async def test_the_page_hands_collections_to_the_collector_once_read_and_back_when_the_app_ends(
    sim_factory: SimFactory,
) -> None:
    before = gc.get_threshold()
    app = build_app(sim_factory("happy"))
    async with app.run_test() as pilot:
        await settle(pilot, ready(app))
        assert app.page.collector.running
        assert gc.get_threshold()[2] == NEVER
    assert not app.page.collector.running
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_a_removed_widget_s_drawn_lines_are_let_go_at_the_next_collection() -> None:
    """Textual's colour cache kept every removed widget's StylesCache (and its lines) alive."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    from dwtui.tui.gc_policy import release_render_caches

    class Panes(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("kept")

    app = Panes()
    async with app.run_test(size=(40, 6)) as pilot:
        gone = Static("drawn once, then removed")
        await app.mount(gone)
        await pilot.pause()
        widget, cache = weakref.ref(gone), weakref.ref(gone._styles_cache)
        await gone.remove()
        del gone
        await app.mount(Static("the next frame leaves the removed widget out"))
        await pilot.pause()
        gc.collect()
        assert widget() is None
        assert cache() is not None  # what Textual does by itself
        release_render_caches()
        gc.collect()
        assert cache() is None


async def test_each_owed_collection_releases_the_render_caches_first(
    clock: Clock, collected: list[float]
) -> None:
    order: list[str] = []
    made = IdleCollector(
        clock=clock, collect=lambda: order.append("collect"), release=lambda: order.append("release")
    )
    made.collect_now()
    assert order == ["release", "collect"]
