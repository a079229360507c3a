"""Snapshot tests of the main screen (happy, mismatch), the sign-in modal and the help screen.

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
from dwtui.tui.screens.sign_in import SignInScreen
from tests.conftest import SimFactory
from tests.tui.support import NEVER, SIZE, SNAPSHOT_PORT, build_app, ready, settle, settle_screen

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


@pytest.mark.parametrize("scenario", ["happy", "mismatch", "no-dataverse"])
def test_main_screen(snap_compare: SnapCompare, sim_factory: SimFactory, scenario: str) -> None:
    sim = sim_factory(scenario, port=SNAPSHOT_PORT, device_approve_after=0)
    app = build_app(sim)
    assert snap_compare(app, terminal_size=SIZE, run_before=when_ready(app))


def test_sign_in_modal(snap_compare: SnapCompare, sim_factory: SimFactory) -> None:
    sim = sim_factory("happy", port=SNAPSHOT_PORT, device_approve_after=NEVER, device_code_lifetime=900.0)
    app = build_app(sim, signed_in=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle_screen(pilot, SignInScreen)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare: SnapCompare, sim_factory: SimFactory) -> None:
    sim = sim_factory("happy", port=SNAPSHOT_PORT, device_approve_after=0)
    app = build_app(sim)
    assert snap_compare(app, terminal_size=SIZE, run_before=when_ready(app, "question_mark"))
