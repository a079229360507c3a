"""Shared pieces of the install tests: a signed-in session, the plan, and an event recorder."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.helpers import make_session

if TYPE_CHECKING:
    from dwtui.services.install import InstallPlan
    from dwtui.services.session import Session
    from dwtui.services.watch import WatchEvent
    from dwtui.sim.server import SimServer


def app_session(sim: SimServer, **kw: Any) -> Session:
    """A Session signed in as the simulator's user through the device code (real MSAL).

    A person, not an application: LCS refuses app-only tokens, and the plan reads LCS.
    """
    return make_session(sim, sign_in=True, **kw)


def sign_in_again(session: Session) -> None:
    prompt = session.auth.start_device_flow()
    session.auth.finish_device_flow(prompt, lambda: False)


def plan_for(session: Session) -> InstallPlan:
    from dwtui.services.install import prepare_install

    environment = session.environment(session.profile.environment_id)
    return prepare_install(session, environment, session.power_platform(environment))


def install_posts(sim: SimServer) -> list[dict[str, Any]]:
    """Install requests that reached the simulator (not the ones a fault stopped at the door)."""
    return [
        r
        for r in sim.requests()
        if r["method"] == "POST" and r["path"].endswith("/install") and r["fault"] is None
    ]


@dataclass
class Recorder:
    """Collects watcher events from any thread; tests wait on conditions with a bounded timeout."""

    events: list[WatchEvent] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    hooks: list[Callable[[WatchEvent], None]] = field(default_factory=list)

    def __call__(self, event: WatchEvent) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()
        for hook in self.hooks:
            hook(event)

    def of(self, kind: type) -> list[Any]:
        with self.changed:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, kind: type, timeout: float = 30.0) -> Any:
        with self.changed:
            ok = self.changed.wait_for(lambda: any(isinstance(e, kind) for e in self.events), timeout)
            assert ok, f"no {kind.__name__} event within {timeout} s; got {self.events[-5:]}"
            return next(e for e in self.events if isinstance(e, kind))
