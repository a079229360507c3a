"""Snapshots of Link to Power Platform environment: the confirmation, progress, the hyperlink with its
QR code and the documented way against a real gateway (at 80x24 and 120x36; the confirmation at 80x24,
progress at 120x36).

The simulator's clock is stopped before the link is requested, so it stays in its first stage; the
second status poll is held back by a slow answer, so nothing changes while the picture is taken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from dwtui.services.session import Session
from dwtui.tui.flows.link.admin_link import AdminLinkScreen
from dwtui.tui.flows.link.wizard import LinkWizardScreen
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from tests.conftest import SimFactory
from tests.tui.operations_support import drain, freeze, operations_app, progress, wait_for
from tests.tui.support import (
    FIXED_CLOCK,
    MEDIUM,
    SMALL,
    SNAPSHOT_PORT,
    SNAPSHOT_SIZES,
    ready,
    settle,
    settle_screen,
)

SnapCompare = Callable[..., bool]
STATUS_PATH = "/gateway/api/DualWriteManagement/1.0/SolutionAware/"


def test_link_confirmation(snap_compare: SnapCompare, sim_factory: SimFactory) -> None:
    """At 80x24 (the one-box confirmations show the same dialog at 120x36)."""
    sim = sim_factory("installed", port=SNAPSHOT_PORT, device_approve_after=0)
    app = operations_app(sim, clock=lambda: FIXED_CLOCK, watch_speed=1.0)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        await pilot.press("l")
        await settle_screen(pilot, ConfirmChangeScreen)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_link_progress(snap_compare: SnapCompare, sim_factory: SimFactory) -> None:
    sim = sim_factory("installed", port=SNAPSHOT_PORT, device_approve_after=0)
    app = operations_app(sim, clock=lambda: FIXED_CLOCK, watch_speed=1.0)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        freeze(sim)
        await pilot.press("l")
        await settle_screen(pilot, ConfirmChangeScreen)
        await pilot.press("y")

        def first_poll() -> bool:
            record = progress(app).record
            return record is not None and record.last_polled_at is not None

        await wait_for(pilot, first_poll)
        # The next poll (2 s on) answers 10 s late: the picture is taken before it lands.
        sim.add_fault(STATUS_PATH, "slow", count=1, delay=10.0)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=MEDIUM, run_before=run_before)


@SNAPSHOT_SIZES
def test_link_hyperlink_with_qr_code(
    snap_compare: SnapCompare, sim_factory: SimFactory, size: tuple[int, int]
) -> None:
    sim = sim_factory("installed", port=SNAPSHOT_PORT, device_approve_after=0)
    app = operations_app(sim, clock=lambda: FIXED_CLOCK, watch_speed=1.0)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        frozen = freeze(sim)
        await pilot.press("l")
        await settle_screen(pilot, ConfirmChangeScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: progress(app).record is not None)
        frozen.value += sim.world.scaled(sim.world.link_seconds)
        await pilot.press("p")
        await settle_screen(pilot, AdminLinkScreen)
        await drain(pilot)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SNAPSHOT_SIZES
def test_link_wizard_against_a_real_gateway(
    snap_compare: SnapCompare, sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    # The simulator's gateway is on loopback; a real tenant's gateway gets the documented way first.
    monkeypatch.setattr(Session, "gateway_is_simulator", property(lambda self: False))
    sim = sim_factory("installed", port=SNAPSHOT_PORT, device_approve_after=0)
    app = operations_app(sim, clock=lambda: FIXED_CLOCK)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, ready(app))
        await pilot.press("l")
        await settle_screen(pilot, LinkWizardScreen)
        await drain(pilot)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
