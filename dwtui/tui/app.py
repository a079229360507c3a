"""The dwtui Textual app: what is session-wide, and nothing else.

The App opens the profile's session, signs in, and routes the keys that belong to no page (refresh,
help, quit, the command palette). Everything about one environment is on its page,
dwtui.tui.environment_details (the LCS Environment details page, the default screen); each change
to the environment is a flow of its own under dwtui.tui.flows.

Start-up never blocks the first frame: `connect` and sign-in run in thread workers that report back
only through messages (dwtui.tui.messages); the page paints before either finishes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter
from textual.notifications import SeverityLevel
from textual.reactive import Reactive, reactive
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState, get_current_worker

from dwtui.domain.text import inert
from dwtui.tui.commands import COMMANDS, screen_commands, system_commands
from dwtui.tui.environment_details.starting import STYLESHEETS as PAGE_STYLESHEETS
from dwtui.tui.environment_details.starting import StartingScreen
from dwtui.tui.formatting import fault_of, seconds_left
from dwtui.tui.messages import DeviceCodeIssued, SessionReady, SignInFinished, SignInLost, SignInNeeded
from dwtui.tui.phase import Phase
from dwtui.tui.safe_text import InertLines
from dwtui.tui.styles import module_stylesheet
from dwtui.tui.workers import LatestWorkers, service_worker

# The page (EnvironmentDetailsScreen) and what it needs load right after the first frame, which
# shows the page's frame (StartingScreen): see `page` and `_open_page`.
if TYPE_CHECKING:
    from dwtui.domain.models import SignedIn
    from dwtui.services.session import Session
    from dwtui.tui.environment_details.screen import EnvironmentDetailsScreen
    from dwtui.tui.screens.sign_in import SignInScreen

__all__ = ["DwtuiApp", "Phase"]


class DwtuiApp(App[int], inherit_bindings=False):
    """Exits with 0, or 1 when the person quits while start-up had failed."""

    # The default page's stylesheets are read with the app's, so the first frame parses CSS once; the
    # dialogs' shared frame is in every screen's reach.
    CSS_PATH = ["app.tcss", module_stylesheet("dwtui.tui.screens.dialog"), *PAGE_STYLESHEETS]
    # Classes every screen gets from its size, for stylesheets that fit a jump box's 80x24: a screen
    # under 30 rows is `-short`, under 100 columns `-narrow`.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    TITLE = "dwtui"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="dwtui.quit-anywhere"),
        Binding("ctrl+c", "help_quit", show=False, system=True),
    ]

    signed_in: Reactive[SignedIn | None] = reactive(None, init=False)
    """Who is signed in, once sign-in finished."""

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
        self.session: Session | None = None
        self._start_environment = start_environment
        self._show_timings = show_timings
        self._page: EnvironmentDetailsScreen | None = None
        self._page_open = False
        self._latest = LatestWorkers()
        self._sign_in_cancelled = threading.Event()
        self._sign_in_screen: SignInScreen | None = None
        self._inert_lines = InertLines()
        # A crash report goes to stderr through the command line's boundary for text, which would
        # show Rich's colour codes as `\x1b[...`: plain text passes it as it is.
        self.error_console = Console(markup=False, highlight=False, stderr=True, color_system=None)

    # -- the boundary for text ----------------------------------------------------------------------

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then the one that keeps every painted line free of control characters."""
        return [*super().get_line_filters(), self._inert_lines]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification, from any screen or flow: a service's words shown inert, and never read
        as markup (`markup` is accepted for Textual's signature and ignored)."""
        shown = inert(message, multiline=True)
        super().notify(shown, title=inert(title), severity=severity, timeout=timeout, markup=False)

    def get_default_screen(self) -> Screen[None]:
        # The first frame is the page's frame; the page's stylesheets are in the App's, so its
        # layout is the page's.
        return StartingScreen(self.profile_name)

    @property
    def page(self) -> EnvironmentDetailsScreen:
        """The Environment details page (made, and its code loaded, when first asked for)."""
        if self._page is None:
            from dwtui.tui.environment_details.screen import EnvironmentDetailsScreen

            self._page = EnvironmentDetailsScreen(
                profile_name=self.profile_name,
                clock=self.clock,
                start_environment=self._start_environment,
                show_timings=self._show_timings,
            )
        return self._page

    @property
    def page_open(self) -> bool:
        """Whether the page is on screen with its panes filled (connecting starts then)."""
        return self._page_open

    @property
    def phase(self) -> Phase:
        """How far start-up got (the page follows it; tests wait on it)."""
        return self._page.phase if self._page is not None else Phase.STARTING

    def on_mount(self) -> None:
        # After the first frame: the page's code, filling its panes and connecting (and, for
        # --demo, starting the simulator) must not compete with painting it.
        self.call_after_refresh(self._open_page)

    async def _open_page(self) -> None:
        # Pushed over its frame, which stays below it, unseen (Textual 8.2's switch_screen cannot
        # replace a default screen).
        await self.push_screen(self.page)
        # The panes are whole before any answer can arrive to be shown in them.
        await self.page.fill()
        self._page_open = True
        self.start_connect()

    def on_unmount(self) -> None:
        self.close_session()

    def close_session(self) -> None:
        if self._page is not None:
            self._page.detach_session()
        self._sign_in_cancelled.set()
        if self.session is not None:
            self.session.close()

    # -- the session ----------------------------------------------------------------------------

    def start_connect(self) -> None:
        self._latest.track(self._connect())

    @service_worker("connect", "Opening the profile's session")
    def _connect(self) -> None:
        self.post_message(SessionReady(self.connect_session()))

    @on(SessionReady)
    def _session_ready(self, message: SessionReady) -> None:
        self.session = message.session
        self.page.attach_session(message.session)
        secrets = message.session.secrets
        if secrets.needs_passphrase:  # the encrypted token store: its passphrase before sign-in
            from dwtui.tui.screens.passphrase import PassphraseScreen  # modals load when first shown

            self.push_screen(PassphraseScreen(secrets), callback=self._passphrase_given)
            return
        if not secrets.secure and secrets.warning:
            self.notify(secrets.warning, title="Secrets", severity="warning", timeout=10)
        self.begin_sign_in()

    def _passphrase_given(self, opened: bool | None) -> None:
        if self.session is None:
            return
        secrets = self.session.secrets
        if not opened:
            secrets.keep_in_memory("no passphrase was given for the encrypted token store")
            if secrets.warning:
                self.notify(secrets.warning, title="Secrets", severity="warning", timeout=10)
        self.page.show_token_store()
        self.begin_sign_in()

    # -- sign-in ---------------------------------------------------------------------------------

    def begin_sign_in(self) -> None:
        # An application profile cannot read LCS, where every fact on the page starts: the page says
        # so, and the app's credentials are not even tried.
        if self.page.refuse_lcs():
            return
        self.page.signing_in()
        self.start_sign_in()

    def start_sign_in(self) -> None:
        assert self.session is not None
        self._sign_in_cancelled = threading.Event()
        self._latest.track(self._sign_in(self.session, self._sign_in_cancelled))

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

    @on(DeviceCodeIssued)
    def _device_code(self, message: DeviceCodeIssued) -> None:
        self.page.waiting_for_device_code()
        deadline = self.clock() + seconds_left(message.prompt, time.time())
        from dwtui.tui.screens.sign_in import SignInScreen  # modals load when first shown

        screen = SignInScreen(message.prompt, deadline=deadline, clock=self.clock)
        self._sign_in_screen = screen
        self.push_screen(screen, callback=self._sign_in_dismissed)

    def _sign_in_dismissed(self, cancelled: bool | None) -> None:
        self._sign_in_screen = None
        if cancelled and self.signed_in is None:
            self._sign_in_cancelled.set()

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
        self.page.signed_in_as(message.signed_in)

    def watch_signed_in(self, signed_in: SignedIn | None) -> None:
        self.page.show_signed_in(signed_in)

    @on(SignInNeeded)
    def _sign_in_needed(self) -> None:
        if not self._latest.running("sign-in") and self.session is not None:
            self.start_sign_in()

    @on(SignInLost)
    def _sign_in_lost(self) -> None:
        self.signed_in = None

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR or not self._latest.is_current(worker):
            return
        fault = fault_of(worker.error)
        from dwtui.services.errors import SignInRequired

        if isinstance(worker.error, SignInRequired):
            self.signed_in = None
        if worker.name == "sign-in":
            self._close_sign_in()
            self.page.sign_in_failed(fault)
        else:
            self.page.start_failed(fault)
            self.notify(fault.message, title="Could not start", severity="error")

    # -- keys that belong to no page ---------------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        ours = {command.title for command in COMMANDS}
        if self._page is not None and screen is self._page:
            yield from system_commands(self, self._page)
        else:
            # Over the page, its actions would act behind the screen on top: that screen's keys instead.
            yield from screen_commands(self, screen)
        yield from (command for command in super().get_system_commands(screen) if command.title not in ours)

    def action_refresh(self) -> None:
        """Whatever is missing, from the start: the session, the sign-in, then the page's reads."""
        if isinstance(self.screen, ModalScreen) or not self._page_open:
            return  # before the page is open, it is about to connect anyway
        if self.session is None:
            if not self._latest.running("connect"):
                self.page.starting()
                self.start_connect()
        elif self.signed_in is None:
            if not self._latest.running("sign-in"):
                self.begin_sign_in()
        else:
            self.page.read_again()

    def action_help(self) -> None:
        from dwtui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        # Closing first ends any retry wait in a worker thread, so exit doesn't wait for it.
        self.close_session()
        self.exit(1 if self.phase is Phase.FAILED else 0)
