"""Link to Power Platform environment (l) in the app: confirm, live progress, the admin hyperlink."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.widgets import Static

from dwtui.domain.linking import admin_link
from dwtui.services.session import Session
from dwtui.tui.flows.link.admin_link import AdminLinkScreen
from dwtui.tui.flows.link.wizard import LinkWizardScreen
from dwtui.tui.screens.clipboard import ClipboardScreen
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from dwtui.tui.widgets.fields import Fields
from dwtui.tui.widgets.qr import QrCode
from tests.conftest import SimFactory
from tests.tui.operations_support import drain, operations_app, progress, wait_for
from tests.tui.support import SIZE, ready, settle, settle_screen, shown_whole

LINK_SPEED = 240.0  # the simulator's 4-minute link takes one second


def link_posts(sim: Any) -> list[dict[str, Any]]:
    return [
        r
        for r in sim.requests()
        if r["method"] == "POST" and r["path"] == "/gateway/api/ConnectionSet" and r["fault"] is None
    ]


async def link_and_confirm(pilot: Any) -> None:
    await pilot.press("l")
    await settle_screen(pilot, ConfirmChangeScreen)
    body = str(pilot.app.screen.query_one("#confirm-text", Static).content)
    assert "/dataverse/contosouat" in body
    await pilot.press("y")


async def test_link_succeeds_and_gives_the_hyperlink_with_a_qr_code(sim_factory: SimFactory) -> None:
    sim = sim_factory("installed", speed=LINK_SPEED, device_code_lifetime=60.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await link_and_confirm(pilot)
        await settle(pilot, lambda: progress(app).outcome is not None)
        outcome = progress(app).outcome
        assert outcome is not None and outcome.succeeded
        assert app.page.operations.bells == 1
        await settle_screen(pilot, AdminLinkScreen)
        environment = app.page.environment
        assert environment is not None
        expected = admin_link(environment.fo_url)
        assert expected is not None
        url = app.screen.query_one("#admin-url", Static)
        assert str(url.content) == expected.url  # printed in full
        content = url.content
        assert isinstance(content, Text) and str(content.style) == f"link {expected.url}"  # clickable
        assert app.screen.query_one("#admin-qr", QrCode).data == expected.url
        await pilot.press("c")
        assert app.clipboard == expected.url
        await settle_screen(pilot, ClipboardScreen)  # sent, and shown to select: not "copied"
        await pilot.press("escape")
        await settle_screen(pilot, AdminLinkScreen)
        await pilot.press("escape")
        # The link stays reachable from the main screen: a (panel and QR) and c (copy).
        fields = app.page.query_one("#ppi-fields", Fields)
        await settle(pilot, lambda: fields.value("link").startswith("linked"))
        await pilot.press("a")
        await settle_screen(pilot, AdminLinkScreen)
        await pilot.press("escape")
        await drain(pilot)
    assert len(link_posts(sim)) == 1


async def test_link_failure_shows_dw9003_and_its_remedy(sim_factory: SimFactory) -> None:
    sim = sim_factory("link-dw9003-crm", speed=LINK_SPEED, device_code_lifetime=60.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await link_and_confirm(pilot)
        await settle(pilot, lambda: progress(app).outcome is not None)
        outcome = progress(app).outcome
        assert outcome is not None and not outcome.succeeded
        result = str(app.page.query_one("#progress-result", Static).content)
        assert "Code: DW9003" in result and "Failed to connect to CRM" in result
        assert "prerequisites" in result and "press l to try again" in str(
            app.page.query_one("#progress-text", Static).content
        )
        assert app.page.link.admin is None and not isinstance(app.screen, AdminLinkScreen)
        await drain(pilot)


async def test_link_is_watched_across_a_restart(sim_factory: SimFactory) -> None:
    sim = sim_factory("installed", speed=LINK_SPEED, device_code_lifetime=60.0)
    sim.world.link_seconds = 1200.0  # 5 s
    first = operations_app(sim)
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(first))
        await link_and_confirm(pilot)

        def polled() -> bool:
            record = progress(first).record
            return record is not None and record.last_polled_at is not None

        await wait_for(pilot, polled)
        await pilot.press("q")
    second = operations_app(sim)
    async with second.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(second))
        await wait_for(pilot, lambda: progress(second).record is not None)
        assert second.page.query_one("#link").disabled
        await settle(pilot, lambda: progress(second).outcome is not None)
        outcome = progress(second).outcome
        assert outcome is not None and outcome.succeeded
        await drain(pilot)
    assert len(link_posts(sim)) == 1


def as_a_real_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator's gateway is on loopback; this is how the app treats any other (a real one)."""
    monkeypatch.setattr(Session, "gateway_is_simulator", property(lambda self: False))


async def test_against_a_real_gateway_l_shows_the_documented_way_and_requests_nothing(
    sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_a_real_gateway(monkeypatch)
    sim = sim_factory("installed", speed=LINK_SPEED, device_code_lifetime=60.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("l")
        await settle_screen(pilot, LinkWizardScreen)
        url = "https://contoso-uat.sandbox.operations.dynamics.com/"
        assert str(app.screen.query_one("#admin-url", Static).content) == url
        assert app.screen.query_one("#admin-qr", QrCode).data == url
        steps = str(app.screen.query_one("#wizard-steps", Static).content)
        assert "Data management" in steps and "New link to environment" in steps
        assert "unverified" in str(app.screen.query_one("#wizard-note", Static).content)
        await pilot.press("c")
        assert app.clipboard == url
        await settle_screen(pilot, ClipboardScreen)
        await pilot.press("escape")
        await settle_screen(pilot, LinkWizardScreen)
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, LinkWizardScreen))
        assert not isinstance(app.screen, ConfirmChangeScreen)
        assert link_posts(sim) == []


async def test_against_a_real_gateway_the_unverified_request_is_sent_only_when_chosen(
    sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_a_real_gateway(monkeypatch)
    sim = sim_factory("installed", speed=LINK_SPEED, device_code_lifetime=60.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("l")
        await settle_screen(pilot, LinkWizardScreen)
        await pilot.click("#wizard-unverified")
        await settle_screen(pilot, ConfirmChangeScreen)
        assert link_posts(sim) == []  # still asked first, as every change is
        await pilot.press("y")
        await settle(pilot, lambda: progress(app).outcome is not None)
        await drain(pilot)
        assert len(link_posts(sim)) == 1


async def test_the_link_wizard_fits_a_jump_box_terminal(
    sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_a_real_gateway(monkeypatch)
    app = operations_app(sim_factory("installed", device_code_lifetime=60.0))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("l")
        await settle_screen(pilot, LinkWizardScreen)
        for selector in ("#wizard-copy", "#wizard-close", "#wizard-unverified", "#admin-url"):
            assert shown_whole(app, selector), selector


def stopped_run_link(sim: Any, store: Any) -> str:
    """What a run stopped between its link request and its id leaves: a claim, and the request."""
    import subprocess
    import sys

    from dwtui.domain.linking import integration_dataverse
    from dwtui.domain.operations import OperationKind
    from dwtui.services.operations import OperationStore
    from tests.helpers import make_session

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(10)  # a process that has certainly ended
    session = make_session(sim, sign_in=True)
    try:
        environment = session.environment(sim.environment_id("uat"))
        dataverse = integration_dataverse(session.power_platform(environment))
        assert dataverse is not None and session.gateway is not None
        if store is not None:
            gone = OperationStore(store, pid=child.pid)
            claim = gone.begin(
                OperationKind.LINK, "sim", environment.environment_id, dataverse.bap_environment_id, ""
            )
            gone.mark_sent(claim.claim_id)
        return session.gateway.start_link(environment, dataverse).request_id
    finally:
        session.close()


@pytest.mark.parametrize("left", ["a claim without its id", "nothing (another machine)"])
async def test_a_link_left_in_doubt_or_started_elsewhere_is_followed_not_requested_again(
    sim_factory: SimFactory, left: str
) -> None:
    from dwtui.services.operations import default_store_path

    sim = sim_factory("installed", speed=LINK_SPEED, device_code_lifetime=60.0)
    sim.world.link_seconds = 1200.0  # 5 s
    request_id = stopped_run_link(sim, default_store_path() if left.startswith("a claim") else None)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await wait_for(pilot, lambda: progress(app).record is not None)
        record = progress(app).record
        assert record is not None and record.operation_id.endswith(f"/{request_id}")
        assert app.page.query_one("#link").disabled
        await settle(pilot, lambda: progress(app).outcome is not None)
        outcome = progress(app).outcome
        assert outcome is not None and outcome.succeeded
        await drain(pilot)
    assert len(link_posts(sim)) == 1
