"""The `dwtui` group (global options), the TUI when no command is given, and `run`, which turns
every expected failure into one `dwtui: ...` line on stderr and a documented exit code.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dwtui.cli.params import NAME, SPEED
from dwtui.cli.runtime import (
    DEMO_PROFILE,
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SIGN_IN,
    SCENARIOS,
    Failure,
    Runtime,
    exit_code_of,
    fault_line,
)
from dwtui.cli.terminal_text import inert_streams
from dwtui.domain.profile import ProfileError

if TYPE_CHECKING:
    from dwtui.services.session import Session


# Each command's modules, imported only when that command is asked for (or listed in --help): the
# TUI and `dwtui status` do not wait for every other command's imports.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "fleet": ("fleet",),
    "setup": ("setup",),
    "integrate": ("integrate",),
    "link": ("operations",),
    "reset": ("reset",),
    "onebox": ("onebox", "flight"),
    "profiles": ("profiles",),
    "secret": ("profiles",),
    "sim": ("simulator",),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            for module in COMMAND_MODULES.get(cmd_name, ()):
                importlib.import_module(f"dwtui.cli.{module}")  # registers its commands on `cli`
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="DWTUI_CONFIG",
    help="Profiles file (default: the platform config directory's dwtui/config.toml).",
)
@click.option(
    "--profile",
    "profile_name",
    type=NAME,
    envvar="DWTUI_PROFILE",
    help="Profile to use (default: default_profile).",
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
    type=SPEED,
    default=1.0,
    show_default=True,
    help="Divide every simulated duration by this (--demo).",
)
@click.option(
    "--environment", type=NAME, default="", help="LCS environment id or name (default: the profile's)."
)
@click.option(
    "--trace",
    "trace_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Record every request and answer, secrets removed, as JSON lines in this file "
    "(replay it with `dwtui sim --replay FILE`).",
)
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
    trace_path: Path | None,
) -> int:
    """dwtui: dual-write setup for Dynamics 365 finance and operations, from a terminal.

    Without a command, opens the terminal UI (the LCS Environment details page).
    """
    runtime = Runtime(config_path, profile_name, demo, scenario, speed, environment.strip(), trace_path)
    if isinstance(ctx.obj, _Ran):
        ctx.obj.runtime = runtime  # run() looks at it once the command has ended
    ctx.obj = runtime
    ctx.call_on_close(runtime.close)
    if trace_path is not None:
        if ctx.invoked_subcommand == "sim":
            # Opening the trace empties it: `--trace T sim --replay T` would wipe the recording.
            raise click.UsageError("--trace records dwtui's own calls; `dwtui sim` makes none")
        runtime.trace()  # a file that cannot be written stops the run here, before any call
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


class _Ran:
    """What run() needs from the command once it has ended: the Runtime it used."""

    runtime: Runtime | None = None


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and turn every expected failure into one stderr line and an exit code.

    A run whose audit trail could not be written says so in one line at the end and exits 1 when
    it would have exited 0; a failure's own code, more specific, is kept. Everything written
    meanwhile passes the command line's one boundary for text: service names, messages and the
    person's own arguments reach the terminal inert (dwtui.cli.terminal_text).
    """
    with inert_streams():
        ran = _Ran()
        code = _run(argv, ran)
        failure = ran.runtime.audit_failure() if ran.runtime is not None else None
        if failure is not None:
            click.echo(f"dwtui: {failure}; this run's calls and changes are missing from it", err=True)
            code = code or EXIT_FAILURE
        return code


def _run(argv: Sequence[str] | None, ran: _Ran) -> int:
    from dwtui.services.errors import ServiceError, SignInRequired

    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="dwtui",
            standalone_mode=False,
            obj=ran,
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
        return _fail(fault_line(error.fault), exit_code_of(error.fault))
    except Failure as error:
        return _fail(str(error), error.code)
    except OSError as error:
        return _fail(
            f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}", EXIT_FAILURE
        )
    return int(result) if isinstance(result, int) else EXIT_OK


def _fail(message: str, code: int) -> int:
    # One line, always: click's own messages can span several (a Choice lists its values below).
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"dwtui: {line}", err=True)
    return code
