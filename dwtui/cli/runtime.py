"""What every command shares: exit codes, the Runtime built from the global options, sign-in,
confirmation and the mapping of faults to one stderr line and an exit code.

Services, the simulator and Textual are imported inside the functions that need them, so
`dwtui --help` and `dwtui status` start without loading Textual (and nothing loads pyodbc).
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

# The one hyperlink builder of the command line (safe https URLs only), where commands find it.
from dwtui.cli.terminal_text import hyperlink as hyperlink
from dwtui.domain.profile import Profile, ProfileError

if TYPE_CHECKING:
    from dwtui.domain.models import Fault, LcsEnvironment
    from dwtui.services.activity import ActivityEntry, ActivityLog
    from dwtui.services.secrets import SecretStore
    from dwtui.services.session import Session, StatusReport
    from dwtui.services.trace import TraceFile
    from dwtui.sim.server import SimServer

# Exit codes (documented in README "Exit codes").
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_SERVICE = 3
EXIT_SIGN_IN = 4
EXIT_INTERRUPTED = 130

DEMO_PROFILE = "demo"
# The simulator's scenarios (dwtui.sim.scenarios; a test keeps the two lists equal). Spelled out
# here so `dwtui --help` does not import the simulator.
SCENARIOS = (
    "happy",
    "installed",
    "linked",
    "not-integrated",
    "mismatch",
    "maps-running",
    "link-dw9003-crm",
    "link-dw9003-ax",
    "install-failed",
    "dependency-failed",
    "install-202",
    "progress-reported",
    "no-dataverse",
    "add-dataverse-fails",
    "flaky",
    "short-token",
    "throttled",
    "onebox-no-app-user",
    "no-consent-ppapi",
    "onebox-app-user-no-role",
    "onebox-app-user-deleted",
    "hostile-names",
    "no-consent-bap",
    "no-consent-dataverse",
    "no-consent-gateway",
    "lcs-no-access",
    "not-power-platform-admin",
    "not-system-administrator",
    "deployment-failed",
    "old-version",
    "dataverse-not-ready",
    "tenant-mismatch",
    "packages-broken",
    "link-failed",
    "no-gateway-host",
    "fleet",
)
_ENVIRONMENT_ID = re.compile(r"^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
# A person reads a demo device code at any --speed: never let it expire in less than this.
_DEMO_DEVICE_CODE_LIFETIME = 60.0

# Service refusals a person fixes with a setting or an option rather than by waiting.
_USAGE_CODES = frozenset(
    {
        "choose_environment",
        "unknown_package",
        "invalid_template",
        "invalid_currency",
        "invalid_language",
        "read_only",
        "invalid_app_id",
        "unknown_role",
        "unknown_business_unit",
        "invalid_business_unit",
        "driver_missing",
        "login_missing",
        "path",
        "password",
        "not_configured",
        "driver_not_found",
        "connection_value",  # a --driver form value that driver cannot be given intact
        "no_transactions",  # a driver (or NoTXN) that cannot run the flight in one transaction
        "delegated_only",  # an application profile for a command that reads LCS: the fix is `auth`
        "unknown_environment",  # an --environment (or environment_id) the LCS project does not have
    }
)
# Refusals because the environment is not in the state the command needs (exit 1).
_STATE_CODES = frozenset(
    {
        "not_integrated",
        "no_package",
        "already_installed",
        "already_running",
        "cannot_link",
        "not_linked",
        "integration_not_set_up",
        "not_onebox",
        "odbc_missing",
        "multiple_app_users",
    }
)
_UNREACHABLE = ("network", "timeout", "tls", "malformed")
# A wait at least this long is said on stderr (when it is a terminal): what for, and until when.
WAIT_SHOWN = 2.0


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _announce_wait(entry: ActivityEntry) -> None:
    # Called on the thread that waits, before it sleeps: the line shows while the wait lasts.
    if entry.kind == "wait" and (entry.duration_ms or 0.0) >= WAIT_SHOWN * 1000.0:
        click.echo(f"dwtui: {entry.summary}", err=True)


class Failure(Exception):
    """Ends the command with one line on stderr and an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Runtime:
    """The global options, and what commands build from them (lazily), torn down at exit."""

    config_path: Path | None
    profile_name: str | None
    demo: bool
    scenario: str
    speed: float
    environment: str
    trace_path: Path | None = None  # --trace: every request and answer, redacted, as JSON lines
    given: set[str] = field(default_factory=set)  # the global options typed, before or after the command
    _trace: TraceFile | None = None
    _sim: SimServer | None = None
    _sessions: list[Session] = field(default_factory=list)
    _demo_dir: tempfile.TemporaryDirectory[str] | None = None
    _activity: ActivityLog | None = None

    def sim(self) -> SimServer:
        if self._sim is None:
            from dwtui.sim.server import SimServer

            server = SimServer(
                scenario=self.scenario,
                speed=self.speed,
                device_code_lifetime=max(_DEMO_DEVICE_CODE_LIFETIME, 900.0 / self.speed),
            )
            server.start()
            self._sim = server
        return self._sim

    def trace(self) -> TraceFile | None:
        """The --trace file, opened (and emptied) on first use; None without --trace."""
        if self.trace_path is not None and self._trace is None:
            from dwtui.services.trace import TraceFile

            try:
                self._trace = TraceFile(self.trace_path)
            except OSError as error:  # a path the person typed: usage (2), not a failure of the run
                problem = error.strerror or str(error)
                raise Failure(f"--trace {self.trace_path}: {problem}", EXIT_CONFIG) from error
        return self._trace

    def profiles(self) -> tuple[Path | None, dict[str, Profile], str | None]:
        """(config file, profiles by name, default profile name)."""
        if self.demo:
            return None, {DEMO_PROFILE: self._demo_profile()}, DEMO_PROFILE
        from dwtui.services.config import load_config

        config = load_config(self.config_path)
        return config.path, config.profiles, config.default_profile

    def _demo_profile(self) -> Profile:
        from dwtui.domain.profile import parse_profile

        return parse_profile(DEMO_PROFILE, self.sim().profile_table())

    def profile(self) -> Profile:
        if self.demo:
            return self._demo_profile()
        from dwtui.services.config import load_config, select_profile

        profile = select_profile(load_config(self.config_path), self.profile_name)
        _check_files(profile)
        return profile

    def session(self, profile: Profile | None = None, *, announce: bool = True) -> Session:
        """`announce=False` leaves an insecure-keyring warning to the TUI, which shows it itself."""
        from dwtui.services.secrets import SecretStore
        from dwtui.services.session import Session

        chosen = profile or self.profile()
        # The demo's tokens belong to a throwaway identity provider: never put them in the keyring.
        secrets = SecretStore(memory_only=True) if self.demo else SecretStore()
        if secrets.warning and announce:
            click.echo(f"dwtui: {secrets.warning}", err=True)
        activity = self.activity_log(announce=announce)
        if self.demo:
            session = self._demo_session(chosen, secrets, activity)
        else:
            session = Session(chosen, secrets=secrets, activity=activity, trace=self.trace())
        self._sessions.append(session)
        return session

    def activity_log(self, *, announce: bool = True) -> ActivityLog:
        """The run's one Activity log. Real profiles append every call and change to the audit file
        (its folder and files made private first); a demo keeps it in memory.

        With `announce` (the CLI), what was made private and every wait longer than WAIT_SHOWN
        seconds are also said on stderr, the waits only where stderr is a terminal.
        """
        from dwtui.services.activity import ActivityEntry, ActivityLog, default_activity_path

        if self._activity is not None:
            return self._activity
        if self.demo:
            self._activity = ActivityLog()
        else:
            self._activity = ActivityLog(path=default_activity_path())
            for note in self._make_private():
                if announce:
                    click.echo(f"dwtui: {note}", err=True)
                self._activity.record(ActivityEntry(at=time.time(), kind="change", summary=note))
        if announce and _stderr_is_terminal():
            self._activity.subscribe(_announce_wait)
        return self._activity

    def _make_private(self) -> list[str]:
        """dwtui's state folder (audit trail, operations) readable by its owner only.

        The config is left as the person made it: it holds no secret (config.py refuses them), and
        dwtui writes it 0600 in a 0700 folder whenever it writes it.
        """
        from dwtui.services.activity import default_activity_path
        from dwtui.services.operations import default_store_path
        from dwtui.services.private_files import make_private_all

        notes: list[str] = []
        for folder in dict.fromkeys((default_activity_path().parent, default_store_path().parent)):
            notes.extend(make_private_all(folder))
        return notes

    def audit_failure(self) -> str | None:
        """Why the audit trail could not be written during this run, or None."""
        return self._activity.file_error if self._activity is not None else None

    def _demo_session(self, profile: Profile, secrets: SecretStore, activity: ActivityLog) -> Session:
        """The simulated world's one-box AXDB and remembered operations live and die with this run."""
        from dwtui.services.axdb_demo import create_demo_database, demo_connection_string
        from dwtui.services.operations import OperationStore
        from dwtui.services.session import DemoWorld, Session
        from dwtui.services.verify import store_app_secret

        if self._demo_dir is None:
            self._demo_dir = tempfile.TemporaryDirectory(prefix="dwtui-demo-")
        folder = Path(self._demo_dir.name)
        database = create_demo_database(folder / "AXDB.sqlite")
        sim = self.sim()
        # The demo one-box's app: its secret is the simulator's, kept in memory like everything else.
        store_app_secret(secrets, profile, sim.onebox_client_id, sim.onebox_client_secret)
        return Session(
            profile,
            secrets=secrets,
            activity=activity,
            demo=DemoWorld(
                axdb_connection_string=demo_connection_string(database),
                speed=self.speed,
                onebox_application_id=sim.onebox_client_id,
            ),
            operations=OperationStore(folder / "operations.json"),
            trace=self.trace(),
        )

    def demo_onebox_app_id(self) -> str:
        return self.sim().onebox_client_id if self.demo else ""

    def close(self) -> None:
        for session in self._sessions:
            session.close()
        self._sessions.clear()
        if self._sim is not None:
            self._sim.stop()
            self._sim = None
        if self._demo_dir is not None:
            self._demo_dir.cleanup()
            self._demo_dir = None
        if self._trace is not None:
            self._trace.close()
            if self._trace.failure:
                click.echo(f"dwtui: the trace is incomplete: {self._trace.failure}", err=True)
            self._trace = None


def _check_files(profile: Profile) -> None:
    for name, value in (("ca_bundle", profile.ca_bundle), ("certificate_path", profile.certificate_path)):
        if value and not Path(value).expanduser().is_file():
            raise ProfileError(
                name,
                f"'{value}' is not a readable file",
                "give the path of an existing PEM file",
                profile.name,
            )


def current_runtime() -> Runtime:
    runtime = click.get_current_context().find_object(Runtime)
    assert runtime is not None  # the group callback always sets it
    return runtime


def speed_of(session: Session) -> float:
    # --demo runs the simulator faster than real time; the watcher's schedule follows it.
    return session.demo.speed if session.demo is not None else 1.0


# -- sign-in and the environment ---------------------------------------------------------------


def sign_in(session: Session, *, interactive: bool, echo: Callable[[str], None] | None = None) -> None:
    """Sign in silently if possible, else by device code (message on stderr) or the app's credentials."""
    from dwtui.cli.token_store import unlock_store
    from dwtui.services.errors import SignInRequired

    say = echo or (lambda text: click.echo(text, err=True))
    auth = session.auth
    unlock_store(session.secrets, interactive=interactive)
    if auth.try_silent() is not None:
        return
    if session.profile.is_confidential:
        auth.sign_in_confidential()
        _say_store(session, say)
        return
    if not interactive:
        raise SignInRequired("no cached sign-in; run without --no-interactive to sign in with a device code")
    from dwtui.services.http import clock_after

    prompt = auth.start_device_flow()
    message = prompt.message or (
        f"To sign in, open {prompt.verification_uri} and enter the code {prompt.user_code}."
    )
    # The wait for the person has an end too: the code's expiry.
    say(f"{message} Waiting until {clock_after(max(0.0, prompt.expires_at - time.time()))} at most.")
    auth.finish_device_flow(prompt, lambda: False)
    _say_store(session, say)


def _say_store(session: Session, say: Callable[[str], None]) -> None:
    """Where the new tokens are kept, once per sign-in (the demo keeps everything in memory)."""
    from dwtui.cli.token_store import store_line

    if session.demo is None:
        say(f"Signed in; {store_line(session.secrets)}")


def resolve_environment(session: Session, wanted: str) -> str:
    """An environment id from --environment (an id or a name), or "" for the profile's own."""
    if not wanted or _ENVIRONMENT_ID.match(wanted):
        return wanted
    return session.lcs.environment_by_name(session.profile.lcs_project_id, wanted).environment_id


def chosen_environment(session: Session, wanted: str) -> LcsEnvironment:
    """The environment --environment names (an id or a name), else the profile's, else the only one.

    One the LCS project does not show is a usage error naming the environments it has. LCS's
    answer for an unknown name or id is not documented (an empty Data, or IsSuccess false with a
    message): when the lookup fails that way, the project's list settles it (one more call); a
    throttled or unreachable LCS is reported as it is.
    """
    from dwtui.services.errors import ServiceError

    try:
        return session.selected_environment(resolve_environment(session, wanted))
    except ServiceError as error:
        asked = wanted or session.profile.environment_id
        fault = error.fault
        if not asked or fault.service != "LCS API" or fault.code not in ("not_found", ""):
            raise
        try:
            environments = session.environments()
        except ServiceError:
            raise error from None
        if any(_names(environment, asked) for environment in environments):
            raise
        raise ServiceError(_unknown_environment(session, asked, bool(wanted), environments)) from None


def _names(environment: LcsEnvironment, asked: str) -> bool:
    wanted = asked.strip().lower()
    compact = wanted.replace("-", "")
    return (
        environment.name.strip().lower() == wanted
        or environment.environment_id.replace("-", "").lower() == compact
    )


def _unknown_environment(
    session: Session, asked: str, from_option: bool, environments: list[LcsEnvironment]
) -> Fault:
    from dwtui.domain.models import Fault

    where = "--environment" if from_option else f"environment_id of profile '{session.profile.name}'"
    listed = ", ".join(f"{e.name} ({e.environment_id})" for e in environments) or "none you can see"
    return Fault(
        service="LCS API",
        message=f"{where} '{asked}': LCS project {session.profile.lcs_project_id} has no environment by "
        f"that name or id; its environments: {listed}",
        code="unknown_environment",
    )


def refuse_application_profile(profile: Profile) -> None:
    """LCS takes only a person's sign-in: an application profile is told so before anything is called."""
    from dwtui.domain.token_refusals import lcs_refusal
    from dwtui.services.errors import ServiceError

    refusal = lcs_refusal(profile)
    if refusal is not None:
        raise ServiceError(refusal)


def signed_in_status(
    no_interactive: bool,
    *,
    change: bool = False,
    check: Callable[[LcsEnvironment], None] | None = None,
    session: Session | None = None,
) -> tuple[Session, StatusReport]:
    """The selected environment's status, signed in: where every changing command starts.

    With `change`, a production environment the profile keeps read-only is refused as soon as LCS
    has named its type, before any Power Platform service is asked anything (refuse_read_only);
    `check` refuses what else the LCS environment alone rules out (not a one-box) at the same point.
    What needs no sign-in at all is for the command to check before it calls this.
    """
    runtime = current_runtime()
    session = session or runtime.session()
    # Before the sign-in too: with LCS out of reach, an application's credentials are no use here.
    refuse_application_profile(session.profile)
    sign_in(session, interactive=not no_interactive)
    environment = chosen_environment(session, runtime.environment)
    if change:
        refuse_read_only(session, environment)
    if check is not None:
        check(environment)
    return session, session.status_of(environment)


def refuse_read_only(session: Session, environment: LcsEnvironment) -> None:
    """The command line's own refusal, before any Power Platform read (the services refuse too)."""
    if environment.is_production and not session.profile.allow_production_changes:
        raise Failure(
            f"{environment.name} is a production environment and profile '{session.profile.name}' is "
            "read-only for it; set allow_production_changes = true in the profile to change it "
            "(nothing was read from or sent to its Power Platform environment)",
            EXIT_CONFIG,
        )


# -- asking before a change ---------------------------------------------------------------------


def stdin_is_interactive() -> bool:
    """Whether a person can answer a prompt (tests replace this to simulate a terminal)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def can_confirm(*, yes: bool, what: str) -> None:
    """Refuse at once a change that will need a "y" nobody can type: for commands that always ask,
    before they sign in, read or prompt for anything."""
    if not yes and not stdin_is_interactive():
        raise Failure(f"no terminal to ask in: use --yes to {what}; nothing was changed", EXIT_CONFIG)


def confirm(question: str, *, yes: bool, what: str) -> None:
    """Go on only with --yes or a person's "y"; `what` completes "use --yes to ..."."""
    if yes:
        return
    can_confirm(yes=yes, what=what)
    if not click.confirm(question, default=False, err=True):
        raise Failure("not confirmed; nothing was changed", EXIT_FAILURE)


def read_secret(prompt: str, *, from_stdin: bool, missing: str, code: int = EXIT_SIGN_IN) -> str:
    """A secret from one line of stdin (--...-stdin) or a hidden prompt; never from argv."""
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    elif stdin_is_interactive():
        value = click.prompt(prompt, hide_input=True, err=True, default="", show_default=False)
    else:
        raise Failure(missing, code)
    if not value.strip():
        raise Failure(missing, code)
    return value.strip()


# -- faults -------------------------------------------------------------------------------------


def fault_line(fault: Fault) -> str:
    from dwtui.domain.errors import Surface, explain

    code = f" [{fault.code}]" if fault.code else ""
    return f"{fault.service}{code}: {fault.message} ({explain(fault, Surface.CLI).remedy})"


def exit_code_of(fault: Any) -> int:
    if fault.code in _USAGE_CODES:
        return EXIT_CONFIG
    if fault.code in _STATE_CODES:
        return EXIT_FAILURE
    if fault.http_status == 429:
        return EXIT_SERVICE  # throttled, sign-in included: waiting helps, not a person
    # Declined, expired or rejected credentials need a person; an unreachable identity provider does not.
    if fault.service == "sign-in" and fault.code not in _UNREACHABLE and not fault.code.startswith("HTTP 5"):
        return EXIT_SIGN_IN
    return EXIT_SERVICE
