"""Building the app for the install, link and reset flows, and driving its dialogs without sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from dwtui.services.operations import OperationStore
from dwtui.services.session import DemoWorld, Session
from dwtui.sim.server import SimServer
from dwtui.tui.app import DwtuiApp
from dwtui.tui.flows.progress.pane import ProgressPane
from tests.helpers import make_session
from tests.tui.support import settle, settle_screen

# An install of 10 simulated minutes at 300x takes 2 s; the sim's 30 minutes would take 6.
FAST = 300.0


def fast_sim(
    sim_factory: Callable[..., SimServer],
    scenario: str,
    install_seconds: float = 600.0,
    speed: float = FAST,
    **kw: Any,
) -> SimServer:
    # At 300x the default device-code lifetime (900 simulated seconds) would be 3 real seconds.
    sim = sim_factory(scenario, speed=speed, device_code_lifetime=60.0, **kw)
    sim.world.install_seconds = install_seconds
    return sim


def operations_app(
    sim: SimServer,
    *,
    clock: Callable[[], float] = time.time,
    environment: str = "uat",
    watch_speed: float | None = None,
    store_clock: Callable[[], float] | None = None,
    session_clock: Callable[[], float] | None = None,
    sessions: list[Session] | None = None,
    show_timings: bool = False,
    **profile_overrides: Any,
) -> DwtuiApp:
    """The app as `dwtui --demo` builds it: the watcher runs at the simulator's speed.

    A real clock by default, so the poll schedule adapts as it does for a person; snapshots pass
    fixed clocks instead.
    """

    def connect() -> Session:
        session = make_session(sim, environment=environment, sign_in=True, **profile_overrides)
        session.demo = DemoWorld(speed=watch_speed if watch_speed is not None else sim.speed)
        if store_clock is not None:
            session.operations = OperationStore(clock=store_clock)
        if session_clock is not None:
            session.clock = session_clock
        if sessions is not None:
            sessions.append(session)
        return session

    return DwtuiApp(connect, profile_name="sim", clock=clock, show_timings=show_timings)


def progress(app: DwtuiApp) -> ProgressPane:
    # The page's, also while its frame (the first screen) is still the one on top.
    return app.page.query_one("#progress-pane", ProgressPane)


async def settle_for(pilot: Pilot[Any], until: Callable[[], bool], within: float = 60.0) -> None:
    await settle(pilot, until, within)


async def wait_for(pilot: Pilot[Any], until: Callable[[], bool], within: float = 30.0) -> None:
    """Wait for a condition without waiting on workers (a watcher runs as long as its operation)."""
    deadline = time.monotonic() + within
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {within} s")
        await pilot.pause(0.02)


def install_posts(sim: SimServer) -> list[dict[str, Any]]:
    return [
        r
        for r in sim.requests()
        if r["method"] == "POST" and r["path"].endswith("/install") and r["fault"] is None
    ]


async def drain(pilot: Pilot[Any], within: float = 30.0) -> None:
    """Let every worker end (the reads after an operation) before the app is torn down."""
    app = pilot.app
    deadline = time.monotonic() + within
    while any(not worker.is_finished for worker in app.workers):
        if time.monotonic() > deadline:
            raise AssertionError(f"workers still running after {within} s: {list(app.workers)}")
        await app.workers.wait_for_complete()
        await pilot.pause()


class FrozenClock:
    """The simulator's clock, stopped: an operation stays in one stage until the test moves it."""

    def __init__(self, start: float) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value


def freeze(sim: SimServer) -> FrozenClock:
    clock = FrozenClock(sim.world.clock())
    sim.world.clock = clock
    return clock


async def configure_and_ok(pilot: Pilot[Any]) -> None:
    """Start an install of the plan as offered: d, Configure in the terms, y in the confirmation."""
    from dwtui.tui.flows.install.terms import TermsScreen
    from dwtui.tui.screens.confirm import ConfirmChangeScreen

    await pilot.press("d")
    await settle_screen(pilot, TermsScreen)
    await pilot.click("#terms-configure")
    await settle_screen(pilot, ConfirmChangeScreen)
    await pilot.press("y")
