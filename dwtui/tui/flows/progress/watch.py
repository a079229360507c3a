"""Watching the dual-write application install and the link live, in the Progress pane.

Installs and links are remembered by the services' OperationStore, so on start-up and on every
read the one under way for the environment on screen (started here before a restart, or in another
terminal) is watched again instead of being started twice. A watcher is a thread worker that runs
as long as its operation (up to half an hour) and stops when it is cancelled (the person pressed w,
or chose another environment); the operation goes on in the service. The services are imported
inside the workers, in their threads: the first frame must not wait for the HTTP stack to load.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.worker import Worker, get_current_worker

from dwtui.domain.linking import admin_link
from dwtui.domain.operations import OPERATION_TITLES, OperationKind, OperationRecord, OperationStatus
from dwtui.domain.watch_events import (
    Finished,
    GaveUp,
    Polled,
    SignInNeeded,
    StateChanged,
    TransientFault,
    WatchEvent,
)
from dwtui.tui.flow import Flow
from dwtui.tui.flows.progress.messages import OperationsResumed, Watched, WatchEnded
from dwtui.tui.flows.progress.pane import Outcome, ProgressPane
from dwtui.tui.messages import OperationFinished, WatchStarted
from dwtui.tui.messages import SignInNeeded as SignInWanted
from dwtui.tui.page_state import PageState
from dwtui.tui.widgets.pane import describe_fault

if TYPE_CHECKING:
    from dwtui.domain.models import DualWriteLink, Fault, LcsEnvironment
    from dwtui.services.session import Session

WATCHER_GROUP = "operation-watch"


def speed_of(session: Session) -> float:
    # --demo runs the simulator faster than real time; the watcher's schedule follows it.
    return session.demo.speed if session.demo is not None else 1.0


@dataclass
class _Watcher:
    watch_id: int
    worker: Worker[None]
    poll_now: threading.Event


class OperationWatch(Flow):
    WORKER_TITLES = {"resume-operations": "Installs and links started earlier"}

    def __init__(self, pane: ProgressPane, *, clock: Callable[[], float], id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.pane = pane
        self.clock = clock
        self.bells = 0  # how often the terminal bell rang for a finished operation (tests read it)
        self._state: PageState | None = None
        self._watchers: dict[OperationKind, _Watcher] = {}
        self._watch_seq = 0

    @property
    def kinds(self) -> frozenset[OperationKind]:
        """What is being watched now."""
        return frozenset(self._watchers)

    @property
    def active(self) -> bool:
        return bool(self._watchers)

    def watching(self, kind: OperationKind) -> bool:
        return kind in self._watchers

    # -- what the page tells it ------------------------------------------------------------------

    def read(self, state: PageState) -> None:
        """Power Platform Integration was read; another environment forgets the last one's operations."""
        last = self._state
        if last is not None and last.environment.environment_id != state.environment.environment_id:
            self.stop_all()
            self.pane.clear()
        self._state = state

    def resume_missing(self) -> None:
        """Look in the operation store (and the gateway) for what is under way and not yet watched."""
        state = self._state
        if state is not None and len(self._watchers) < len(OperationKind):
            self._resume(state.session, state.environment, state.snapshot.link)

    def follow(self, record: OperationRecord, note: str = "") -> None:
        state = self._state
        if state is None or record.kind in self._watchers:
            return
        session = state.session
        self._watch_seq += 1
        poll_now = threading.Event()
        worker = self._start_watcher(session, state.environment, record, self._watch_seq, poll_now)
        self._watchers[record.kind] = _Watcher(self._watch_seq, worker, poll_now)
        pane = self.pane
        pane.clock = self.clock
        pane.speed = speed_of(session)
        pane.begin(record.kind, record, note)
        self.post_message(WatchStarted(record.kind))
        self.refresh_bindings()

    def poll_now(self) -> None:
        if not self._watchers:
            self.notify("Nothing is being watched.", severity="warning")
            return
        for watcher in self._watchers.values():
            watcher.poll_now.set()
        self.pane.set_note("Asking now...")

    def stop_watching(self) -> None:
        if not self._watchers:
            self.notify("Nothing is being watched.", severity="warning")
            return
        self.stop_all()
        self.pane.stopped()
        self.notify(
            "Stopped watching. The operation goes on in the service; press r to watch it again.",
            title="Progress",
        )

    def stop_all(self) -> None:
        for watcher in self._watchers.values():
            watcher.worker.cancel()
        self._watchers.clear()
        self.refresh_bindings()

    # -- what was found under way ---------------------------------------------------------------------

    @on(OperationsResumed)
    def _resumed(self, message: OperationsResumed) -> None:
        state = self._state
        if state is None or state.environment.environment_id != message.environment_id:
            return
        install = message.install
        if install.record is not None and not install.started_elsewhere:
            self.follow(install.record, install.note)
        elif install.started_elsewhere:
            self.pane.show_idle(f"Dual-write application: {install.note}. Press r to look again.")
        if message.link is not None:
            self.follow(message.link, "following the link started earlier")
        if message.add_dataverse is not None:
            self.follow(message.add_dataverse, "following the Dataverse being added")
        if self._watchers or install.started_elsewhere:
            return
        lasts = [r for r in (install.last, message.last_link) if r is not None and r.finished]
        if lasts:
            last = max(lasts, key=lambda r: r.finished_at or 0.0)
            what = OPERATION_TITLES[last.kind]
            code = f" [{last.error_code}]" if last.error_code else ""
            self.pane.show_idle(f"Last {what}: {last.status.value}{code} {last.error_message}".strip())
        else:
            self.pane.show_idle("No operation running")

    # -- what the watchers say ----------------------------------------------------------------------

    @on(Watched)
    def _watched(self, message: Watched) -> None:
        watcher = self._watchers.get(message.kind)
        if watcher is None or watcher.watch_id != message.watch_id:
            return
        pane, event = self.pane, message.event
        if isinstance(event, Polled):
            pane.polled(event.record, event.percent, event.next_poll_in)
        elif isinstance(event, StateChanged):
            pane.changed(None)
        elif isinstance(event, TransientFault):
            fault = event.fault
            pane.set_note(
                f"{fault.service} did not answer this poll ({fault.code}: {fault.message}); asking again "
                f"in {event.retry_in:.0f} s. Not a failure: the {message.kind.value} goes on.",
                event.retry_in,
            )
        elif isinstance(event, SignInNeeded):
            pane.set_note(f"Sign-in needed to keep watching: {event.message}", event.retry_in)
            self.post_message(SignInWanted())
        elif isinstance(event, Finished):
            self._finished(message.kind, event)
        elif isinstance(event, GaveUp):
            del self._watchers[message.kind]
            pane.stopped(
                f"Stopped asking after {event.streak} failed polls ({event.fault.code}: "
                f"{event.fault.message}). The {message.kind.value} may still be running: press r to "
                "watch it again."
            )
            self.notify(f"Stopped watching the {message.kind.value}.", severity="warning")
            self.refresh_bindings()

    def _finished(self, kind: OperationKind, event: Finished) -> None:
        self._watchers.pop(kind, None)
        succeeded = event.status is OperationStatus.SUCCEEDED
        admin = None
        details = ""
        if succeeded:
            text = "Succeeded: the dual-write application is installed. Next: Link (l)."
            if kind is OperationKind.INSTALL and event.record.rest_of_plan():
                text = f"Succeeded: {event.record.package} is installed; the plan goes on."
            elif kind is OperationKind.ADD_DATAVERSE:
                text = "Succeeded: Dataverse was added. Next: Dual-write application (d)."
            elif kind is OperationKind.LINK:
                environment = self._state.environment if self._state is not None else None
                admin = admin_link(environment.fo_url) if environment else None
                text = "Succeeded: linked. The dual-write administration area is ready (a, c)."
        else:
            fault = event.fault
            code = f" {fault.code}" if fault is not None else ""
            text = f"Failed:{code} {fault.message if fault else event.status.value}"
            details = describe_fault(fault) if fault else ""
        self.bells += 1
        self.app.bell()
        self.pane.finished(event.record, Outcome(succeeded, text, event.fault, event.explanation), admin)
        self.refresh_bindings()
        # The flow that started it says how it ended (and the link flow shows the hyperlink).
        self.post_message(OperationFinished(kind, succeeded, text, details, event.record))

    @on(WatchEnded)
    def _watch_ended(self, message: WatchEnded) -> None:
        watcher = self._watchers.get(message.kind)
        if watcher is not None and watcher.watch_id == message.watch_id:
            del self._watchers[message.kind]
            self.refresh_bindings()
        if not self._watchers and self.pane.watching:
            self.pane.stopped()

    # -- workers (threads) ----------------------------------------------------------------------------

    def _start_watcher(
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
            from dwtui.services.add_dataverse import watch_add_dataverse
            from dwtui.services.linking import watch_link
            from dwtui.services.watch import watch

            worker = get_current_worker()
            try:
                if kind is OperationKind.ADD_DATAVERSE:
                    watch_add_dataverse(
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
                elif kind is OperationKind.LINK:
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
            name=f"watch-{kind.value}",
            group=WATCHER_GROUP,
            description=f"Watching the {kind.value}",
            thread=True,
            exit_on_error=False,
        )

    def _resume(
        self, session: Session, environment: LcsEnvironment, seen: DualWriteLink | Fault | None
    ) -> None:
        def run() -> None:
            from dwtui.services.add_dataverse import resume_add_dataverse
            from dwtui.services.install import Resumed, continue_plan, resume_install
            from dwtui.services.linking import active_link
            from dwtui.services.operations import AlreadyRunning

            store = session.operations
            install = resume_install(session, store, environment.environment_id)
            if install.unfinished is not None:
                # The person confirmed the whole plan; its next package was not requested yet.
                try:
                    following = continue_plan(session, environment, install.unfinished, store)
                except AlreadyRunning as running:  # the service runs another install: follow it
                    install = Resumed(running.record, running.fault.message, install.last)
                else:
                    if following is not None:
                        install = Resumed(following, "going on with the packages of the plan", install.last)
            # A link left in doubt is settled from the gateway, and one it shows running is followed.
            link = active_link(session, environment, store, seen) if session.gateway is not None else None
            last_link = store.last(environment.environment_id, OperationKind.LINK)
            adding = resume_add_dataverse(session, store, environment.environment_id)
            self.post_message(OperationsResumed(environment.environment_id, install, link, last_link, adding))

        self.run_worker(
            run,
            name="resume-operations",
            group="resume-operations",
            description="Looking for installs and links started earlier",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )
