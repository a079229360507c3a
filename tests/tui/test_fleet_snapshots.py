"""Snapshot tests of the fleet screen: all 60 environments read, sorted by the doctor's worst finding
(problems first), at 120x36 and at a jump box's 80x24.

Deterministic as the other snapshots are: the simulator on the fixed port (the Dataverse URLs in the
row's detail), a fixed clock (every age is 0s), and a speed at which the running installs and links
of the scenario are still running when the picture is taken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from dwtui.domain.fleet import Column
from tests.conftest import SimFactory
from tests.tui.fleet_support import fleet_app, fleet_sim, open_fleet
from tests.tui.support import SNAPSHOT_PORT

SnapCompare = Callable[..., bool]
# LCS's minute is 3 s; an operation the scenario finds running has a minute or more to go.
SPEED = 20.0


@pytest.mark.parametrize("size", [(120, 36), (80, 24)], ids=["120x36", "80x24"])
def test_the_fleet_filled_in_and_sorted(
    snap_compare: SnapCompare, sim_factory: SimFactory, size: tuple[int, int]
) -> None:
    app = fleet_app(fleet_sim(sim_factory, speed=SPEED, port=SNAPSHOT_PORT))

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await open_fleet(pilot)
        await pilot.press(*"s" * list(Column).index(Column.DOCTOR), "S")
        await pilot.pause()
        assert screen.sort_column is Column.DOCTOR and screen.descending
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
