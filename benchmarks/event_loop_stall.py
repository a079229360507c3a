"""The longest stall of Textual's event loop while dwtui watches a sped-up install, against a bare app.

Not a test. Each run measures two apps, one after the other, each in a fresh process:
1. dwtui: the simulator ("happy", in the same process, as `dwtui --demo` and the tests run it) runs a
   30-minute install at --speed, reporting a percentComplete in every running stage (a
   benchmark-only change of its stage table). The app, built as the tests build it
   (tests/tui/operations_support.operations_app) and run headless at 120x40, starts the install
   through the real flow: d, Configure, OK (y). The watcher polls every --interval real seconds: a
   benchmark-only `schedule` handed to the real watcher, which runs in the real worker thread and
   reports through the real Watched messages, so the Progress and Activity panes are updated many
   times a second. From OK until the success message is shown, a probe task in the app's event
   loop sleeps 5 ms at a time and records how late each wake-up is: that lateness is a stall.
2. the baseline: the same probe, for the same time, in a bare Textual app (Header, Static,
   Footer) run headless at 120x40, while a thread posts it one message per progress event dwtui
   handled, evenly spread over the same time; each message updates the Static.

Aim (issue 3): no stall over 50 ms. Also shown: the longest full (generation 2) garbage collection
in the window, which stops every thread, and the number of objects the collector tracks at the end.
Headless, Textual still lays out and renders every update; only the write of escape codes to a
terminal is skipped. The three runs of both apps take about 110 s at the default speed (120: 15 s
per install); a lower speed measures longer installs but takes longer than 2 minutes.

    .venv/bin/python benchmarks/event_loop_stall.py [--repeat 3] [--speed 120] [--interval 0.03]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Footer, Header, Static

AIM_MS = 50.0
PROBE_SLEEP = 0.005
SIZE = (120, 40)
TYPICAL_INSTALL = 30 * 60.0  # simulated seconds: the simulator's default and the watcher's typical
CHILD_TIMEOUT = 120.0


# -- the probe ------------------------------------------------------------------------------------


class StallProbe:
    """An asyncio task that sleeps PROBE_SLEEP at a time and records how late each wake-up is.

    While it runs it also times the garbage collector's full (generation 2) collections.
    """

    def __init__(self) -> None:
        self.stalls: list[float] = []  # seconds
        self.full_collections: list[float] = []  # seconds each
        self.started = self.stopped = 0.0
        self._task: asyncio.Task[None] | None = None
        self._collecting_since = 0.0

    async def _run(self) -> None:
        while True:
            due = time.perf_counter() + PROBE_SLEEP
            await asyncio.sleep(PROBE_SLEEP)
            self.stalls.append(max(0.0, time.perf_counter() - due))

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._collecting_since = time.perf_counter()
        elif self._collecting_since:
            self.full_collections.append(time.perf_counter() - self._collecting_since)

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self.started = time.perf_counter()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> Measured:
        self.stopped = time.perf_counter()
        gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        ordered = sorted(self.stalls)
        return Measured(
            seconds=self.stopped - self.started,
            wakeups=len(ordered),
            max_ms=ordered[-1] * 1000,
            p99_ms=ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
            median_ms=statistics.median(ordered) * 1000,
            full_collections=len(self.full_collections),
            longest_collection_ms=max(self.full_collections, default=0.0) * 1000,
            tracked_objects=len(gc.get_objects()),
        )


@dataclass
class Measured:
    """What one app's probe saw; `events` is filled in by the app's driver."""

    seconds: float
    wakeups: int
    max_ms: float
    p99_ms: float
    median_ms: float
    full_collections: int
    longest_collection_ms: float
    tracked_objects: int
    events: int = 0

    def text(self) -> str:
        return (
            f"max {self.max_ms:6.1f}  p99 {self.p99_ms:5.1f}  median {self.median_ms:4.2f} ms   "
            f"full GCs {self.full_collections:>2}, longest {self.longest_collection_ms:5.1f} ms, "
            f"{self.tracked_objects // 1000}k objects"
        )


async def wait_until(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not reached within {within:.0f} s")
        await asyncio.sleep(0.02)


# -- dwtui ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def fast_polls(interval: float) -> Iterator[list[float]]:
    """The real watcher with a schedule that polls every `interval` real seconds; percent in every stage.

    The TUI's watcher worker imports `watch` from dwtui.services.watch when it starts, so it runs this
    wrapper; the worker thread, the Watched messages and the panes are as in use. Yields the speeds
    the wrapper was called with (one per watcher started).
    """
    import dwtui.services.watch as watch_module
    from dwtui.sim import installing

    original_watch, original_stages = watch_module.watch, installing.STAGES
    calls: list[float] = []

    def watch(*args: Any, **kwargs: Any) -> Any:
        speed = float(kwargs.get("speed", 1.0))
        calls.append(speed)
        kwargs["schedule"] = lambda elapsed, **_: interval * speed  # simulated seconds
        return original_watch(*args, **kwargs)

    watch_module.watch = watch
    installing.STAGES = tuple((until, message, message is not None) for until, message, _ in original_stages)
    try:
        yield calls
    finally:
        watch_module.watch = original_watch
        installing.STAGES = original_stages


async def measure_dwtui(speed: float, interval: float) -> Measured:
    from dwtui.domain.profile import parse_profile
    from dwtui.domain.watch_events import Polled
    from dwtui.services.activity import ActivityLog
    from dwtui.services.secrets import SecretStore
    from dwtui.services.session import DemoWorld, Session
    from dwtui.sim.server import SimServer
    from dwtui.tui.app import DwtuiApp, Phase
    from dwtui.tui.flows.install.terms import TermsScreen
    from dwtui.tui.flows.progress.messages import Watched
    from dwtui.tui.flows.progress.pane import ProgressPane
    from dwtui.tui.screens.confirm import ConfirmChangeScreen

    events = 0

    def count(message: Message) -> None:  # called as the app dispatches each message to a handler
        nonlocal events
        if isinstance(message, Watched) and isinstance(message.event, Polled):
            events += 1

    async def screen_open(app: App[Any], screen_type: type) -> None:
        def opened() -> bool:
            screen = app.screen
            return isinstance(screen, screen_type) and screen.is_mounted and bool(screen.children)

        await wait_until(opened, 30, f"{screen_type.__name__} open")

    with fast_polls(interval) as watchers, SimServer("happy", speed=speed, device_code_lifetime=60.0) as sim:
        sim.world.install_seconds = TYPICAL_INSTALL

        def connect() -> Session:
            # As tests/helpers.make_session(sign_in=True) and operations_app: signed in beforehand,
            # the watcher at the simulator's speed (as `dwtui --demo` builds it).
            profile = parse_profile("sim", sim.profile_table("uat"))
            session = Session(profile, secrets=SecretStore(memory_only=True), activity=ActivityLog())
            session.auth.finish_device_flow(session.auth.start_device_flow(), lambda: False)
            session.demo = DemoWorld(speed=speed)
            return session

        app = DwtuiApp(connect, profile_name="sim", clock=time.time, show_timings=False)
        probe = StallProbe()
        async with app.run_test(size=SIZE, message_hook=count) as pilot:
            await wait_until(lambda: app.phase in (Phase.READY, Phase.FAILED), 30, "dwtui ready")
            if app.phase is Phase.FAILED:
                raise RuntimeError("dwtui could not load the environment")
            await pilot.press("d")
            await screen_open(app, TermsScreen)
            await pilot.click("#terms-configure")
            await screen_open(app, ConfirmChangeScreen)
            pane = app.page.query_one("#progress-pane", ProgressPane)
            probe.start()
            await pilot.press("y")
            await wait_until(lambda: pane.outcome is not None, TYPICAL_INSTALL / speed + 60, "the outcome")
            measured = await probe.stop()
            if pane.outcome is None or not pane.outcome.succeeded:
                raise RuntimeError(f"the install did not succeed: {pane.outcome}")
            await wait_until(lambda: all(w.is_finished for w in app.workers), 30, "workers done")
    if watchers != [speed]:
        raise RuntimeError(f"the watcher did not run with the benchmark's schedule once: {watchers}")
    measured.events = events
    return measured


# -- the baseline -------------------------------------------------------------------------------


class Progressed(Message):
    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number


class BaselineApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("A bare Textual app: the baseline of the event-loop stall benchmark.", id="body")
        yield Footer()

    def on_progressed(self, message: Progressed) -> None:
        self.query_one("#body", Static).update(f"progress event {message.number}")


async def measure_baseline(seconds: float, events: int) -> Measured:
    app = BaselineApp()
    handled = 0
    stop = threading.Event()

    def count(message: Message) -> None:
        nonlocal handled
        if isinstance(message, Progressed):
            handled += 1

    def post() -> None:
        period = seconds / max(1, events)
        start = time.perf_counter()
        for number in range(events):
            if stop.wait(max(0.0, start + (number + 0.5) * period - time.perf_counter())):
                return
            app.post_message(Progressed(number))

    probe = StallProbe()
    poster = threading.Thread(target=post, name="baseline-poster", daemon=True)
    async with app.run_test(size=SIZE, message_hook=count):
        await wait_until(lambda: app.screen.is_mounted, 30, "the baseline app mounted")
        probe.start()
        poster.start()
        await asyncio.sleep(seconds)
        measured = await probe.stop()
        stop.set()
        poster.join(5)
    measured.events = handled
    return measured


# -- the runs -----------------------------------------------------------------------------------------


def child(arguments: list[str]) -> Measured:
    """One measurement in a fresh process: no other app's garbage or caches in its heap."""
    with tempfile.TemporaryDirectory(prefix="dwtui-stall-") as folder:
        result = Path(folder) / "result.json"
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--result", str(result), *arguments],
            check=True,
            timeout=CHILD_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        return Measured(**json.loads(result.read_text()))


def measure(args: argparse.Namespace) -> None:
    """The child's side: measure one app, write what the probe saw to --result."""
    with tempfile.TemporaryDirectory(prefix="dwtui-stall-home-") as home:
        # Nothing reads or writes the real user's config, state (operations.json) or cache.
        for variable in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            os.environ[variable] = os.path.join(home, variable.lower())
        if args.measure == "dwtui":
            measured = asyncio.run(measure_dwtui(args.speed, args.interval))
        else:
            measured = asyncio.run(measure_baseline(args.seconds, args.events))
    Path(args.result).write_text(json.dumps(asdict(measured)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--speed", type=float, default=120.0, help="simulator speed (default 120)")
    parser.add_argument(
        "--interval", type=float, default=0.03, help="real seconds between the watcher's polls (0.03)"
    )
    # The parent runs itself with these for each measurement.
    parser.add_argument("--measure", choices=("dwtui", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1 or args.speed <= 0 or args.interval <= 0:
        parser.error("--repeat, --speed and --interval must be positive")
    if args.measure:
        measure(args)
        return 0

    began = time.perf_counter()
    print(
        f"A 30-minute install at speed {args.speed:g} ({TYPICAL_INSTALL / args.speed:.1f} s), polled every "
        f"{args.interval * 1000:.0f} ms; {SIZE[0]}x{SIZE[1]} headless; the probe sleeps "
        f"{PROBE_SLEEP * 1000:.0f} ms; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs",
        flush=True,
    )
    runs: list[tuple[Measured, Measured]] = []
    for number in range(1, args.repeat + 1):
        ours = child(["--measure", "dwtui", "--speed", str(args.speed), "--interval", str(args.interval)])
        bare = child(["--measure", "baseline", "--seconds", str(ours.seconds), "--events", str(ours.events)])
        runs.append((ours, bare))
        print(
            f"run {number}: {ours.events} progress events handled in {ours.seconds:.1f} s "
            f"({ours.events / ours.seconds:.1f}/s); the baseline handled {bare.events}\n"
            f"  dwtui     stall {ours.text()}\n"
            f"  baseline  stall {bare.text()}",
            flush=True,
        )
    worst_ours = max((ours for ours, _ in runs), key=lambda m: m.max_ms)
    worst_bare = max((bare for _, bare in runs), key=lambda m: m.max_ms)
    met = worst_ours.max_ms <= AIM_MS
    print(
        f"\nworst of {len(runs)}: dwtui max stall {worst_ours.max_ms:.1f} ms "
        f"(p99 {max(ours.p99_ms for ours, _ in runs):.1f} ms), baseline {worst_bare.max_ms:.1f} ms "
        f"(p99 {max(bare.p99_ms for _, bare in runs):.1f} ms)"
    )
    print(f"aim (max stall <= {AIM_MS:.0f} ms): " + ("met" if met else "NOT met"))
    print(f"({time.perf_counter() - began:.0f} s in all)")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
