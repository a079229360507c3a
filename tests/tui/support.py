"""Building the app against the simulator, and waiting for it without sleeping."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.app import App
from textual.errors import NoWidget
from textual.pilot import Pilot
from textual.widget import Widget
from textual.worker import WorkerCancelled, WorkerFailed

from dwtui.sim.server import SimServer
from dwtui.tui.app import DwtuiApp, Phase
from tests.helpers import make_session

# 2026-01-01 00:00:00 UTC: every "read at" and countdown on screen is computed from this.
FIXED_CLOCK = 1_767_225_600.0
SNAPSHOT_PORT = 47443
SIZE = (120, 40)
# Snapshots: a jump box's terminal, a laptop's, and a large one (issue 11).
SMALL, MEDIUM, LARGE = (80, 24), (120, 36), (200, 60)
SNAPSHOT_SIZES = pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=["80x24", "120x36"])
NEVER = math.inf  # device_approve_after: only approve_device_code() approves


def build_app(
    sim: SimServer,
    *,
    signed_in: bool = True,
    environment: str = "uat",
    start_environment: str = "",
    secrets: Any = None,
    **profile_overrides: Any,
) -> DwtuiApp:
    """The app as the CLI builds it: `connect` makes the Session (signed in beforehand, or not)."""

    def connect() -> Any:
        return make_session(
            sim, secrets=secrets, environment=environment, sign_in=signed_in, **profile_overrides
        )

    return DwtuiApp(
        connect,
        profile_name="sim",
        clock=lambda: FIXED_CLOCK,
        start_environment=start_environment,
        show_timings=False,
    )


async def settle(pilot: Pilot[Any], until: Callable[[], bool], within: float = 30.0) -> None:
    """Let workers finish and messages land until `until()` holds; fail after `within` seconds.

    Thread workers are waited on (an event, not a sleep); a worker that a newer one superseded
    counts as finished, and so does one that failed: dwtui's workers fail on purpose (a service's
    refusal), and what the app made of it is what `until` looks at.
    """
    app = pilot.app
    deadline = time.monotonic() + within
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {within} s (phase {app.phase})")
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()


async def settle_screen(pilot: Pilot[Any], screen_type: type, within: float = 30.0) -> None:
    """Wait for a screen without waiting on workers (a sign-in worker may be blocked on purpose)."""
    deadline = time.monotonic() + within

    def opened() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, screen_type) and screen.is_mounted and bool(screen.children)

    while not opened():
        if time.monotonic() > deadline:
            raise AssertionError(f"{screen_type.__name__} did not open within {within} s")
        await pilot.pause(0.02)
    await pilot.pause()


def ready(app: DwtuiApp) -> Callable[[], bool]:
    return lambda: app.phase in (Phase.READY, Phase.FAILED)


def shown_whole(app: App[Any], selector: str | Widget) -> bool:
    """The widget is on screen and nothing (an edge, a scroll, another widget) hides its corners."""
    widget = app.screen.query_one(selector) if isinstance(selector, str) else selector
    region = widget.region
    if not region.width or not region.height:
        return False
    corners = [(region.x, region.y), (region.right - 1, region.bottom - 1)]
    for x, y in corners:
        try:
            found, _ = app.screen.get_widget_at(x, y)
        except NoWidget:  # off the screen
            return False
        if found is not widget and widget not in found.ancestors:
            return False
    return True
