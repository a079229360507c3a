"""Snapshots of the Dual-write application flow: the terms, progress mid-way, success and failure.

Deterministic by construction: the simulator on the fixed port with its clock stopped (the
operation stays in one stage until the test moves it and presses p), the operation store on the
fixed clock and the app 12 minutes later (so "elapsed" reads 12 min and the next poll is a minute
away), the watcher at real-time speed, notifications cleared.
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
from tests.tui.support import FIXED_CLOCK, SIZE, SNAPSHOT_PORT, ready, settle, settle_screen

SnapCompare = Callable[..., bool]
LATER = FIXED_CLOCK + 720.0


def snapshot_app(sim: SimServer) -> DwtuiApp:
    return operations_app(sim, clock=lambda: LATER, watch_speed=1.0, store_clock=lambda: FIXED_CLOCK)


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
    sim: SimServer, frozen: FrozenClock, fraction: float, done: Callable[[DwtuiApp], bool]
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: DwtuiApp = pilot.app  # type: ignore[assignment]
        # A millisecond past the mark: epoch-sized floats can otherwise land just under it (29%).
        frozen.value += sim.world.scaled(sim.world.install_seconds) * fraction + 0.001
        await pilot.press("p")
        await wait_for(pilot, lambda: done(app))
        if not progress(app).watching:
            await drain(pilot)
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()

    return run_before


def test_terms_modal(snap_compare: SnapCompare, sim_factory: SimFactory) -> None:
    sim = sim_factory("happy", port=SNAPSHOT_PORT, device_approve_after=0)
    app = snapshot_app(sim)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        await pilot.press("d")
        await settle_screen(pilot, TermsScreen)
        await drain(pilot)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


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

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_add_dataverse_dialog(snap_compare: SnapCompare, sim_factory: SimFactory) -> None:
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

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _snapshot_after(
    snap_compare: SnapCompare, sim: SimServer, fraction: float, done: Callable[[DwtuiApp], bool]
) -> bool:
    app = snapshot_app(sim)
    frozen_box: list[FrozenClock] = []

    async def run_before(pilot: Pilot[Any]) -> None:
        frozen_box.append(await start_install(pilot, sim))
        await move_and_poll(sim, frozen_box[0], fraction, done)(pilot)

    return snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_install_progress_mid_way(snap_compare: SnapCompare, sim_factory: SimFactory) -> None:
    sim = sim_factory("happy", port=SNAPSHOT_PORT, device_approve_after=0)

    def mid_way(app: DwtuiApp) -> bool:
        pane = progress(app)
        return (
            pane.record is not None
            and pane.record.message == "Importing solutions"
            and not pane.note
        )

    assert _snapshot_after(snap_compare, sim, 0.3, mid_way)


def test_install_success(snap_compare: SnapCompare, sim_factory: SimFactory) -> None:
    sim = sim_factory("happy", port=SNAPSHOT_PORT, device_approve_after=0)

    def succeeded(app: DwtuiApp) -> bool:
        outcome = progress(app).outcome
        return outcome is not None and outcome.succeeded

    assert _snapshot_after(snap_compare, sim, 1.0, succeeded)


def test_install_failure(snap_compare: SnapCompare, sim_factory: SimFactory) -> None:
    sim = sim_factory("install-failed", port=SNAPSHOT_PORT, device_approve_after=0)

    def failed(app: DwtuiApp) -> bool:
        outcome = progress(app).outcome
        return outcome is not None and not outcome.succeeded

    assert _snapshot_after(snap_compare, sim, 0.5, failed)
