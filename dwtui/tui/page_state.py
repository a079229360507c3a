"""What the Environment details page knows, as the flows see it: plain data, no widgets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dwtui.domain.assessment import Action, Assessment
from dwtui.domain.models import LcsEnvironment, PowerPlatformSnapshot
from dwtui.tui.phase import Phase

if TYPE_CHECKING:
    from dwtui.services.session import Session

__all__ = ["PageState", "Phase", "refusal"]


@dataclass(frozen=True, slots=True)
class PageState:
    """The environment on the page and what was read about it; the flows act on this."""

    session: Session
    environment: LcsEnvironment
    snapshot: PowerPlatformSnapshot
    assessment: Assessment
    """As read, and with the install or link the page is watching counted as under way."""

    @property
    def read_only(self) -> bool:
        profile = self.session.profile
        return self.environment.is_production and not profile.allow_production_changes


def refusal(state: PageState | None, action: Action, title: str) -> str:
    """Why `action` cannot run now, in a sentence; "" when it can."""
    if state is None:
        return f"{title}: the environment's state is not known yet."
    availability = state.assessment.actions[action]
    if not availability.enabled:
        return f"{title} is not available: {availability.reason}."
    return ""
