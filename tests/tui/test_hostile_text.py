"""The terminal UI against text that carries terminal escape sequences (issue 10).

What the App paints goes through its line filter: no painted line holds a control, format or
separator character, and no link style an unsafe URL, whatever widget shows the text. Where a
service's text enters the screen it is shown with its escapes visible (`\\x1b]52;...`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.color import Color
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import DataTable, Label, OptionList, Static
from textual.widgets._toast import Toast
from textual.widgets.option_list import Option

from dwtui.domain.models import Fault
from dwtui.domain.text import inert, safe_https_url
from dwtui.services.axdb_demo import DEMO_PARTITIONS
from dwtui.services.errors import ServiceError
from dwtui.tui.app import DwtuiApp
from dwtui.tui.environment_details.picker import EnvironmentPickerScreen
from dwtui.tui.flows.link.admin_link import AdminLinkScreen
from dwtui.tui.safe_text import InertLines, link_text
from dwtui.tui.screens.error_details import ErrorDetailsScreen
from dwtui.tui.widgets.fields import Fields
from tests.conftest import SimFactory
from tests.hostile_text import HOSTILE, raw_on_screen
from tests.tui.onebox_support import build_onebox_app, demo_axdb, open_onebox_screen
from tests.tui.operations_support import drain, operations_app, progress, wait_for
from tests.tui.support import FIXED_CLOCK, SIZE, build_app, ready, settle, settle_screen

CLIPBOARD = "\\x1b]52;c;ZHd0dWktcHJvYmU=\\x07"  # the hostile-names scenario's OSC 52, shown
TITLE = "\\x1b]0;dwtui-probe-title\\x1b\\"
SAFE = "https://contoso-uat.sandbox.operations.dynamics.com/"
HIDDEN = f"{SAFE}\x1b\\\x1b]8;;https://evil.example/\x1b\\"


def painted(app: App[Any], only: type | None = None) -> list[list[Segment]]:
    """Every line of every visible widget on the screen, as the compositor gets them (filters applied)."""
    lines: list[list[Segment]] = []
    for widget in app.screen.walk_children(with_self=True):
        if (
            not widget.display
            or not widget.region.area
            or (only is not None and not isinstance(widget, only))
        ):
            continue
        width, height = widget.outer_size
        for strip in widget.render_lines(Region(0, 0, width, height)):
            lines.append(list(strip))
    return lines


def screen_text(app: App[Any], only: type | None = None) -> str:
    return "\n".join("".join(s.text for s in line if not s.control) for line in painted(app, only))


def toasts(app: App[Any]) -> int:
    return sum(isinstance(widget, Toast) for widget in app.screen.walk_children())


def assert_painted_inert(app: App[Any]) -> None:
    for line in painted(app):
        for segment in line:
            if segment.control:
                continue
            assert raw_on_screen(segment.text) == [], segment
            link = segment.style.link if segment.style else None
            assert not link or safe_https_url(link) == link, segment


# -- the filter -----------------------------------------------------------------------------------


_LINKS = st.sampled_from([None, SAFE, HIDDEN, "http://contoso.example/", "https://a@evil.example/"])


@given(st.lists(st.tuples(HOSTILE, _LINKS), max_size=8))
@settings(max_examples=300)
def test_the_filter_leaves_no_control_keeps_the_width_and_unlinks_unsafe_urls(
    parts: list[tuple[str, str | None]],
) -> None:
    segments = [Segment(text, Style(link=link) if link else None) for text, link in parts if text]
    filtered = InertLines().apply(segments, Color(0, 0, 0))
    assert Segment.get_line_length(filtered) == Segment.get_line_length(segments)
    for segment in filtered:
        assert raw_on_screen(segment.text) == []
        link = segment.style.link if segment.style else None
        assert link is None or link == SAFE


def test_the_filter_passes_ordinary_lines_as_they_are() -> None:
    segments = [Segment("contoso-uat ", Style(bold=True)), Segment("│ Zürich ☃", None)]
    assert InertLines().apply(segments, Color(0, 0, 0)) is segments


def test_link_text_links_only_a_safe_url_with_itself_as_the_text() -> None:
    safe = link_text(SAFE)
    assert safe.plain == SAFE and safe.style == Style(link=SAFE)
    hidden = link_text(HIDDEN)
    assert hidden.plain == f"{SAFE}\\x1b\\\\x1b]8;;https://evil.example/\\x1b\\"
    assert not hidden.style and not hidden.spans
    assert link_text("http://contoso.example/").style == ""


# -- any widget, through the App's boundary ------------------------------------------------------------


class Board(Screen[None]):
    """The text in the widgets dwtui uses, without dwtui's own escaping: only the App's filter."""

    def __init__(self, texts: list[str]) -> None:
        super().__init__()
        self.texts = texts

    def compose(self) -> ComposeResult:
        for text in self.texts:
            yield Label(text, markup=False)
            yield Static(Text(text), markup=False)
            yield Static(Text(text, style=Style(link=text)))
        table: DataTable[Text] = DataTable()
        table.add_column("text")
        for text in self.texts:
            table.add_row(Text(text))
        yield table
        yield OptionList(*(Option(Text(text)) for text in self.texts))


def _no_session() -> Any:
    raise ServiceError(Fault(service="test", message="no session in this test", code="test"))


async def _paint(texts: list[str]) -> None:
    app = DwtuiApp(_no_session, profile_name="test", clock=lambda: FIXED_CLOCK, show_timings=False)
    async with app.run_test(size=(100, 60), notifications=True) as pilot:
        await pilot.pause()
        await app.push_screen(Board(texts))
        for text in texts:
            app.notify(text, title=text)
        await wait_for(pilot, lambda: toasts(app) >= len(texts))
        assert_painted_inert(app)


@given(st.lists(HOSTILE, min_size=1, max_size=4))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_widget_paints_a_control_character(texts: list[str]) -> None:
    asyncio.run(_paint(texts))


# -- the hostile-names scenario ---------------------------------------------------------------------


async def test_the_main_screen_shows_hostile_names_as_escapes(sim_factory: SimFactory) -> None:
    sim = sim_factory("hostile-names")
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        assert_painted_inert(app)
        fields = app.page.query_one("#env-fields", Fields)
        assert fields.value("name") == f"contoso-uat{CLIPBOARD}{TITLE}"
        assert fields.value("url") == f"{SAFE}\\x1b\\\\x1b]8;;https://evil.example/\\x1b\\"
        painted_text = screen_text(app)
        assert f"contoso-uat{CLIPBOARD}" in painted_text  # in the header, as in the pane
        assert "\\u202eexe.txt" in painted_text  # the Dataverse name's bidi override
        await pilot.press("e")
        await settle_screen(pilot, EnvironmentPickerScreen)
        await settle(pilot, lambda: bool(app.screen.query_one(OptionList).option_count))
        assert_painted_inert(app)
        assert f"contoso-uat{CLIPBOARD}" in screen_text(app)
        await pilot.press("escape")


async def test_a_failing_link_shows_the_dw9003_message_inert(sim_factory: SimFactory) -> None:
    sim = sim_factory("hostile-names", speed=240.0, device_code_lifetime=60.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("l")
        await pilot.pause()
        assert_painted_inert(app)  # the confirmation names the environment and the Dataverse
        await pilot.press("y")
        await settle(pilot, lambda: progress(app).outcome is not None)
        result = str(app.page.query_one("#progress-result", Static).content)
        assert f"Failed to connect to CRM.{CLIPBOARD}{TITLE} Ensure" in result
        # The notification says so too, with the same escapes.
        await wait_for(pilot, lambda: f"CRM.{CLIPBOARD}" in screen_text(app, Toast).replace("\n", ""))
        assert_painted_inert(app)
        await drain(pilot)


async def test_an_admin_link_that_hides_another_is_neither_linked_nor_copied(sim_factory: SimFactory) -> None:
    sim = sim_factory("hostile-names")
    app = build_app(sim, environment="prod")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("a")
        await settle_screen(pilot, AdminLinkScreen)
        url = app.screen.query_one("#admin-url", Static).content
        assert isinstance(url, Text) and not url.style and not url.spans
        assert str(url).startswith("https://contoso-prod.operations.dynamics.com/\\x1b\\")
        assert_painted_inert(app)
        await pilot.press("c")
        await pilot.press("escape")
        # The warning outlives the dialog: it is painted on the main screen.
        await wait_for(pilot, lambda: "Not copied" in screen_text(app, Toast))
        assert app.clipboard == ""


async def test_the_flight_table_shows_hostile_partition_keys_inert(
    sim_factory: SimFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    hostile = (5637144579, "x\x1b]52;c;aGk=\x07\u202e", "Hostile")
    axdb = demo_axdb(tmp_path, partitions=(*DEMO_PARTITIONS, hostile))
    app = build_onebox_app(sim_factory("happy"), axdb)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        screen.action_tab("tab-flight")
        await pilot.pause()
        await pilot.click("#flight-run")
        await pilot.pause()
        await pilot.press("y")
        table = screen.query_one("#flight-rows", DataTable)
        await settle(pilot, lambda: table.row_count == 4)
        assert table.get_row_at(3)[0] == "x\\x1b]52;c;aGk=\\x07\\u202e"
        await pilot.pause()
        assert_painted_inert(app)
        assert "x\\x1b]52;c;aGk=\\x07\\u202e" in screen_text(app)
    with closing(sqlite3.connect(tmp_path / "axdb.sqlite")) as connection:
        assert connection.execute("SELECT COUNT(*) FROM SYSFLIGHTING WHERE ENABLED = 1").fetchone()[0] >= 4


# -- error details: the request URL is redacted where the dialog shows it --------------------------


async def test_error_details_redact_the_request_url_they_show() -> None:
    # A Fault is meant to carry a redacted URL, but one built outside the HTTP policy may not: the
    # dialog that shows it redacts it again.
    raw = "https://contoso.example/api/x?sig=SIGSECRET1&access_token=TOKENSECRET2&api-version=1"
    fault = Fault(service="Dataverse", message="refused\x1b]52;c;aGk=\x07", code="HTTP 403", url=raw)
    app = DwtuiApp(_no_session, profile_name="test", clock=lambda: FIXED_CLOCK, show_timings=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.push_screen(ErrorDetailsScreen([fault]))
        await pilot.pause()
        shown = str(app.screen.query_one(".error-fault", Static).content)
        assert "SIGSECRET1" not in shown and "TOKENSECRET2" not in shown
        assert "sig=***" in shown and "access_token=***" in shown and "api-version=1" in shown
        assert "refused\\x1b]52;c;aGk=\\x07" in shown
        assert "SIGSECRET1" not in screen_text(app)
        assert_painted_inert(app)


async def test_the_fleet_shows_hostile_names_as_escapes(sim_factory: SimFactory) -> None:
    from tests.tui.fleet_support import fleet, fleet_app, read

    sim = sim_factory("hostile-names", device_approve_after=0, device_code_lifetime=900.0)
    app = fleet_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("F")
        await settle(pilot, lambda: read(app))
        await pilot.pause()
        assert_painted_inert(app)
        names = [row.environment.name for row in fleet(app).rows.values()]
        assert f"contoso-uat{CLIPBOARD}{TITLE}" in [inert(name) for name in names]
        # In the table, cut in the middle as on the command line (at most 40 cells at this size).
        assert "contoso-uat\\x1b]52;c~ui-probe-title\\x1b\\ sbx" in screen_text(app)
        screen = fleet(app)
        await pilot.press("down", "down")
        await pilot.pause()
        assert_painted_inert(app)
        assert f"contoso-uat{CLIPBOARD}{TITLE} · Sandbox" in screen_text(app)  # its detail, whole
        assert screen.table.cursor_row == 2
