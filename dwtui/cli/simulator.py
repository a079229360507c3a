"""`dwtui sim`: the simulator standalone, for people and for tests that share one across processes."""

from __future__ import annotations

from pathlib import Path

import click

from dwtui.cli.global_options import CommandWithGlobalOptions
from dwtui.cli.root import cli, format_scenarios
from dwtui.cli.runtime import EXIT_CONFIG, EXIT_OK, Failure, current_runtime


class SimCommand(CommandWithGlobalOptions):
    """`dwtui sim --help` lists every scenario with its description."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        format_scenarios(formatter)


# The simulator needs no profile, config, environment or trace, and is no demo of itself.
@cli.command(cls=SimCommand, uses=("--scenario", "--speed"))
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port."
)
@click.option(
    "--write-config",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write a config file with a profile named 'sim' pointing at the simulator.",
)
@click.option(
    "--replay",
    "replay_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Serve the answers recorded by `dwtui --trace FILE` instead of a scenario "
    "(--write-config then writes a profile named 'replay').",
)
def sim(port: int, write_config: Path | None, replay_path: Path | None) -> int:
    """Run the simulator standalone until Ctrl+C; prints its base URL and CA file.

    --scenario and --speed choose its world, here or before `sim`.
    """
    runtime = current_runtime()
    if replay_path is not None:
        if "--scenario" in runtime.given:
            raise click.UsageError(
                "--scenario and --replay exclude each other: a replay serves what was recorded"
            )
        from dwtui.sim.recording import TraceFormatError
        from dwtui.sim.replay import run_replay

        try:
            return int(run_replay(replay_path, runtime.speed, port, write_config) or EXIT_OK)
        except TraceFormatError as error:
            raise Failure(str(error), EXIT_CONFIG) from error
    from dwtui.sim.server import run_standalone

    result = run_standalone(
        scenario=runtime.scenario,
        speed=runtime.speed,
        port=port,
        write_config=write_config,
    )
    return int(result or EXIT_OK)
