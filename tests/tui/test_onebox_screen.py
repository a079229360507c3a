"""Pilot tests of the One-box screen: the simulator's contoso-dev and the demo AXDB through real ODBC.

The AXDB is a SQLite file reached through unixODBC and the SQLite3 ODBC driver (pyodbc), as the
demo reaches it, and once a PostgreSQL database through psqlODBC; the AOS restart is the demo's
simulated service controller.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Static, TabbedContent, TextArea

from dwtui.domain.flight import DEFAULT_FLIGHT_NAME, DEFAULT_FLIGHT_SERVICE_ID, documented_script
from dwtui.domain.onebox import DEPRECATION_NOTE
from dwtui.services.axdb_demo import create_demo_database
from dwtui.services.onebox import sql_password
from dwtui.sim.server import SimServer
from dwtui.tui.app import DwtuiApp
from dwtui.tui.flows.onebox.checklist import Checklist, Step, StepState
from dwtui.tui.flows.onebox.screen import OneboxScreen
from dwtui.tui.screens.clipboard import ClipboardScreen
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from dwtui.tui.widgets.activity_pane import ActivityPane
from tests.axdb_support import PostgresAxdb
from tests.conftest import SimFactory
from tests.pg_support import PgCluster
from tests.tui.onebox_support import (
    AXDB_FILE,
    build_onebox_app,
    demo_axdb,
    onebox,
    open_onebox_screen,
    type_into,
)
from tests.tui.support import SIZE, build_app, ready, settle


@pytest.fixture
def axdb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    return demo_axdb(tmp_path)


def text(screen: OneboxScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


def state(screen: OneboxScreen, step: Step) -> StepState:
    return screen.query_one(Checklist).states[step]


def finished(screen: OneboxScreen, step: Step) -> bool:
    return state(screen, step) is not StepState.RUNNING


async def show_tab(pilot: Pilot[Any], screen: OneboxScreen, tab: str) -> None:
    screen.action_tab(tab)
    await pilot.pause()


def flight_rows(path: Path) -> list[tuple[int, int, int]]:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(
            "SELECT PARTITION, ENABLED, FLIGHTSERVICEID FROM SYSFLIGHTING WHERE FLIGHTNAME = ? ORDER BY 1",
            (DEFAULT_FLIGHT_NAME,),
        ).fetchall()


async def confirm(pilot: Pilot[Any], app: DwtuiApp, answer: str = "y") -> str:
    """Wait for the confirmation, answer it, and return what it asked."""
    await settle(pilot, lambda: isinstance(app.screen, ConfirmChangeScreen))
    asked = str(app.screen.query_one("#confirm-text", Static).content)
    await pilot.press(answer)
    return asked


async def test_verify_fails_until_the_app_user_flight_and_restart_are_done(
    sim_factory: SimFactory, axdb: str, tmp_path: Path
) -> None:
    sim = sim_factory("onebox-no-app-user")
    app = build_onebox_app(sim, axdb)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        assert text(screen, "#onebox-deprecation") == DEPRECATION_NOTE
        assert all(value is StepState.TODO for value in screen.query_one(Checklist).states.values())
        assert text(screen, "#business-unit #label") == "contosodev (root)"
        assert text(screen, "#role #label") == "System Administrator (documented)"

        # 4 first: WhoAmI as the app says 0x80072560 and the screen names the missing step.
        await type_into(pilot, "#app-id", sim.onebox_client_id)
        await show_tab(pilot, screen, "tab-verify")
        await type_into(pilot, "#verify-secret", sim.onebox_client_secret)
        await pilot.press("enter")
        await settle(pilot, lambda: finished(screen, Step.VERIFY))
        assert state(screen, Step.VERIFY) is StepState.FAILED
        assert state(screen, Step.APP_USER) is StepState.MISSING
        assert "no application user" in text(screen, "#verify-result")
        assert "0x80072560" in text(screen, "#verify-fault .fault-text")
        assert not screen.query_one("#onebox-set-up").display

        # 1: Create, confirmed first.
        await show_tab(pilot, screen, "tab-app-user")
        await pilot.click("#app-user-create")
        asked = await confirm(pilot, app)
        assert "Create an application user" in asked and "System Administrator" in asked
        await settle(pilot, lambda: finished(screen, Step.APP_USER))
        assert state(screen, Step.APP_USER) is StepState.DONE
        assert "Created application user" in text(screen, "#app-user-result")

        # 2: the flight, through ODBC on the demo AXDB; the confirmation shows the statements.
        await show_tab(pilot, screen, "tab-flight")
        await pilot.pause()
        assert screen.query_one("#sql-raw-string", Input).value == axdb
        await pilot.click("#flight-run")
        asked = await confirm(pilot, app)
        assert "parameters: 12719367, 'DualWriteUnoAuthenticationFnoToCds', 12719367" in asked
        assert f"Database={AXDB_FILE}" in asked
        await settle(pilot, lambda: finished(screen, Step.FLIGHT))
        assert state(screen, Step.FLIGHT) is StepState.DONE
        table = screen.query_one("#flight-rows", DataTable)
        assert table.row_count == 3
        rows = [table.get_row_at(index) for index in range(3)]
        assert [row[0] for row in rows] == ["initial", "contoso", "fabrikam"]
        assert all(row[2] == "no row" and row[3] == "on, 12719367" and row[4] == "yes" for row in rows)
        assert "3 inserted" in text(screen, "#flight-summary")
        assert [r[1:] for r in flight_rows(tmp_path / AXDB_FILE)] == [(1, DEFAULT_FLIGHT_SERVICE_ID)] * 3

        # 3: the AOS restart, simulated in the demo, each step shown.
        await show_tab(pilot, screen, "tab-aos")
        await pilot.click("#aos-restart")
        asked = await confirm(pilot, app)
        assert "Stop-Service -Name w3svc,DynamicsAxBatch -Force" in asked and "Simulated" in asked
        await settle(pilot, lambda: finished(screen, Step.AOS))
        assert state(screen, Step.AOS) is StepState.DONE
        steps = text(screen, "#aos-steps")
        assert "check elevation" in steps and "stop w3svc, DynamicsAxBatch" in steps
        assert "simulated" in text(screen, "#aos-result")

        # 4 again: the secret now comes from the keyring; the one-box is set up.
        await show_tab(pilot, screen, "tab-verify")
        screen.query_one("#verify-secret", Input).value = ""
        await pilot.click("#verify-run")
        await settle(pilot, lambda: finished(screen, Step.VERIFY))
        assert state(screen, Step.VERIFY) is StepState.DONE, text(screen, "#verify-result")
        assert all(value is StepState.DONE for value in screen.query_one(Checklist).states.values())
        # What a person sees: the literal marks, not swallowed as markup.
        shown = [str(label.render()) for label in screen.query(".checklist-step")]
        assert shown and all(text.startswith("[x] ") for text in shown), shown
        assert screen.query_one("#onebox-set-up").display
        assert text(screen, "#verify-who").startswith("WhoAmI: user ")

        # Every change is in the Activity log, and on this screen's Activity pane.
        entries = list(screen.query_one("#onebox-activity", ActivityPane).entries)
        kinds = {entry.kind for entry in entries}
        assert {"http", "sql", "command", "change"} <= kinds
        assert any(e.kind == "change" and "Created application user" in e.summary for e in entries)
        assert any(e.kind == "sql" and e.summary == "COMMIT" for e in entries)
        assert not any(sim.onebox_client_secret in f"{e.summary} {e.detail} {e.url}" for e in entries)

        await pilot.press("escape")
        assert not isinstance(app.screen, OneboxScreen)
        # The main screen's Activity pane has them too.
        assert any(e.kind == "command" for e in app.page.activity_pane.entries)
        # Back again: the same screen, with what happened in this session.
        await pilot.press("o")
        assert onebox(app) is screen and screen.query_one("#onebox-set-up").display


async def test_verify_names_the_role_when_whoami_answers_for_a_user_without_one(
    sim_factory: SimFactory, axdb: str
) -> None:
    sim = sim_factory("onebox-app-user-no-role")
    app = build_onebox_app(sim, axdb)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        await type_into(pilot, "#app-id", sim.onebox_client_id)
        await show_tab(pilot, screen, "tab-verify")
        await type_into(pilot, "#verify-secret", sim.onebox_client_secret)
        await pilot.press("enter")
        await settle(pilot, lambda: finished(screen, Step.VERIFY))
        # WhoAmI answered, and still the one-box is not set up: the user has no role.
        assert text(screen, "#verify-who").startswith("WhoAmI: user ")
        assert text(screen, "#verify-app-user").endswith("; roles: no role")
        assert "has no security role" in text(screen, "#verify-result")
        assert screen.query_one("#verify-result").has_class("invalid")
        assert not screen.query_one("#verify-fault").display
        assert state(screen, Step.VERIFY) is StepState.FAILED
        assert state(screen, Step.APP_USER) is StepState.MISSING
        assert not screen.query_one("#onebox-set-up").display

        # Step 1 adds only the role (confirmed), and Verify passes.
        await show_tab(pilot, screen, "tab-app-user")
        await pilot.click("#app-user-create")
        asked = await confirm(pilot, app)
        assert "The application user exists; add the role System Administrator." in asked
        await settle(pilot, lambda: finished(screen, Step.APP_USER))
        assert "added the role System Administrator" in text(screen, "#app-user-result")
        await show_tab(pilot, screen, "tab-verify")
        screen.query_one("#verify-secret", Input).value = ""
        await pilot.click("#verify-run")
        await settle(pilot, lambda: finished(screen, Step.VERIFY))
        assert state(screen, Step.VERIFY) is StepState.DONE, text(screen, "#verify-result")
        assert text(screen, "#verify-app-user").endswith("; roles: System Administrator")


async def test_validation_while_typing(sim_factory: SimFactory, axdb: str) -> None:
    app = build_onebox_app(sim_factory("onebox-no-app-user"), axdb)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        create = screen.query_one("#app-user-create", Button)
        check = screen.query_one("#app-id-check", Static)

        await type_into(pilot, "#app-id", "3c5e7a9b-1d2f")
        shape = "00000000-0000-0000-0000-000000000000"
        assert str(check.content) == f"Keep typing: 13 of 36 characters ({shape})."
        assert check.has_class("incomplete") and create.disabled
        await pilot.press("-", "4", "g")
        assert "'g' at position 16 is not a hexadecimal digit" in str(check.content)
        assert check.has_class("invalid") and create.disabled
        await type_into(pilot, "#app-id", "{3C5E7A9B-1D2F-4E6A-8B0C-2D4F6A8C0E1F}")
        assert str(check.content) == "A valid application id." and check.has_class("valid")
        assert not create.disabled
        assert screen.verify_panel.application_id == "3c5e7a9b-1d2f-4e6a-8b0c-2d4f6a8c0e1f"

        await show_tab(pilot, screen, "tab-flight")
        await type_into(pilot, "#flight-name", "1Flight")
        assert "a letter followed by" in text(screen, "#flight-name-check")
        await type_into(pilot, "#flight-service-id", "12a")
        assert "whole number" in text(screen, "#flight-service-id-check")
        await type_into(pilot, "#flight-service-id", "99999999999")
        assert "between 1 and 2147483647" in text(screen, "#flight-service-id-check")
        await pilot.click("#flight-run")
        assert not isinstance(app.screen, ConfirmChangeScreen)  # nothing runs with a bad flight name
        assert text(screen, "#flight-status").startswith("Fix the flight name first")
        await type_into(pilot, "#flight-name", DEFAULT_FLIGHT_NAME)
        assert text(screen, "#flight-name-check") == ""

        # The tab keys work once the focus is not in a text field.
        screen.query_one("#flight-generate", Button).focus()
        await pilot.press("3")
        assert screen.query_one(TabbedContent).active == "tab-aos"


async def test_an_existing_user_is_shown_and_nothing_is_written(sim_factory: SimFactory, axdb: str) -> None:
    sim = sim_factory("happy")  # contoso-dev's one-box app already has its user and role
    app = build_onebox_app(sim, axdb)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        await type_into(pilot, "#app-id", sim.onebox_client_id)
        sim.reset_log()
        await pilot.click("#app-user-create")
        await settle(pilot, lambda: finished(screen, Step.APP_USER))
        assert not isinstance(app.screen, ConfirmChangeScreen)  # nothing to change, nothing to confirm
        assert state(screen, Step.APP_USER) is StepState.DONE
        result = text(screen, "#app-user-result")
        assert "already existed with the role System Administrator; nothing changed" in result
        assert [r for r in sim.requests() if r["method"] == "POST" and "/dataverse/" in r["path"]] == []


async def test_a_dataverse_error_shows_code_meaning_and_remedy(sim_factory: SimFactory, axdb: str) -> None:
    sim = sim_factory("onebox-no-app-user")
    app = build_onebox_app(sim, axdb)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        await type_into(pilot, "#app-id", sim.onebox_client_id)
        sim.add_fault("/dataverse/contosodev/api/data/v9.2/systemusers", "500", count=1, method="POST")
        await pilot.click("#app-user-create")
        await confirm(pilot, app)
        await settle(pilot, lambda: finished(screen, Step.APP_USER))
        assert state(screen, Step.APP_USER) is StepState.FAILED
        shown = text(screen, "#app-user-fault .fault-text")
        assert shown.startswith("Dataverse: HTTP 500") and "Remedy:" in shown


async def test_flight_failures_are_one_clear_message(
    sim_factory: SimFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with closing(sqlite3.connect(tmp_path / AXDB_FILE)) as connection:
        connection.execute("CREATE TABLE PARTITIONS (RECID BIGINT, PARTITIONKEY NVARCHAR(8))")
        connection.execute("INSERT INTO PARTITIONS VALUES (5637144576, 'initial')")
        connection.commit()
    app = build_onebox_app(sim_factory("onebox-no-app-user"), demo_axdb(tmp_path, replace=False))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        await show_tab(pilot, screen, "tab-flight")

        # Saying no runs nothing.
        await pilot.click("#flight-run")
        await confirm(pilot, app, "n")
        assert text(screen, "#flight-status") == "Nothing was run."
        assert state(screen, Step.FLIGHT) is StepState.TODO

        await pilot.click("#flight-run")
        await confirm(pilot, app)
        await settle(pilot, lambda: finished(screen, Step.FLIGHT))
        assert state(screen, Step.FLIGHT) is StepState.FAILED
        shown = text(screen, "#flight-fault .fault-text")
        assert "does not exist" in shown and "Nothing was written (rolled back)" in shown

        # The form, as on a one-box whose SQL Server driver is registered (here it is not).
        screen.flight.connection.show_drivers(["ODBC Driver 18 for SQL Server", "SQLite3"], False)
        await pilot.click("#mode-form")
        await pilot.click("#login-sql")
        await pilot.pause()
        assert not screen.query_one("#sql-password", Input).disabled
        await pilot.click("#flight-run")
        assert not isinstance(app.screen, ConfirmChangeScreen)  # refused before anything is asked
        assert "enter the SQL login's user name" in text(screen, "#flight-fault .fault-text")

        await type_into(pilot, "#sql-user", "sa")
        await type_into(pilot, "#sql-password", "Pa55;word}")
        await pilot.click("#sql-remember")
        await pilot.click("#flight-run")
        asked = await confirm(pilot, app)
        shown_target = (
            "Driver={ODBC Driver 18 for SQL Server};Server=localhost;Database=AXDB;UID=sa;PWD=***"
        )
        assert shown_target in asked
        assert "Pa55" not in asked
        await settle(pilot, lambda: finished(screen, Step.FLIGHT))
        shown = text(screen, "#flight-fault .fault-text")
        assert "the ODBC driver 'ODBC Driver 18 for SQL Server' is not installed" in shown
        assert "Pa55" not in shown
        session = app.session
        assert session is not None
        assert sql_password(session.secrets, session.profile) is None  # the login never worked

        # The SQLite3 driver takes the same form (the database is its file); once the run works,
        # the ticked password is kept in the keyring.
        screen.flight.connection.show_drivers(["SQLite3"], False)
        create_demo_database(tmp_path / "form.sqlite")
        await type_into(pilot, "#sql-database", "form.sqlite")
        await pilot.click("#flight-run")
        await confirm(pilot, app)
        await settle(pilot, lambda: finished(screen, Step.FLIGHT))
        assert state(screen, Step.FLIGHT) is StepState.DONE
        assert sql_password(session.secrets, session.profile) == "Pa55;word}"
        assert not any("Pa55" in f"{e.summary} {e.detail} {e.url}" for e in session.activity.entries())


async def test_the_flight_through_psqlodbc_notes_the_refused_query_timeout(
    sim_factory: SimFactory, postgres: PgCluster
) -> None:
    database = PostgresAxdb(postgres)
    connection = database.create()
    app = build_onebox_app(sim_factory("onebox-no-app-user"), connection)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        await show_tab(pilot, screen, "tab-flight")
        await pilot.click("#flight-run")
        asked = await confirm(pilot, app)
        assert "Driver={PostgreSQL Unicode};Server=127.0.0.1;" in asked and "PWD=***" in asked
        await settle(pilot, lambda: finished(screen, Step.FLIGHT))
        assert state(screen, Step.FLIGHT) is StepState.DONE
        status = text(screen, "#flight-status")
        assert status.startswith("Committed. Note: psqlODBC ('PostgreSQL Unicode') does not support a query")
        assert "statements run without one" in status
        assert [row[1] for row in database.rows()] == [1, 1, 1]
        session = app.session
        assert session is not None
        notes = [e for e in session.activity.entries() if e.summary == "driver note"]
        assert len(notes) == 1 and "query timeout" in notes[0].detail


async def test_generate_copy_and_save(sim_factory: SimFactory, axdb: str, tmp_path: Path) -> None:
    app = build_onebox_app(sim_factory("onebox-no-app-user"), axdb)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        await show_tab(pilot, screen, "tab-flight")
        await type_into(pilot, "#flight-service-id", "4242")
        await pilot.click("#flight-generate")
        script = documented_script(DEFAULT_FLIGHT_NAME, 4242)
        assert text(screen, "#flight-script") == script.rstrip()
        statements = text(screen, "#flight-statements")
        assert "parameters: 4242, 'DualWriteUnoAuthenticationFnoToCds', 4242" in statements
        assert "4242" not in statements.replace("parameters: 4242", "").replace(", 4242", "").split("--")[0]
        await pilot.click("#flight-copy")
        assert app.clipboard == script
        # Sent, and shown whole to select by hand: dwtui cannot know whether it arrived.
        await settle(pilot, lambda: isinstance(app.screen, ClipboardScreen))
        assert app.screen.query_one("#clipboard-text", TextArea).text == script
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is screen)
        await type_into(pilot, "#flight-save-path", str(tmp_path / "enable-flight"))
        await pilot.click("#flight-save")
        await settle(pilot, lambda: "Saved" in text(screen, "#flight-status"))
        assert (tmp_path / "enable-flight.sql").read_text(encoding="utf-8") == script
        assert flight_rows(tmp_path / AXDB_FILE) == []  # Generate and Save never touch the database


async def test_onebox_only_on_onebox_environments(sim_factory: SimFactory) -> None:
    sim: SimServer = sim_factory("happy")
    app = build_app(sim)  # contoso-uat, a sandbox
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        assert app.page.check_action("onebox", ()) is False  # not in the footer
        app.page.action_onebox()  # the command palette calls it directly: it says why not
        await pilot.pause()
        assert not isinstance(app.screen, OneboxScreen)
        assert any("only for one-box development VMs" in n.message for n in app._notifications)


async def test_the_set_up_badge_shows_only_while_all_four_steps_are_ticked(
    sim_factory: SimFactory, axdb: str
) -> None:
    sim = sim_factory("happy")  # the one-box app has its user and role: Verify passes at once
    app = build_onebox_app(sim, axdb)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        badge = screen.query_one("#onebox-set-up")
        await type_into(pilot, "#app-id", sim.onebox_client_id)
        await show_tab(pilot, screen, "tab-verify")
        await type_into(pilot, "#verify-secret", sim.onebox_client_secret)
        await pilot.press("enter")
        await settle(pilot, lambda: finished(screen, Step.VERIFY))
        # Verified, but the flight and the restart were not seen in this session: no badge.
        assert state(screen, Step.VERIFY) is StepState.DONE
        assert "cannot see the flight or the AOS restart" in text(screen, "#verify-result")
        assert state(screen, Step.FLIGHT) is StepState.TODO and state(screen, Step.AOS) is StepState.TODO
        assert not badge.display

        await show_tab(pilot, screen, "tab-flight")
        await pilot.click("#flight-run")
        await confirm(pilot, app)
        await settle(pilot, lambda: finished(screen, Step.FLIGHT))
        assert not badge.display
        await show_tab(pilot, screen, "tab-aos")
        await pilot.click("#aos-restart")
        await confirm(pilot, app)
        await settle(pilot, lambda: finished(screen, Step.AOS))
        assert all(value is StepState.DONE for value in screen.query_one(Checklist).states.values())
        assert badge.display

        # The flight run again: the restart before it no longer counts, and the badge goes.
        await show_tab(pilot, screen, "tab-flight")
        await pilot.click("#flight-run")
        await confirm(pilot, app)
        await settle(pilot, lambda: finished(screen, Step.FLIGHT))
        assert state(screen, Step.AOS) is StepState.TODO
        assert not badge.display
