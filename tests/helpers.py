"""Helpers for tests that drive the services against the simulator."""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from dwtui.services.activity import ActivityLog
    from dwtui.services.http import HttpPolicy
    from dwtui.services.rate_limit import SlidingWindowLimiter
    from dwtui.services.secrets import SecretStore
    from dwtui.services.session import Session
    from dwtui.services.trace import TraceFile
    from dwtui.sim.server import SimServer


def make_session(
    sim: SimServer,
    *,
    secrets: SecretStore | None = None,
    activity: ActivityLog | None = None,
    environment: str = "uat",
    http: HttpPolicy | None = None,
    sign_in: bool = False,
    trace: TraceFile | None = None,
    lcs_limiter: SlidingWindowLimiter | None = None,
    **profile_overrides: Any,
) -> Session:
    """A Session whose profile points every base URL at `sim` (device-code sign-in by default).

    Secrets stay in memory unless a store is given. With sign_in=True the device flow is run to the
    end (the simulator approves codes by itself), so the session's token getters work at once.
    `profile_overrides` replace profile settings, e.g. auth="client-secret". `lcs_limiter` replaces
    the session's LCS window (60 real seconds) with one as short as the simulator's speed makes it.
    """
    # Imported here: tests of the simulator alone must not need the services to import.
    from dwtui.domain.profile import parse_profile
    from dwtui.services.activity import ActivityLog
    from dwtui.services.secrets import SecretStore
    from dwtui.services.session import Session

    table = {**sim.profile_table(environment), **profile_overrides}
    profile = parse_profile("sim", table)
    session = Session(
        profile,
        secrets=secrets if secrets is not None else SecretStore(memory_only=True),
        activity=activity if activity is not None else ActivityLog(),
        http=http,
        trace=trace,
        lcs_limiter=lcs_limiter,
    )
    if sign_in:
        if profile.is_confidential:
            session.auth.sign_in_confidential()
        else:
            prompt = session.auth.start_device_flow()
            session.auth.finish_device_flow(prompt, lambda: False)
    return session


def sim_client(sim: SimServer, timeout: float = 10.0) -> httpx.Client:
    """An httpx client that trusts only the simulator's throwaway CA."""
    return httpx.Client(verify=ssl.create_default_context(cafile=str(sim.ca_file)), timeout=timeout)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
