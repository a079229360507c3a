"""The confirm dialogs' typical durations follow the demo's --speed (real services: the docs' words)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from dwtui.tui.flows.dataverse.dialog import AddDataverseScreen
from dwtui.tui.flows.install.terms import TermsScreen
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from tests.conftest import SimFactory
from tests.tui.operations_support import fast_sim, operations_app
from tests.tui.support import SIZE, ready, settle, settle_screen


def _confirm_text(pilot: Any) -> str:
    return str(pilot.app.screen.query_one("#confirm-text", Static).content)


async def test_the_link_dialog_says_its_typical_time_at_the_demos_speed(sim_factory: SimFactory) -> None:
    sim = sim_factory("installed", speed=240.0, device_code_lifetime=60.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("l")
        await settle_screen(pilot, ConfirmChangeScreen)
        assert "It typically takes less than 5 minutes (about 1 s at --speed 240); dwtui" in " ".join(
            _confirm_text(pilot).split()
        )
        await pilot.press("escape")


async def test_the_link_dialog_at_real_speed_keeps_the_documentations_words(sim_factory: SimFactory) -> None:
    sim = sim_factory("installed", speed=240.0, device_code_lifetime=60.0)
    app = operations_app(sim, watch_speed=1.0)  # what real services look like to the app
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("l")
        await settle_screen(pilot, ConfirmChangeScreen)
        text = " ".join(_confirm_text(pilot).split())
        assert "It typically takes less than 5 minutes; dwtui watches it." in text and "--speed" not in text
        await pilot.press("escape")


async def test_the_install_dialog_says_its_typical_time_at_the_demos_speed(sim_factory: SimFactory) -> None:
    sim = fast_sim(sim_factory, "happy")  # 300x
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("d")
        await settle_screen(pilot, TermsScreen)
        await pilot.click("#terms-configure")
        await settle_screen(pilot, ConfirmChangeScreen)
        assert "Each typically takes 30 minutes or less (about 6 s at --speed 300);" in " ".join(
            _confirm_text(pilot).split()
        )
        await pilot.press("escape")


async def test_the_add_dataverse_dialog_says_its_time_at_the_demos_speed(sim_factory: SimFactory) -> None:
    sim = fast_sim(sim_factory, "no-dataverse")  # 300x
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("P")
        await settle_screen(pilot, AddDataverseScreen)
        await pilot.click("#dataverse-yes")
        await settle_screen(pilot, ConfirmChangeScreen)
        assert "It takes some minutes (about 2 s at --speed 300); dwtui watches it" in " ".join(
            _confirm_text(pilot).split()
        )
        await pilot.press("escape")
