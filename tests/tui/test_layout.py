"""Every screen usable from a jump box's 80x24 to a large terminal (issue 11), checked on the layout.

Each dialog's buttons and the line naming their keys are on screen whole (not cut at an edge, not
scrolled away, not covered); the footer keeps ? Help and q Quit; the Power Platform Integration
actions and the one-box steps fit 80x24; the Activity pane has its columns back once an install
ends, and grows with the terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Footer, Input
from textual.widgets._footer import FooterKey

from dwtui.services.session import Session
from dwtui.sim.server import SimServer
from dwtui.tui.app import DwtuiApp
from dwtui.tui.environment_details.picker import EnvironmentPickerScreen
from dwtui.tui.flows.dataverse.dialog import AddDataverseScreen
from dwtui.tui.flows.install.terms import TermsScreen
from dwtui.tui.flows.link.admin_link import AdminLinkScreen
from dwtui.tui.flows.link.wizard import LinkWizardScreen
from dwtui.tui.flows.onebox.checklist import Checklist, Step, StepState
from dwtui.tui.flows.reset.dialog import ResetScreen
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from dwtui.tui.screens.error_details import ErrorDetailsScreen
from dwtui.tui.screens.help import HelpScreen
from dwtui.tui.screens.sign_in import SignInScreen
from dwtui.tui.widgets.activity_lines import ActivityLines
from tests.conftest import SimFactory
from tests.tui.onebox_support import build_onebox_app, demo_axdb, open_onebox_screen
from tests.tui.operations_support import configure_and_ok, drain, fast_sim, operations_app, progress
from tests.tui.support import (
    LARGE,
    MEDIUM,
    NEVER,
    SMALL,
    build_app,
    ready,
    settle,
    settle_screen,
    shown_whole,
)


async def open_dialog(pilot: Pilot[Any], screen_type: type[ModalScreen[Any]], *keys: str) -> None:
    await pilot.press(*keys)
    await settle_screen(pilot, screen_type)


def assert_whole(app: DwtuiApp, *selectors: str) -> None:
    """The dialog inside the screen, and each of its buttons and its keys line in view, whole."""
    screen = app.screen
    frame = screen.query_one(".dialog")
    name = type(screen).__name__
    assert screen.region.contains_region(frame.region), f"{name} {frame.region} is cut by {screen.region}"
    for selector in (*selectors, ".dialog-keys"):
        assert shown_whole(app, selector), f"{name}: {selector} is not in view at {screen.size}"


async def close_dialog(pilot: Pilot[Any]) -> None:
    await pilot.press("escape")
    await settle(pilot, lambda: not isinstance(pilot.app.screen, ModalScreen))


# -- dialogs -----------------------------------------------------------------------------------------


async def test_the_main_screen_dialogs_keep_their_buttons_and_keys_in_view_at_80x24(
    sim_factory: SimFactory,
) -> None:
    app = operations_app(fast_sim(sim_factory, "happy"))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot, ready(app))
        await open_dialog(pilot, HelpScreen, "question_mark")
        assert_whole(app, "#help-procedure-scroll", "#help-keys-scroll")
        await close_dialog(pilot)
        await open_dialog(pilot, EnvironmentPickerScreen, "e")
        picker = app.screen
        assert isinstance(picker, EnvironmentPickerScreen)
        await settle(pilot, lambda: bool(picker.environments))
        assert_whole(app, "#picker-list")
        await close_dialog(pilot)
        await open_dialog(pilot, TermsScreen, "d")
        assert_whole(app, "#terms-configure", "#terms-cancel")
        await close_dialog(pilot)
        await drain(pilot)


async def test_the_link_dialogs_keep_their_buttons_in_view_at_80x24(
    sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = operations_app(fast_sim(sim_factory, "installed"))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot, ready(app))
        await open_dialog(pilot, ConfirmChangeScreen, "l")
        assert_whole(app, "#confirm-yes", "#confirm-no")
        await close_dialog(pilot)
        # A real gateway: the documented way first.
        monkeypatch.setattr(Session, "gateway_is_simulator", property(lambda self: False))
        await open_dialog(pilot, LinkWizardScreen, "l")
        assert_whole(app, "#wizard-copy", "#wizard-close", "#wizard-unverified")
        await close_dialog(pilot)
    app = operations_app(fast_sim(sim_factory, "linked"))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot, ready(app))
        await open_dialog(pilot, AdminLinkScreen, "a")
        assert_whole(app, "#admin-copy", "#admin-close")
        await close_dialog(pilot)


@pytest.mark.parametrize(
    ("scenario", "size"),
    [("mismatch", SMALL), ("maps-running", SMALL), ("maps-running", MEDIUM)],
    ids=["80x24", "maps-running-80x24", "maps-running-120x36"],
)
async def test_the_reset_dialog_keeps_the_name_field_and_its_buttons_in_view(
    sim_factory: SimFactory, scenario: str, size: tuple[int, int]
) -> None:
    """At 80x24 it was cut (no name field, no buttons); with maps running, at 120x36 as well."""
    app = operations_app(fast_sim(sim_factory, scenario))
    async with app.run_test(size=size) as pilot:
        await settle(pilot, ready(app))
        await open_dialog(pilot, ResetScreen, "R")
        selectors = ["#reset-name", "#reset-yes", "#reset-no"]
        if scenario == "maps-running":
            selectors.append("#reset-force")
        assert_whole(app, *selectors)
        # Typed into, the name is where the person sees it.
        await pilot.press(*"contoso-uat")
        assert app.screen.query_one("#reset-name", Input).value == "contoso-uat"
        assert_whole(app, *selectors)
        await close_dialog(pilot)


async def test_add_dataverse_sign_in_and_error_details_keep_their_buttons_in_view_at_80x24(
    sim_factory: SimFactory,
) -> None:
    app = operations_app(fast_sim(sim_factory, "no-dataverse"))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot, ready(app))
        await open_dialog(pilot, AddDataverseScreen, "P")
        assert_whole(app, "#dataverse-yes", "#dataverse-no", "#dataverse-language")
        await close_dialog(pilot)
    app = build_app(sim_factory("no-consent-ppapi", device_approve_after=0))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot, ready(app))
        app.page.action_error_details()
        await settle_screen(pilot, ErrorDetailsScreen)
        assert_whole(app, "#error-close")
    sim = sim_factory("happy", device_approve_after=NEVER, device_code_lifetime=900.0)
    app = build_app(sim, signed_in=False)
    async with app.run_test(size=SMALL) as pilot:
        await settle_screen(pilot, SignInScreen)
        assert_whole(app, "#sign-in-cancel")
        await pilot.press("escape")


@pytest.fixture
def axdb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    return demo_axdb(tmp_path)


@pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=["80x24", "120x36"])
async def test_the_one_box_confirmations_show_their_buttons(
    sim_factory: SimFactory, axdb: str, size: tuple[int, int]
) -> None:
    """At 120x36 "Run these statements on AXDB?" showed no buttons (y worked, nothing said so)."""
    app = build_onebox_app(sim_factory("onebox-no-app-user"), axdb)
    async with app.run_test(size=size) as pilot:
        screen = await open_onebox_screen(pilot)
        for tab, button, title in (
            ("tab-flight", "#flight-run", "Run these statements on AXDB?"),
            ("tab-aos", "#aos-restart", "Restart the AOS?"),
        ):
            screen.action_tab(tab)
            await pilot.pause()
            screen.query_one(button).press()
            await settle_screen(pilot, ConfirmChangeScreen)
            assert str(app.screen.query_one(".dialog-title").render()) == title
            assert_whole(app, "#confirm-yes", "#confirm-no")
            await pilot.press("n")
            await settle(pilot, lambda: app.screen is screen)
        await app.workers.wait_for_complete()


# -- the main page at 80x24: the footer and the Power Platform Integration actions ------------------


def footer_key(app: DwtuiApp, key: str) -> FooterKey:
    return next(k for k in app.screen.query_one(Footer).query(FooterKey) if k.key == key)


@pytest.mark.parametrize(
    ("scenario", "environment"),
    [
        ("happy", "uat"),
        ("mismatch", "uat"),
        ("no-dataverse", "uat"),
        ("linked", "uat"),
        ("onebox-no-app-user", "dev"),
    ],
)
async def test_the_footer_and_the_power_platform_actions_fit_80x24(
    sim_factory: SimFactory, scenario: str, environment: str
) -> None:
    """The footer was cut before ? Help and q Quit (every key it leaves out is in the palette and
    help), and the actions were below the fold."""
    app = operations_app(fast_sim(sim_factory, scenario), environment=environment)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot, ready(app))
        await pilot.pause()
        for key in ("question_mark", "q", "r"):
            assert shown_whole(app, footer_key(app, key)), f"{scenario}: {key} is cut from the footer"
        buttons = ["#setup", "#link", "#reset"]
        if scenario == "no-dataverse":
            buttons.append("#add_dataverse")
        for selector in buttons:
            assert shown_whole(app, selector), f"{scenario}: {selector} is below the fold"
        await drain(pilot)


async def test_the_one_box_steps_fit_80_columns(sim_factory: SimFactory, axdb: str) -> None:
    app = build_onebox_app(sim_factory("onebox-no-app-user"), axdb)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_onebox_screen(pilot)
        checklist = screen.query_one(Checklist)
        for step in Step:
            assert shown_whole(app, f"#check-{step.value}"), f"{step} is cut from the steps line"
        # The badge, when it shows, fits beside them.
        for step in Step:
            checklist.mark(step, StepState.DONE)
        assert checklist.set_up
        await pilot.pause()
        assert shown_whole(app, "#onebox-set-up") and shown_whole(app, "#check-verify")
        # The flight step's Run is on screen without scrolling (the tmux test presses it).
        screen.action_tab("tab-flight")
        await pilot.pause()
        assert shown_whole(app, "#flight-run")
        await app.workers.wait_for_complete()


# -- Progress and Activity ---------------------------------------------------------------------------


def visible_columns(app: DwtuiApp) -> set[str]:
    """The Activity columns whose first ten cells (or all of a narrower column) are in view."""
    table = app.screen.query_one("#activity-table", ActivityLines)
    width = table.scrollable_content_region.width
    shown = set()
    for key, offset, column_width in table.column_offsets():
        x = offset - int(table.scroll_x)
        if x >= 0 and x + min(column_width or 10, 10) <= width:
            shown.add(key)
    return shown


async def test_activity_has_its_columns_back_when_an_install_ends(sim_factory: SimFactory) -> None:
    """The Progress pane kept two thirds of the row after an install, hiding Status, Took and Path."""
    app = operations_app(fast_sim(sim_factory, "happy"), show_timings=True)
    async with app.run_test(size=MEDIUM) as pilot:
        await settle(pilot, ready(app))
        before = visible_columns(app)
        assert {"status", "took", "detail"} <= before
        await configure_and_ok(pilot)
        await settle(pilot, lambda: progress(app).watching)
        await settle(pilot, lambda: progress(app).outcome is not None, within=60)
        await drain(pilot)
        await pilot.pause()
        outcome = progress(app).outcome
        assert outcome is not None and outcome.succeeded
        assert visible_columns(app) == before
        assert not app.screen.query_one("#bottom").has_class("operation")


async def page_heights(sim: SimServer, size: tuple[int, int]) -> tuple[int, int]:
    """The Activity pane's height on the main page, and the one-box screen's, at `size`."""
    app = build_app(sim)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, ready(app))
        return app.screen.query_one("#activity-pane").region.height, app.screen.size.height


async def test_activity_grows_with_the_terminal(sim_factory: SimFactory) -> None:
    """At 200x60 Activity stayed 7 rows tall under 30 empty rows."""
    sim = sim_factory("happy", device_approve_after=0)
    medium, _ = await page_heights(sim, MEDIUM)
    large, rows = await page_heights(sim, LARGE)
    assert large > medium
    assert large >= rows // 3
