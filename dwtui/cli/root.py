"""The `dwtui` group (global options), the TUI when no command is given, and `run`, which turns
every expected failure into one `dwtui: ...` line on stderr and a documented exit code.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dwtui.cli.global_options import (
    EVERY,
    CommandWithGlobalOptions,
    GroupWithGlobalOptions,
    root_given,
    root_options,
    settle,
)
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
    "doctor": ("doctor",),
    "fleet": ("fleet",),
    "setup": ("setup",),
    "integrate": ("integrate",),
    "link": ("operations",),
    "reset": ("reset",),
    "onebox": ("onebox", "flight"),
    "profiles": ("profiles", "profiles_add"),
    "secret": ("profiles", "profiles_add"),
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


class RootGroup(LazyGroup):
    """`dwtui`: its commands, and groups of commands, take the global options after their name too."""

    command_class = CommandWithGlobalOptions
    group_class = GroupWithGlobalOptions

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `dwtui --demo --help` lists the scenarios: --help acts while the options are parsed,
        # before --demo has a value, so look at what was typed before the command.
        before = args[: next((i for i, arg in enumerate(args) if arg in COMMAND_MODULES), len(args))]
        ctx.meta[_DEMO_HELP] = "--demo" in before
        return super().parse_args(ctx, args)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        if ctx.meta.get(_DEMO_HELP):
            format_scenarios(formatter)
        else:
            with formatter.section("Scenarios"):
                formatter.write_text(
                    f"The simulator has {len(SCENARIOS)} scenarios: `dwtui --demo --help` or "
                    "`dwtui sim --help` lists them."
                )


_DEMO_HELP = "dwtui.demo_help"


def format_scenarios(formatter: click.HelpFormatter) -> None:
    """Every scenario with its one description, from the simulator's registry (as README's table)."""
    from dwtui.sim.scenarios import SCENARIOS as REGISTRY

    with formatter.section("Scenarios (--demo --scenario NAME, or dwtui sim --scenario NAME)"):
        formatter.write_dl([(name, scenario.description) for name, scenario in REGISTRY.items()])


@click.group(
    cls=RootGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    params=root_options(),
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

    Without a command, opens the terminal UI (the LCS Environment details page). The global
    options below may also follow the command (`dwtui status --demo`).
    """
    runtime = Runtime(
        config_path,
        profile_name,
        demo,
        scenario,
        speed,
        environment.strip(),
        trace_path,
        given=root_given(ctx),
    )
    if isinstance(ctx.obj, _Ran):
        ctx.obj.runtime = runtime  # run() looks at it once the command has ended
    ctx.obj = runtime
    ctx.call_on_close(runtime.close)
    if ctx.invoked_subcommand is None:
        settle(runtime, EVERY, "dwtui", ctx)
        return _run_tui(runtime)
    return EXIT_OK  # the command settles the options once it has merged its own


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
    except Failure as error:
        return _fail(str(error), error.code)
    except OSError as error:
        return _fail(
            f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}", EXIT_FAILURE
        )
    except Exception as error:
        # The services' errors are loaded only when one is raised: the TUI's first frame does not
        # wait for them (nor for the domain's types they carry).
        from dwtui.services.errors import ServiceError, SignInRequired

        if isinstance(error, SignInRequired):
            return _fail(f"sign-in required: {error.fault.message}", EXIT_SIGN_IN)
        if isinstance(error, ServiceError):
            return _fail(fault_line(error.fault), exit_code_of(error.fault))
        raise
    return int(result) if isinstance(result, int) else EXIT_OK


def _fail(message: str, code: int) -> int:
    # One line, always: click's own messages can span several (a Choice lists its values below).
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"dwtui: {line}", err=True)
    return code
