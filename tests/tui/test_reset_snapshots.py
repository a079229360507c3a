"""Snapshot of the Reset dual-write connection confirmation (maps running, so Force is offered), at
80x24, 120x36 and 200x60: the one dialog shown at every size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from dwtui.tui.flows.reset.dialog import ResetScreen
from tests.conftest import SimFactory
from tests.tui.operations_support import drain, operations_app
from tests.tui.support import FIXED_CLOCK, LARGE, MEDIUM, SMALL, SNAPSHOT_PORT, ready, settle, settle_screen

SnapCompare = Callable[..., bool]


@pytest.mark.parametrize("size", [SMALL, MEDIUM, LARGE], ids=["80x24", "120x36", "200x60"])
def test_reset_confirmation(
    snap_compare: SnapCompare, sim_factory: SimFactory, size: tuple[int, int]
) -> None:
    sim = sim_factory("maps-running", port=SNAPSHOT_PORT, device_approve_after=0)
    app = operations_app(sim, clock=lambda: FIXED_CLOCK)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        await pilot.press("R")
        await settle_screen(pilot, ResetScreen)
        await drain(pilot)
        app.screen.query_one("#reset-name", Input).cursor_blink = False
        await pilot.press(*"contoso-ua")
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
