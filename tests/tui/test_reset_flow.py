"""Reset dual-write connection (R) in the app: the typed name, Force while maps run, the warning clears.

Also: a production environment with a read-only profile refuses every change before any dialog.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Button, Checkbox, Input, Label

from dwtui.domain.linking import RESET_WIPES
from dwtui.tui.app import DwtuiApp
from dwtui.tui.flows.install.terms import TermsScreen
from dwtui.tui.flows.reset.dialog import ResetScreen
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from tests.conftest import SimFactory
from tests.tui.operations_support import drain, operations_app
from tests.tui.support import SIZE, ready, settle, settle_screen


def resets(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["method"] == "POST" and r["path"].endswith("/Reset")]


async def type_name(pilot: Any, name: str) -> None:
    field = pilot.app.screen.query_one("#reset-name", Input)
    field.value = ""
    await pilot.press(*name)
    await pilot.pause()


def reset_allowed(app: DwtuiApp) -> bool:
    return not app.screen.query_one("#reset-yes", Button).disabled


async def test_reset_needs_the_typed_name_and_clears_the_mismatch(sim_factory: SimFactory) -> None:
    sim = sim_factory("mismatch", device_code_lifetime=60.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        assert app.page.query_one("#mismatch").display
        await pilot.press("R")
        await settle_screen(pilot, ResetScreen)
        plan = str(app.screen.query_one("#reset-plan").content)  # type: ignore[attr-defined]
        assert "/dataverse/contosouatold" in plan and "/dataverse/contosouat/" in plan
        assert RESET_WIPES[1] in plan
        assert not app.screen.query_one("#reset-force", Checkbox).display  # no map runs
        await type_name(pilot, "contoso-prod")
        assert not reset_allowed(app)
        await pilot.press("enter")
        assert isinstance(app.screen, ResetScreen)
        assert "does not match" in str(app.screen.query_one("#reset-refusal", Label).content)
        assert resets(sim) == []
        await type_name(pilot, "contoso-uat")
        assert reset_allowed(app)
        await pilot.press("enter")
        await settle(pilot, lambda: not isinstance(app.screen, ResetScreen))
        await settle(pilot, lambda: not app.page.query_one("#mismatch").display)
        assert app.page.query_one("#reset").disabled
        changes = [e.summary for e in app.page.activity_pane.entries if e.kind == "change"]
        assert any(s.startswith("Reset dual-write connection on contoso-uat: succeeded") for s in changes)
        await drain(pilot)
    assert len(resets(sim)) == 1


async def test_reset_while_maps_run_needs_force(sim_factory: SimFactory) -> None:
    sim = sim_factory("maps-running", device_code_lifetime=60.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("R")
        await settle_screen(pilot, ResetScreen)
        assert app.screen.query_one("#reset-force", Checkbox).display
        assert "Customers V3" in str(app.screen.query_one("#reset-maps").content)  # type: ignore[attr-defined]
        await type_name(pilot, "contoso-uat")
        assert not reset_allowed(app)
        await pilot.press("enter")
        assert isinstance(app.screen, ResetScreen)
        assert "Force" in str(app.screen.query_one("#reset-refusal", Label).content)
        app.screen.query_one("#reset-force", Checkbox).value = True
        await pilot.pause()
        assert reset_allowed(app)
        await pilot.click("#reset-yes")
        await settle(pilot, lambda: not isinstance(app.screen, ResetScreen))
        await settle(pilot, lambda: not app.page.query_one("#mismatch").display)
        await drain(pilot)
    forced = resets(sim)
    assert len(forced) == 1 and "forcereset=true" in str(forced[0]["query"]).lower()


async def test_production_with_a_read_only_profile_refuses_every_change(sim_factory: SimFactory) -> None:
    sim = sim_factory("mismatch", device_code_lifetime=60.0)
    app = operations_app(sim, environment="prod")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        for key in ("d", "l", "R"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, TermsScreen | ConfirmChangeScreen | ResetScreen)
        messages = [n.message for n in app._notifications]
        assert sum("read-only" in m for m in messages) == 3, messages
        for button in ("setup", "link", "reset"):
            assert app.page.query_one(f"#{button}", Button).disabled
        await drain(pilot)
    assert not [
        r
        for r in sim.requests()
        if r["method"] == "POST" and "/_sim/" not in r["path"] and "oauth2" not in r["path"]
    ]


async def test_the_name_field_shows_an_instruction_not_a_name_and_enter_asks_for_the_name(
    sim_factory: SimFactory,
) -> None:
    sim = sim_factory("mismatch", device_code_lifetime=60.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("R")
        await settle_screen(pilot, ResetScreen)
        field = app.screen.query_one("#reset-name", Input)
        # The placeholder says what to do, and looks like a placeholder: never like a typed name.
        assert field.placeholder.startswith("type the environment name")
        assert "contoso-uat" not in field.placeholder
        placeholder = field.get_component_rich_style("input--placeholder")
        assert placeholder.italic
        assert placeholder.color != field.rich_style.color
        # Enter on the empty field asks for the name; it does not say a name does not match.
        await pilot.press("enter")
        refusal = str(app.screen.query_one("#reset-refusal", Label).content)
        assert refusal == "Type the environment name (contoso-uat) first."
        assert isinstance(app.screen, ResetScreen) and resets(sim) == []
        await pilot.press("escape")
        await drain(pilot)
