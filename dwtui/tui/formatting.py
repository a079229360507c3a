"""Small conversions from service values to what the screen says."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dwtui.domain.models import DeviceCodePrompt, Fault


def fault_of(error: BaseException | None) -> Fault:
    # Imported here: the App's first frame must not wait for the error types to load.
    from dwtui.domain.models import Fault
    from dwtui.domain.profile import ProfileError
    from dwtui.services.errors import ServiceError

    if isinstance(error, ServiceError):
        return error.fault
    if isinstance(error, ProfileError):
        return Fault(service="profile", message=str(error), code="invalid_profile")
    # Anything else is a bug; show it rather than crash the screen.
    return Fault(service="dwtui", message=f"{type(error).__name__}: {error}", code="internal")


def clock_text(at: float) -> str:
    # UTC, so that screenshots taken with a fixed clock read the same on every machine.
    return time.strftime("%H:%M:%S UTC", time.gmtime(at))


def seconds_left(prompt: DeviceCodePrompt, now: float) -> float:
    # The prompt's expiry is on the wall clock; rounding up to 5 s makes the countdown start
    # from the same number each run (the code's lifetime), whatever the scheduling delay.
    return max(0.0, math.ceil((prompt.expires_at - now) / 5.0) * 5.0)
