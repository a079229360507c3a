"""The app's thread workers: every blocking service call, each reporting back with a message.

Workers never touch widgets or reactives. Each has a name (errors are routed by it in the
app's one Worker.StateChanged handler) and a group; `exclusive` supersedes an earlier call of
the same kind, and `generation` lets the UI drop answers to superseded requests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import App
from textual.worker import Worker, get_current_worker

from dwtui.domain.models import LcsEnvironment
from dwtui.domain.profile import ProfileError, validate_environment_id
from dwtui.tui.messages import (
    ActivityRecorded,
    DeviceCodeIssued,
    EnvironmentRead,
    EnvironmentsListed,
    PowerPlatformRead,
    SessionReady,
    SignInFinished,
)
from dwtui.tui.workers import service_worker

if TYPE_CHECKING:
    from dwtui.services.activity import ActivityEntry
    from dwtui.services.session import Session


class Loaders(App[int]):
    connect_session: Callable[[], Session]

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.generation = 0
        self._latest: dict[str, Worker[None]] = {}
        self._sign_in_cancelled = threading.Event()
        self._unsubscribe: Callable[[], None] | None = None

    # -- bookkeeping ---------------------------------------------------------------------------

    def _track(self, worker: Worker[None]) -> None:
        self._latest[worker.name] = worker

    def is_current(self, worker: Worker[object]) -> bool:
        """False for a worker that a later call of the same name superseded."""
        return self._latest.get(worker.name) is worker

    def worker_running(self, name: str) -> bool:
        worker = self._latest.get(name)
        return worker is not None and not worker.is_finished

    def new_generation(self) -> int:
        self.generation += 1
        return self.generation

    def attach_session(self, session: Session) -> None:
        self.session = session
        # Entries recorded before the subscription (none, when connect does no I/O) come first.
        earlier = session.activity.entries()
        self._unsubscribe = session.activity.subscribe(self._forward_activity)
        for entry in earlier:
            self.post_message(ActivityRecorded(entry))

    def _forward_activity(self, entry: ActivityEntry) -> None:
        # Called on whichever thread made the call; post_message is the thread-safe way in.
        self.post_message(ActivityRecorded(entry))

    def close_session(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._sign_in_cancelled.set()
        if self.session is not None:
            self.session.close()

    def cancel_sign_in(self) -> None:
        self._sign_in_cancelled.set()

    # -- starters (UI thread) ------------------------------------------------------------------

    def start_connect(self) -> None:
        self._track(self._connect())

    def start_sign_in(self) -> None:
        assert self.session is not None
        self._sign_in_cancelled = threading.Event()
        self._track(self._sign_in(self.session, self._sign_in_cancelled))

    def start_environment_read(self, reference: str) -> None:
        assert self.session is not None
        self._track(self._read_environment(self.session, reference, self.new_generation()))

    def start_power_platform_read(self, environment: LcsEnvironment) -> None:
        assert self.session is not None
        self._track(self._read_power_platform(self.session, environment, self.generation))

    def start_environments_list(self) -> None:
        assert self.session is not None
        self._track(self._list_environments(self.session))

    # -- workers (threads) ---------------------------------------------------------------------

    @service_worker("connect", "Opening the profile's session")
    def _connect(self) -> None:
        self.post_message(SessionReady(self.connect_session()))

    @service_worker("sign-in", "Signing in")
    def _sign_in(self, session: Session, cancelled: threading.Event) -> None:
        worker = get_current_worker()
        signed_in = session.auth.try_silent()
        if signed_in is None:
            if session.profile.is_confidential:
                signed_in = session.auth.sign_in_confidential()
            else:
                prompt = session.auth.start_device_flow()
                self.post_message(DeviceCodeIssued(prompt))
                signed_in = session.auth.finish_device_flow(
                    prompt, lambda: worker.is_cancelled or cancelled.is_set()
                )
        self.post_message(SignInFinished(signed_in))

    @service_worker("environment", "Reading the environment from LCS")
    def _read_environment(self, session: Session, reference: str, generation: int) -> None:
        try:
            environment_id = validate_environment_id(reference)
        except ProfileError:
            environment_id = ""  # not an id: a name, as `dwtui --environment contoso-uat` allows
        if environment_id:
            environment = session.environment(environment_id)
        else:
            environment = session.lcs.environment_by_name(session.profile.lcs_project_id, reference)
        self.post_message(EnvironmentRead(environment, generation))

    @service_worker("power-platform", "Reading Power Platform Integration")
    def _read_power_platform(self, session: Session, environment: LcsEnvironment, generation: int) -> None:
        snapshot = session.power_platform(environment)
        assessment = session.assess(environment, snapshot)
        self.post_message(PowerPlatformRead(environment, snapshot, assessment, generation))

    @service_worker("environments", "Listing the project's environments")
    def _list_environments(self, session: Session) -> None:
        self.post_message(EnvironmentsListed(session.environments()))
