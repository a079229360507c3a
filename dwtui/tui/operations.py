"""The LCS page's change buttons, in the app: Dual-write application (d), Link (l), Reset (R).

Every change is confirmed first (terms + OK, Link, a typed environment name), runs in a thread
worker (dwtui.tui.operation_workers) and is watched live in the Progress pane. Installs and links
are remembered by the services' OperationStore, so on start-up and on every refresh the one under
way for the environment on screen (started here before a restart, or in another terminal) is
watched again instead of being started twice.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from textual import on
from textual.screen import ModalScreen
from textual.worker import Worker, WorkerState

from dwtui.domain.assessment import Action, Assessment, LinkState, assess
from dwtui.domain.linking import AdminLink, admin_link, reset_plan
from dwtui.domain.models import LcsEnvironment, PowerPlatformSnapshot
from dwtui.domain.operations import OperationKind, OperationRecord, OperationStatus
from dwtui.domain.watch_events import Finished, GaveUp, Polled, SignInNeeded, StateChanged, TransientFault
from dwtui.services.errors import SignInRequired
from dwtui.tui.formatting import fault_of
from dwtui.tui.messages import PowerPlatformRead
from dwtui.tui.operation_messages import (
    InstallPrepared,
    OperationsResumed,
    OperationStarted,
    ResetFinished,
    ResetPrepared,
    Watched,
    WatchEnded,
)
from dwtui.tui.operation_workers import OPERATION_WORKERS, OperationWorkers
from dwtui.tui.screens.admin_link import AdminLinkScreen
from dwtui.tui.screens.onebox_confirm import ConfirmChangeScreen
from dwtui.tui.screens.reset_confirm import ResetDecision, ResetScreen
from dwtui.tui.screens.terms import TermsScreen
from dwtui.tui.widgets.pane import describe_fault
from dwtui.tui.widgets.power_platform_pane import PowerPlatformPane
from dwtui.tui.widgets.progress_pane import TITLES, Outcome, ProgressPane

# Keys that only make sense while something is watched, or once the admin link is known.
WATCH_ACTIONS = frozenset({"poll_now", "stop_watching"})
LINK_ACTIONS = frozenset({"admin_link", "copy_link"})
OPERATION_ACTIONS = WATCH_ACTIONS | LINK_ACTIONS
_KIND_ACTION = {OperationKind.INSTALL: Action.SETUP_DUAL_WRITE, OperationKind.LINK: Action.LINK}


@dataclass
class _Watcher:
    watch_id: int
    worker: Worker[None]
    poll_now: threading.Event


class OperationFlows(OperationWorkers):
    def __init__(self) -> None:
        super().__init__()
        self.op_environment: LcsEnvironment | None = None
        self.op_snapshot: PowerPlatformSnapshot | None = None
        self.op_assessment: Assessment | None = None
        self.admin: AdminLink | None = None
        self.bells = 0  # how often the terminal bell rang for a finished operation (tests read it)
        self._watchers: dict[OperationKind, _Watcher] = {}
        self._watch_seq = 0

    @property
    def progress_pane(self) -> ProgressPane:
        return self.query_one("#progress-pane", ProgressPane)

    def operation_action_shown(self, action: str) -> bool:
        """For the app's check_action: p and w while watching, a and c once the admin link is known."""
        if action in WATCH_ACTIONS:
            return bool(self._watchers)
        return self.admin is not None

    def watching(self, kind: OperationKind) -> bool:
        return kind in self._watchers

    # -- what was read --------------------------------------------------------------------------

    @on(PowerPlatformRead)
    def _operations_read(self, message: PowerPlatformRead) -> None:
        if message.generation != self.generation or self.session is None:
            return
        environment = message.environment
        if (
            self.op_environment is not None
            and self.op_environment.environment_id != environment.environment_id
        ):
            self._stop_all()
            self.progress_pane.clear()
            self.admin = None
        self.op_environment, self.op_snapshot = environment, message.snapshot
        self.op_assessment = message.assessment
        if message.assessment.link is LinkState.LINKED:
            self.admin = admin_link(environment.fo_url)
        self.refresh_bindings()
        running = set(self._watchers)
        for kind in running:
            self._show_running(kind)
        if len(running) < len(OperationKind):
            self.start_resume(self.session, environment)

    @on(OperationsResumed)
    def _resumed(self, message: OperationsResumed) -> None:
        environment = self.op_environment
        if environment is None or environment.environment_id != message.environment_id:
            return
        install = message.install
        if install.record is not None and not install.started_elsewhere:
            self._watch(install.record, install.note)
        elif install.started_elsewhere:
            self.progress_pane.show_idle(f"Dual-write application: {install.note}. Press r to look again.")
        if message.link is not None:
            self._watch(message.link, "following the link started earlier")
        if self._watchers or install.started_elsewhere:
            return
        lasts = [r for r in (install.last, message.last_link) if r is not None and r.finished]
        if lasts:
            last = max(lasts, key=lambda r: r.finished_at or 0.0)
            what = TITLES[last.kind]
            code = f" [{last.error_code}]" if last.error_code else ""
            self.progress_pane.show_idle(
                f"Last {what}: {last.status.value}{code} {last.error_message}".strip()
            )
        else:
            self.progress_pane.show_idle("No operation running")

    # -- d: the dual-write application ------------------------------------------------------------

    def _available(self, action: Action, title: str) -> bool:
        assessment = self.op_assessment
        if (
            assessment is None
            or self.session is None
            or self.op_environment is None
            or self.op_snapshot is None
        ):
            self.notify(f"{title}: the environment's state is not known yet.", severity="warning")
            return False
        availability = assessment.actions[action]
        if not availability.enabled:
            self.notify(f"{title} is not available: {availability.reason}.", severity="warning")
            return False
        return True

    def action_setup(self) -> None:
        title = TITLES[OperationKind.INSTALL]
        if self.watching(OperationKind.INSTALL) or self.worker_running_named("install"):
            self.notify("The install is under way; the Progress pane follows it.", title=title)
            return
        if not self._available(Action.SETUP_DUAL_WRITE, title):
            return
        assert self.session and self.op_environment and self.op_snapshot
        self.progress_pane.show_idle("Reading the package and its terms...", replace=True)
        self.start_prepare_install(self.session, self.op_environment, self.op_snapshot)

    @on(InstallPrepared)
    def _install_prepared(self, message: InstallPrepared) -> None:
        plan = message.plan
        self.progress_pane.show_idle("No operation running", replace=True)

        def configured(yes: bool | None) -> None:
            if not yes:
                return
            body = (
                f"Install {plan.listing.package.application_name or plan.listing.package.unique_name} "
                f"into {plan.dataverse.display_name} ({plan.dataverse.instance_url}) for "
                f"{plan.environment.name}?\n\nIt typically takes 30 minutes or less; dwtui watches it, "
                "and you may quit and come back: the install goes on."
            )
            self.push_screen(ConfirmChangeScreen(TITLES[OperationKind.INSTALL], body, yes="OK"), confirmed)

        def confirmed(yes: bool | None) -> None:
            if yes and self.session is not None:
                self.progress_pane.show_idle("Starting the install...", replace=True)
                self.start_install_worker(self.session, plan)

        self.push_screen(TermsScreen(plan), configured)

    # -- l: Link to Power Platform environment ------------------------------------------------------

    def action_link(self) -> None:
        title = TITLES[OperationKind.LINK]
        if self.watching(OperationKind.LINK) or self.worker_running_named("link"):
            self.notify("The link is under way; the Progress pane follows it.", title=title)
            return
        if not self._available(Action.LINK, title):
            return
        environment, snapshot = self.op_environment, self.op_snapshot
        assert environment is not None and snapshot is not None
        target = self.op_assessment.dataverse_url if self.op_assessment else ""
        body = (
            f"Link {environment.name} ({environment.fo_url}) to the Dataverse Power Platform Integration "
            f"names:\n{target}\n\nIt typically takes less than 5 minutes; dwtui watches it."
        )

        def confirmed(yes: bool | None) -> None:
            if yes and self.session is not None:
                self.progress_pane.show_idle("Requesting the link...", replace=True)
                self.start_link_worker(self.session, environment, snapshot)

        self.push_screen(ConfirmChangeScreen(title, body, yes="Link"), confirmed)

    # -- R: Reset dual-write connection ------------------------------------------------------------

    def action_reset(self) -> None:
        title = "Reset dual-write connection"
        if not self._available(Action.RESET, title):
            return
        assert self.session and self.op_environment and self.op_snapshot
        plan = reset_plan(self.op_environment, self.op_snapshot)
        if plan is None or not plan.allowed:
            reason = plan.reason if plan is not None else "dual-write is not linked"
            self.notify(f"{title} is not available: {reason}", severity="warning", timeout=10)
            return
        self.start_prepare_reset(self.session, self.op_snapshot)

    @on(ResetPrepared)
    def _reset_prepared(self, message: ResetPrepared) -> None:
        environment, snapshot = self.op_environment, self.op_snapshot
        plan = reset_plan(environment, snapshot) if environment and snapshot else None
        if environment is None or snapshot is None or plan is None:
            return

        def decided(decision: ResetDecision | None) -> None:
            if decision is not None and self.session is not None:
                self.progress_pane.show_idle("Resetting the dual-write connection...", replace=True)
                self.start_reset(self.session, environment, snapshot, decision.force)

        self.push_screen(ResetScreen(environment.name, plan, message.running_maps), decided)

    @on(ResetFinished)
    def _reset_finished(self, message: ResetFinished) -> None:
        plan = message.result.plan
        text = (
            f"Reset dual-write connection{' (force)' if message.result.forced else ''}: done. Dual-write "
            f"now uses {plan.target_dataverse_name or plan.target_dataverse_url}. Apply the solutions and "
            "maps again."
        )
        self.progress_pane.show_idle(text, replace=True)
        self.notify(text, title="Reset dual-write connection", timeout=10)
        self._read_again()

    # -- watching -------------------------------------------------------------------------------

    @on(OperationStarted)
    def _started(self, message: OperationStarted) -> None:
        self._watch(message.record, message.note)
        if message.note:
            self.notify(message.note, title=TITLES[message.record.kind])

    def _watch(self, record: OperationRecord, note: str = "") -> None:
        environment = self.op_environment
        if self.session is None or environment is None or record.kind in self._watchers:
            return
        self._watch_seq += 1
        poll_now = threading.Event()
        worker = self.start_watcher(self.session, environment, record, self._watch_seq, poll_now)
        self._watchers[record.kind] = _Watcher(self._watch_seq, worker, poll_now)
        pane = self.progress_pane
        pane.clock = self.clock
        pane.speed = self.session.demo.speed if self.session.demo is not None else 1.0
        pane.begin(record.kind, record, note)
        self._show_running(record.kind)
        self.refresh_bindings()

    def _show_running(self, kind: OperationKind) -> None:
        """The pane's buttons say "being installed/linked" at once, before the next read says so."""
        environment, snapshot = self.op_environment, self.op_snapshot
        if environment is None or snapshot is None or self.session is None:
            return
        read_only = environment.is_production and not self.session.profile.allow_production_changes
        self.op_assessment = assess(
            environment,
            snapshot,
            read_only=read_only,
            installing=OperationKind.INSTALL in self._watchers,
            linking=OperationKind.LINK in self._watchers,
        )
        pane = self.query_one("#power-platform-pane", PowerPlatformPane)
        pane.show(snapshot, self.op_assessment, str(pane.border_subtitle or ""))

    @on(Watched)
    def _watched(self, message: Watched) -> None:
        watcher = self._watchers.get(message.kind)
        if watcher is None or watcher.watch_id != message.watch_id:
            return
        pane, event = self.progress_pane, message.event
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
            if not self.worker_running("sign-in") and self.session is not None:
                self.start_sign_in()
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
        title = TITLES[kind]
        succeeded = event.status is OperationStatus.SUCCEEDED
        admin = None
        if succeeded:
            text = "Succeeded: the dual-write application is installed. Next: Link (l)."
            if kind is OperationKind.LINK:
                environment = self.op_environment
                admin = admin_link(environment.fo_url) if environment else None
                self.admin = admin
                text = "Succeeded: linked. The dual-write administration area is ready (a, c)."
            self.notify(text, title=title, timeout=10)
        else:
            fault = event.fault
            code = f" {fault.code}" if fault is not None else ""
            text = f"Failed:{code} {fault.message if fault else event.status.value}"
            self.notify(
                f"{text}\n{describe_fault(fault) if fault else ''}".strip(),
                title=title,
                severity="error",
                timeout=15,
            )
        self.bells += 1
        self.bell()
        self.progress_pane.finished(
            event.record, Outcome(succeeded, text, event.fault, event.explanation), admin
        )
        self.refresh_bindings()
        self._read_again()
        if admin is not None and not isinstance(self.screen, ModalScreen) and self.op_environment:
            self.push_screen(AdminLinkScreen(admin, self.op_environment.name))

    @on(WatchEnded)
    def _watch_ended(self, message: WatchEnded) -> None:
        watcher = self._watchers.get(message.kind)
        if watcher is not None and watcher.watch_id == message.watch_id:
            del self._watchers[message.kind]
            self.refresh_bindings()
        if not self._watchers and self.progress_pane.watching:
            self.progress_pane.stopped()

    def _read_again(self) -> None:
        """Read Power Platform Integration again: the buttons and the mismatch warning follow the state."""
        if self.session is None or self.op_environment is None:
            return
        self.query_one("#power-platform-pane", PowerPlatformPane).begin_loading(
            "Reading Power Platform Integration again..."
        )
        self.start_power_platform_read(self.op_environment)

    def _stop_all(self) -> None:
        for watcher in self._watchers.values():
            watcher.worker.cancel()
        self._watchers.clear()
        self.refresh_bindings()

    def action_poll_now(self) -> None:
        if not self._watchers:
            self.notify("Nothing is being watched.", severity="warning")
            return
        for watcher in self._watchers.values():
            watcher.poll_now.set()
        self.progress_pane.set_note("Asking now...")

    def action_stop_watching(self) -> None:
        if not self._watchers:
            self.notify("Nothing is being watched.", severity="warning")
            return
        self._stop_all()
        self.progress_pane.stopped()
        self.notify(
            "Stopped watching. The operation goes on in the service; press r to watch it again.",
            title="Progress",
        )

    # -- the dual-write administration link --------------------------------------------------------

    def action_admin_link(self) -> None:
        if self.admin is None or self.op_environment is None:
            self.notify(
                "The link to the dual-write administration area shows once linked.", severity="warning"
            )
            return
        self.push_screen(AdminLinkScreen(self.admin, self.op_environment.name))

    def action_copy_link(self) -> None:
        if self.admin is None:
            self.notify(
                "The link to the dual-write administration area shows once linked.", severity="warning"
            )
            return
        self.copy_to_clipboard(self.admin.url)
        self.notify(f"Copied {self.admin.url}", title="Dual-write administration")

    # -- failures ------------------------------------------------------------------------------------

    def worker_running_named(self, name: str) -> bool:
        return any(w.name == name and not w.is_finished for w in self.workers)

    @on(Worker.StateChanged)
    def _operation_worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR or worker.name not in OPERATION_WORKERS:
            return
        fault = fault_of(worker.error)
        if isinstance(worker.error, SignInRequired) and not self.worker_running("sign-in"):
            self.start_sign_in()
        titles = {
            "prepare-install": "Dual-write application",
            "install": "Dual-write application",
            "link": "Link to Power Platform environment",
            "prepare-reset": "Reset dual-write connection",
            "reset": "Reset dual-write connection",
            "resume-operations": "Installs and links started earlier",
        }
        title = titles.get(worker.name, "dwtui")
        if not self._watchers and not self.progress_pane.watching:
            self.progress_pane.show_idle(f"{title}: {describe_fault(fault)}", replace=True)
        self.notify(describe_fault(fault), title=title, severity="error", timeout=15)
        if worker.name in ("install", "link", "reset"):
            self._read_again()
