"""Pilot tests of the Doctor screen (D): the table fills in live, problems show their remedy, a check
that hangs does not hold the others up, r runs it again, Escape goes back, the palette has it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Static

from dwtui.domain.doctor import CATALOGUE, CheckState, Group
from dwtui.domain.doctor import catalogue as c
from dwtui.services.session import DemoWorld
from dwtui.services.verify import store_app_secret
from dwtui.tui.app import DwtuiApp
from dwtui.tui.doctor.presentation import MARKS
from dwtui.tui.doctor.screen import DoctorScreen, open_doctor
from dwtui.tui.doctor.table import CheckTable, group_key
from dwtui.tui.screens.help import page_keys
from dwtui.tui.screens.sign_in import SignInScreen
from tests.conftest import SimFactory
from tests.helpers import make_session
from tests.tui.onebox_support import demo_axdb
from tests.tui.operations_support import drain, wait_for
from tests.tui.support import FIXED_CLOCK, NEVER, SIZE, build_app, ready, settle, settle_screen

EVERY_CHECK = {spec.check_id for spec in CATALOGUE}
GATEWAY_CHECKS = {c.DUALWRITE_LINK, c.DUALWRITE_MISMATCH, c.DUALWRITE_MAPS}
ONEBOX = [c.ONEBOX_APP_ID, c.ONEBOX_APP_USER, c.ONEBOX_FLIGHT, c.ONEBOX_AOS, c.ONEBOX_VERIFY]
GATEWAY_ENVIRONMENTS = "/gateway/api/DualWriteManagement/1.0/Environments"


def doctor(app: DwtuiApp) -> DoctorScreen:
    screen = app.screen
    assert isinstance(screen, DoctorScreen), f"the doctor is not on top ({screen!r})"
    return screen


def table(app: DwtuiApp) -> CheckTable:
    return doctor(app).table


def state_shown(app: DwtuiApp, check_id: str) -> str:
    cell = table(app).get_cell(check_id, "state")
    return cell.plain if isinstance(cell, Text) else str(cell)


def detail(app: DwtuiApp) -> Text:
    content = doctor(app).query_one("#doctor-detail-text", Static).content
    assert isinstance(content, Text)
    return content


def summary_line(app: DwtuiApp) -> str:
    return str(doctor(app).query_one("#doctor-summary", Static).content)


def finished(app: DwtuiApp) -> bool:
    screen = app.screen
    return isinstance(screen, DoctorScreen) and screen.report is not None


async def open_with_d(pilot: Pilot[Any], app: DwtuiApp) -> None:
    await settle(pilot, ready(app))
    await pilot.press("D")
    await settle_screen(pilot, DoctorScreen)


async def test_d_opens_the_doctor_every_row_fills_in_and_escape_goes_back(sim_factory: SimFactory) -> None:
    sim = sim_factory("happy")
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        sim.reset_log()
        await pilot.press("D")
        await settle_screen(pilot, DoctorScreen)
        # One row per check and a heading per group, in the catalogue's order, from the start.
        rows = [str(key.value) for key in table(app).rows]
        groups = list(dict.fromkeys(spec.group for spec in CATALOGUE))
        assert [row for row in rows if row in EVERY_CHECK] == [spec.check_id for spec in CATALOGUE]
        assert [row for row in rows if row not in EVERY_CHECK] == [group_key(group) for group in groups]
        assert doctor(app).query_one("#doctor-title", Static).content == (
            "Doctor: contoso-uat (Sandbox)  (r runs again, Escape goes back)"
        )

        await settle(pilot, lambda: finished(app))
        report = doctor(app).report
        assert report is not None
        states = {result.check_id: result.state for result in report.results}
        assert set(table(app).results) == EVERY_CHECK
        assert {state for state in states.values()} == {CheckState.OK, CheckState.NOT_APPLICABLE}
        for check_id, state in states.items():
            assert state_shown(app, check_id).startswith(MARKS[state])
        assert summary_line(app).startswith("All applicable checks pass. 24 checks: 17 ok, 0 problem(s)")
        # Nothing is wrong: the cursor stays on the first check, whose evidence is shown.
        assert table(app).highlighted_key == c.SIGNIN_LCS
        assert "Evidence" in detail(app).plain
        assert "token issued" in detail(app).plain
        # The page's environment was passed: the doctor made no LCS call of its own.
        assert not [r for r in sim.requests() if r["service"] == "lcs"]
        # Its calls are in the page's Activity pane, as every call is.
        services = {entry.service for entry in app.page.activity_pane.entries}
        assert {"BAP admin API", "Power Platform API", "dual-write gateway"} <= services

        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is app.page)


@pytest.mark.parametrize(
    ("scenario", "check", "words"),
    [
        ("old-version", c.ENVIRONMENT_VERSION, "10.0.8 / Platform update 32 is below"),
        ("no-consent-ppapi", c.SIGNIN_POWER_PLATFORM, "no admin consent for the Power Platform API"),
    ],
)
async def test_a_problem_shows_its_evidence_remedy_and_link(
    sim_factory: SimFactory, scenario: str, check: str, words: str
) -> None:
    app = build_app(sim_factory(scenario))
    async with app.run_test(size=SIZE) as pilot:
        await open_with_d(pilot, app)
        await settle(pilot, lambda: finished(app))
        report = doctor(app).report
        assert report is not None
        (problem,) = [result for result in report.results if result.state is CheckState.PROBLEM]
        assert problem.check_id == check
        assert state_shown(app, check) == MARKS[CheckState.PROBLEM]
        assert summary_line(app).startswith("Problem found.")
        # The cursor went to the problem on its own, and the panel explains it.
        assert table(app).highlighted_key == check
        shown = detail(app)
        assert words in shown.plain
        assert "Evidence" in shown.plain
        assert f"Remedy\n  {problem.remedy}" in shown.plain
        assert problem.remedy
        # The documentation is the one hyperlink, and its text is its address.
        links = [(shown.plain[span.start : span.end], span.style) for span in shown.spans]
        linked = [(text, style.link) for text, style in links if not isinstance(style, str) and style.link]
        assert linked == [(problem.doc, problem.doc)]


async def test_a_group_heading_lists_its_checks(sim_factory: SimFactory) -> None:
    app = build_app(sim_factory("happy"))
    async with app.run_test(size=SIZE) as pilot:
        await open_with_d(pilot, app)
        await settle(pilot, lambda: finished(app))
        table(app).place_cursor(group_key(Group.RIGHTS))
        await pilot.pause()
        shown = detail(app).plain
        assert shown.startswith("Your rights")
        assert "[x] ok [I]  LCS project role able to change the environment" in shown


async def test_a_hanging_check_does_not_stop_the_others_and_ends_timed_out(sim_factory: SimFactory) -> None:
    sim = sim_factory("linked")
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        sim.add_fault(GATEWAY_ENVIRONMENTS, "slow", delay=30.0)
        assert app.session is not None
        open_doctor(app, app.session, app.page.environment, show_timings=False, time_limit=4.0)
        await settle_screen(pilot, DoctorScreen)
        # Every other check is shown while the gateway's are still waiting.
        await wait_for(pilot, lambda: set(table(app).results) == EVERY_CHECK - GATEWAY_CHECKS)
        assert doctor(app).report is None
        for check in GATEWAY_CHECKS:
            assert state_shown(app, check) == MARKS["checking"]
        assert summary_line(app).startswith("Checking: 21 of 24 done")
        table(app).place_cursor(c.DUALWRITE_LINK)
        await pilot.pause()
        assert "still running (its time limit is 4 s)" in detail(app).plain

        await wait_for(pilot, lambda: finished(app))
        for check in GATEWAY_CHECKS:
            assert state_shown(app, check).startswith(MARKS[CheckState.UNKNOWN])
            summary = table(app).results[check].summary
            assert summary.startswith("timed out after 4 s (waiting for dual-write gateway")
        assert summary_line(app).startswith("Incomplete: a check could not run. 24 checks:")
        assert "3 could not run" in summary_line(app)
        assert "timed out after 4 s" in detail(app).plain
        await pilot.press("escape")
        await drain(pilot)


async def test_r_while_a_check_hangs_stops_that_run_and_runs_every_check_again(
    sim_factory: SimFactory,
) -> None:
    sim = sim_factory("linked")
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        sim.add_fault(GATEWAY_ENVIRONMENTS, "slow", delay=30.0, count=2)  # in both runs
        assert app.session is not None
        open_doctor(app, app.session, app.page.environment, show_timings=False, time_limit=4.0)
        await settle_screen(pilot, DoctorScreen)
        await wait_for(pilot, lambda: set(table(app).results) == EVERY_CHECK - GATEWAY_CHECKS)
        first = dict(table(app).results)
        sim.reset_log()

        await pilot.press("r")
        assert doctor(app).runs == 2
        await wait_for(pilot, lambda: set(table(app).results) == EVERY_CHECK - GATEWAY_CHECKS)
        # Every check ran again (the answers are new, and BAP was asked again)...
        assert all(table(app).results[check] is not first[check] for check in first)
        assert [r for r in sim.requests() if r["service"] == "bap"]
        # ...and the first run, stopped, never showed its waiting checks as "cancelled".
        for check in GATEWAY_CHECKS:
            assert state_shown(app, check) == MARKS["checking"]
        await wait_for(pilot, lambda: finished(app))
        report = doctor(app).report
        assert report is not None
        assert not [r for r in report.results if "cancelled" in r.summary]
        assert {r.check_id for r in report.results if r.state is CheckState.UNKNOWN} == GATEWAY_CHECKS
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is app.page)


async def test_escape_while_running_stops_the_run(sim_factory: SimFactory) -> None:
    sim = sim_factory("linked")
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        sim.add_fault(GATEWAY_ENVIRONMENTS, "slow", delay=30.0, count=1)
        await pilot.press("D")
        await settle_screen(pilot, DoctorScreen)
        screen = doctor(app)
        await wait_for(pilot, lambda: set(table(app).results) == EVERY_CHECK - GATEWAY_CHECKS)
        await pilot.press("escape")
        assert app.screen is app.page
        # Each check's own limit is a minute: only the cancel ends the worker this soon.
        await wait_for(pilot, lambda: not screen.running, within=10.0)


async def test_the_palette_opens_the_doctor_and_help_lists_its_key(sim_factory: SimFactory) -> None:
    assert ("D", "Doctor") in page_keys()
    app = build_app(sim_factory("happy"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("ctrl+p")
        await settle_screen(pilot, CommandPalette)
        await pilot.press(*"Doctor")

        def first_is_doctor() -> bool:
            lists = app.screen.query(CommandList)
            if not lists or not lists.first(CommandList).option_count:
                return False
            prompt = lists.first(CommandList).get_option_at_index(0).prompt
            return str(getattr(prompt, "plain", prompt)).startswith("Doctor")

        await wait_for(pilot, first_is_doctor)
        await pilot.press("enter")
        await settle_screen(pilot, DoctorScreen)
        await settle(pilot, lambda: finished(app))


async def test_the_doctor_runs_where_the_page_could_not_read_the_environment(sim_factory: SimFactory) -> None:
    """LCS refuses the environment: the page says so, and the doctor names the missing right."""
    app = build_app(sim_factory("lcs-no-access"))
    async with app.run_test(size=SIZE) as pilot:
        await open_with_d(pilot, app)
        assert app.page.environment is None
        await settle(pilot, lambda: finished(app))
        assert table(app).results[c.RIGHTS_LCS].state is CheckState.PROBLEM
        assert table(app).highlighted_key == c.RIGHTS_LCS
        assert "LCS does not show you the environment" in detail(app).plain


async def test_d_before_sign_in_says_why(sim_factory: SimFactory) -> None:
    app = build_app(sim_factory("happy", device_approve_after=NEVER), signed_in=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle_screen(pilot, SignInScreen)
        app.page.action_doctor()  # as the command palette calls it
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        assert [n.message for n in app._notifications] == ["Doctor: sign in first (press r)."]


async def test_at_80x24_the_detail_scrolls_and_nothing_is_cut(sim_factory: SimFactory) -> None:
    app = build_app(sim_factory("no-consent-ppapi"))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_with_d(pilot, app)
        await settle(pilot, lambda: finished(app))
        screen = doctor(app)
        panel = screen.query_one("#doctor-detail")
        assert panel.region.height >= 6 and panel.region.width == 80
        assert screen.table.region.height >= 6
        assert panel.max_scroll_y > 0  # the remedy is below: the panel scrolls to it
        await pilot.press("tab")
        assert screen.focused is panel
        await pilot.press("end")
        assert panel.scroll_y == panel.max_scroll_y
        # Titles wrap within the table rather than run past its edge.
        assert screen.table.virtual_size.width <= screen.table.scrollable_content_region.width


async def test_on_a_one_box_the_doctor_uses_what_the_demo_knows(
    sim_factory: SimFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's app registration and AXDB: the one-box checks run (the flight is still off)."""
    monkeypatch.chdir(tmp_path)
    sim = sim_factory("happy")
    axdb = demo_axdb(tmp_path)

    def connect() -> Any:
        session = make_session(sim, environment="dev", sign_in=True)
        store_app_secret(session.secrets, session.profile, sim.onebox_client_id, sim.onebox_client_secret)
        session.demo = DemoWorld(axdb_connection_string=axdb, onebox_application_id=sim.onebox_client_id)
        return session

    app = DwtuiApp(connect, profile_name="sim", clock=lambda: FIXED_CLOCK, show_timings=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_with_d(pilot, app)
        await settle(pilot, lambda: finished(app))
        results = table(app).results
        states = [results[check].state for check in ONEBOX]
        ok, problem, na = CheckState.OK, CheckState.PROBLEM, CheckState.NOT_APPLICABLE
        assert states == [ok, ok, problem, na, problem]
        summary = results[c.ONEBOX_APP_ID].summary
        assert summary == f"app {sim.onebox_client_id} (the demo's simulated one-box app)"
        assert table(app).highlighted_key == c.ONEBOX_FLIGHT  # the first problem


async def test_hostile_names_reach_the_doctor_inert(sim_factory: SimFactory) -> None:
    from tests.tui.test_hostile_text import CLIPBOARD, assert_painted_inert, screen_text

    app = build_app(sim_factory("hostile-names"))
    async with app.run_test(size=SIZE) as pilot:
        await open_with_d(pilot, app)
        await settle(pilot, lambda: finished(app))
        assert f"Doctor: contoso-uat{CLIPBOARD}" in screen_text(app)
        shown_somewhere = False
        for row in range(table(app).row_count):  # every row's detail, painted
            table(app).move_cursor(row=row, animate=False)
            await pilot.pause()
            assert_painted_inert(app)
            shown_somewhere = shown_somewhere or CLIPBOARD in detail(app).plain
        assert shown_somewhere  # a service's words in the evidence, with their escapes visible
