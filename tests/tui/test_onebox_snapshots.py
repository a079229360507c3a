"""Snapshot tests of the One-box screen: validation errors, the SQL preview, the rows before and after,
and the verify result (see CASES for the sizes), and the
confirmations of the flight and of the AOS restart.

Deterministic as the main screen's snapshots are: the simulator on the fixed port, a fixed clock, no
Activity times or durations; the demo AXDB is named relative to the test's directory, and the focus
ends on a button (an Input's cursor blinks).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from dwtui.sim.server import SimServer
from dwtui.tui.flows.onebox.checklist import Checklist, Step, StepState
from dwtui.tui.flows.onebox.screen import OneboxScreen
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from tests.conftest import SimFactory
from tests.tui.onebox_support import build_onebox_app, demo_axdb, open_onebox_screen, type_into
from tests.tui.support import LARGE, MEDIUM, SMALL, SNAPSHOT_PORT, SNAPSHOT_SIZES, settle

SnapCompare = Callable[..., bool]
Steps = Callable[[Pilot[Any], OneboxScreen, SimServer], Awaitable[None]]


@pytest.fixture
def axdb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    return demo_axdb(tmp_path)


def steps_then_snapshot(steps: Steps, focus: str, sim: SimServer) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await open_onebox_screen(pilot)
        # The Activity pane is in the picture: every call must have landed, in the same order,
        # whatever the machine's load (business units and roles load while the screen opens).
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await steps(pilot, screen, sim)
        screen.query_one(focus).focus()
        pilot.app.clear_notifications()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        # These pictures are of the form, the SQL, the rows and the verdict. The Activity pane below
        # them lists concurrent calls in whatever order they end, so it is left out of the picture
        # (tests/tui/test_onebox_screen.py checks what it records).
        screen.query_one("#onebox-activity").display = False
        await pilot.pause()

    return run_before


def finished(screen: OneboxScreen, step: Step) -> Callable[[], bool]:
    return lambda: screen.query_one(Checklist).states[step] not in (StepState.TODO, StepState.RUNNING)


async def bad_app_id(pilot: Pilot[Any], screen: OneboxScreen, sim: SimServer) -> None:
    await type_into(pilot, "#app-id", "3c5e7a9b-1d2f-4e6a-8b0c-2d4f6a8c0e1g")


async def generate(pilot: Pilot[Any], screen: OneboxScreen, sim: SimServer) -> None:
    screen.action_tab("tab-flight")
    await pilot.pause()
    await pilot.click("#flight-generate")
    await pilot.pause()
    # The statements and their parameters are what this snapshot is for; the script is above them.
    output = screen.query_one("#flight-output")
    output.scroll_to_widget(screen.query_one("#flight-statements-heading"), animate=False, top=True)
    await settle(pilot, lambda: output.scroll_y > 0)


async def run_flight(pilot: Pilot[Any], screen: OneboxScreen, sim: SimServer) -> None:
    screen.action_tab("tab-flight")
    await pilot.pause()
    await pilot.click("#flight-run")
    await settle(pilot, lambda: isinstance(pilot.app.screen, ConfirmChangeScreen))
    await pilot.press("y")
    await settle(pilot, finished(screen, Step.FLIGHT))


async def verify_without_app_user(pilot: Pilot[Any], screen: OneboxScreen, sim: SimServer) -> None:
    await type_into(pilot, "#app-id", sim.onebox_client_id)
    screen.action_tab("tab-verify")
    await pilot.pause()
    await type_into(pilot, "#verify-secret", sim.onebox_client_secret)
    await pilot.press("enter")
    await settle(pilot, finished(screen, Step.VERIFY))
    assert "0x80072560" in str(screen.query_one("#verify-result", Static).content)


# The first two steps' panels at 80x24 and 120x36 (the third is behind its confirmation below); the
# rows before and after (the flight step again) and the verdict of verify, each about twelve seconds
# to take, at 120x36 (the rows also at 200x60).
CASES = [
    pytest.param(bad_app_id, "#business-unit", SMALL, id="validation-errors-80x24"),
    pytest.param(bad_app_id, "#business-unit", MEDIUM, id="validation-errors-120x36"),
    pytest.param(generate, "#flight-generate", SMALL, id="sql-preview-80x24"),
    pytest.param(generate, "#flight-generate", MEDIUM, id="sql-preview-120x36"),
    pytest.param(run_flight, "#flight-generate", MEDIUM, id="rows-before-after-120x36"),
    pytest.param(verify_without_app_user, "#verify-run", MEDIUM, id="verify-result-120x36"),
]


@pytest.mark.parametrize(("steps", "focus", "size"), CASES)
def test_onebox_screen(
    snap_compare: SnapCompare,
    sim_factory: SimFactory,
    axdb: str,
    steps: Steps,
    focus: str,
    size: tuple[int, int],
) -> None:
    sim = sim_factory("onebox-no-app-user", port=SNAPSHOT_PORT, device_approve_after=0)
    app = build_onebox_app(sim, axdb)
    assert snap_compare(app, terminal_size=size, run_before=steps_then_snapshot(steps, focus, sim))


def test_onebox_screen_on_a_large_terminal(
    snap_compare: SnapCompare, sim_factory: SimFactory, axdb: str
) -> None:
    """200x60: the step's panel and the Activity pane share the room."""
    sim = sim_factory("onebox-no-app-user", port=SNAPSHOT_PORT, device_approve_after=0)
    app = build_onebox_app(sim, axdb)
    assert snap_compare(
        app, terminal_size=LARGE, run_before=steps_then_snapshot(run_flight, "#flight-generate", sim)
    )


async def open_flight_confirmation(pilot: Pilot[Any], screen: OneboxScreen, sim: SimServer) -> None:
    screen.action_tab("tab-flight")
    await pilot.pause()
    await pilot.click("#flight-run")
    await settle(pilot, lambda: isinstance(pilot.app.screen, ConfirmChangeScreen))


async def open_aos_confirmation(pilot: Pilot[Any], screen: OneboxScreen, sim: SimServer) -> None:
    screen.action_tab("tab-aos")
    await pilot.pause()
    await pilot.click("#aos-restart")
    await settle(pilot, lambda: isinstance(pilot.app.screen, ConfirmChangeScreen))


@SNAPSHOT_SIZES
@pytest.mark.parametrize(
    "opens",
    [
        pytest.param(open_flight_confirmation, id="flight"),
        pytest.param(open_aos_confirmation, id="aos-restart"),
    ],
)
def test_onebox_confirmation(
    snap_compare: SnapCompare, sim_factory: SimFactory, axdb: str, opens: Steps, size: tuple[int, int]
) -> None:
    """ "Run these statements on AXDB?" and "Restart the AOS?": their buttons in view at every size."""
    sim = sim_factory("onebox-no-app-user", port=SNAPSHOT_PORT, device_approve_after=0)
    app = build_onebox_app(sim, axdb)

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await open_onebox_screen(pilot)
        await pilot.app.workers.wait_for_complete()
        # Its calls end in any order (see steps_then_snapshot), and it shows beside the dialog.
        screen.query_one("#onebox-activity").display = False
        await pilot.pause()
        await opens(pilot, screen, sim)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
