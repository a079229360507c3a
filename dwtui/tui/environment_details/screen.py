"""The LCS Environment details page: the environment, its Power Platform Integration, Progress, Activity.

The page composes the panes and one controller per flow (dwtui.tui.flows), reads what the panes
show (reading.py), and routes: a key goes to its flow with what the page last read (a PageState),
and what a flow reports comes back as a message from dwtui.tui.messages that the page hands to the
pane or flow it concerns. The App tells the page how the session and the sign-in are going.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.reactive import Reactive, reactive
from textual.screen import Screen

from dwtui.domain.assessment import Action, Assessment, assess
from dwtui.domain.models import Fault, LcsEnvironment, PowerPlatformSnapshot, SignedIn
from dwtui.domain.operations import OPERATION_TITLES, OperationKind
from dwtui.domain.token_refusals import CONSENT_REQUIRED, lcs_refusal
from dwtui.tui.commands import bindings
from dwtui.tui.environment_details.environment_pane import EnvironmentPane
from dwtui.tui.environment_details.header import ContextHeader
from dwtui.tui.environment_details.power_platform_pane import PowerPlatformPane
from dwtui.tui.environment_details.reading import (
    EnvironmentRead,
    EnvironmentReader,
    EnvironmentsListed,
    PowerPlatformRead,
    ReadFailed,
)
from dwtui.tui.environment_details.starting import STYLESHEETS as FRAME_STYLESHEETS
from dwtui.tui.flows.dataverse.flow import AddDataverseFlow
from dwtui.tui.flows.install.flow import InstallFlow
from dwtui.tui.flows.link.flow import LinkFlow
from dwtui.tui.flows.progress.pane import ProgressPane
from dwtui.tui.flows.progress.watch import OperationWatch
from dwtui.tui.flows.reset.flow import ResetFlow
from dwtui.tui.formatting import clock_text
from dwtui.tui.gc_policy import IdleCollector
from dwtui.tui.messages import (
    ActivityRecorded,
    FlowFailed,
    OperationFinished,
    OperationStarted,
    ProgressNote,
    ReadAgain,
    WatchStarted,
)
from dwtui.tui.page_state import PageState, Phase
from dwtui.tui.widgets.activity_pane import ActivityPane
from dwtui.tui.widgets.footer import SteadyFooter
from dwtui.tui.widgets.pane import describe_fault

if TYPE_CHECKING:
    from dwtui.domain.fleet import FleetRow
    from dwtui.services.activity import ActivityEntry
    from dwtui.services.session import Session
    from dwtui.tui.environment_details.picker import EnvironmentPickerScreen


# The page's layout and each component's stylesheet: the same as its frame's before it loaded.
STYLESHEETS = FRAME_STYLESHEETS


class EnvironmentDetailsScreen(Screen[None]):
    CSS_PATH = STYLESHEETS
    BINDINGS = bindings()
    # Nothing has the focus until Tab gives it: Textual's first focusable widget is the Details button
    # of a fault box that is hidden (no fault), which Enter would press unseen.
    AUTO_FOCUS = ""

    phase: Reactive[Phase] = reactive(Phase.STARTING, init=False)
    """How far start-up got; the App and tests follow it."""
    environment: Reactive[LcsEnvironment | None] = reactive(None, init=False, bindings=True)
    """The LCS environment on screen."""
    assessment: Reactive[Assessment | None] = reactive(None, init=False, bindings=True)
    """What the Power Platform Integration pane says and which actions it offers, as read."""

    def __init__(
        self,
        *,
        profile_name: str,
        clock: Callable[[], float] = time.time,
        start_environment: str = "",
        show_timings: bool = True,
    ) -> None:
        super().__init__()
        self.profile_name = profile_name
        self.clock = clock
        self.start_environment = start_environment
        self.show_timings = show_timings
        self.session: Session | None = None
        self.signed_in: SignedIn | None = None
        self.snapshot: PowerPlatformSnapshot | None = None
        self._state: PageState | None = None
        self._environments: list[LcsEnvironment] | None = None
        self._environments_project = ""  # the LCS project `_environments` lists
        self._picker: EnvironmentPickerScreen | None = None
        self.collector = IdleCollector()
        self._unsubscribe: Callable[[], None] | None = None
        self._audit_failure_shown = False
        # The flows exist from the start: check_action asks them which keys apply.
        self.reader = EnvironmentReader()
        self._progress = ProgressPane(id="progress-pane")
        self.operations = OperationWatch(self._progress, clock=clock)
        self.install = InstallFlow()
        self.link = LinkFlow()
        self.reset = ResetFlow()
        self.add_dataverse = AddDataverseFlow()

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ContextHeader(id="header")
        with Horizontal(id="top"):
            yield EnvironmentPane(id="environment-pane")
            yield PowerPlatformPane(id="power-platform-pane")
        with Horizontal(id="bottom"):
            yield self._progress
            yield ActivityPane(id="activity-pane", show_timings=self.show_timings)
        # Compact: a key and its word, one space apart, so ? Help and q Quit fit 80 columns.
        yield SteadyFooter(compact=True)
        yield from (self.reader, self.operations, self.install, self.link, self.reset, self.add_dataverse)

    @property
    def environment_pane(self) -> EnvironmentPane:
        return self.query_one("#environment-pane", EnvironmentPane)

    @property
    def power_platform_pane(self) -> PowerPlatformPane:
        return self.query_one("#power-platform-pane", PowerPlatformPane)

    @property
    def progress_pane(self) -> ProgressPane:
        return self._progress

    @property
    def activity_pane(self) -> ActivityPane:
        return self.query_one("#activity-pane", ActivityPane)

    def on_mount(self) -> None:
        self._update_header()
        self.environment_pane.begin_loading("Starting...")
        self.power_platform_pane.begin_loading("Waiting for the environment...")

    async def fill(self) -> None:
        """Compose what the first frame left out: the panes' bodies (the App calls this after it)."""
        await self.environment_pane.fill()
        await self.power_platform_pane.fill()

    # -- what the App tells the page --------------------------------------------------------------

    def attach_session(self, session: Session) -> None:
        self.session = session
        # Entries recorded before the subscription (none, when connect does no I/O) come first.
        earlier = session.activity.entries()
        self._unsubscribe = session.activity.subscribe(self._forward_activity)
        for entry in earlier:
            self.post_message(ActivityRecorded(entry))
        self._update_header()

    def detach_session(self) -> None:
        self.collector.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _forward_activity(self, entry: ActivityEntry) -> None:
        # Called on whichever thread made the call; post_message is the thread-safe way in.
        self.post_message(ActivityRecorded(entry))

    def starting(self) -> None:
        self.environment_pane.begin_loading("Starting...")

    def signing_in(self) -> None:
        self.phase = Phase.SIGNING_IN
        self.environment_pane.begin_loading("Signing in...")

    def waiting_for_device_code(self) -> None:
        self.environment_pane.begin_loading("Waiting for the device-code sign-in...")

    def show_signed_in(self, signed_in: SignedIn | None) -> None:
        self.signed_in = signed_in
        self._update_header()

    def signed_in_as(self, signed_in: SignedIn) -> None:
        self.signed_in = signed_in
        target = self._start_target()
        if target:
            self._load(target)
        else:
            self.phase = Phase.CHOOSING
            self.environment_pane.show_message("Choose an environment (e).")
            self.power_platform_pane.show_message("")
            self.action_environments()

    def sign_in_failed(self, fault: Fault) -> None:
        if fault.code == "cancelled":
            self.environment_pane.show_message("Sign-in cancelled. Press r to sign in.")
        elif fault.code == CONSENT_REQUIRED:
            self.environment_pane.show_fault([fault], "No consent: an administrator grants it, then press r.")
        else:
            self.environment_pane.show_fault([fault], "Sign-in failed. Press r to try again.")
        self.power_platform_pane.show_message("Not signed in.")
        self.phase = Phase.FAILED

    def start_failed(self, fault: Fault) -> None:
        self.environment_pane.show_fault([fault], "dwtui could not start. Press r to try again.")
        self.power_platform_pane.show_message("")
        self.phase = Phase.FAILED

    def forget_environment_list(self) -> None:
        """The next picker lists the project's environments again."""
        self._environments = None

    def read_again(self) -> None:
        """r, once signed in: the environment and its Power Platform Integration, again."""
        if self.reader.running("environment") or self.reader.running("power-platform"):
            self.notify("Already reading; the panes update when the answers arrive.")
        elif self.environment is not None:
            self._load(self.environment.environment_id, self.environment.project_id)
        else:
            target = self._start_target()
            if target:
                self._load(target)
            else:
                self.action_environments()

    # -- reading: environment -> Power Platform Integration ----------------------------------------

    def _start_target(self) -> str:
        return self.start_environment or (self.session.profile.environment_id if self.session else "")

    def refuse_lcs(self) -> bool:
        """An application profile: the LCS API's refusal in the Environment pane, instead of a call."""
        refusal = lcs_refusal(self.session.profile) if self.session is not None else None
        if refusal is None:
            return False
        self.environment_pane.show_fault([refusal], "dwtui made no LCS call.")
        self.power_platform_pane.show_message("Needs the environment from LCS (see the Environment pane).")
        self.phase = Phase.FAILED
        return True

    def _load(self, reference: str, project_id: str = "") -> None:
        """`project_id`: the environment's LCS project when not the profile's (one the fleet opened)."""
        assert self.session is not None
        if self.refuse_lcs():
            return
        self.phase = Phase.LOADING
        self.environment_pane.begin_loading("Reading the environment from LCS...")
        self.power_platform_pane.begin_loading("Waiting for the environment...")
        self.reader.read_environment(self.session, reference, project_id)

    @on(EnvironmentRead)
    def _environment_read(self, message: EnvironmentRead) -> None:
        if message.generation == self.reader.generation:
            self._show_environment(message.environment, f"read {clock_text(self.clock())}")

    def _show_environment(self, environment: LcsEnvironment, read_at: str) -> None:
        assert self.session is not None
        self.environment = environment
        self.environment_pane.show(environment, read_at)
        self.power_platform_pane.begin_loading("Reading Power Platform Integration...")
        self.reader.read_power_platform(self.session, environment)

    @on(PowerPlatformRead)
    def _power_platform_read(self, message: PowerPlatformRead) -> None:
        if message.generation != self.reader.generation:
            return
        self.snapshot = message.snapshot
        self.assessment = message.assessment
        self.power_platform_pane.show(
            message.snapshot, message.assessment, f"read {clock_text(self.clock())}"
        )
        self.phase = Phase.READY
        # Everything loaded so far lives as long as the app: frozen, and full collections from now on
        # wait for a quiet moment (gc_policy.py).
        self.collector.start(asyncio.get_running_loop())
        if self.session is not None:
            state = PageState(self.session, message.environment, message.snapshot, message.assessment)
            self._flows_read(state)

    def _flows_read(self, state: PageState) -> None:
        """The flows act on what was just read; an install or link under way is watched again."""
        self.operations.read(state)
        self.link.read(state)
        self._state = state
        self.refresh_bindings()
        if self.operations.kinds:
            self._show_running()
        self.operations.resume_missing()

    def _show_running(self) -> None:
        """The pane's buttons say "being installed/linked" at once, before the next read says so."""
        state = self._state
        if state is None:
            return
        kinds = self.operations.kinds
        assessment = assess(
            state.environment,
            state.snapshot,
            read_only=state.read_only,
            installing=OperationKind.INSTALL in kinds,
            linking=OperationKind.LINK in kinds,
        )
        self._state = replace(state, assessment=assessment)
        pane = self.power_platform_pane
        pane.show(state.snapshot, assessment, str(pane.border_subtitle or ""))

    def _read_again(self) -> None:
        """Read Power Platform Integration again: the buttons and the mismatch warning follow the state."""
        if self.session is None or self._state is None:
            return
        self.power_platform_pane.begin_loading("Reading Power Platform Integration again...")
        self.reader.read_power_platform(self.session, self._state.environment)

    @on(EnvironmentsListed)
    def _environments_listed(self, message: EnvironmentsListed) -> None:
        if message.project_id != self._environments_project:
            return  # a list for the project on screen before the fleet opened another one
        self._environments = message.environments
        if self._picker is not None:
            self._picker.show_environments(message.environments)

    @on(ReadFailed)
    def _read_failed(self, message: ReadFailed) -> None:
        fault = message.fault
        if message.name == "environments":
            if self._picker is not None:
                self._picker.show_fault(fault)
            else:
                self.notify(f"{fault.service}: {fault.message}", title="Environments", severity="error")
            return
        if message.name == "power-platform":
            self.power_platform_pane.show_fault([fault], "Press r to try again.")
        else:
            self.environment_pane.show_fault([fault], "Press r to try again.")
            self.power_platform_pane.show_message(
                "Needs the environment from LCS (see the Environment pane)."
            )
        self.phase = Phase.FAILED

    @on(ActivityRecorded)
    def _activity(self, message: ActivityRecorded) -> None:
        try:
            pane = self.activity_pane
        except NoMatches:
            return  # a call that ends while dwtui is closing has nowhere to be shown
        entry = message.entry
        pane.add(entry)
        self._show_audit_failure()
        if entry.kind != "wait":
            return
        # A retry wait is the loading state of whichever pane is waiting on that service.
        if entry.service == "LCS API":
            if self._picker is not None:
                self._picker.set_status(entry.summary)
            if self.phase in (Phase.LOADING, Phase.SIGNING_IN) and self.environment is None:
                self.environment_pane.set_status(entry.summary)
                return
        self.power_platform_pane.set_status(entry.summary)

    def _show_audit_failure(self) -> None:
        """Once per run: the audit trail on disk is missing what the Activity pane shows."""
        failure = self.session.activity.file_error if self.session is not None else None
        if failure is None or self._audit_failure_shown:
            return
        self._audit_failure_shown = True
        self.notify(
            f"{failure}. The Activity pane still shows every call; the file on disk misses them.",
            title="Audit trail",
            severity="error",
            timeout=30,
        )

    # -- what the flows report ---------------------------------------------------------------------

    @on(OperationStarted)
    def _operation_started(self, message: OperationStarted) -> None:
        self.operations.follow(message.record, message.note)
        if message.note:
            self.notify(message.note, title=OPERATION_TITLES[message.record.kind])

    @on(WatchStarted)
    def _watch_started(self) -> None:
        self._show_running()
        self.refresh_bindings()

    @on(OperationFinished)
    def _operation_finished(self, message: OperationFinished) -> None:
        self._read_again()
        if message.kind is OperationKind.LINK:
            self.link.finished(message)
        elif message.kind is OperationKind.ADD_DATAVERSE:
            self.add_dataverse.finished(message)
        else:
            self.install.finished(message, self._state)

    @on(ProgressNote)
    def _progress_note(self, message: ProgressNote) -> None:
        self.progress_pane.show_idle(message.text, replace=True)

    @on(ReadAgain)
    def _read_again_asked(self) -> None:
        self._read_again()

    @on(FlowFailed)
    def _flow_failed(self, message: FlowFailed) -> None:
        text = describe_fault(message.fault)
        if not self.operations.active and not self.progress_pane.watching:
            self.progress_pane.show_idle(f"{message.title}: {text}", replace=True)
        self.notify(text, title=message.title, severity="error", timeout=15)
        if message.read_again:
            self._read_again()

    # -- header --------------------------------------------------------------------------------

    def watch_environment(self) -> None:
        self._update_header()

    def _update_header(self) -> None:
        profile = self.session.profile if self.session else None
        environment = self.environment
        production = environment is not None and environment.is_production
        self.query_one(ContextHeader).show(
            profile=self.profile_name,
            tenant=profile.tenant_id if profile else "",
            user=self.signed_in.username if self.signed_in else "",
            environment=environment.name if environment else "",
            environment_type=environment.environment_type if environment else "",
            production=production,
            read_only=production and not (profile is not None and profile.allow_production_changes),
            tokens=self._token_store(),
        )

    def _token_store(self) -> str:
        if self.session is None:
            return ""
        secrets = self.session.secrets
        return f"{secrets.label} (locked)" if secrets.needs_passphrase else secrets.label

    def show_token_store(self) -> None:
        """The header again, after the token store was unlocked or given up."""
        self._update_header()

    # -- keys ----------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("setup", "link", "reset"):
            return self.assessment is not None
        if action == "add_dataverse":  # in the footer only where it applies: the footer is short
            return self.assessment is not None and self.assessment.actions[Action.ADD_DATAVERSE].enabled
        if action in ("poll_now", "stop_watching"):
            return self.operations.active
        if action in ("admin_link", "copy_link"):
            return self.link.admin is not None
        if action == "onebox":
            return self.assessment is not None and self.assessment.actions[Action.ONEBOX].enabled
        return True

    def action_add_dataverse(self) -> None:
        under_way = self.operations.watching(OperationKind.ADD_DATAVERSE)
        self.add_dataverse.start(self._state, under_way=under_way)

    def action_setup(self) -> None:
        self.install.start(self._state, under_way=self.operations.watching(OperationKind.INSTALL))

    def action_link(self) -> None:
        self.link.start(self._state, under_way=self.operations.watching(OperationKind.LINK))

    def action_reset(self) -> None:
        self.reset.start(self._state)

    def action_poll_now(self) -> None:
        self.operations.poll_now()

    def action_stop_watching(self) -> None:
        self.operations.stop_watching()

    def action_admin_link(self) -> None:
        self.link.show_admin_link()

    def action_copy_link(self) -> None:
        self.link.copy_link()

    def action_environments(self) -> None:
        if self.refuse_lcs():
            return
        if self.session is None or self.signed_in is None:
            self.notify("Sign in first (press r).", severity="warning")
            return
        if self._picker is not None:
            return
        current = self.environment.environment_id if self.environment else ""
        # The project of the environment on screen: the fleet may have opened another project's.
        profile_project = self.session.profile.lcs_project_id
        project = (self.environment.project_id if self.environment else "") or profile_project
        if project != self._environments_project:
            self._environments = None
        self._environments_project = project
        from dwtui.tui.environment_details.picker import EnvironmentPickerScreen

        self._picker = EnvironmentPickerScreen(project, current, self._environments)
        self.app.push_screen(self._picker, callback=self._environment_chosen)
        if self._environments is None:
            self.reader.list_environments(self.session, project)

    def _environment_chosen(self, environment: LcsEnvironment | None) -> None:
        self._picker = None
        if environment is None:
            return
        self.reader.new_generation()
        self.phase = Phase.LOADING
        # The list already holds LCS's answer for this environment; reading it again would only
        # spend one of LCS's 6 calls a minute.
        self._show_environment(environment, f"read {clock_text(self.clock())}")

    def action_fleet(self) -> None:
        if self.refuse_lcs():
            return
        if self.session is None or self.signed_in is None:
            self.notify("Sign in first (press r).", severity="warning")
            return
        # Imported here, as the one-box screen is: the first paint must not wait for it.
        from dwtui.tui.fleet.screen import open_fleet

        open_fleet(self.app, self.session, self._fleet_chosen, clock=self.clock)

    def _fleet_chosen(self, row: FleetRow | None) -> None:
        if row is None:
            return
        self.reader.new_generation()
        self.phase = Phase.LOADING
        # The fleet's listing holds LCS's answer for it (its project too, which `r` reads it from
        # again); its Power Platform Integration is read now.
        self._show_environment(row.environment, f"listed {clock_text(row.lcs_read_at)}")

    def action_error_details(self) -> None:
        faults = [*self.environment_pane.faults, *self.power_platform_pane.faults]
        if self.assessment is not None:
            faults.extend(self.assessment.faults)
        from dwtui.tui.screens.error_details import ErrorDetailsScreen

        self.app.push_screen(ErrorDetailsScreen(faults))

    def action_doctor(self) -> None:
        if self.refuse_lcs():
            return
        if self.session is None or self.signed_in is None:
            self.notify("Doctor: sign in first (press r).", severity="warning")
            return
        target = self._start_target()
        if self.environment is None and not target:
            self.notify("Doctor: choose an environment first (e).", severity="warning")
            return
        # Imported here, as the one-box screen is: the first paint must not wait for it.
        from dwtui.tui.doctor.screen import open_doctor

        open_doctor(self.app, self.session, self.environment, target, show_timings=self.show_timings)

    def action_onebox(self) -> None:
        availability = self.assessment.actions[Action.ONEBOX] if self.assessment is not None else None
        if availability is None or self.session is None or self.environment is None:
            self.notify("One-box: the environment's state is not known yet.", severity="warning")
        elif not availability.enabled:
            self.notify(f"One-box is not available: {availability.reason}.", severity="warning")
        else:
            # Imported here: the one-box screen pulls in the database and service-control code,
            # which the first paint must not wait for.
            from dwtui.tui.flows.onebox.screen import open_onebox

            open_onebox(
                self.app, self.session, self.environment, self.snapshot, show_timings=self.show_timings
            )
