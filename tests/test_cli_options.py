"""The global options: accepted after the command too, refused in one line where they would do
nothing, and the simulator's scenarios listed from its one registry (help and README)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from dwtui.cli.root import cli
from dwtui.cli.runtime import EXIT_CONFIG, EXIT_OK
from tests.cli_support import clear_overrides, run_cli

README = Path(__file__).resolve().parent.parent / "README.md"
FLAGS = ("--config", "--profile", "--environment", "--trace", "--demo", "--scenario", "--speed")


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("dwtui: ")
    return lines[0]


def _every_command() -> list[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(cli)
    found: list[tuple[tuple[str, ...], click.Command]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        found.append((path, command))
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                walk(sub, (*path, name))

    walk(cli, ())
    return found


# -- after the command ---------------------------------------------------------------------------


def test_global_options_work_after_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        ["status", "--json", "--demo", "--speed", "50", "--scenario", "mismatch"], capsys
    )
    assert code == EXIT_OK, err
    data = json.loads(out)
    assert data["mismatch"] is not None  # the scenario given after the command was the one served


def test_global_options_work_after_a_group_and_after_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["onebox", "--demo", "restart-aos", "--yes", "--speed", "400", "--environment", "contoso-dev"],
        ["onebox", "restart-aos", "--demo", "--yes", "--speed", "400", "--environment", "contoso-dev"],
    ):
        code, out, err = run_cli(argv, capsys)
        assert code == EXIT_OK, (argv, err)
        assert "[aos] ok" in out


def test_every_command_and_group_takes_every_global_option() -> None:
    for path, command in _every_command():
        if not path:
            continue
        flags = {opt for param in command.params for opt in getattr(param, "opts", ())}
        assert set(FLAGS) <= flags, (path, set(FLAGS) - flags)


def test_a_command_shows_the_global_options_it_uses_apart_from_its_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(["status", "--help"], capsys)
    assert code == EXIT_OK
    own, shared = out.split("Global options (here, or before the command):")
    assert "--no-interactive" in own and "--demo" not in own
    assert all(flag in shared for flag in FLAGS)
    code, out, _ = run_cli(["profiles", "--help"], capsys)
    shared = out.split("Global options")[1]
    assert "--config" in shared and "--environment" not in shared  # profiles reads no environment


def test_the_same_option_before_and_after_with_different_values_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(["--demo", "--scenario", "happy", "status", "--scenario", "linked"], capsys)
    assert code == EXIT_CONFIG
    assert "--scenario is given twice" in _one_line(err)
    code, _, err = run_cli(["--demo", "--speed", "50", "status", "--demo", "--json"], capsys)
    assert code == EXIT_OK, err  # the same flag twice says the same thing


# -- options that would do nothing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (
            ["--scenario", "mismatch", "status"],
            "--scenario sets up the simulated services, which only --demo",
        ),
        (["status", "--scenario", "mismatch"], "add --demo"),
        (["--speed", "20", "status"], "--speed sets up the simulated services"),
        (["--scenario", "linked"], "--scenario sets up the simulated services"),  # the TUI
        (["--speed", "5", "onebox", "flight", "--sql"], "--speed sets up the simulated services"),
        (["--demo", "--profile", "uat", "status"], "--profile does nothing with --demo"),
        (["--demo", "status", "--config", "x.toml"], "--config does nothing with --demo"),
        (["--demo", "--profile", "uat"], "--profile does nothing with --demo"),  # the TUI
        (["--environment", "contoso-uat", "profiles"], "--environment does nothing here: `dwtui profiles`"),
        (["profiles", "--profile", "uat"], "--profile does nothing here: `dwtui profiles` uses no profile"),
        (
            ["onebox", "flight", "--sql", "--environment", "x"],
            "`dwtui onebox flight` reads no LCS environment",
        ),
        (["--demo", "sim"], "--demo does nothing here: `dwtui sim` is the simulator itself"),
        (["sim", "--profile", "uat"], "`dwtui sim` uses no profile"),
        (["sim", "--environment", "x"], "`dwtui sim` reads no LCS environment"),
        (["--config", "x.toml", "sim"], "`dwtui sim` reads no profiles file"),
        (["secret", "set", "client-secret", "--environment", "x"], "`dwtui secret set` reads no LCS"),
    ],
)
def test_an_option_that_would_do_nothing_is_one_usage_line(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(argv, capsys)
    assert code == EXIT_CONFIG
    assert words in _one_line(err)
    assert out == ""


def test_a_trace_that_would_record_nothing_is_refused_before_the_file_is_made(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trace = tmp_path / "trace.jsonl"
    code, _, err = run_cli(["profiles", "--trace", str(trace)], capsys)
    assert code == EXIT_CONFIG
    assert "--trace records dwtui's own calls to services; `dwtui profiles` makes none" in _one_line(err)
    assert not trace.exists()


def test_the_environment_variables_are_ambient_not_a_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # DWTUI_PROFILE / DWTUI_CONFIG exported in a shell must not stop `dwtui --demo`.
    monkeypatch.setenv("DWTUI_PROFILE", "uat")
    monkeypatch.setenv("DWTUI_CONFIG", str(tmp_path / "config.toml"))
    code, out, err = run_cli(["--demo", "profiles", "--json"], capsys)
    assert code == EXIT_OK, err
    assert json.loads(out)["default_profile"] == "demo"


def test_scenario_and_speed_are_the_simulators_own_options_too(capsys: pytest.CaptureFixture[str]) -> None:
    # `sim` takes them without --demo; with --replay a scenario is still refused, before or after.
    for argv in (
        ["--scenario", "linked", "sim", "--replay", __file__],
        ["sim", "--replay", __file__, "--scenario", "linked"],
    ):
        code, _, err = run_cli(argv, capsys)
        assert code == EXIT_CONFIG
        assert "--scenario and --replay exclude each other" in _one_line(err)


def test_readme_says_where_the_global_options_go_and_what_is_refused() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert "may also follow the command" in text
    assert "`--scenario` and `--speed` without `--demo`" in text
    assert "`--profile` or `--config` with `--demo`" in text


# -- the scenarios, from the simulator's one registry ------------------------------------------


def _flat(text: str) -> str:
    # Help text is wrapped (a long word may be split at a hyphen): compare without the layout.
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("argv", [["--demo", "--help"], ["sim", "--help"]], ids=["demo-help", "sim-help"])
def test_help_lists_every_scenario_with_its_description(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from dwtui.sim.scenarios import SCENARIOS

    code, out, _ = run_cli(argv, capsys)
    assert code == EXIT_OK
    listing = out.split("Scenarios (--demo --scenario NAME, or dwtui sim --scenario NAME):")[1]
    rows = re.findall(r"^  (\S+)\s", listing, re.MULTILINE)
    assert rows == list(SCENARIOS)
    for scenario in SCENARIOS.values():
        assert _flat(f"{scenario.name}{scenario.description}") in _flat(listing), scenario.name


def test_plain_help_says_where_the_scenarios_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    from dwtui.sim.scenarios import SCENARIOS

    code, out, _ = run_cli(["--help"], capsys)
    assert code == EXIT_OK
    assert f"The simulator has {len(SCENARIOS)} scenarios: `dwtui --demo --help`" in " ".join(out.split())


def test_readme_lists_exactly_the_registrys_scenarios() -> None:
    from dwtui.sim.scenarios import SCENARIOS

    section = README.read_text(encoding="utf-8").split("| scenario | what it sets up", 1)[1]
    table = section.split("\n\n", 1)[0]
    rows = dict(re.findall(r"^\| `([^`]+)` \| (.+) \|$", table, re.MULTILINE))
    assert rows == {name: scenario.description for name, scenario in SCENARIOS.items()}


# -- no profile yet ---------------------------------------------------------------------------------


def test_without_a_profile_the_error_offers_the_demo(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run_cli(["status"], capsys)  # the default config file does not exist in a test
    assert code == EXIT_CONFIG
    line = _one_line(err)
    assert "no profile in" in line and "[profiles.NAME]" in line
    assert "`dwtui --demo`" in line
    code, _, err = run_cli(["--config", str(tmp_path / "missing.toml"), "status"], capsys)
    assert code == EXIT_CONFIG
    assert "does not exist" in _one_line(err) and "`dwtui --demo` without --config" in err
    code, out, _ = run_cli(["profiles"], capsys)
    assert code == EXIT_OK
    assert "No profiles in" in out and "`dwtui --demo`" in out


# -- remedies that fit the command line ------------------------------------------------------------


@pytest.mark.parametrize("wanted", ["contoso-nope", "00000000-0000-4000-8000-000000000001"])
def test_an_environment_the_project_does_not_have_lists_the_ones_it_has(
    wanted: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["--demo", "--speed", "50", "--environment", wanted, "status"], capsys)
    assert code == EXIT_CONFIG
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"dwtui: LCS API [unknown_environment]: --environment '{wanted}': LCS project")
    assert "contoso-uat (" in line and "contoso-dev (" in line  # the ones it has, with their ids
    assert "give --environment the name or id of one of them" in line
    assert "pane" not in err.lower() and "Try again" not in err
    assert out == ""


def test_status_names_commands_not_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["--demo", "--speed", "50", "--scenario", "mismatch", "status"], capsys)
    assert code == EXIT_OK, err
    assert "Reset dual-write connection             available: `dwtui reset`" in out
    assert not re.search(r"\([a-zA-Z]\)", out)  # no "(R)", "(o)": keys of the screen
