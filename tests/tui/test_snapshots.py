"""Snapshot tests of the main screen (happy at 80x24, 120x36 and 200x60; mismatch and no Dataverse at
80x24), the sign-in modal, help, the environment picker and the error details at 80x24 and 120x36.

Deterministic by construction: the simulator on a fixed port (so every URL and the QR code are
the same), a fixed clock for "read at" and the sign-in countdown, no Activity times or durations,
exactly one pending device-code poll (device_approve_after=0), notifications cleared.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from dwtui.tui.app import DwtuiApp
from dwtui.tui.environment_details.picker import EnvironmentPickerScreen
from dwtui.tui.screens.error_details import ErrorDetailsScreen
from dwtui.tui.screens.sign_in import SignInScreen
from tests.conftest import SimFactory
from tests.tui.operations_support import wait_for
from tests.tui.support import (
    LARGE,
    MEDIUM,
    NEVER,
    SMALL,
    SNAPSHOT_PORT,
    SNAPSHOT_SIZES,
    build_app,
    ready,
    settle,
    settle_screen,
)

SnapCompare = Callable[..., bool]


def when_ready(app: DwtuiApp, *keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        if keys:
            await pilot.press(*keys)
            await pilot.pause()
        app.clear_notifications()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize(
    ("scenario", "size"),
    [
        pytest.param("happy", SMALL, id="happy-80x24"),
        pytest.param("happy", MEDIUM, id="happy-120x36"),
        pytest.param("happy", LARGE, id="happy-200x60"),
        # The page's other states at 80x24, where their layout is compact.
        pytest.param("mismatch", SMALL, id="mismatch-80x24"),
        pytest.param("no-dataverse", SMALL, id="no-dataverse-80x24"),
    ],
)
def test_main_screen(
    snap_compare: SnapCompare, sim_factory: SimFactory, scenario: str, size: tuple[int, int]
) -> None:
    sim = sim_factory(scenario, port=SNAPSHOT_PORT, device_approve_after=0)
    app = build_app(sim)
    assert snap_compare(app, terminal_size=size, run_before=when_ready(app))


@SNAPSHOT_SIZES
def test_sign_in_modal(snap_compare: SnapCompare, sim_factory: SimFactory, size: tuple[int, int]) -> None:
    sim = sim_factory("happy", port=SNAPSHOT_PORT, device_approve_after=NEVER, device_code_lifetime=900.0)
    # One poll, answered "pending", then none for ten minutes: the Activity pane beside the dialog
    # holds the same calls in every run.
    sim.world.device_poll_interval = 600
    app = build_app(sim, signed_in=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle_screen(pilot, SignInScreen)
        activity = app.page.activity_pane
        await wait_for(pilot, lambda: any(entry.status == 400 for entry in activity.entries))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SNAPSHOT_SIZES
def test_help_screen(snap_compare: SnapCompare, sim_factory: SimFactory, size: tuple[int, int]) -> None:
    sim = sim_factory("happy", port=SNAPSHOT_PORT, device_approve_after=0)
    app = build_app(sim)
    assert snap_compare(app, terminal_size=size, run_before=when_ready(app, "question_mark"))


@SNAPSHOT_SIZES
def test_environment_picker(
    snap_compare: SnapCompare, sim_factory: SimFactory, size: tuple[int, int]
) -> None:
    sim = sim_factory("happy", port=SNAPSHOT_PORT, device_approve_after=0)
    app = build_app(sim)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        await pilot.press("e")
        await settle_screen(pilot, EnvironmentPickerScreen)
        picker = app.screen
        assert isinstance(picker, EnvironmentPickerScreen)
        await settle(pilot, lambda: bool(picker.environments))
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SNAPSHOT_SIZES
def test_error_details(snap_compare: SnapCompare, sim_factory: SimFactory, size: tuple[int, int]) -> None:
    """The faults of a pane: no consent for the Power Platform API (code, meaning, remedy, URL)."""
    sim = sim_factory("no-consent-ppapi", port=SNAPSHOT_PORT, device_approve_after=0)
    app = build_app(sim)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        app.page.action_error_details()
        await settle_screen(pilot, ErrorDetailsScreen)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
