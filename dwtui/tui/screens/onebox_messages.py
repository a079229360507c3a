"""Messages the one-box screen's thread workers post back to it.

Each worker result crosses the thread boundary as one of these (post_message is thread-safe);
the screen hands it to the panel it belongs to. Failures are not messages: a worker raises, and
the screen's Worker.StateChanged handler shows the fault in that panel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from dwtui.domain.aos import RestartResult, StepResult
from dwtui.domain.appuser import AppUserPlan, AppUserResult, BusinessUnit, SecurityRole
from dwtui.domain.flight import FlightResult

if TYPE_CHECKING:
    from dwtui.services.activity import ActivityEntry
    from dwtui.services.verify import VerifyResult


class BusinessUnitsLoaded(Message):
    def __init__(self, units: list[BusinessUnit]) -> None:
        super().__init__()
        self.units = units


class RolesLoaded(Message):
    """The roles of one business unit (dropped when another unit was chosen meanwhile)."""

    def __init__(self, business_unit_id: str, roles: list[SecurityRole]) -> None:
        super().__init__()
        self.business_unit_id = business_unit_id
        self.roles = roles


class AppUserPlanned(Message):
    """What Create would do, read before asking for confirmation."""

    def __init__(self, plan: AppUserPlan) -> None:
        super().__init__()
        self.plan = plan


class AppUserApplied(Message):
    def __init__(self, result: AppUserResult) -> None:
        super().__init__()
        self.result = result


class DriversListed(Message):
    def __init__(self, drivers: list[str], stored_password: bool) -> None:
        super().__init__()
        self.drivers = drivers
        self.stored_password = stored_password


class FlightRan(Message):
    def __init__(self, result: FlightResult) -> None:
        super().__init__()
        self.result = result


class ScriptSaved(Message):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class AosStepDone(Message):
    """One step of the AOS restart finished (posted while the restart goes on)."""

    def __init__(self, step: StepResult) -> None:
        super().__init__()
        self.step = step


class AosRestarted(Message):
    def __init__(self, result: RestartResult) -> None:
        super().__init__()
        self.result = result


class Verified(Message):
    def __init__(self, result: VerifyResult) -> None:
        super().__init__()
        self.result = result


class OneboxActivity(Message):
    """One Activity log entry, for the screen's own Activity pane."""

    def __init__(self, entry: ActivityEntry) -> None:
        super().__init__()
        self.entry = entry
