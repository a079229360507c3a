"""One word order for an environment's state on every surface: the TUI's Environment pane here, the
command line's status in tests/test_state_order.py; both from LcsEnvironment.state_text."""

from __future__ import annotations

from dwtui.tui.widgets.fields import Fields
from tests.conftest import SimFactory
from tests.tui.support import SIZE, build_app, ready, settle


async def test_the_environment_pane_shows_the_state_as_the_command_line_does(sim_factory: SimFactory) -> None:
    sim = sim_factory("happy")
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        environment = app.page.environment
        assert environment is not None
        shown = app.page.query_one("#env-fields", Fields).value("state")
        assert shown == environment.state_text == "Deployed / Finished"
