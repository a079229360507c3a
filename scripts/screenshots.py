"""Regenerate screenshots/*.svg from the demo: every screen, deterministic.

The simulator runs on the fixed SNAPSHOT_PORT and the app gets a fixed clock with Activity timings
hidden, so two runs produce the same pictures (as the snapshot tests do). Each scene is one run of
the simulator and the app, built as `dwtui --demo` builds them (memory-only secrets holding the
one-box app's secret, the demo AXDB, a private operation store); its shots are taken in order.

Operations are pictured with the snapshot tests' technique: the simulator's clock is stopped, so an
install or link stays in one stage until the script moves it on and presses p. The app, its session
and its operation store share one scripted clock that moves with it, so elapsed times and the log
read as a real run would; the watcher runs at real-time speed, so once an operation is under way its
own next poll is seconds away and cannot land while a picture is taken.

    .venv/bin/python scripts/screenshots.py [--out screenshots] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.app import App
from textual.command import CommandInput, CommandList, CommandPalette
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Button, Input, OptionList, Select, SelectionList
from textual.worker import WorkerCancelled

from dwtui.domain.fleet import Column
from dwtui.domain.profile import parse_profile
from dwtui.services.activity import ActivityLog
from dwtui.services.axdb_demo import create_demo_database, demo_connection_string
from dwtui.services.operations import OperationStore
from dwtui.services.secrets import SecretStore
from dwtui.services.session import DemoWorld, Session
from dwtui.services.verify import store_app_secret
from dwtui.sim.server import SimServer
from dwtui.tui.app import DwtuiApp, Phase
from dwtui.tui.doctor.screen import DoctorScreen
from dwtui.tui.environment_details.picker import EnvironmentPickerScreen
from dwtui.tui.fleet.screen import FleetScreen
from dwtui.tui.flows.dataverse.dialog import AddDataverseScreen
from dwtui.tui.flows.install.terms import TermsScreen
from dwtui.tui.flows.link.admin_link import AdminLinkScreen
from dwtui.tui.flows.link.wizard import LinkWizardScreen
from dwtui.tui.flows.onebox.checklist import Checklist, Step, StepState
from dwtui.tui.flows.onebox.screen import OneboxScreen
from dwtui.tui.flows.progress.pane import ProgressPane
from dwtui.tui.flows.reset.dialog import ResetScreen
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from dwtui.tui.screens.error_details import ErrorDetailsScreen
from dwtui.tui.screens.help import HelpScreen
from dwtui.tui.screens.sign_in import SignInScreen

SNAPSHOT_PORT = 47443
FIXED_TIME = 1_767_268_800.0  # 2026-01-01 12:00:00 UTC
# The main set, and a jump box's smallest terminal in screenshots/80x24/.
SIZES: dict[str, tuple[int, int]] = {"120x36": (120, 36), "80x24": (80, 24)}
SUBFOLDER = {"120x36": "", "80x24": "80x24"}
ROOT = Path(__file__).resolve().parent.parent
WAIT = 60.0
SPEED = 50.0  # the simulator's speed (the demo's default)
AXDB_FILE = "AXDB.sqlite"  # named relative to the scene's folder, so the screen shows it the same every run
NUDGE = 0.001  # real seconds the simulator's clock moves past each mark
LINK_MID_WAY = 0.6  # of the link's duration: "Connecting to finance and operations (AX)"


class ScriptedClock:
    """A clock that moves only when the script moves it."""

    def __init__(self, start: float) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value


@dataclass
class Stage:
    """What a shot's steps can reach: the simulator, the app, and the clocks the script moves."""

    sim: SimServer
    app: DwtuiApp
    clock: ScriptedClock  # the app's, its session's and its operation store's
    frozen: ScriptedClock | None = None  # the simulator's, once stopped

    def freeze(self) -> None:
        """Stop the simulator's clock: operations stay in their stage until advance()."""
        if self.frozen is None:
            self.frozen = ScriptedClock(self.sim.world.clock())
            self.sim.world.clock = self.frozen

    def advance(self, simulated_seconds: float) -> None:
        """Move time on: the app's by the simulated seconds, the simulator's by as much at its speed."""
        self.freeze()
        assert self.frozen is not None
        # A hair past the mark: the simulator's clock reads real epoch seconds, where float rounding
        # could otherwise land an operation at 29.99...% (shown as 29%) or just short of its end.
        self.frozen.value += self.sim.world.scaled(simulated_seconds) + NUDGE
        self.clock.value += simulated_seconds


Steps = Callable[[Pilot[Any], Stage], Awaitable[None]]


@dataclass
class Scene:
    """One run of the simulator and the app; its shots are taken in order, each after its steps."""

    scenario: str
    shots: list[tuple[str, Steps]]  # (file name, steps before the picture); README.md links every one
    approve_after: float | None = None  # None: the simulator's default; inf keeps the sign-in modal open
    speed: float = SPEED
    environment: str = ""  # like --environment; "" is the profile's (contoso-uat)
    watch_speed: float = SPEED  # DemoWorld.speed: the watcher's schedule and the simulated AOS restart
    faults: tuple[tuple[str, str, int], ...] = ()  # (path prefix, kind, count) the simulator injects
    real_gateway: bool = False  # the session treats the gateway as a real tenant's (the link wizard)
    names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.names = [name for name, _steps in self.shots]


# -- waiting, without sleeping --------------------------------------------------------------------


async def wait_until(
    pilot: Pilot[Any], what: str, condition: Callable[[], bool], *, workers: bool = True
) -> None:
    """Poll `condition` (bounded); with `workers`, then let every worker end (a superseded one counts)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await pilot.pause(0.02)
    if workers:  # the sign-in worker keeps waiting while its modal is shown
        await drain(pilot)
    await pilot.pause()


async def drain(pilot: Pilot[Any]) -> None:
    """Let every worker end (the reads after an operation) and their messages land."""
    app = pilot.app
    deadline = asyncio.get_running_loop().time() + WAIT
    while any(not worker.is_finished for worker in app.workers):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"workers still running: {list(app.workers)}")
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()


def on_screen(app: App[Any], kind: type[Screen[Any]]) -> bool:
    screen = app.screen
    return isinstance(screen, kind) and screen.is_mounted and bool(screen.children)


async def screen_open(pilot: Pilot[Any], kind: type[Screen[Any]], *, workers: bool = True) -> None:
    await wait_until(pilot, kind.__name__, lambda: on_screen(pilot.app, kind), workers=workers)


def progress(app: DwtuiApp) -> ProgressPane:
    return app.page.query_one("#progress-pane", ProgressPane)


async def quiet(pilot: Pilot[Any]) -> None:
    """No toast in the picture (a change's "succeeded" toast says what the pane already shows)."""
    pilot.app.clear_notifications()
    await pilot.pause()


# -- the main screen, sign-in, help, picker ----------------------------------------------------------


async def main_ready(pilot: Pilot[Any], stage: Stage) -> None:
    await wait_until(pilot, "the main screen", lambda: stage.app.phase is Phase.READY)


async def sign_in_open(pilot: Pilot[Any], stage: Stage) -> None:
    await screen_open(pilot, SignInScreen, workers=False)


async def help_open(pilot: Pilot[Any], stage: Stage) -> None:
    await main_ready(pilot, stage)
    await pilot.press("question_mark")
    await screen_open(pilot, HelpScreen)


async def picker_open(pilot: Pilot[Any], stage: Stage) -> None:
    await main_ready(pilot, stage)
    await pilot.press("e")

    def listed() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, EnvironmentPickerScreen) and screen.query_one(OptionList).option_count > 0

    await wait_until(pilot, "the environment picker", listed)


async def palette_open(pilot: Pilot[Any], stage: Stage) -> None:
    await main_ready(pilot, stage)
    await pilot.press("ctrl+p")
    await screen_open(pilot, CommandPalette, workers=False)
    palette = pilot.app.screen
    palette.query_one(CommandInput).cursor_blink = False
    await wait_until(pilot, "the commands", lambda: palette.query_one(CommandList).option_count > 0)


async def error_details_open(pilot: Pilot[Any], stage: Stage) -> None:
    await main_ready(pilot, stage)
    # Pressed, not clicked: at 80x24 the pane scrolls it out of view.
    pilot.app.screen.query_one("#ppi-faults .fault-details", Button).press()
    await screen_open(pilot, ErrorDetailsScreen)
    await quiet(pilot)


# -- Dual-write application (d) ----------------------------------------------------------------------


async def terms_open(pilot: Pilot[Any], stage: Stage) -> None:
    await main_ready(pilot, stage)
    stage.freeze()
    await pilot.press("d")
    await screen_open(pilot, TermsScreen)
    await quiet(pilot)


def install_at(fraction: float, done: Callable[[ProgressPane], bool]) -> Steps:
    """Move the stopped simulator `fraction` of the install on, poll now, and wait for `done`."""

    async def steps(pilot: Pilot[Any], stage: Stage) -> None:
        app = stage.app
        if isinstance(app.screen, TermsScreen):  # the install's first shot: configure and confirm
            await pilot.click("#terms-configure")
            await screen_open(pilot, ConfirmChangeScreen, workers=False)
            await pilot.press("y")
            # The first poll comes at once, and the next one 2 s later: move on and poll now first.
            await wait_until(pilot, "the first poll", lambda: first_poll(progress(app)), workers=False)
        stage.advance(stage.sim.world.install_seconds * fraction)
        await pilot.press("p")
        await wait_until(pilot, "the install's stage", lambda: done(progress(app)), workers=False)
        if not progress(app).watching:
            await drain(pilot)
        await quiet(pilot)

    return steps


def first_poll(pane: ProgressPane) -> bool:
    return pane.record is not None and pane.record.last_polled_at is not None


def mid_way(pane: ProgressPane) -> bool:
    record = pane.record
    return record is not None and record.message == "Importing solutions" and not pane.note


def succeeded(pane: ProgressPane) -> bool:
    return pane.outcome is not None and pane.outcome.succeeded


def failed(pane: ProgressPane) -> bool:
    return pane.outcome is not None and not pane.outcome.succeeded


async def install_fails(pilot: Pilot[Any], stage: Stage) -> None:
    await terms_open(pilot, stage)
    await install_at(0.5, failed)(pilot, stage)


async def terms_with_options(pilot: Pilot[Any], stage: Stage) -> None:
    """The package checklist with Notes ticked: what it needs is ticked for it."""
    await terms_open(pilot, stage)
    packages = pilot.app.screen.query_one("#terms-packages", SelectionList)
    packages.select("notes")
    await pilot.pause()
    await quiet(pilot)


# -- Add Dataverse (P) -------------------------------------------------------------------------------


async def add_dataverse_open(pilot: Pilot[Any], stage: Stage) -> None:
    await main_ready(pilot, stage)
    stage.freeze()
    await pilot.press("P")
    await screen_open(pilot, AddDataverseScreen)
    for field_id in ("#dataverse-language", "#dataverse-currency"):
        pilot.app.screen.query_one(field_id, Input).cursor_blink = False
    await quiet(pilot)


async def add_dataverse_progress(pilot: Pilot[Any], stage: Stage) -> None:
    app = stage.app
    await pilot.click("#dataverse-yes")
    await confirm_yes(pilot)
    await wait_until(pilot, "the first poll", lambda: first_poll(progress(app)), workers=False)
    stage.advance(stage.sim.world.add_dataverse_seconds * 0.4)
    await pilot.press("p")
    await wait_until(pilot, "the next poll", lambda: progress(app).record is not None, workers=False)
    await quiet(pilot)


# -- Link to Power Platform environment (l) ---------------------------------------------------------


async def link_wizard_open(pilot: Pilot[Any], stage: Stage) -> None:
    """What a real tenant sees first: the documented way (the demo's gateway is the simulator's)."""
    await main_ready(pilot, stage)
    await pilot.press("l")
    await screen_open(pilot, LinkWizardScreen)
    await quiet(pilot)


async def link_confirm_open(pilot: Pilot[Any], stage: Stage) -> None:
    await main_ready(pilot, stage)
    stage.freeze()
    await pilot.press("l")
    await screen_open(pilot, ConfirmChangeScreen)
    await quiet(pilot)


async def link_in_progress(pilot: Pilot[Any], stage: Stage) -> None:
    app = stage.app
    await pilot.press("y")
    await wait_until(pilot, "the link's first poll", lambda: first_poll(progress(app)), workers=False)
    stage.advance(stage.sim.world.link_seconds * LINK_MID_WAY)
    await pilot.press("p")

    def mid_way() -> bool:
        record = progress(app).record
        return record is not None and record.message == "Connecting to finance and operations (AX)"

    await wait_until(pilot, "the link's stage", mid_way, workers=False)
    await quiet(pilot)


async def link_done(pilot: Pilot[Any], stage: Stage) -> None:
    stage.advance(stage.sim.world.link_seconds * (1.0 - LINK_MID_WAY))
    await pilot.press("p")
    await screen_open(pilot, AdminLinkScreen)
    await quiet(pilot)


# -- Reset dual-write connection (R) -----------------------------------------------------------------


async def reset_open(pilot: Pilot[Any], stage: Stage) -> None:
    await main_ready(pilot, stage)
    await pilot.press("R")
    await screen_open(pilot, ResetScreen)
    name = pilot.app.screen.query_one("#reset-name", Input)
    name.cursor_blink = False
    await pilot.press(*"contoso-uat")
    await quiet(pilot)


# -- One-box (o) on contoso-dev ------------------------------------------------------------------------


def onebox(app: App[Any]) -> OneboxScreen:
    screen = app.screen
    assert isinstance(screen, OneboxScreen), f"the one-box screen is not on top ({screen!r})"
    return screen


def step_finished(app: App[Any], step: Step) -> Callable[[], bool]:
    def finished() -> bool:
        screen = app.screen
        if not isinstance(screen, OneboxScreen):  # a confirmation is still on top
            return False
        return screen.query_one(Checklist).states[step] not in (StepState.TODO, StepState.RUNNING)

    return finished


async def confirm_yes(pilot: Pilot[Any]) -> None:
    await screen_open(pilot, ConfirmChangeScreen, workers=False)
    await pilot.press("y")


async def picture_focus(pilot: Pilot[Any], selector: str) -> None:
    """Focus a button (an Input's cursor blinks) and take no toast into the picture."""
    onebox(pilot.app).query_one(selector).focus()
    await quiet(pilot)


async def onebox_app_user(pilot: Pilot[Any], stage: Stage) -> None:
    await main_ready(pilot, stage)
    await pilot.press("o")
    screen = onebox(pilot.app)

    def loaded() -> bool:
        return (
            not screen.query_one("#role", Select).is_blank()
            and not screen.query_one("#sql-driver", Select).is_blank()
        )

    await wait_until(pilot, "the business units, roles and drivers", loaded)
    # Set, not typed key by key (36 key presses take seconds); validation follows the value either way.
    screen.query_one("#app-id", Input).value = stage.sim.onebox_client_id
    await pilot.pause()
    await pilot.click("#app-user-create")
    await confirm_yes(pilot)
    await wait_until(pilot, "the application user", step_finished(pilot.app, Step.APP_USER))
    await picture_focus(pilot, "#app-user-create")


async def onebox_flight_sql(pilot: Pilot[Any], stage: Stage) -> None:
    screen = onebox(pilot.app)
    screen.action_tab("tab-flight")
    await pilot.pause()
    await pilot.click("#flight-generate")
    await pilot.pause()
    # The statements and their parameters are what this picture is for; the script is above them.
    output = screen.query_one("#flight-output")
    output.scroll_to_widget(screen.query_one("#flight-statements-heading"), animate=False, top=True)
    await wait_until(pilot, "the statements", lambda: output.scroll_y > 0)
    await picture_focus(pilot, "#flight-generate")


async def onebox_flight_rows(pilot: Pilot[Any], stage: Stage) -> None:
    await pilot.click("#flight-run")
    await confirm_yes(pilot)
    await wait_until(pilot, "the flight", step_finished(pilot.app, Step.FLIGHT))
    await picture_focus(pilot, "#flight-generate")


async def onebox_aos(pilot: Pilot[Any], stage: Stage) -> None:
    onebox(pilot.app).action_tab("tab-aos")
    await pilot.pause()
    await pilot.click("#aos-restart")
    await confirm_yes(pilot)
    await wait_until(pilot, "the AOS restart", step_finished(pilot.app, Step.AOS))
    await picture_focus(pilot, "#aos-restart")


async def onebox_verify(pilot: Pilot[Any], stage: Stage) -> None:
    onebox(pilot.app).action_tab("tab-verify")
    await pilot.pause()
    await pilot.click("#verify-run")
    await wait_until(pilot, "the verification", step_finished(pilot.app, Step.VERIFY))
    await picture_focus(pilot, "#verify-run")


# -- Doctor (D) ----------------------------------------------------------------------------------------


async def doctor_done(pilot: Pilot[Any], stage: Stage) -> None:
    """Every check finished; the cursor is on the first problem, if there is one."""
    await main_ready(pilot, stage)
    await pilot.press("D")
    await screen_open(pilot, DoctorScreen, workers=False)

    def finished() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, DoctorScreen) and screen.report is not None

    await wait_until(pilot, "every check", finished)
    await quiet(pilot)


# -- the fleet -----------------------------------------------------------------------------------------


async def fleet_sorted(pilot: Pilot[Any], stage: Stage) -> None:
    """Every environment of the fleet scenario's 3 projects, read, the doctor's problems first."""
    await main_ready(pilot, stage)
    await pilot.press("F")

    def read() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, FleetScreen) and screen.read_at is not None and not screen.reading

    await wait_until(pilot, "the fleet", read)
    await pilot.press(*"s" * list(Column).index(Column.DOCTOR), "S")
    await pilot.pause()


# -- the scenes ---------------------------------------------------------------------------------------

SCENES: list[Scene] = [
    Scene("happy", [("main-happy", main_ready)]),
    Scene("mismatch", [("main-mismatch", main_ready)]),
    Scene("happy", [("sign-in", sign_in_open)], approve_after=math.inf, speed=1.0),
    Scene("happy", [("help", help_open)]),
    Scene("happy", [("environment-picker", picker_open)]),
    Scene("happy", [("command-palette", palette_open)]),
    # The BAP admin API answers 500 every time: the Power Platform Integration pane shows the fault.
    Scene("happy", [("error-details", error_details_open)], faults=(("/bap", "500", 50),)),
    Scene("no-dataverse", [("main-no-dataverse", main_ready)]),
    Scene(
        "no-dataverse",
        [("add-dataverse", add_dataverse_open), ("add-dataverse-progress", add_dataverse_progress)],
        watch_speed=1.0,
    ),
    Scene("happy", [("install-plan", terms_with_options)]),
    Scene(
        "happy",
        [
            ("install-terms", terms_open),
            ("install-progress", install_at(0.3, mid_way)),
            ("install-success", install_at(0.7, succeeded)),
        ],
        watch_speed=1.0,
    ),
    Scene("install-failed", [("install-failure", install_fails)], watch_speed=1.0),
    Scene("installed", [("link-wizard", link_wizard_open)], real_gateway=True),
    Scene(
        "installed",
        [
            ("link-confirm", link_confirm_open),
            ("link-progress", link_in_progress),
            ("admin-link", link_done),
        ],
        watch_speed=1.0,
    ),
    Scene("mismatch", [("reset-confirm", reset_open)]),
    Scene("happy", [("doctor", doctor_done)]),
    Scene("old-version", [("doctor-problem", doctor_done)]),
    Scene("fleet", [("fleet", fleet_sorted)]),
    Scene(
        "onebox-no-app-user",
        [
            ("onebox-app-user", onebox_app_user),
            ("onebox-flight-sql", onebox_flight_sql),
            ("onebox-flight-rows", onebox_flight_rows),
            ("onebox-aos-restart", onebox_aos),
            ("onebox-verify", onebox_verify),
        ],
        environment="contoso-dev",
    ),
]


class RealGatewaySession(Session):
    """A demo session whose gateway is treated as a real tenant's: the link flow shows the wizard."""

    @property
    def gateway_is_simulator(self) -> bool:
        return False


@contextlib.contextmanager
def scene_folder() -> Iterator[Path]:
    """A private folder, made the working directory so the demo AXDB is named relatively."""
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="dwtui-screenshots-") as name:
        os.chdir(name)
        try:
            yield Path(name)
        finally:
            os.chdir(previous)


async def shoot(out: Path, scene: Scene, wanted: set[str], size: tuple[int, int]) -> list[Path]:
    sessions: list[Session] = []
    pictures: dict[str, str] = {}
    with (
        scene_folder() as folder,
        SimServer(
            scene.scenario, speed=scene.speed, port=SNAPSHOT_PORT, device_approve_after=scene.approve_after
        ) as sim,
    ):
        for path_prefix, kind, count in scene.faults:
            sim.add_fault(path_prefix, kind, count=count)
        profile = parse_profile("demo", sim.profile_table())
        clock = ScriptedClock(FIXED_TIME)
        database = create_demo_database(folder / AXDB_FILE)

        def connect() -> Session:
            # As `dwtui --demo` builds it (dwtui.cli.runtime), on the scripted clock, with a private store.
            secrets = SecretStore(memory_only=True)
            store_app_secret(secrets, profile, sim.onebox_client_id, sim.onebox_client_secret)
            session = (RealGatewaySession if scene.real_gateway else Session)(
                profile,
                secrets=secrets,
                activity=ActivityLog(),
                clock=clock,
                demo=DemoWorld(
                    axdb_connection_string=demo_connection_string(Path(database.name)),
                    speed=scene.watch_speed,
                ),
                operations=OperationStore(folder / "operations.json", clock=clock),
            )
            sessions.append(session)
            return session

        app = DwtuiApp(
            connect,
            profile_name="demo",
            clock=clock,
            start_environment=scene.environment,
            show_timings=False,
        )
        stage = Stage(sim, app, clock)
        try:
            async with app.run_test(size=size) as pilot:
                for name, steps in scene.shots:
                    await steps(pilot, stage)
                    if name in wanted:
                        pictures[name] = app.export_screenshot(title=f"dwtui --demo: {name}")
                app.exit(0)
        finally:
            for session in sessions:
                session.close()
    paths = []
    for name, svg in pictures.items():
        path = out / f"{name}.svg"
        path.write_text(svg, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--only", nargs="*", default=[], help="shot names (their scenes still run whole)")
    parser.add_argument("--size", nargs="*", choices=sorted(SIZES), default=sorted(SIZES), help="which sets")
    args = parser.parse_args()
    every = {name for scene in SCENES for name in scene.names}
    unknown = set(args.only) - every
    if unknown:
        parser.error(f"unknown shot(s) {', '.join(sorted(unknown))}; choose from {', '.join(sorted(every))}")
    wanted = set(args.only) or every
    started = time.monotonic()
    for size_name in args.size:
        out: Path = (args.out / SUBFOLDER[size_name]).resolve()
        out.mkdir(parents=True, exist_ok=True)
        for scene in SCENES:
            if not wanted & set(scene.names):
                continue
            begun = time.monotonic()
            for path in asyncio.run(shoot(out, scene, wanted, SIZES[size_name])):
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                print(f"wrote {shown} ({time.monotonic() - begun:.1f} s)")
    print(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
