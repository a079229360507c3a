"""Start-up and sign-in: the first frame before any I/O, the device-code modal, cancel."""

from __future__ import annotations

import threading
import time
from typing import Any

import segno
from textual.widgets import Label, Static

from dwtui.tui.app import DwtuiApp, Phase
from dwtui.tui.screens.sign_in import SignInScreen, countdown_text
from dwtui.tui.widgets.qr import qr_lines
from tests.conftest import SimFactory
from tests.helpers import make_session
from tests.tui.support import FIXED_CLOCK, NEVER, SIZE, build_app, ready, settle, settle_screen


def label(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Label).content)


async def test_first_frame_paints_before_connect_returns(sim_factory: SimFactory) -> None:
    sim = sim_factory("happy")
    release = threading.Event()

    def connect() -> Any:
        # A slow start (the demo starting its simulator, a slow keyring): the screen must not wait.
        assert release.wait(30)
        return make_session(sim, sign_in=True)

    app = DwtuiApp(connect, profile_name="sim", clock=lambda: FIXED_CLOCK, show_timings=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.phase is Phase.STARTING
        assert "profile sim" in str(app.page.query_one("#header-context", Label).content)
        assert app.page.environment_pane.body.loading
        release.set()
        await settle(pilot, ready(app))
        assert app.phase is Phase.READY


async def test_device_code_modal_shows_the_code_and_completes(sim_factory: SimFactory) -> None:
    sim = sim_factory("happy", device_approve_after=NEVER)
    app = build_app(sim, signed_in=False)  # an empty in-memory secret store: sign-in is needed
    async with app.run_test(size=SIZE) as pilot:
        await settle_screen(pilot, SignInScreen)
        modal = app.screen
        assert isinstance(modal, SignInScreen)
        code = modal.prompt.user_code
        assert code and label(modal, "#sign-in-code") == code
        assert label(modal, "#sign-in-url") == f"{sim.base_url}/devicelogin"
        assert label(modal, "#sign-in-countdown").startswith("The code expires in ")
        assert "Waiting" in label(modal, "#sign-in-state")
        assert modal.query_one("#sign-in-qr")
        assert sim.approve_device_code(code)
        await settle(pilot, ready(app))
        assert app.phase is Phase.READY
        assert not isinstance(app.screen, SignInScreen)
        assert app.signed_in is not None and app.signed_in.username == sim.user_name
        assert sim.user_name in str(app.page.query_one("#header-context", Label).content)


async def test_cancelling_sign_in_stops_waiting_and_says_so(sim_factory: SimFactory) -> None:
    sim = sim_factory("happy", device_approve_after=NEVER)
    app = build_app(sim, signed_in=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle_screen(pilot, SignInScreen)
        await pilot.press("escape")
        await settle(pilot, lambda: app.phase is Phase.FAILED)
        assert not isinstance(app.screen, SignInScreen)
        assert app.signed_in is None
        status = str(app.page.environment_pane.query_one(".pane-status", Label).content)
        assert "Sign-in cancelled" in status


def test_countdown_text() -> None:
    assert countdown_text(65.4) == "The code expires in 1:05"
    assert countdown_text(900) == "The code expires in 15:00"
    assert countdown_text(0).startswith("The code has expired")


def test_qr_lines_hold_every_module_of_the_code() -> None:
    url = "https://microsoft.com/devicelogin"
    lines = qr_lines(url, border=2)
    matrix = [list(row) for row in segno.make(url, error="m").matrix_iter(scale=1, border=2)]
    top = {"\u2588": (1, 1), "\u2580": (1, 0), "\u2584": (0, 1), " ": (0, 0)}
    rebuilt: list[list[int]] = []
    for line in lines:
        assert len(line) == len(matrix[0])
        rebuilt.append([top[ch][0] for ch in line])
        rebuilt.append([top[ch][1] for ch in line])
    assert rebuilt[: len(matrix)] == [[1 if module else 0 for module in row] for row in matrix]


async def test_a_device_code_sign_in_without_consent_for_lcs_shows_the_consent_remedy(
    sim_factory: SimFactory,
) -> None:
    sim = sim_factory("happy", device_approve_after=NEVER)
    sim.world.consent_withheld.add(sim.lcs_api_url)
    app = build_app(sim, signed_in=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle_screen(pilot, SignInScreen)
        modal = app.screen
        assert isinstance(modal, SignInScreen)
        assert sim.approve_device_code(modal.prompt.user_code)
        # Not settle(): it waits on workers, and this sign-in worker ends in the consent error.
        deadline = time.monotonic() + 30
        while app.phase is not Phase.FAILED:
            assert time.monotonic() < deadline, f"phase {app.phase}"
            await pilot.pause(0.02)
        await pilot.pause()
        assert not isinstance(app.screen, SignInScreen)
        [fault] = app.page.environment_pane.faults
        assert (fault.service, fault.code) == ("LCS API", "consent_required")
        shown = str(app.page.environment_pane.query_one(".fault-text", Static).content)
        assert shown.startswith("No consent: an administrator grants it, then press r.")
        assert f"adminconsent?client_id={sim.client_id}" in shown
        assert "sign in again" not in shown.lower()
