"""Snapshots of the Doctor screen: every check ok, and one problem with its detail, at 120x36 and 80x24.

Deterministic as the other snapshots are: the simulator on a fixed port, a fixed clock, no durations;
the picture is taken once every check has finished, so the order they finished in does not show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from dwtui.tui.doctor.screen import DoctorScreen
from tests.conftest import SimFactory
from tests.tui.support import SNAPSHOT_PORT, build_app, ready, settle, settle_screen

SnapCompare = Callable[..., bool]
SIZES = [(120, 36), (80, 24)]


@pytest.mark.parametrize("size", SIZES, ids=["120x36", "80x24"])
@pytest.mark.parametrize("scenario", ["happy", "old-version"])
def test_doctor(
    snap_compare: SnapCompare, sim_factory: SimFactory, scenario: str, size: tuple[int, int]
) -> None:
    sim = sim_factory(scenario, port=SNAPSHOT_PORT, device_approve_after=0)
    app = build_app(sim)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        await pilot.press("D")
        await settle_screen(pilot, DoctorScreen)

        def finished() -> bool:
            screen = app.screen
            return isinstance(screen, DoctorScreen) and screen.report is not None

        await settle(pilot, finished)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
