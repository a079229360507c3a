"""The global options, accepted before the command and after it, and refused where they do nothing.

`dwtui status --demo` used to end in "No such option '--demo'": a person types the options where
the command's own go. Every command and group therefore takes the global options too (click parses
each level's options itself, so nothing is ambiguous: no command has an option of the same name
with another meaning). What was given after the command is merged into the Runtime the group
built from what was given before it, before anything is started: the Runtime is lazy.

An option that would do nothing where it was given is a usage error of one line, not silently
ignored: `--scenario` and `--speed` without `--demo`, `--profile` and `--config` with it, and an
option the command never uses (`--environment` for `dwtui profiles`). Only what was typed counts:
DWTUI_CONFIG and DWTUI_PROFILE in the environment are ambient, not a request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from dwtui.cli.params import NAME, SPEED
from dwtui.cli.runtime import SCENARIOS

if TYPE_CHECKING:
    from dwtui.cli.runtime import Runtime


@dataclass(frozen=True, slots=True)
class GlobalOption:
    flag: str  # "--demo"
    attribute: str  # the Runtime field it sets
    build: Callable[..., click.Option]  # the option, given its parameter name and extra settings


def _option(flag: str, **settings: Any) -> Callable[..., click.Option]:
    def build(name: str, **extra: Any) -> click.Option:
        return click.Option([flag, name], **{**settings, **extra})

    return build


GLOBAL_OPTIONS: tuple[GlobalOption, ...] = (
    GlobalOption(
        "--config",
        "config_path",
        _option(
            "--config",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Profiles file (default: the platform config directory's dwtui/config.toml).",
        ),
    ),
    GlobalOption(
        "--profile",
        "profile_name",
        _option("--profile", type=NAME, help="Profile to use (default: default_profile)."),
    ),
    GlobalOption(
        "--environment",
        "environment",
        _option("--environment", type=NAME, help="LCS environment id or name (default: the profile's)."),
    ),
    GlobalOption(
        "--trace",
        "trace_path",
        _option(
            "--trace",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Record every request and answer, secrets removed, as JSON lines in this file "
            "(replay it with `dwtui sim --replay FILE`).",
        ),
    ),
    GlobalOption(
        "--demo",
        "demo",
        _option(
            "--demo", is_flag=True, help="Start the built-in simulator and use it instead of real services."
        ),
    ),
    GlobalOption(
        "--scenario",
        "scenario",
        _option(
            "--scenario",
            type=click.Choice(SCENARIOS),
            metavar="NAME",
            help="Simulator scenario, with --demo or for `dwtui sim` (default: happy; `dwtui --demo "
            "--help` lists them).",
        ),
    ),
    GlobalOption(
        "--speed",
        "speed",
        _option(
            "--speed",
            type=SPEED,
            help="Divide every simulated duration, and every estimate, by this (with --demo or for "
            "`dwtui sim`; default: 1).",
        ),
    ),
)
FLAGS = tuple(option.flag for option in GLOBAL_OPTIONS)
# What a command may use of them: everything, unless it says otherwise. --scenario and --speed
# shape the demo's simulated world, so they go wherever --demo goes.
EVERY = frozenset({"--config", "--profile", "--environment", "--trace", "--demo"})
DEMO_WORLD = ("--scenario", "--speed")
_PREFIX = "global_"  # parameter names of the copies on commands, clear of the commands' own

# Why an option does nothing for a command that does not use it (`{command}` is `dwtui sim`).
_UNUSED = {
    "--config": "{command} reads no profiles file",
    "--profile": "{command} uses no profile",
    "--environment": "{command} reads no LCS environment",
    "--trace": "--trace records dwtui's own calls to services; {command} makes none",
    "--demo": "{command} is the simulator itself",
    "--scenario": "{command} starts no simulator",
    "--speed": "{command} starts no simulator",
}


def root_options() -> list[click.Option]:
    """The group's own global options, with their defaults and environment variables."""
    extra: dict[str, dict[str, Any]] = {
        "--config": {"envvar": "DWTUI_CONFIG"},
        "--profile": {"envvar": "DWTUI_PROFILE"},
        "--environment": {"default": ""},
        "--scenario": {"default": "happy"},
        "--speed": {"default": 1.0},
    }
    return [option.build(option.attribute, **extra.get(option.flag, {})) for option in GLOBAL_OPTIONS]


def given_on_the_command_line(ctx: click.Context, names: Iterable[tuple[str, str]]) -> set[str]:
    """The flags among (flag, parameter name) that were typed (not defaults, not environment)."""
    return {flag for flag, name in names if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE}


def root_given(ctx: click.Context) -> set[str]:
    return given_on_the_command_line(ctx, ((o.flag, o.attribute) for o in GLOBAL_OPTIONS))


class _WithGlobalOptions:
    """Takes the global options after the command name too, and lists them apart in --help."""

    uses: frozenset[str]
    params: list[click.Parameter]

    def _add_global_options(self, uses: Iterable[str]) -> None:
        self.uses = frozenset(uses)
        shown = self.uses | (set(DEMO_WORLD) if "--demo" in self.uses else set())
        for option in GLOBAL_OPTIONS:
            self.params.append(
                option.build(_PREFIX + option.attribute, default=None, hidden=option.flag not in shown)
            )

    def _merge_global_options(self, ctx: click.Context) -> Runtime:
        """Move what was typed after the command from ctx.params into the Runtime."""
        from dwtui.cli.runtime import Runtime

        runtime = ctx.find_object(Runtime)
        assert runtime is not None  # the group's callback built it
        for option in GLOBAL_OPTIONS:
            name = _PREFIX + option.attribute
            value = ctx.params.pop(name, None)
            if ctx.get_parameter_source(name) is not ParameterSource.COMMANDLINE:
                continue
            if option.flag in runtime.given and getattr(runtime, option.attribute) != value:
                raise click.UsageError(
                    f"{option.flag} is given twice, before and after the command, with different values",
                    ctx,
                )
            setattr(runtime, option.attribute, value)
            runtime.given.add(option.flag)
        return runtime

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        own: list[tuple[str, str]] = []
        shared: list[tuple[str, str]] = []
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            record = param.get_help_record(ctx)
            if record is not None:
                (shared if (param.name or "").startswith(_PREFIX) else own).append(record)
        if own:
            with formatter.section("Options"):
                formatter.write_dl(own)
        if shared:
            with formatter.section("Global options (here, or before the command)"):
                formatter.write_dl(shared)


class CommandWithGlobalOptions(_WithGlobalOptions, click.Command):
    def __init__(self, *args: Any, uses: Iterable[str] = EVERY, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_global_options(uses)

    def invoke(self, ctx: click.Context) -> Any:
        runtime = self._merge_global_options(ctx)
        settle(runtime, self.uses, f"dwtui {ctx.command_path.split(' ', 1)[1]}", ctx)
        return super().invoke(ctx)


class GroupWithGlobalOptions(_WithGlobalOptions, click.Group):
    """A command group under `dwtui` (onebox, secret): its commands take the options as well."""

    command_class = CommandWithGlobalOptions
    group_class = type  # its subgroups are of this class too

    def __init__(self, *args: Any, uses: Iterable[str] = EVERY, **kwargs: Any) -> None:
        # `uses`: what its --help shows; a group that runs without a command (`dwtui profiles`)
        # settles those itself, and each of its commands settles its own.
        super().__init__(*args, **kwargs)
        self._add_global_options(uses)

    def invoke(self, ctx: click.Context) -> Any:
        self._merge_global_options(ctx)  # its command checks what the options do
        return super().invoke(ctx)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)


def settle(runtime: Runtime, uses: frozenset[str], command: str, ctx: click.Context | None = None) -> None:
    """Refuse the options that would do nothing here, then open the --trace file (which empties it).

    `command` names where they were given, as a person typed it (`dwtui profiles`, or `dwtui` for
    the terminal UI).
    """
    given = runtime.given
    for flag in FLAGS:
        if flag not in given or flag in uses or (flag in DEMO_WORLD and "--demo" in uses):
            continue
        raise click.UsageError(
            f"{flag} does nothing here: {_UNUSED[flag].format(command=f'`{command}`')}", ctx
        )
    if "--demo" in uses and not runtime.demo:
        for flag in DEMO_WORLD:
            if flag in given:
                raise click.UsageError(
                    f"{flag} sets up the simulated services, which only --demo uses: add --demo "
                    f"(`dwtui --demo {flag} ...`), or leave {flag} out for real services",
                    ctx,
                )
    if runtime.demo:
        for flag in ("--profile", "--config"):
            if flag in given:
                raise click.UsageError(
                    f"{flag} does nothing with --demo, which uses its own profile 'demo' on the "
                    f"simulator: leave out {flag} or --demo",
                    ctx,
                )
    runtime.trace()  # a file that cannot be written stops the run here, before any call
