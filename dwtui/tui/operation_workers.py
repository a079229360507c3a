"""Thread workers of the install, link and reset flows; each reports back only with messages.

The services are imported inside the workers, in their threads: the first frame must not wait
for the HTTP stack to load.

Workers never touch widgets. Their names route failures to the one handler in
dwtui.tui.operations; they are not tracked by Loaders, so the start-up chain's handler ignores them.
A watcher runs as long as the operation does (up to half an hour) and stops when its worker is
cancelled (the person pressed w, or chose another environment); the operation goes on in the service.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.worker import Worker, get_current_worker

from dwtui.domain.models import LcsEnvironment, PowerPlatformSnapshot
from dwtui.domain.operations import OperationKind, OperationRecord
from dwtui.domain.watch_events import WatchEvent
from dwtui.services.errors import ServiceError
from dwtui.tui.loading import Loaders
from dwtui.tui.operation_messages import (
    InstallPrepared,
    OperationsResumed,
    OperationStarted,
    ResetFinished,
    ResetPrepared,
    Watched,
    WatchEnded,
)

if TYPE_CHECKING:
    from dwtui.services.install import InstallPlan
    from dwtui.services.session import Session

# Worker names whose failures dwtui.tui.operations shows (in the Progress pane and a notification).
OPERATION_WORKERS = frozenset(
    {"prepare-install", "install", "link", "resume-operations", "prepare-reset", "reset"}
)
WATCHER_GROUP = "operation-watch"


def watcher_name(kind: OperationKind) -> str:
    return f"watch-{kind.value}"


def speed_of(session: Session) -> float:
    # --demo runs the simulator faster than real time; the watcher's schedule follows it.
    return session.demo.speed if session.demo is not None else 1.0


class OperationWorkers(Loaders):
    clock: Callable[[], float]

    def _run(self, name: str, call: object, description: str) -> Worker[None]:
        return self.run_worker(
            call,  # type: ignore[arg-type]
            name=name,
            group=name,
            description=description,
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    # -- the dual-write application install -----------------------------------------------------

    def start_prepare_install(
        self, session: Session, environment: LcsEnvironment, snapshot: PowerPlatformSnapshot
    ) -> None:
        def run() -> None:
            from dwtui.services.install import prepare_install

            self.post_message(InstallPrepared(prepare_install(session, environment, snapshot)))

        self._run("prepare-install", run, "Reading the package and its terms")

    def start_install_worker(self, session: Session, plan: InstallPlan) -> None:
        def run() -> None:
            from dwtui.services.install import InstallUncertain, settle_claim, start_install
            from dwtui.services.operations import AlreadyRunning

            store = session.operations
            try:
                record = start_install(session, plan, store)
            except AlreadyRunning as running:
                note = "An install was already under way for this environment; watching it."
                self.post_message(OperationStarted(running.record, note))
                return
            except InstallUncertain as uncertain:
                # The POST may have reached the service: only the package state can tell.
                settled = settle_claim(session, store, uncertain.record)
                if settled is None:
                    raise ServiceError(uncertain.cause) from uncertain
                self.post_message(OperationStarted(settled, uncertain.fault.message))
                return
            self.post_message(OperationStarted(record))

        self._run("install", run, "Starting the dual-write application install")

    # -- Link to Power Platform environment ---------------------------------------------------

    def start_link_worker(
        self, session: Session, environment: LcsEnvironment, snapshot: PowerPlatformSnapshot
    ) -> None:
        def run() -> None:
            from dwtui.services.linking import start_link
            from dwtui.services.operations import AlreadyRunning

            try:
                record = start_link(session, environment, snapshot, store=session.operations)
            except AlreadyRunning as running:
                note = "A link was already under way for this environment; watching it."
                self.post_message(OperationStarted(running.record, note))
                return
            self.post_message(OperationStarted(record))

        self._run("link", run, "Requesting the link")

    # -- watching -----------------------------------------------------------------------------

    def start_watcher(
        self,
        session: Session,
        environment: LcsEnvironment,
        record: OperationRecord,
        watch_id: int,
        poll_now: threading.Event,
    ) -> Worker[None]:
        kind = record.kind

        def report(event: WatchEvent) -> None:
            self.post_message(Watched(kind, watch_id, event))

        def run() -> None:
            from dwtui.services.linking import watch_link
            from dwtui.services.watch import watch

            worker = get_current_worker()
            try:
                if kind is OperationKind.LINK:
                    watch_link(
                        session,
                        environment,
                        record,
                        on_event=report,
                        store=session.operations,
                        cancelled=lambda: worker.is_cancelled,
                        poll_now=poll_now,
                        speed=speed_of(session),
                        clock=self.clock,
                    )
                else:
                    watch(
                        session.ppapi,
                        record,
                        on_event=report,
                        cancelled=lambda: worker.is_cancelled,
                        store=session.operations,
                        poll_now=poll_now,
                        speed=speed_of(session),
                        clock=self.clock,
                    )
            finally:
                self.post_message(WatchEnded(kind, watch_id))

        return self.run_worker(
            run,
            name=watcher_name(kind),
            group=WATCHER_GROUP,
            description=f"Watching the {kind.value}",
            thread=True,
            exit_on_error=False,
        )

    def start_resume(self, session: Session, environment: LcsEnvironment) -> None:
        def run() -> None:
            from dwtui.services.install import resume_install
            from dwtui.services.linking import active_link

            store = session.operations
            install = resume_install(session, store, environment.environment_id)
            link = active_link(session, environment, store) if session.gateway is not None else None
            last_link = store.last(environment.environment_id, OperationKind.LINK)
            self.post_message(OperationsResumed(environment.environment_id, install, link, last_link))

        self._run("resume-operations", run, "Looking for installs and links started earlier")

    # -- Reset dual-write connection --------------------------------------------------------------

    def start_prepare_reset(self, session: Session, snapshot: PowerPlatformSnapshot) -> None:
        def run() -> None:
            from dwtui.services.linking import running_maps

            self.post_message(ResetPrepared(running_maps(session, snapshot)))

        self._run("prepare-reset", run, "Reading which table maps run")

    def start_reset(
        self, session: Session, environment: LcsEnvironment, snapshot: PowerPlatformSnapshot, force: bool
    ) -> None:
        def run() -> None:
            from dwtui.services.linking import reset_connection

            self.post_message(ResetFinished(reset_connection(session, environment, snapshot, force)))

        self._run("reset", run, "Resetting the dual-write connection")
