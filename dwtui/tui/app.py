"""The dwtui Textual app: the LCS Environment details page, for a terminal.

Start-up never blocks the first frame: `connect`, sign-in and every service call run in thread
workers (dwtui.tui.loading) that report back only through messages (dwtui.tui.messages).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.reactive import Reactive, reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from dwtui.domain.assessment import Action, Assessment
from dwtui.domain.models import LcsEnvironment, PowerPlatformSnapshot, SignedIn
from dwtui.services.errors import SignInRequired
from dwtui.tui.commands import COMMANDS, bindings, system_commands
from dwtui.tui.formatting import clock_text, fault_of, seconds_left
from dwtui.tui.messages import (
    ActivityRecorded,
    DeviceCodeIssued,
    EnvironmentRead,
    EnvironmentsListed,
    PowerPlatformRead,
    SessionReady,
    SignInFinished,
)
from dwtui.tui.operations import OPERATION_ACTIONS, OperationFlows
from dwtui.tui.widgets.activity_pane import ActivityPane
from dwtui.tui.widgets.environment_pane import EnvironmentPane
from dwtui.tui.widgets.header import ContextHeader
from dwtui.tui.widgets.power_platform_pane import PowerPlatformPane
from dwtui.tui.widgets.progress_pane import ProgressPane

if TYPE_CHECKING:
    from dwtui.services.session import Session
    from dwtui.tui.screens.environment_picker import EnvironmentPickerScreen
    from dwtui.tui.screens.sign_in import SignInScreen


class Phase(StrEnum):
    STARTING = "starting"
    SIGNING_IN = "signing in"
    LOADING = "loading"
    CHOOSING = "choosing an environment"
    READY = "ready"
    FAILED = "failed"


_ACTIONS = {"setup": Action.SETUP_DUAL_WRITE, "link": Action.LINK, "reset": Action.RESET}


class DwtuiApp(OperationFlows, inherit_bindings=False):
    """Exits with 0, or 1 when the person quits while start-up had failed."""

    CSS_PATH = "dwtui.tcss"
    TITLE = "dwtui"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="dwtui.quit-anywhere"),
        Binding("ctrl+c", "help_quit", show=False, system=True),
        *bindings(),
    ]

    phase: Reactive[Phase] = reactive(Phase.STARTING, init=False)
    """How far start-up got; tests and the footer follow it."""
    signed_in: Reactive[SignedIn | None] = reactive(None, init=False)
    """Who is signed in, once sign-in finished."""
    environment: Reactive[LcsEnvironment | None] = reactive(None, init=False, bindings=True)
    """The LCS environment on screen."""
    assessment: Reactive[Assessment | None] = reactive(None, init=False, bindings=True)
    """What the Power Platform Integration pane says and which actions it offers."""

    def __init__(
        self,
        connect: Callable[[], Session],
        *,
        profile_name: str,
        clock: Callable[[], float] = time.time,
        start_environment: str = "",
        show_timings: bool = True,
    ) -> None:
        """`show_timings=False` hides Activity times and durations (for reproducible screenshots)."""
        super().__init__()
        self.connect_session = connect
        self.profile_name = profile_name
        self.clock = clock
        self.start_environment = start_environment
        self.show_timings = show_timings
        self.snapshot: PowerPlatformSnapshot | None = None
        self._environments: list[LcsEnvironment] | None = None
        self._sign_in_screen: SignInScreen | None = None
        self._picker: EnvironmentPickerScreen | None = None
        self._heap_frozen = False

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ContextHeader(id="header")
        with Horizontal(id="top"):
            yield EnvironmentPane(id="environment-pane")
            yield PowerPlatformPane(id="power-platform-pane")
        with Horizontal(id="bottom"):
            yield ProgressPane(id="progress-pane")
            yield ActivityPane(id="activity-pane", show_timings=self.show_timings)
        yield Footer()

    @property
    def environment_pane(self) -> EnvironmentPane:
        return self.query_one("#environment-pane", EnvironmentPane)

    @property
    def power_platform_pane(self) -> PowerPlatformPane:
        return self.query_one("#power-platform-pane", PowerPlatformPane)

    @property
    def activity_pane(self) -> ActivityPane:
        return self.query_one("#activity-pane", ActivityPane)

    def on_mount(self) -> None:
        self._update_header()
        self.environment_pane.begin_loading("Starting...")
        self.power_platform_pane.begin_loading("Waiting for the environment...")
        # After the first frame: connecting (and, for --demo, starting the simulator) must not
        # compete with painting it.
        self.call_after_refresh(self.start_connect)

    def on_unmount(self) -> None:
        self.close_session()

    # -- start-up chain: session -> sign-in -> environment -> Power Platform Integration ---------

    @on(SessionReady)
    def _session_ready(self, message: SessionReady) -> None:
        self.attach_session(message.session)
        secrets = message.session.secrets
        if not secrets.secure and secrets.warning:
            self.notify(secrets.warning, title="Secrets", severity="warning", timeout=10)
        self._update_header()
        self.begin_sign_in()

    def begin_sign_in(self) -> None:
        self.phase = Phase.SIGNING_IN
        self.environment_pane.begin_loading("Signing in...")
        self.start_sign_in()

    @on(DeviceCodeIssued)
    def _device_code(self, message: DeviceCodeIssued) -> None:
        self.environment_pane.begin_loading("Waiting for the device-code sign-in...")
        deadline = self.clock() + seconds_left(message.prompt, time.time())
        from dwtui.tui.screens.sign_in import SignInScreen  # modals load when first shown

        screen = SignInScreen(message.prompt, deadline=deadline, clock=self.clock)
        self._sign_in_screen = screen
        self.push_screen(screen, callback=self._sign_in_dismissed)

    def _sign_in_dismissed(self, cancelled: bool | None) -> None:
        self._sign_in_screen = None
        if cancelled and self.signed_in is None:
            self.cancel_sign_in()

    def _close_sign_in(self) -> None:
        screen = self._sign_in_screen
        if screen is None:
            return
        if self.screen is screen:
            screen.dismiss(False)
        else:
            screen.mark_signed_in()

    @on(SignInFinished)
    def _signed_in(self, message: SignInFinished) -> None:
        self.signed_in = message.signed_in
        self._close_sign_in()
        target = self.start_environment or (self.session.profile.environment_id if self.session else "")
        if target:
            self._load(target)
        else:
            self.phase = Phase.CHOOSING
            self.environment_pane.show_message("Choose an environment (e).")
            self.power_platform_pane.show_message("")
            self.action_environments()

    def _load(self, reference: str) -> None:
        self.phase = Phase.LOADING
        self.environment_pane.begin_loading("Reading the environment from LCS...")
        self.power_platform_pane.begin_loading("Waiting for the environment...")
        self.start_environment_read(reference)

    @on(EnvironmentRead)
    def _environment_read(self, message: EnvironmentRead) -> None:
        if message.generation == self.generation:
            self._show_environment(message.environment, f"read {clock_text(self.clock())}")

    def _show_environment(self, environment: LcsEnvironment, read_at: str) -> None:
        self.environment = environment
        self.environment_pane.show(environment, read_at)
        self.power_platform_pane.begin_loading("Reading Power Platform Integration...")
        self.start_power_platform_read(environment)

    @on(PowerPlatformRead)
    def _power_platform_read(self, message: PowerPlatformRead) -> None:
        if message.generation != self.generation:
            return
        self.snapshot = message.snapshot
        self.assessment = message.assessment
        self.power_platform_pane.show(
            message.snapshot, message.assessment, f"read {clock_text(self.clock())}"
        )
        self.phase = Phase.READY
        if not self._heap_frozen:
            # Everything loaded so far (Textual, MSAL, httpx, the simulator) lives as long as the app:
            # frozen, full garbage collections stop rescanning it, which otherwise stalls the event
            # loop for about 200 ms at a time while an install is watched (benchmarks/event_loop_stall.py).
            gc.freeze()
            self._heap_frozen = True

    @on(EnvironmentsListed)
    def _environments_listed(self, message: EnvironmentsListed) -> None:
        self._environments = message.environments
        if self._picker is not None:
            self._picker.show_environments(message.environments)

    @on(ActivityRecorded)
    def _activity(self, message: ActivityRecorded) -> None:
        try:
            pane = self.activity_pane
        except NoMatches:
            return  # a call that ends while dwtui is closing has nowhere to be shown
        entry = message.entry
        pane.add(entry)
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

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR or not self.is_current(worker):
            return
        fault = fault_of(worker.error)
        if isinstance(worker.error, SignInRequired):
            self.signed_in = None
        if worker.name == "environments":
            if self._picker is not None:
                self._picker.show_fault(fault)
            else:
                self.notify(f"{fault.service}: {fault.message}", title="Environments", severity="error")
            return
        if worker.name == "power-platform":
            self.power_platform_pane.show_fault([fault], "Press r to try again.")
        elif worker.name == "environment":
            self.environment_pane.show_fault([fault], "Press r to try again.")
            self.power_platform_pane.show_message(
                "Needs the environment from LCS (see the Environment pane)."
            )
        elif worker.name == "sign-in":
            self._close_sign_in()
            if fault.code == "cancelled":
                self.environment_pane.show_message("Sign-in cancelled. Press r to sign in.")
            else:
                self.environment_pane.show_fault([fault], "Sign-in failed. Press r to try again.")
            self.power_platform_pane.show_message("Not signed in.")
        else:
            self.environment_pane.show_fault([fault], "dwtui could not start. Press r to try again.")
            self.power_platform_pane.show_message("")
            self.notify(fault.message, title="Could not start", severity="error")
        self.phase = Phase.FAILED

    # -- header --------------------------------------------------------------------------------

    def watch_signed_in(self) -> None:
        self._update_header()

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
        )

    # -- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _ACTIONS:
            return self.assessment is not None
        if action in OPERATION_ACTIONS:  # d, l and R themselves live in dwtui.tui.operations
            return self.operation_action_shown(action)
        if action == "onebox":
            return self.assessment is not None and self.assessment.actions[Action.ONEBOX].enabled
        return True

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        ours = {command.title for command in COMMANDS}
        yield from system_commands(self)
        yield from (command for command in super().get_system_commands(screen) if command.title not in ours)

    def _main_screen_only(self) -> bool:
        return not isinstance(self.screen, ModalScreen)

    def action_refresh(self) -> None:
        if not self._main_screen_only():
            return
        self._environments = None
        if self.session is None:
            if not self.worker_running("connect"):
                self.environment_pane.begin_loading("Starting...")
                self.start_connect()
        elif self.signed_in is None:
            if not self.worker_running("sign-in"):
                self.begin_sign_in()
        elif self.worker_running("environment") or self.worker_running("power-platform"):
            self.notify("Already reading; the panes update when the answers arrive.")
        elif self.environment is not None:
            self._load(self.environment.environment_id)
        else:
            target = self.start_environment or (self.session.profile.environment_id if self.session else "")
            if target:
                self._load(target)
            else:
                self.action_environments()

    def action_environments(self) -> None:
        if self.session is None or self.signed_in is None:
            self.notify("Sign in first (press r).", severity="warning")
            return
        if self._picker is not None:
            return
        current = self.environment.environment_id if self.environment else ""
        from dwtui.tui.screens.environment_picker import EnvironmentPickerScreen

        self._picker = EnvironmentPickerScreen(
            self.session.profile.lcs_project_id, current, self._environments
        )
        self.push_screen(self._picker, callback=self._environment_chosen)
        if self._environments is None:
            self.start_environments_list()

    def _environment_chosen(self, environment: LcsEnvironment | None) -> None:
        self._picker = None
        if environment is None:
            return
        self.new_generation()
        self.phase = Phase.LOADING
        # The list already holds LCS's answer for this environment; reading it again would only
        # spend one of LCS's 6 calls a minute.
        self._show_environment(environment, f"read {clock_text(self.clock())}")

    def action_help(self) -> None:
        from dwtui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_error_details(self) -> None:
        faults = [*self.environment_pane.faults, *self.power_platform_pane.faults]
        if self.assessment is not None:
            faults.extend(self.assessment.faults)
        from dwtui.tui.screens.error_details import ErrorDetailsScreen

        self.push_screen(ErrorDetailsScreen(faults))

    def action_onebox(self) -> None:
        availability = self.assessment.actions[Action.ONEBOX] if self.assessment is not None else None
        if availability is None or self.session is None or self.environment is None:
            self.notify("One-box: the environment's state is not known yet.", severity="warning")
        elif not availability.enabled:
            self.notify(f"One-box is not available: {availability.reason}.", severity="warning")
        else:
            # Imported here: the one-box screen pulls in the database and service-control code,
            # which the first paint must not wait for.
            from dwtui.tui.screens.onebox import open_onebox

            open_onebox(self, self.session, self.environment, self.snapshot, show_timings=self.show_timings)

    async def action_quit(self) -> None:
        # Closing first ends any retry wait in a worker thread, so exit doesn't wait for it.
        self.close_session()
        self.exit(1 if self.phase is Phase.FAILED else 0)
