"""Snapshots of the Dual-write application flow: the terms, progress mid-way, success and failure
(at 80x24 and 120x36; the plan with optional packages and the failure at 120x36).

Deterministic by construction: the simulator on the fixed port with its clock stopped (the
operation stays in one stage until the test moves it and presses p); the app, its session and the
operation store share one scripted clock that the test moves by the same simulated time as the
simulator (so "elapsed" and the state changes' offsets agree, as a person would see them); the
watcher at real-time speed, so its own next poll is seconds away while the picture is taken;
notifications cleared.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from dwtui.sim.server import SimServer
from dwtui.tui.app import DwtuiApp
from dwtui.tui.flows.install.terms import TermsScreen
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from tests.conftest import SimFactory
from tests.tui.operations_support import FrozenClock, drain, freeze, operations_app, progress, wait_for
from tests.tui.support import (
    FIXED_CLOCK,
    MEDIUM,
    SNAPSHOT_PORT,
    SNAPSHOT_SIZES,
    ready,
    settle,
    settle_screen,
)

SnapCompare = Callable[..., bool]


def snapshot_app(sim: SimServer, clock: FrozenClock | None = None) -> DwtuiApp:
    shared = clock if clock is not None else FrozenClock(FIXED_CLOCK)
    return operations_app(sim, clock=shared, watch_speed=1.0, store_clock=shared, session_clock=shared)


async def start_install(pilot: Pilot[Any], sim: SimServer) -> FrozenClock:
    app = pilot.app
    await settle(pilot, ready(app))  # type: ignore[arg-type]
    frozen = freeze(sim)
    await pilot.press("d")
    await settle_screen(pilot, TermsScreen)
    await pilot.click("#terms-configure")
    await settle_screen(pilot, ConfirmChangeScreen)
    await pilot.press("y")

    def first_poll() -> bool:
        record = progress(app).record  # type: ignore[arg-type]
        return record is not None and record.last_polled_at is not None

    await wait_for(pilot, first_poll)
    return frozen


def move_and_poll(
    sim: SimServer,
    frozen: FrozenClock,
    fraction: float,
    done: Callable[[DwtuiApp], bool],
    app_clock: FrozenClock,
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: DwtuiApp = pilot.app  # type: ignore[assignment]
        # A millisecond past the mark: epoch-sized floats can otherwise land just under it (29%).
        frozen.value += sim.world.scaled(sim.world.install_seconds) * fraction + 0.001
        # The app sees the same simulated time go by (its watcher runs at speed 1).
        app_clock.value += sim.world.install_seconds * fraction
        await pilot.press("p")
        await wait_for(pilot, lambda: done(app))
        if not progress(app).watching:
            await drain(pilot)
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()

    return run_before


@SNAPSHOT_SIZES
def test_terms_modal(snap_compare: SnapCompare, sim_factory: SimFactory, size: tuple[int, int]) -> None:
    sim = sim_factory("happy", port=SNAPSHOT_PORT, device_approve_after=0)
    app = snapshot_app(sim)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        await pilot.press("d")
        await settle_screen(pilot, TermsScreen)
        await drain(pilot)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_package_plan_with_optional_packages(snap_compare: SnapCompare, sim_factory: SimFactory) -> None:
    """The Dual-write application dialog with Notes ticked: Finance is ticked with it, in the plan."""
    from textual.widgets import SelectionList

    sim = sim_factory("happy", port=SNAPSHOT_PORT, device_approve_after=0)
    app = snapshot_app(sim)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        await pilot.press("d")
        await settle_screen(pilot, TermsScreen)
        app.screen.query_one("#terms-packages", SelectionList).toggle("notes")
        await drain(pilot)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=MEDIUM, run_before=run_before)


@SNAPSHOT_SIZES
def test_add_dataverse_dialog(
    snap_compare: SnapCompare, sim_factory: SimFactory, size: tuple[int, int]
) -> None:
    from dwtui.tui.flows.dataverse.dialog import AddDataverseScreen

    sim = sim_factory("no-dataverse", port=SNAPSHOT_PORT, device_approve_after=0)
    app = snapshot_app(sim)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        await pilot.press("P")
        await settle_screen(pilot, AddDataverseScreen)
        await drain(pilot)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def _snapshot_after(
    snap_compare: SnapCompare,
    sim: SimServer,
    fraction: float,
    done: Callable[[DwtuiApp], bool],
    size: tuple[int, int] = MEDIUM,
) -> bool:
    clock = FrozenClock(FIXED_CLOCK)
    app = snapshot_app(sim, clock)
    frozen_box: list[FrozenClock] = []

    async def run_before(pilot: Pilot[Any]) -> None:
        frozen_box.append(await start_install(pilot, sim))
        await move_and_poll(sim, frozen_box[0], fraction, done, clock)(pilot)

    return snap_compare(app, terminal_size=size, run_before=run_before)


@SNAPSHOT_SIZES
def test_install_progress_mid_way(
    snap_compare: SnapCompare, sim_factory: SimFactory, size: tuple[int, int]
) -> None:
    sim = sim_factory("happy", port=SNAPSHOT_PORT, device_approve_after=0)

    def mid_way(app: DwtuiApp) -> bool:
        pane = progress(app)
        return (
            pane.record is not None
            and pane.record.message == "Importing solutions"
            and not pane.note
        )

    assert _snapshot_after(snap_compare, sim, 0.3, mid_way, size)


@SNAPSHOT_SIZES
def test_install_success(snap_compare: SnapCompare, sim_factory: SimFactory, size: tuple[int, int]) -> None:
    """Ended: Progress is narrow again and Activity shows every column."""
    sim = sim_factory("happy", port=SNAPSHOT_PORT, device_approve_after=0)

    def succeeded(app: DwtuiApp) -> bool:
        outcome = progress(app).outcome
        return outcome is not None and outcome.succeeded

    assert _snapshot_after(snap_compare, sim, 1.0, succeeded, size)


def test_install_failure(snap_compare: SnapCompare, sim_factory: SimFactory) -> None:
    sim = sim_factory("install-failed", port=SNAPSHOT_PORT, device_approve_after=0)

    def failed(app: DwtuiApp) -> bool:
        outcome = progress(app).outcome
        return outcome is not None and not outcome.succeeded

    assert _snapshot_after(snap_compare, sim, 0.5, failed)
