"""Pilot tests of the fleet screen (F) on the `fleet` scenario: 3 LCS projects, 60 environments.

LCS's minute is as short as the simulator's speed makes it (the session's window too), so a whole
read takes about a second; nothing here sleeps: every wait is on a condition (tests/tui/support.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Input

from dwtui.domain.fleet import Column, FleetRow
from dwtui.domain.fleet_table import COLUMNS, cell, filter_rows, sort_rows
from dwtui.sim.server import SimServer
from dwtui.tui.app import DwtuiApp
from dwtui.tui.environment_details.screen import EnvironmentDetailsScreen
from dwtui.tui.fleet.screen import FleetScreen
from dwtui.tui.fleet.table import FleetTable, row_key
from dwtui.tui.page_state import Phase
from tests.conftest import SimFactory
from tests.tui.fleet_support import (
    KINDS,
    PROJECTS,
    fleet,
    fleet_app,
    fleet_sim,
    open_fleet,
    read,
    shown,
)
from tests.tui.support import FIXED_CLOCK, SIZE, ready, settle


def on_page(app: DwtuiApp) -> bool:
    """Back on the main screen, with the environment read."""
    return isinstance(app.screen, EnvironmentDetailsScreen) and app.phase is Phase.READY


def cell_at(screen: FleetScreen, name: str, column: Column) -> str:
    table = screen.table
    index = shown(screen).index(name)
    return str(table.get_row_at(index)[list(Column).index(column)]).strip()


def lcs_calls(sim: SimServer) -> list[str]:
    return [entry["path"] for entry in sim.requests() if entry["service"] == "lcs"]


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[bool, list[FleetRow]]]]:
    """Every table the fleet screen drew: (a read was under way, the rows in order)."""
    seen: list[tuple[bool, list[FleetRow]]] = []
    original = FleetTable.show

    def show(self: FleetTable, rows: Any, now: float, **kw: Any) -> None:
        screen = self.screen
        seen.append((isinstance(screen, FleetScreen) and screen.reading, list(rows)))
        original(self, rows, now, **kw)

    monkeypatch.setattr(FleetTable, "show", show)
    yield seen


async def test_f_opens_the_fleet_and_the_rows_fill_in_as_they_are_read(
    sim_factory: SimFactory, drawn: list[tuple[bool, list[FleetRow]]]
) -> None:
    sim = fleet_sim(sim_factory)
    app = fleet_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_fleet(pilot)
        assert screen.project_ids == PROJECTS  # the profile's project and its fleet_project_ids
        assert len(screen.rows) == 60 and len(shown(screen)) == 60
        assert all(row.complete and not row.from_cache for row in screen.rows.values())
        assert screen.status_text().startswith("3 of 3 projects listed · 60 of 60 environments read")
        # Never a frozen table: rows were on screen while the read went on, listed before they were read.
        during = [rows for reading, rows in drawn if reading and rows]
        assert during, "nothing was drawn before the read ended"
        assert any(len(rows) < 60 for rows in during)
        assert any(not row.complete for rows in during for row in rows)
        assert [len(rows) for rows in during] == sorted(len(rows) for rows in during)  # none went away
        # The Activity log has the calls, as every read's.
        summaries = [f"{entry.url} {entry.summary}" for entry in app.session.activity.entries()]  # type: ignore[union-attr]
        assert any("/project/3456789/" in text for text in summaries)
    assert {re.search(r"/project/(\d+)/", path).group(1) for path in lcs_calls(sim)} >= set(PROJECTS)  # type: ignore[union-attr]


async def test_lcs_waits_show_in_the_status_line(
    sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slower simulator: LCS's minute is 3 s, so a project's last four pages wait for the window
    # however slowly the first six go.
    statuses: list[str] = []
    original = FleetScreen.status_text

    def status_text(self: FleetScreen) -> str:
        text = original(self)
        statuses.append(text)
        return text

    monkeypatch.setattr(FleetScreen, "status_text", status_text)
    app = fleet_app(fleet_sim(sim_factory, speed=20.0))
    async with app.run_test(size=SIZE) as pilot:
        await open_fleet(pilot)
    waits = [text for text in statuses if "waiting for LCS's limit until" in text]
    assert waits, statuses
    assert re.search(r"waiting for LCS's limit until \d\d:\d\d:\d\d UTC", waits[0])


async def test_cached_rows_show_at_once_with_their_age_and_lcs_is_not_listed_again(
    sim_factory: SimFactory, drawn: list[tuple[bool, list[FleetRow]]]
) -> None:
    sim = fleet_sim(sim_factory)
    async with fleet_app(sim).run_test(size=SIZE) as pilot:
        await open_fleet(pilot)
    listed = len(lcs_calls(sim))
    drawn.clear()
    later = fleet_app(sim, clock=FIXED_CLOCK + 125.0)  # another run, two minutes later
    async with later.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(later))
        calls = len(lcs_calls(sim))  # the main screen's own read of its environment
        await pilot.press("F")
        await settle(pilot, lambda: read(later))
        screen = fleet(later)
        # Before the first fact is read again, the cached table is on screen whole.
        cached = [rows for _, rows in drawn if rows and all(row.from_cache for row in rows)]
        fresh = next(i for i, (_, rows) in enumerate(drawn) if any(not row.from_cache for row in rows))
        assert cached and drawn.index(next(d for d in drawn if d[1] is cached[-1])) < fresh
        assert any(len(rows) == 60 for rows in cached)
        assert "3 from the cache (r lists LCS again)" in screen.status_text()
        # LCS listed them two minutes ago: the row's oldest fact is that old.
        assert cell_at(screen, "contoso-004", Column.AGE) == "2m"
        assert "listed by LCS 2m ago" in str(screen.detail.content)
    assert len(lcs_calls(sim)) == calls > listed


async def test_s_cycles_the_sort_and_capital_s_reverses_it(sim_factory: SimFactory) -> None:
    app = fleet_app(fleet_sim(sim_factory))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_fleet(pilot)
        names = shown(screen)
        assert names == sorted(names, key=str.casefold)
        await pilot.press("s")  # TYPE
        await pilot.pause()
        rows = list(screen.rows.values())
        assert shown(screen) == [r.environment.name for r in sort_rows(rows, Column.TYPE, now=FIXED_CLOCK)]
        assert shown(screen)[0].startswith(("contoso-prod", "fabrikam-000", "northwind-000"))
        assert "sorted by TYPE ascending" in screen.status_text()
        await pilot.press("S")
        await pilot.pause()
        expected = sort_rows(rows, Column.TYPE, descending=True, now=FIXED_CLOCK)
        assert shown(screen) == [r.environment.name for r in expected]
        assert cell(expected[0], Column.TYPE, FIXED_CLOCK) == "dev"
        assert "sorted by TYPE descending" in screen.status_text()
        for _ in range(list(Column).index(Column.DOCTOR) - list(Column).index(Column.TYPE)):
            await pilot.press("s")
        await pilot.pause()
        assert screen.sort_column is Column.DOCTOR
        doctor = [cell_at(screen, name, Column.DOCTOR) for name in shown(screen)]
        assert doctor == sorted(doctor, key=lambda word: word != "!!")  # descending: problems first


async def test_typing_into_the_filter_filters_and_fires_no_shortcut(sim_factory: SimFactory) -> None:
    sim = fleet_sim(sim_factory)
    app = fleet_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_fleet(pilot)
        generation, calls = screen._generation, len(sim.requests())
        await pilot.press("f")
        assert isinstance(screen.focused, Input)
        # s and S sort, r refreshes, f filters, q quits the main screen: here they are letters.
        await pilot.press(*"sand fabrikam", "r", "S", "q", "F", "e")
        await pilot.pause()
        assert screen.query_one("#fleet-filter", Input).value == "sand fabrikamrSqFe"
        assert screen.sort_column is Column.NAME and not screen.descending
        assert screen._generation == generation and len(sim.requests()) == calls and app.screen is screen
        assert shown(screen) == []  # no name holds "fabrikamrsqfe"
        for _ in "rSqFe":
            await pilot.press("backspace")
        await pilot.pause()
        expected = filter_rows(screen.rows.values(), "sand fabrikam")
        assert len(expected) > 5 and shown(screen) == sorted(r.environment.name for r in expected)
        assert all(name.startswith("fabrikam-") for name in shown(screen))
        assert f"{len(expected)} match the filter" in screen.status_text()
        await pilot.press("escape")  # leaves the filter, not the screen
        assert screen.focused is screen.table and app.screen is screen
        await pilot.press("s")  # a key again
        await pilot.pause()
        assert screen.sort_column is Column.TYPE
        await pilot.press("f", "enter")  # Enter goes back to the table too
        assert screen.focused is screen.table


async def test_enter_opens_an_environment_of_the_profiles_project_and_of_another(
    sim_factory: SimFactory,
) -> None:
    sim = fleet_sim(sim_factory)
    app = fleet_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_fleet(pilot)
        page = app.page
        screen.table.move_cursor(row=shown(screen).index("contoso-004"))
        await pilot.press("enter")
        await settle(pilot, lambda: on_page(app))
        assert page.environment is not None and page.environment.name == "contoso-004"
        assert page.snapshot is not None and page.assessment is not None
        # Another project's: F shows the same table at once (no read), Enter opens it.
        requests = len(sim.requests())
        await pilot.press("F")
        await pilot.pause()
        assert app.screen is screen and len(screen.rows) == 60 and len(sim.requests()) == requests
        await pilot.press("f", *"fabrikam-001", "enter", "enter")
        await settle(pilot, lambda: on_page(app))
        assert page.environment is not None
        assert (page.environment.name, page.environment.project_id) == ("fabrikam-001", "2345678")
        # r reads it again from its own project, not the profile's.
        listed = len(lcs_calls(sim))
        await pilot.press("r")
        await settle(pilot, lambda: ready(app)() and len(lcs_calls(sim)) > listed)
        assert page.phase is Phase.READY
        assert "/project/2345678/" in lcs_calls(sim)[-1]
        assert page.environment.name == "fabrikam-001"


async def test_r_lists_lcs_again_and_reads_every_fact_again(sim_factory: SimFactory) -> None:
    sim = fleet_sim(sim_factory)
    app = fleet_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_fleet(pilot)
        first = screen.read_at
        listed = len(lcs_calls(sim))
        generation = screen._generation
        await pilot.press("r")
        await settle(pilot, lambda: read(app) and screen._generation == generation + 1)
        assert screen.read_at is not None and first is not None
        # Every project listed again (10 pages of 2 environments each), not from the cache.
        assert len(lcs_calls(sim)) - listed == 30
        assert not any(project.from_cache for project in screen.projects.values())
        assert "from the cache" not in screen.status_text()


async def test_the_doctor_column_flags_a_failed_install_and_passes_a_healthy_environment(
    sim_factory: SimFactory,
) -> None:
    app = fleet_app(fleet_sim(sim_factory))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_fleet(pilot)
        environments = [row.environment for row in screen.rows.values()]
        sandboxes = [env.name for env in environments if env.environment_type == "Sandbox"]
        failed = next(name for name in sandboxes if KINDS.get(name) == "failed")
        healthy = next(name for name in sandboxes if KINDS.get(name) == "linked")
        assert cell_at(screen, failed, Column.DOCTOR) == "!!"
        assert cell_at(screen, healthy, Column.DOCTOR) == "ok"
        screen.table.move_cursor(row=shown(screen).index(failed))
        await pilot.pause()
        detail = str(screen.detail.content)
        assert "Doctor (no extra read)" in detail and "Dual-write packages and their dependencies" in detail
        assert "failed to install" in detail and "Remedy:" in detail


async def test_at_80x24_every_column_shows_whole(sim_factory: SimFactory) -> None:
    app = fleet_app(fleet_sim(sim_factory))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fleet(pilot)
        table = screen.table
        assert table.max_scroll_x == 0  # nothing to scroll to sideways: every column is on screen
        assert table.region.right <= 80
        widths = table.widths()
        assert widths == {column: spec.width for column, spec in COLUMNS.items()}  # the command line's
        assert table.row_count == 60 and table.size.height >= 12
        assert screen.detail.region.height == 2 and screen.status.region.height >= 1


async def test_the_palette_has_the_fleet(sim_factory: SimFactory) -> None:
    from textual.command import CommandList

    app = fleet_app(fleet_sim(sim_factory))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("ctrl+p")

        def listed() -> set[str]:
            lists = app.screen.query(CommandList)
            if not lists:
                return set()
            options = lists.first(CommandList).options
            return {str(getattr(option.prompt, "plain", option.prompt)).split("\n")[0] for option in options}

        await settle(pilot, lambda: "Fleet" in listed())
        await pilot.press(*"Fleet")
        await settle(pilot, lambda: "Fleet" in listed() and len(listed()) == 1)
        await pilot.press("enter")
        await settle(pilot, lambda: read(app))
        assert len(fleet(app).rows) == 60
        assert row_key(next(iter(fleet(app).rows.values()))).startswith("1234567|")


async def test_at_200x60_the_rows_detail_goes_beside_the_table(sim_factory: SimFactory) -> None:
    app = fleet_app(fleet_sim(sim_factory))
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_fleet(pilot)
        table, detail = screen.table.region, screen.detail.region
        assert detail.x >= table.right and detail.width >= 60  # beside it, with room to spare
        assert table.height >= 50 and screen.table.row_count == 60
        # The longest name whole: no cut where there is room.
        assert "northwind-000" in shown(screen)
        assert len(str(screen.detail.content).splitlines()) == 9  # every fact on a line of its own


async def test_e_lists_the_project_of_the_environment_the_fleet_opened(sim_factory: SimFactory) -> None:
    from textual.widgets import OptionList

    from dwtui.tui.environment_details.picker import EnvironmentPickerScreen

    sim = fleet_sim(sim_factory)
    app = fleet_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_fleet(pilot)
        await pilot.press("f", *"fabrikam-001", "enter", "enter")
        await settle(pilot, lambda: on_page(app))
        listed = len(lcs_calls(sim))
        await pilot.press("e")
        assert isinstance(app.screen, EnvironmentPickerScreen)
        options = app.screen.query_one(OptionList)
        await settle(pilot, lambda: options.option_count > 0)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("fabrikam-001" in prompt for prompt in prompts)
        assert not any("contoso-" in prompt for prompt in prompts)
        assert all("/project/2345678/" in path for path in lcs_calls(sim)[listed:])
        assert screen is not app.screen
