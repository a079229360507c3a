"""README's exit-code table, walked: every code it lists is produced by one real command, and every
code the CLI can return is in the table."""

from __future__ import annotations

import math
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import dwtui.cli.runtime as runtime
from dwtui.sim.server import SimServer
from tests.cli_support import (
    DWTUI,
    LineReader,
    MemoryKeyring,
    child_env,
    clear_overrides,
    run_cli,
    sigint_as_at_a_terminal,
    use_memory_keyring,
)
from tests.conftest import SimFactory

README = Path(__file__).resolve().parent.parent / "README.md"
DEMO = ["--demo", "--speed", "50"]


def readme_codes() -> dict[int, str]:
    """The rows of README's "### Exit codes" table: code -> meaning."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section, re.MULTILINE)
    return {int(code): meaning for code, meaning in rows}


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_memory_keyring()


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


def test_every_exit_code_of_the_cli_is_in_the_table() -> None:
    constants = {name: value for name, value in vars(runtime).items() if name.startswith("EXIT_")}
    assert set(constants.values()) == set(readme_codes()) == {0, 1, 2, 3, 4, 130}


# -- one command per row ----------------------------------------------------------------------------


def _status(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, _, err = run_cli([*DEMO, "status"], capsys)
    return code, err


def _reset_when_not_linked(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, _, err = run_cli([*DEMO, "reset", "--yes"], capsys)
    assert "not linked" in err
    return code, err


def _restart_aos_on_a_sandbox(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, out, err = run_cli([*DEMO, "onebox", "restart-aos", "--yes"], capsys)
    assert "not a one-box development VM" in err and "[aos]" not in out
    return code, err


def _status_without_admin_consent(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, _, err = run_cli([*DEMO, "--scenario", "no-consent-ppapi", "status"], capsys)
    assert "consent_required" in err
    return code, err


CASES: dict[int, Callable[[pytest.CaptureFixture[str]], tuple[int, str]]] = {
    0: _status,
    1: _reset_when_not_linked,
    2: _restart_aos_on_a_sandbox,
    3: _status_without_admin_consent,
}


@pytest.mark.parametrize("expected", sorted(CASES))
def test_a_demo_command_produces_the_code(expected: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert expected in readme_codes()
    code, err = CASES[expected](capsys)
    assert code == expected, err
    if code:
        assert err.strip().splitlines()[-1].startswith("dwtui: ")


def test_no_cached_sign_in_with_no_interactive_is_4(
    sim: SimServer, memory_keyring: MemoryKeyring, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "--no-interactive" in readme_codes()[4]
    config = tmp_path / "sim.toml"
    sim.write_config(config)
    code, _, err = run_cli(["--config", str(config), "status", "--no-interactive"], capsys)
    assert code == runtime.EXIT_SIGN_IN == 4, err
    assert err.startswith("dwtui: sign-in required")


def test_ctrl_c_while_waiting_for_a_sign_in_is_130(sim_factory: SimFactory, tmp_path: Path) -> None:
    assert "interrupted" in readme_codes()[130]
    sim = sim_factory("happy", device_approve_after=math.inf)  # nobody approves: it waits
    config = tmp_path / "sim.toml"
    sim.write_config(config)
    child = subprocess.Popen(
        [str(DWTUI), "--config", str(config), "status"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        preexec_fn=sigint_as_at_a_terminal,
    )
    try:
        assert child.stderr is not None
        errors = LineReader(child.stderr)
        errors.wait_for("devicelogin")  # now it waits for the person
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) == runtime.EXIT_INTERRUPTED == 130
        assert errors.rest()[-1].strip() == "dwtui: interrupted"
    finally:
        child.kill()
        child.wait(timeout=30)


# -- the doctor: 0 all pass, 1 a problem, 3 a check that could not run ----------------------------------


@pytest.mark.parametrize(("scenario", "expected"), [("happy", 0), ("old-version", 1)])
def test_doctor_produces_the_code(scenario: str, expected: int, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli([*DEMO, "--scenario", scenario, "doctor"], capsys)
    assert code == expected, err
    if expected:
        assert "`doctor` found a problem" in readme_codes()[expected]
        assert err.strip().splitlines()[-1].startswith("dwtui: doctor: ")


def test_doctor_that_could_not_run_a_check_is_3(
    sim_factory: SimFactory, memory_keyring: MemoryKeyring, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "`doctor` could not run a check" in readme_codes()[3]
    sim = sim_factory("happy", device_approve_after=0)
    config = tmp_path / "sim.toml"
    sim.write_config(config, environment="dev")  # a one-box, and no app id or AXDB given
    code, _, err = run_cli(["--config", str(config), "doctor"], capsys)
    assert code == runtime.EXIT_SERVICE == 3, err
    assert err.strip().splitlines()[-1].startswith("dwtui: doctor: could not check")
