"""The first frame is the page's frame (StartingScreen): the page replaces it without moving a pane."""

from __future__ import annotations

from pathlib import Path

import pytest

from dwtui.tui.environment_details.header import ContextHeader
from dwtui.tui.environment_details.power_platform_pane import PowerPlatformPane
from dwtui.tui.environment_details.screen import EnvironmentDetailsScreen
from dwtui.tui.environment_details.starting import STYLESHEETS, StartingScreen
from dwtui.tui.flows.progress.pane import ProgressPane
from dwtui.tui.styles import beside
from dwtui.tui.widgets.activity_pane import ActivityPane
from dwtui.tui.widgets.fields import Fields
from dwtui.tui.widgets.pane import Pane
from tests.conftest import SimFactory
from tests.tui.support import SMALL, build_app, ready, settle


def test_the_frame_names_the_stylesheets_of_the_page_s_components() -> None:
    """Named by module (the frame must not import them): the same files as the components' own."""
    screen_tcss = Path(EnvironmentDetailsScreen.__module__.replace(".", "/")).with_name("screen.tcss")
    expected = [
        *beside(ContextHeader),
        screen_tcss.resolve(),
        *beside(Pane, Fields, PowerPlatformPane, ProgressPane, ActivityPane),
    ]
    assert [Path(path).resolve() for path in STYLESHEETS] == [Path(path).resolve() for path in expected]
    assert all(Path(path).is_file() for path in STYLESHEETS)


@pytest.mark.parametrize("size", [SMALL, (120, 36)], ids=["80x24", "120x36"])
async def test_the_page_replaces_its_frame_without_moving_a_pane(
    sim_factory: SimFactory, size: tuple[int, int]
) -> None:
    app = build_app(sim_factory("happy"))
    async with app.run_test(size=size) as pilot:
        await settle(pilot, ready(app))
        frame, page = app.screen_stack[0], app.screen
        assert isinstance(frame, StartingScreen) and page is app.page
        panes = ["#header", "#environment-pane", "#power-platform-pane"]
        if size == SMALL:  # under 100 columns the idle Progress pane leaves Activity the whole row
            panes.append("#activity-pane")
        for selector in panes:
            assert frame.query_one(selector).region == page.query_one(selector).region, selector
        titles = [
            str(frame.query_one(f"#{pane}").border_title) for pane in ("environment-pane", "activity-pane")
        ]
        assert titles == ["Environment", "Activity"]
