"""The Dual-write application flow (d) in the app, against the simulator: terms, OK, live progress."""

from __future__ import annotations

from typing import Any

import pytest
from textual.message import Message
from textual.widgets import Static

from dwtui.domain.operations import OperationStatus
from dwtui.services.watch import TransientFault
from dwtui.tui.app import DwtuiApp
from dwtui.tui.flows.install.terms import TermsScreen
from dwtui.tui.flows.progress.messages import Watched
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from dwtui.tui.screens.sign_in import SignInScreen
from dwtui.tui.widgets.fields import Fields
from tests.conftest import SimFactory
from tests.tui.operations_support import (
    drain,
    fast_sim,
    install_posts,
    operations_app,
    progress,
    wait_for,
)
from tests.tui.support import SIZE, ready, settle, settle_screen


def static_text(app: DwtuiApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def configure_and_ok(pilot: Any) -> None:
    await pilot.press("d")
    await settle_screen(pilot, TermsScreen)
    await pilot.click("#terms-configure")
    await settle_screen(pilot, ConfirmChangeScreen)
    await pilot.press("y")


async def test_install_succeeds_live_and_the_pane_follows(sim_factory: SimFactory) -> None:
    sim = fast_sim(sim_factory, "happy")
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("d")
        await settle_screen(pilot, TermsScreen)
        terms = static_text(app, "#terms-document-0")
        assert "MICROSOFT SOFTWARE LICENSE TERMS" in terms
        assert "<p>" not in terms
        await pilot.click("#terms-configure")
        await settle_screen(pilot, ConfirmChangeScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: progress(app).watching)
        # While it runs: the button says why not, and d does not start a second install.
        assert app.query_one("#setup").disabled
        await pilot.press("d")
        assert not isinstance(app.screen, TermsScreen)
        await settle(pilot, lambda: progress(app).outcome is not None)
        pane = progress(app)
        assert pane.outcome is not None and pane.outcome.succeeded
        assert pane.record is not None and pane.record.status is OperationStatus.SUCCEEDED
        statuses = [entry.status for entry in pane.record.log]
        assert OperationStatus.RUNNING in statuses and statuses[-1] is OperationStatus.SUCCEEDED
        assert app.page.operations.bells == 1
        assert "Succeeded" in str(app.query_one("#progress-text", Static).content)
        # The Power Platform pane is read again: installed, and Link is next.
        await settle(
            pilot, lambda: app.query_one("#ppi-fields", Fields).value("app").startswith("installed (")
        )
        assert not app.query_one("#link").disabled
        assert len(install_posts(sim)) == 1
        changes = [e for e in app.page.activity_pane.entries if e.kind == "http" and e.method == "POST"]
        assert any("/install?" in e.url for e in changes)
        await drain(pilot)


@pytest.mark.parametrize(("scenario", "side"), [("dw9003-crm", "CRM"), ("dw9003-ax", "AX")])
async def test_install_failure_shows_code_meaning_remedy_and_offers_retry(
    sim_factory: SimFactory, scenario: str, side: str
) -> None:
    sim = fast_sim(sim_factory, scenario)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await configure_and_ok(pilot)
        await settle(pilot, lambda: progress(app).outcome is not None)
        pane = progress(app)
        assert pane.outcome is not None and not pane.outcome.succeeded
        result = str(app.query_one("#progress-result", Static).content)
        assert "Code: DW9003" in result
        assert f"Failed to connect to {side}" in result
        assert "Remedy:" in result and "prerequisites" in result
        assert "press d to try again" in str(app.query_one("#progress-text", Static).content)
        assert app.page.operations.bells == 1
        # Retry is offered: once the pane is read again, d opens the terms again.
        await settle(pilot, lambda: app.query_one("#ppi-fields", Fields).value("app") == "failed")
        assert not app.query_one("#setup").disabled
        await pilot.press("d")
        await settle_screen(pilot, TermsScreen)
        await pilot.press("escape")
        await drain(pilot)
    assert len(install_posts(sim)) == 1


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
        assert second.query_one("#setup").disabled
        await pilot.press("d")
        assert not isinstance(second.screen, TermsScreen)
        await settle(pilot, lambda: progress(second).outcome is not None)
        outcome = progress(second).outcome
        assert outcome is not None and outcome.succeeded
        await drain(pilot)
    assert len(install_posts(sim)) == 1
