"""The fleet screen's tests: the `fleet` scenario's app, signed in, with LCS's minute as short as the
simulator's, and waiting for the fleet to be read (never sleeping)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from dwtui.domain.profile import parse_profile
from dwtui.services.activity import ActivityLog
from dwtui.services.secrets import SecretStore
from dwtui.services.session import DemoWorld, Session
from dwtui.sim import fleet_world
from dwtui.sim.scenarios import build_world
from dwtui.sim.server import SimServer
from dwtui.tui.app import DwtuiApp
from dwtui.tui.fleet.screen import FleetScreen
from tests.conftest import SimFactory
from tests.tui.support import FIXED_CLOCK, ready, settle

FAST = 1000.0  # LCS's minute is 60 ms
PROJECTS = ("1234567", "2345678", "3456789")
KINDS = {made.record.name: made.kind for made in fleet_world.populate(build_world("happy"))}


def fleet_sim(sim_factory: SimFactory, speed: float = FAST, **kw: Any) -> SimServer:
    return sim_factory("fleet", speed=speed, device_approve_after=0, device_code_lifetime=900.0, **kw)


def fleet_app(sim: SimServer, clock: float = FIXED_CLOCK) -> DwtuiApp:
    """The app as `dwtui --demo` builds it: LCS's minute in the session as short as the simulator's,
    its waits in the Activity log; signed in beforehand."""

    def connect() -> Session:
        profile = parse_profile("sim", sim.profile_table("uat"))
        session = Session(
            profile,
            secrets=SecretStore(memory_only=True),
            activity=ActivityLog(),
            demo=DemoWorld(speed=sim.speed),
        )
        session.auth.finish_device_flow(session.auth.start_device_flow(), lambda: False)
        return session

    return DwtuiApp(connect, profile_name="sim", clock=lambda: clock, show_timings=False)


def fleet(app: DwtuiApp) -> FleetScreen:
    screen = app.screen
    assert isinstance(screen, FleetScreen), screen
    return screen


def read(app: DwtuiApp) -> bool:
    screen = app.screen
    return isinstance(screen, FleetScreen) and screen.read_at is not None and not screen.reading


async def open_fleet(pilot: Pilot[Any]) -> FleetScreen:
    app = pilot.app
    assert isinstance(app, DwtuiApp)
    await settle(pilot, ready(app))
    await pilot.press("F")
    await settle(pilot, lambda: read(app))
    await pilot.pause()
    return fleet(app)



def shown(screen: FleetScreen) -> list[str]:
    """The environment names down the table, as drawn."""
    table = screen.table
    return [str(table.get_row_at(index)[0]).strip() for index in range(table.row_count)]
