"""The Dual-write application flow (d) in the app, against the simulator: terms, OK, live progress."""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.widgets import Button, Input, SelectionList, Static

from dwtui.domain.operations import OperationStatus
from dwtui.services.watch import TransientFault
from dwtui.tui.app import DwtuiApp
from dwtui.tui.flows.dataverse.dialog import AddDataverseScreen
from dwtui.tui.flows.install.terms import TermsScreen
from dwtui.tui.flows.progress.messages import Watched
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from dwtui.tui.screens.sign_in import SignInScreen
from dwtui.tui.widgets.fields import Fields
from tests.conftest import SimFactory
from tests.tui.operations_support import (
    configure_and_ok,
    drain,
    fast_sim,
    install_posts,
    operations_app,
    progress,
    wait_for,
)
from tests.tui.support import SIZE, ready, settle, settle_screen, shown_whole


def static_text(app: DwtuiApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def test_install_succeeds_live_and_the_pane_follows(sim_factory: SimFactory) -> None:
    sim = fast_sim(sim_factory, "happy")
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("d")
        await settle_screen(pilot, TermsScreen)
        # The plan is the Application Core; the documented list names no terms, so the notice and
        # the package's link stand in for them.
        assert static_text(app, "#terms-plan") == "Plan: 1. Dual-write Application Core"
        terms = static_text(app, "#terms-text")
        assert "did not list the terms" in terms and "http://go.microsoft.com/fwlink/?LinkID=773454" in terms
        await pilot.click("#terms-configure")
        await settle_screen(pilot, ConfirmChangeScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: progress(app).watching)
        # While it runs: the button says why not, and d does not start a second install.
        assert app.page.query_one("#setup").disabled
        await pilot.press("d")
        assert not isinstance(app.screen, TermsScreen)
        await settle(pilot, lambda: progress(app).outcome is not None)
        pane = progress(app)
        assert pane.outcome is not None and pane.outcome.succeeded
        assert pane.record is not None and pane.record.status is OperationStatus.SUCCEEDED
        statuses = [entry.status for entry in pane.record.log]
        assert OperationStatus.RUNNING in statuses and statuses[-1] is OperationStatus.SUCCEEDED
        assert app.page.operations.bells == 1
        assert "Succeeded" in str(app.page.query_one("#progress-text", Static).content)
        # The Power Platform pane is read again: installed, and Link is next.
        await settle(
            pilot, lambda: app.page.query_one("#ppi-fields", Fields).value("app").startswith("installed (")
        )
        assert not app.page.query_one("#link").disabled
        assert len(install_posts(sim)) == 1
        changes = [e for e in app.page.activity_pane.entries if e.kind == "http" and e.method == "POST"]
        assert any("/install?" in e.url for e in changes)
        await drain(pilot)


async def test_install_failure_shows_code_meaning_remedy_and_offers_retry(sim_factory: SimFactory) -> None:
    sim = fast_sim(sim_factory, "install-failed")
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await configure_and_ok(pilot)
        await settle(pilot, lambda: progress(app).outcome is not None)
        pane = progress(app)
        assert pane.outcome is not None and not pane.outcome.succeeded
        result = str(app.page.query_one("#progress-result", Static).content)
        assert "Code: SolutionImportFailed" in result
        assert "msdyn_DualWriteAppCoreMaps failed" in result
        assert "Remedy: Fix what the message names" in result and "manage-apps" in result
        assert "press d to try again" in str(app.page.query_one("#progress-text", Static).content)
        assert app.page.operations.bells == 1
        # Retry is offered: once the pane is read again, d opens the terms again.
        await settle(pilot, lambda: app.page.query_one("#ppi-fields", Fields).value("app") == "failed")
        assert not app.page.query_one("#setup").disabled
        await pilot.press("d")
        await settle_screen(pilot, TermsScreen)
        await pilot.press("escape")
        await drain(pilot)
    assert len(install_posts(sim)) == 1


async def choose(pilot: Any, *keys: str) -> None:
    """Tick packages in the plan's list (what they need is ticked with them)."""
    app = pilot.app
    selection = app.screen.query_one("#terms-packages", SelectionList)
    for key in keys:
        selection.toggle(key)
        await pilot.pause()


async def test_a_two_package_plan_ticks_its_dependency_and_installs_both_in_order(
    sim_factory: SimFactory,
) -> None:
    sim = fast_sim(sim_factory, "happy")
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("d")
        await settle_screen(pilot, TermsScreen)
        await choose(pilot, "notes")  # needs Finance, which is ticked with it
        assert static_text(app, "#terms-plan") == (
            "Plan: 1. Dual-write Application Core, 2. Dual-write Finance, 3. Dual-write Notes"
        )
        await choose(pilot, "finance")  # unticking Finance unticks Notes, which needs it
        assert static_text(app, "#terms-plan") == "Plan: 1. Dual-write Application Core"
        await choose(pilot, "finance")
        assert (
            static_text(app, "#terms-plan") == "Plan: 1. Dual-write Application Core, 2. Dual-write Finance"
        )
        await pilot.click("#terms-configure")
        await settle_screen(pilot, ConfirmChangeScreen)
        body = static_text(app, "#confirm-text")
        assert "1. Dual-write Application Core (msdyn_DualWriteAppCoreAnchor)" in body
        assert "2. Dual-write Finance (msdyn_Dynamics365FinanceExtendedAnchor)" in body
        await pilot.press("y")

        def both_done() -> bool:
            record = progress(app).record
            outcome = progress(app).outcome
            return (
                record is not None
                and record.package == "msdyn_Dynamics365FinanceExtendedAnchor"
                and outcome is not None
            )

        await settle(pilot, both_done, within=60.0)
        outcome = progress(app).outcome
        assert outcome is not None and outcome.succeeded
        plan = str(app.page.query_one("#progress-plan", Static).content)
        assert "[x] 1. Dual-write Application Core: installed" in plan
        assert "[x] 2. Dual-write Finance: installed" in plan
        assert app.page.operations.bells == 2  # one per package
        await drain(pilot)
    posted = [r["path"].split("/applicationPackages/")[1].split("/")[0] for r in install_posts(sim)]
    assert posted == ["msdyn_DualWriteAppCoreAnchor", "msdyn_Dynamics365FinanceExtendedAnchor"]


async def test_a_failure_in_the_middle_stops_the_plan_and_says_what_was_not_requested(
    sim_factory: SimFactory,
) -> None:
    sim = fast_sim(sim_factory, "dependency-failed")
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("d")
        await settle_screen(pilot, TermsScreen)
        await choose(pilot, "notes")
        await pilot.click("#terms-configure")
        await settle_screen(pilot, ConfirmChangeScreen)
        await pilot.press("y")

        def finance_ended() -> bool:
            record = progress(app).record
            return (
                record is not None
                and record.package == "msdyn_Dynamics365FinanceExtendedAnchor"
                and progress(app).outcome is not None
            )

        await settle(pilot, finance_ended, within=60.0)
        outcome = progress(app).outcome
        assert outcome is not None and not outcome.succeeded
        plan = str(app.page.query_one("#progress-plan", Static).content)
        assert "[x] 1. Dual-write Application Core: installed" in plan
        assert "[-] 2. Dual-write Finance: failed" in plan
        assert "[ ] 3. Dual-write Notes: not requested" in plan
        assert "Code: SolutionImportFailed" in str(app.page.query_one("#progress-result", Static).content)
        await drain(pilot)
    posted = [r["path"].split("/applicationPackages/")[1].split("/")[0] for r in install_posts(sim)]
    assert posted == ["msdyn_DualWriteAppCoreAnchor", "msdyn_Dynamics365FinanceExtendedAnchor"]


async def test_an_environment_without_dataverse_offers_add_dataverse_only(sim_factory: SimFactory) -> None:
    from dwtui.tui.flows.dataverse.dialog import AddDataverseScreen

    sim = fast_sim(sim_factory, "no-dataverse", speed=2000.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        assert app.page.query_one("#ppi-fields", Fields).value("integration") == (
            "Power Platform environment without Dataverse"
        )
        assert "press P to add it" in str(app.page.query_one("#ppi-hint", Static).content)
        # No Dataverse or package call is made for it.
        assert not [r for r in sim.requests() if r["path"].startswith(("/dataverse/", "/ppapi/"))]
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, TermsScreen)
        assert any("add Dataverse first" in n.message for n in app._notifications)
        await pilot.press("P")
        await settle_screen(pilot, AddDataverseScreen)
        currency = app.screen.query_one("#dataverse-currency", Input)
        currency.value = "E1"
        await pilot.pause()
        assert "ISO 4217" in static_text(app, "#dataverse-check")
        assert app.screen.query_one("#dataverse-yes", Button).disabled
        currency.value = "EUR"
        await pilot.pause()
        await pilot.click("#dataverse-yes")
        await settle_screen(pilot, ConfirmChangeScreen)
        assert "Currency: EUR" in static_text(app, "#confirm-text")
        await pilot.press("y")
        await settle(pilot, lambda: progress(app).outcome is not None, within=60.0)
        outcome = progress(app).outcome
        assert outcome is not None and outcome.succeeded
        # Read again: Dataverse is there, with the template's dual-write application installed.
        fields = app.page.query_one("#ppi-fields", Fields)
        await settle(pilot, lambda: fields.value("integration") == "set up")
        await drain(pilot)
    provisions = [r for r in sim.requests() if r["path"].endswith("/provisionInstance")]
    assert len(provisions) == 1


async def test_flaky_polls_show_notes_and_the_install_still_succeeds(sim_factory: SimFactory) -> None:
    sim = fast_sim(sim_factory, "flaky")
    app = operations_app(sim)
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot, ready(app))
        await configure_and_ok(pilot)
        await settle(pilot, lambda: progress(app).outcome is not None)
        outcome = progress(app).outcome
        assert outcome is not None and outcome.succeeded
        await drain(pilot)
    notes = [m for m in messages if isinstance(m, Watched) and isinstance(m.event, TransientFault)]
    assert notes, "the flaky scenario produced no transient fault"
    assert len(install_posts(sim)) == 1


async def test_tokens_expiring_mid_install_are_renewed_silently(sim_factory: SimFactory) -> None:
    # 8 real seconds of install with tokens living 3 real seconds: they expire twice or more while
    # watching, yet outlive any single request even on a busy machine (0.6 s at the scenario's
    # default and this speed did not).
    sim = fast_sim(sim_factory, "short-token", install_seconds=2400.0)
    sim.world.token_lifetime = sim.world.scaled(900.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await configure_and_ok(pilot)
        await settle(pilot, lambda: progress(app).outcome is not None)
        outcome = progress(app).outcome
        assert outcome is not None and outcome.succeeded
        assert not isinstance(app.screen, SignInScreen)
        await drain(pilot)


async def test_quit_mid_install_and_reopen_keeps_watching_one_install(sim_factory: SimFactory) -> None:
    sim = fast_sim(sim_factory, "happy", install_seconds=1500.0)  # 5 s at 300x
    first = operations_app(sim)
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(first))
        await configure_and_ok(pilot)

        def polled() -> bool:
            record = progress(first).record
            return record is not None and record.last_polled_at is not None and not record.finished

        await wait_for(pilot, polled)
        operation_id = progress(first).record.operation_id  # type: ignore[union-attr]
        await pilot.press("q")
    # Reopened (or opened in another terminal): the running install is shown and watched.
    second = operations_app(sim)
    async with second.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(second))
        await wait_for(pilot, lambda: progress(second).record is not None)
        record = progress(second).record
        assert record is not None and record.operation_id == operation_id
        assert second.page.query_one("#setup").disabled
        await pilot.press("d")
        assert not isinstance(second.screen, TermsScreen)
        await settle(pilot, lambda: progress(second).outcome is not None)
        outcome = progress(second).outcome
        assert outcome is not None and outcome.succeeded
        await drain(pilot)
    assert len(install_posts(sim)) == 1


async def test_the_package_checklist_and_add_dataverse_fit_a_jump_box_terminal(
    sim_factory: SimFactory,
) -> None:
    """80x24: every row of the checklist can be reached, the terms keep a few lines, the buttons show."""
    app = operations_app(fast_sim(sim_factory, "happy"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("d")
        await settle_screen(pilot, TermsScreen)
        assert app.screen.has_class("-short")
        for selector in ("#terms-configure", "#terms-cancel", "#terms-packages", "#terms-plan"):
            assert shown_whole(app, selector), selector
        assert app.screen.query_one("#terms-body").region.height >= 3
        packages = app.screen.query_one("#terms-packages", SelectionList)
        assert packages.max_scroll_y > 0  # shorter than its nine rows: it scrolls
        await pilot.click("#terms-cancel")
    app = operations_app(fast_sim(sim_factory, "no-dataverse"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("P")
        await settle_screen(pilot, AddDataverseScreen)
        for selector in ("#dataverse-yes", "#dataverse-no", "#dataverse-language", "#dataverse-note"):
            assert shown_whole(app, selector), selector
