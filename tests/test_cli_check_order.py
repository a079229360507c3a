"""What needs no sign-in is checked before it, and what the LCS environment alone rules out before
any Power Platform read: against a simulator whose device codes nobody approves, a command that
reached the sign-in would end in "sign-in required" (--no-interactive) with requests on record."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from dwtui.cli.runtime import EXIT_CONFIG, EXIT_SIGN_IN
from dwtui.sim.server import SimServer
from tests.cli_support import MemoryKeyring, clear_overrides, run_cli, use_memory_keyring
from tests.conftest import SimFactory

APP_ID = "3c5e7a9b-1d2f-4e6a-8b0c-2d4f6a8c0e1b"


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_memory_keyring()


@pytest.fixture
def unattended(
    sim_factory: SimFactory, memory_keyring: MemoryKeyring, tmp_path: Path
) -> tuple[SimServer, Path]:
    """A simulator nobody signs in to, and a config pointing at its one-box, contoso-dev."""
    sim = sim_factory("happy", device_approve_after=math.inf)
    config = tmp_path / "config.toml"
    sim.write_config(config, "dev")
    return sim, config


def _line(err: str) -> str:
    [line] = [x for x in err.splitlines() if x.startswith("dwtui: ")]
    return line


def test_restart_aos_without_yes_and_without_a_terminal_is_refused_before_the_sign_in(
    unattended: tuple[SimServer, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    sim, config = unattended
    code, out, err = run_cli(["--config", str(config), "onebox", "restart-aos", "--no-interactive"], capsys)
    assert code == EXIT_CONFIG, err
    assert "use --yes to restart the AOS" in _line(err)
    assert sim.requests() == [] and out == ""


class _NotElevated:
    """A Windows service controller in a shell that is not elevated (this machine is not Windows)."""

    simulated = False

    def elevated(self) -> tuple[bool | None, object]:
        return False, None

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"nothing may be stopped or started: {name}")


def test_restart_aos_in_a_shell_that_is_not_elevated_is_refused_before_the_sign_in(
    unattended: tuple[SimServer, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dwtui.domain.aos import ELEVATION_HINT

    monkeypatch.setattr("dwtui.services.aos.default_controller", lambda **_: _NotElevated())
    sim, config = unattended
    argv = ["--config", str(config), "onebox", "restart-aos", "--yes", "--no-interactive"]
    code, _, err = run_cli(argv, capsys)
    assert code == EXIT_CONFIG, err
    assert ELEVATION_HINT in _line(err)
    assert sim.requests() == []


def test_verify_without_a_way_to_get_the_apps_secret_says_so_before_the_sign_in(
    unattended: tuple[SimServer, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    sim, config = unattended
    argv = ["--config", str(config), "onebox", "verify", "--app-id", APP_ID, "--no-interactive"]
    code, _, err = run_cli(argv, capsys)
    assert code == EXIT_SIGN_IN, err  # the app's own sign-in cannot be made
    line = _line(err)
    assert "the keyring holds no client secret" in line and "sign-in required" not in line
    assert sim.requests() == []


def test_integrate_with_a_bad_currency_is_refused_before_the_sign_in(
    unattended: tuple[SimServer, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    sim, config = unattended
    argv = ["--config", str(config), "integrate", "--currency", "E1", "--yes", "--no-interactive"]
    code, _, err = run_cli(argv, capsys)
    assert code == EXIT_CONFIG, err
    assert "'E1' is not an ISO 4217 currency code" in _line(err)
    assert sim.requests() == []


def test_flight_run_without_yes_and_without_a_terminal_asks_for_yes_before_a_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["onebox", "flight", "--run", "--driver", "FreeTDS", "--sql-login", "sa"]
    code, _, err = run_cli(argv, capsys, stdin="")
    assert code == EXIT_CONFIG, err
    line = _line(err)
    assert "use --yes to run the flight" in line and "password" not in line


@pytest.mark.parametrize(
    "command",
    [
        ["onebox", "app-user", "--app-id", APP_ID, "--yes"],
        ["onebox", "verify", "--app-id", APP_ID, "--secret-stdin"],
        ["onebox", "restart-aos", "--yes"],
    ],
    ids=["app-user", "verify", "restart-aos"],
)
def test_a_onebox_command_on_a_sandbox_is_refused_before_any_power_platform_read(
    sim_factory: SimFactory,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    # Whether an environment is a one-box only LCS says, and LCS takes only a signed-in person:
    # the sign-in and that one read come first, nothing else.
    sim = sim_factory("happy", device_approve_after=0.0)
    config = tmp_path / "config.toml"
    sim.write_config(config, "uat")
    code, out, err = run_cli(["--config", str(config), *command], capsys, stdin="app-secret\n")
    assert code == EXIT_CONFIG, err
    assert "contoso-uat is a Sandbox environment, not a one-box development VM" in _line(err)
    assert {r["service"] for r in sim.requests()} <= {"idp", "lcs"}
    assert "[aos]" not in out


def test_reset_on_production_is_refused_before_any_power_platform_or_gateway_read(
    sim_factory: SimFactory, memory_keyring: MemoryKeyring, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = sim_factory("linked", device_approve_after=0.0)
    config = tmp_path / "config.toml"
    sim.write_config(config, "prod")
    code, out, err = run_cli(["--config", str(config), "reset", "--yes"], capsys)
    assert code == EXIT_CONFIG, err
    assert "allow_production_changes = true" in _line(err)
    assert "nothing was read from or sent to its Power Platform environment" in _line(err)
    assert {r["service"] for r in sim.requests()} <= {"idp", "lcs"}
    assert out == ""
