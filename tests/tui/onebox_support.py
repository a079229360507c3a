"""Building the app on the contoso-dev one-box, with the demo's AXDB, and opening the one-box screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Select

from dwtui.services.axdb_demo import create_demo_database, demo_connection_string
from dwtui.services.session import DemoWorld
from dwtui.sim.server import SimServer
from dwtui.tui.app import DwtuiApp
from dwtui.tui.flows.onebox.screen import OneboxScreen
from tests.helpers import make_session
from tests.tui.support import FIXED_CLOCK, ready, settle

# Fast enough that the simulated AOS restart (20 simulated seconds) takes a few milliseconds.
DEMO_SPEED = 2000.0
AXDB_FILE = "axdb.sqlite"


def demo_axdb(directory: Path, **kw: Any) -> str:
    """A fresh demo AXDB in `directory`, named relatively so the screen shows the same string everywhere.

    The caller must chdir into `directory` (the SQLite ODBC driver opens the path from there).
    """
    create_demo_database(directory / AXDB_FILE, **kw)
    return demo_connection_string(Path(AXDB_FILE))


def build_onebox_app(sim: SimServer, axdb: str, *, secrets: Any = None, application_id: str = "") -> DwtuiApp:
    """`application_id`: the app id the form starts with, as the demo's own (else typed)."""

    def connect() -> Any:
        session = make_session(sim, environment="dev", sign_in=True, secrets=secrets)
        session.demo = DemoWorld(
            axdb_connection_string=axdb, speed=DEMO_SPEED, onebox_application_id=application_id
        )
        return session

    return DwtuiApp(connect, profile_name="sim", clock=lambda: FIXED_CLOCK, show_timings=False)


def onebox(app: DwtuiApp) -> OneboxScreen:
    screen = app.screen
    assert isinstance(screen, OneboxScreen), f"the one-box screen is not on top ({screen!r})"
    return screen


async def open_onebox_screen(pilot: Pilot[Any]) -> OneboxScreen:
    """Wait for the main screen, press o, and wait until the business units, roles and drivers are in."""
    app = pilot.app
    assert isinstance(app, DwtuiApp)
    await settle(pilot, ready(app))
    await pilot.press("o")
    screen = onebox(app)

    def loaded() -> bool:
        roles = screen.query_one("#role", Select)
        driver = screen.query_one("#sql-driver", Select)
        return not roles.is_blank() and not driver.is_blank()

    await settle(pilot, loaded)
    return screen


async def type_into(pilot: Pilot[Any], selector: str, text: str, *, clear: bool = True) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    if clear:
        field.value = ""
    if text:
        await pilot.press(*text)
    await pilot.pause()
