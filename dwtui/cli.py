"""The `dwtui` command: the TUI when no command is given, headless commands otherwise.

Services, the simulator and Textual are imported inside the functions that need them, so
`dwtui --help` and `dwtui status` start without loading Textual (and nothing loads pyodbc).
Every failure a person can fix ends in one line on stderr and a documented exit code, never a
traceback.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dwtui.domain.profile import Profile, ProfileError

if TYPE_CHECKING:
    from dwtui.services.activity import ActivityLog
    from dwtui.services.secrets import SecretStore
    from dwtui.services.session import Session
    from dwtui.sim.server import SimServer

# Exit codes (documented in README "Exit codes").
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_SERVICE = 3
EXIT_SIGN_IN = 4
EXIT_INTERRUPTED = 130

DEMO_PROFILE = "demo"
SCENARIOS = ("happy", "installed", "linked", "not-integrated", "mismatch", "throttled")
SECRET_KINDS = ("client-secret", "certificate-passphrase")
_ENVIRONMENT_ID = re.compile(r"^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")


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
    _sim: SimServer | None = None
    _sessions: list[Session] = field(default_factory=list)
    _demo_dir: tempfile.TemporaryDirectory[str] | None = None

    def sim(self) -> SimServer:
        if self._sim is None:
            from dwtui.sim.server import SimServer

            server = SimServer(scenario=self.scenario, speed=self.speed)
            server.start()
            self._sim = server
        return self._sim

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
        from dwtui.services.activity import ActivityLog
        from dwtui.services.secrets import SecretStore
        from dwtui.services.session import Session

        chosen = profile or self.profile()
        # The demo's tokens belong to a throwaway identity provider: never put them in the keyring.
        secrets = SecretStore(memory_only=True) if self.demo else SecretStore()
        if secrets.warning and announce:
            click.echo(f"dwtui: {secrets.warning}", err=True)
        if self.demo:
            session = self._demo_session(chosen, secrets, ActivityLog())
        else:
            session = Session(chosen, secrets=secrets, activity=ActivityLog())
        self._sessions.append(session)
        return session

    def _demo_session(self, profile: Profile, secrets: SecretStore, activity: ActivityLog) -> Session:
        """The simulated world's one-box AXDB and remembered operations live and die with this run."""
        from dwtui.services.axdb_demo import create_demo_database, demo_connection_string
        from dwtui.services.operations import OperationStore
        from dwtui.services.session import DemoWorld, Session

        if self._demo_dir is None:
            self._demo_dir = tempfile.TemporaryDirectory(prefix="dwtui-demo-")
        folder = Path(self._demo_dir.name)
        database = create_demo_database(folder / "AXDB.sqlite")
        return Session(
            profile,
            secrets=secrets,
            activity=activity,
            demo=DemoWorld(axdb_connection_string=demo_connection_string(database), speed=self.speed),
            operations=OperationStore(folder / "operations.json"),
        )

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


def _check_files(profile: Profile) -> None:
    for name, value in (("ca_bundle", profile.ca_bundle), ("certificate_path", profile.certificate_path)):
        if value and not Path(value).expanduser().is_file():
            raise ProfileError(
                name,
                f"'{value}' is not a readable file",
                "give the path of an existing PEM file",
                profile.name,
            )


def _runtime() -> Runtime:
    runtime = click.get_current_context().find_object(Runtime)
    assert runtime is not None  # the group callback always sets it
    return runtime


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="DWTUI_CONFIG",
    help="Profiles file (default: the platform config directory's dwtui/config.toml).",
)
@click.option(
    "--profile", "profile_name", envvar="DWTUI_PROFILE", help="Profile to use (default: default_profile)."
)
@click.option(
    "--demo", is_flag=True, help="Start the built-in simulator and use it instead of real services."
)
@click.option(
    "--scenario",
    type=click.Choice(SCENARIOS),
    default="happy",
    show_default=True,
    help="Simulator scenario for --demo.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Divide every simulated duration by this (--demo).",
)
@click.option("--environment", default="", help="LCS environment id or name (default: the profile's).")
@click.version_option(package_name="dwtui")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path | None,
    profile_name: str | None,
    demo: bool,
    scenario: str,
    speed: float,
    environment: str,
) -> int:
    """dwtui: dual-write setup for Dynamics 365 finance and operations, from a terminal.

    Without a command, opens the terminal UI (the LCS Environment details page).
    """
    runtime = Runtime(config_path, profile_name, demo, scenario, speed, environment.strip())
    ctx.obj = runtime
    ctx.call_on_close(runtime.close)
    if ctx.invoked_subcommand is None:
        return _run_tui(runtime)
    return EXIT_OK


def _run_tui(runtime: Runtime) -> int:
    if runtime.demo:
        profile_name = DEMO_PROFILE

        def connect() -> Session:
            # Runs in the app's worker thread after the first paint, so starting the simulator
            # does not delay the first frame.
            return runtime.session(announce=False)
    else:
        profile = runtime.profile()  # profile errors end here, before the screen opens
        profile_name = profile.name

        def connect() -> Session:
            return runtime.session(profile, announce=False)

    from dwtui.tui.app import DwtuiApp

    app = DwtuiApp(connect, profile_name=profile_name, start_environment=runtime.environment)
    return app.run() or EXIT_OK


# -- profiles ------------------------------------------------------------------------------------


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def profiles(as_json: bool) -> int:
    """List the profiles in the config file (the default one is marked *)."""
    path, found, default = _runtime().profiles()
    if as_json:
        items = [
            {**{k: v for k, v in asdict(p).items() if k != "extra"}, "default": name == default}
            for name, p in found.items()
        ]
        click.echo(
            json.dumps(
                {"config": str(path) if path else None, "default_profile": default, "profiles": items},
                indent=2,
            )
        )
        return EXIT_OK
    if not found:
        where = path or "the config file"
        click.echo(f"No profiles in {where}. Try `dwtui sim --write-config PATH` for a simulator profile.")
        return EXIT_OK
    rows = [("", "NAME", "TENANT", "PROJECT", "ENVIRONMENT", "AUTH")] + [
        (
            "*" if name == default else "",
            name,
            p.tenant_id,
            p.lcs_project_id,
            p.environment_id or "(pick)",
            p.auth,
        )
        for name, p in found.items()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if path:
        click.echo(f"\nconfig: {path}")
    return EXIT_OK


# -- status --------------------------------------------------------------------------------------


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON with stable keys (README).")
@click.option(
    "--no-interactive",
    is_flag=True,
    help="Never wait for a device-code sign-in; exit 4 when a silent sign-in is not possible.",
)
def status(as_json: bool, no_interactive: bool) -> int:
    """Print what the main screen shows: environment, integration, Dataverse, application, link."""
    runtime = _runtime()
    session = runtime.session()
    sign_in(session, interactive=not no_interactive)
    report = session.status(resolve_environment(session, runtime.environment))
    if as_json:
        from dwtui.services.status_json import report_to_json

        click.echo(json.dumps(report_to_json(report), indent=2))
    else:
        from dwtui.services.status_json import report_to_text

        click.echo(report_to_text(report, session.profile.name))
    faults = report.assessment.faults
    if faults:
        first = faults[0]
        more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
        raise Failure(f"could not read everything: {_fault_line(first)}{more}", EXIT_SERVICE)
    return EXIT_OK


def sign_in(session: Session, *, interactive: bool, echo: Callable[[str], None] | None = None) -> None:
    """Sign in silently if possible, else by device code (message on stderr) or the app's credentials."""
    from dwtui.services.errors import SignInRequired

    say = echo or (lambda text: click.echo(text, err=True))
    auth = session.auth
    if auth.try_silent() is not None:
        return
    if session.profile.is_confidential:
        auth.sign_in_confidential()
        return
    if not interactive:
        raise SignInRequired("no cached sign-in; run without --no-interactive to sign in with a device code")
    prompt = auth.start_device_flow()
    say(prompt.message or f"To sign in, open {prompt.verification_uri} and enter the code {prompt.user_code}")
    auth.finish_device_flow(prompt, lambda: False)


def resolve_environment(session: Session, wanted: str) -> str:
    """An environment id from --environment (an id or a name), or "" for the profile's own."""
    if not wanted or _ENVIRONMENT_ID.match(wanted):
        return wanted
    return session.lcs.environment_by_name(session.profile.lcs_project_id, wanted).environment_id


def _fault_line(fault: Any) -> str:
    from dwtui.domain.errors import explain

    code = f" [{fault.code}]" if fault.code else ""
    return f"{fault.service}{code}: {fault.message} ({explain(fault).remedy})"


# -- secret --------------------------------------------------------------------------------------


@cli.group()
def secret() -> None:
    """Keep a profile's secrets in the OS keyring (never in the config file)."""


_PROFILE_OPTION = click.option(
    "--profile",
    "profile_name",
    default=None,
    help="Profile whose secret this is (same as the global --profile).",
)


@secret.command("set")
@click.argument("kind", type=click.Choice(SECRET_KINDS))
@_PROFILE_OPTION
def secret_set(kind: str, profile_name: str | None) -> int:
    """Store the profile's client secret or certificate passphrase (prompted, not echoed)."""
    from dwtui.services.auth import store_secret

    store, profile = _secret_store(profile_name)
    value = click.prompt(f"{kind} for profile '{profile.name}'", hide_input=True, err=True)
    try:
        store_secret(store, profile, kind, value)
    except ValueError as error:
        raise Failure(f"{error}; nothing was stored", EXIT_FAILURE) from None
    click.echo(f"Stored the {kind} of profile '{profile.name}' in {store.backend_name}.", err=True)
    return EXIT_OK


@secret.command("delete")
@click.argument("kind", type=click.Choice([*SECRET_KINDS, "token-cache"]))
@_PROFILE_OPTION
def secret_delete(kind: str, profile_name: str | None) -> int:
    """Forget a stored secret (token-cache signs the profile out)."""
    store, profile = _secret_store(profile_name)
    store.delete(profile.secret_key(kind))
    click.echo(f"Deleted the {kind} of profile '{profile.name}' from {store.backend_name}.", err=True)
    return EXIT_OK


def _secret_store(profile_name: str | None) -> tuple[SecretStore, Profile]:
    runtime = _runtime()
    if runtime.demo:
        raise Failure(
            "the demo keeps its secrets in memory; secret commands are for real profiles", EXIT_CONFIG
        )
    if profile_name:
        runtime.profile_name = profile_name
    profile = runtime.profile()
    from dwtui.services.secrets import SecretStore

    store = SecretStore()
    if not store.secure:
        raise Failure(f"{store.warning or 'no secure keyring backend'}; nothing was stored", EXIT_FAILURE)
    return store, profile


# -- sim -----------------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--scenario", type=click.Choice(SCENARIOS), default=None, help="Scenario (default: the global one)."
)
@click.option(
    "--speed", type=click.FloatRange(min=0.01), default=None, help="Divide every simulated duration by N."
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port."
)
@click.option(
    "--write-config",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write a config file with a profile named 'sim' pointing at the simulator.",
)
def sim(scenario: str | None, speed: float | None, port: int, write_config: Path | None) -> int:
    """Run the simulator standalone until Ctrl+C; prints its base URL and CA file."""
    runtime = _runtime()
    from dwtui.sim.server import run_standalone

    result = run_standalone(
        scenario=scenario or runtime.scenario,
        speed=speed or runtime.speed,
        port=port,
        write_config=write_config,
    )
    return int(result or EXIT_OK)


# -- entry point ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(argv))


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and turn every expected failure into one stderr line and an exit code."""
    from dwtui.services.errors import ServiceError, SignInRequired

    try:
        result = cli.main(
            args=list(argv) if argv is not None else None, prog_name="dwtui", standalone_mode=False
        )
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.UsageError as error:
        return _fail(f"{error.format_message()} (see dwtui --help)", error.exit_code)
    except click.ClickException as error:
        return _fail(error.format_message(), error.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("dwtui: interrupted", err=True)
        return EXIT_INTERRUPTED
    except ProfileError as error:
        return _fail(f"{error}", EXIT_CONFIG)
    except SignInRequired as error:
        return _fail(f"sign-in required: {error.fault.message}", EXIT_SIGN_IN)
    except ServiceError as error:
        return _fail(_fault_line(error.fault), _exit_code_of(error.fault))
    except Failure as error:
        return _fail(str(error), error.code)
    except OSError as error:
        return _fail(
            f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}", EXIT_FAILURE
        )
    return int(result) if isinstance(result, int) else EXIT_OK


_UNREACHABLE = ("network", "timeout", "tls", "malformed")


def _exit_code_of(fault: Any) -> int:
    if fault.code == "choose_environment":
        return EXIT_CONFIG
    # Declined, expired or rejected credentials need a person; an unreachable identity provider does not.
    if fault.service == "sign-in" and fault.code not in _UNREACHABLE and not fault.code.startswith("HTTP 5"):
        return EXIT_SIGN_IN
    return EXIT_SERVICE


def _fail(message: str, code: int) -> int:
    click.echo(f"dwtui: {message}", err=True)
    return code
