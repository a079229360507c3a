"""Regenerate screenshots/*.svg from the demo: every screen, deterministic.

The simulator runs on the fixed SNAPSHOT_PORT and the app gets a fixed clock with Activity timings
hidden, so two runs produce the same pictures (as the snapshot tests do).

    .venv/bin/python scripts/screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import OptionList

from dwtui.domain.profile import parse_profile
from dwtui.services.activity import ActivityLog
from dwtui.services.secrets import SecretStore
from dwtui.services.session import Session
from dwtui.sim.server import SimServer
from dwtui.tui.app import DwtuiApp, Phase
from dwtui.tui.screens.environment_picker import EnvironmentPickerScreen
from dwtui.tui.screens.help import HelpScreen
from dwtui.tui.screens.sign_in import SignInScreen

SNAPSHOT_PORT = 47443
FIXED_TIME = 1_767_268_800.0  # 2026-01-01 12:00:00 UTC
SIZE = (120, 40)
ROOT = Path(__file__).resolve().parent.parent
WAIT = 60.0


def fixed_clock() -> float:
    return FIXED_TIME


async def wait_until(
    pilot: Pilot[Any], what: str, condition: Callable[[], bool], *, workers: bool = True
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await pilot.pause(0.05)
    if workers:  # the sign-in worker keeps waiting while its modal is shown
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def on_screen(app: App[Any], kind: type[Screen[Any]]) -> bool:
    return isinstance(app.screen, kind)


async def main_ready(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, DwtuiApp)
    await wait_until(pilot, "the main screen", lambda: app.phase is Phase.READY)


async def sign_in_open(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, DwtuiApp)
    await wait_until(pilot, "the sign-in modal", lambda: on_screen(app, SignInScreen), workers=False)


async def help_open(pilot: Pilot[Any]) -> None:
    await main_ready(pilot)
    await pilot.press("question_mark")
    await wait_until(pilot, "the help screen", lambda: on_screen(pilot.app, HelpScreen))


async def picker_open(pilot: Pilot[Any]) -> None:
    await main_ready(pilot)
    await pilot.press("e")

    def listed() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, EnvironmentPickerScreen) and screen.query_one(OptionList).option_count > 0

    await wait_until(pilot, "the environment picker", listed)


SHOTS: list[tuple[str, str, Callable[[Pilot[Any]], Awaitable[None]], float | None]] = [
    # (file name, scenario, what to do before the picture, seconds until the sim approves sign-in:
    # None is the simulator's default, inf keeps the sign-in modal open)
    ("main-happy", "happy", main_ready, None),
    ("main-mismatch", "mismatch", main_ready, None),
    ("sign-in", "happy", sign_in_open, math.inf),
    ("help", "happy", help_open, None),
    ("environment-picker", "happy", picker_open, None),
]


async def shoot(
    out: Path,
    name: str,
    scenario: str,
    before: Callable[[Pilot[Any]], Awaitable[None]],
    approve_after: float | None,
) -> Path:
    sessions: list[Session] = []
    # The sign-in picture runs at real speed so its countdown shows a real code lifetime.
    speed = 1.0 if approve_after == math.inf else 50.0
    with SimServer(
        scenario=scenario, speed=speed, port=SNAPSHOT_PORT, device_approve_after=approve_after
    ) as sim:
        profile = parse_profile("demo", sim.profile_table())

        def connect() -> Session:
            session = Session(
                profile, secrets=SecretStore(memory_only=True), activity=ActivityLog(), clock=fixed_clock
            )
            sessions.append(session)
            return session

        app = DwtuiApp(connect, profile_name="demo", clock=fixed_clock, show_timings=False)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await before(pilot)
                svg = app.export_screenshot(title=f"dwtui --demo: {name}")
                app.exit(0)
        finally:
            for session in sessions:
                session.close()
    path = out / f"{name}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, scenario, before, approve_after in SHOTS:
        path = asyncio.run(shoot(args.out, name, scenario, before, approve_after))
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
