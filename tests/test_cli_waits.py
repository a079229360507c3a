"""Every wait longer than 2 s says what it waits for and until when; sign-in throttling says so."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from dwtui.cli import EXIT_OK, EXIT_SERVICE
from dwtui.sim.server import SimServer
from tests.cli_support import MemoryKeyring, clear_overrides, run_cli, use_memory_keyring
from tests.conftest import SimFactory

UNTIL = r"\(until \d\d:\d\d:\d\d UTC\)"


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_memory_keyring()


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


@pytest.fixture
def stderr_is_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dwtui.cli.runtime._stderr_is_terminal", lambda: True)


@pytest.fixture
def config(sim_factory: SimFactory, tmp_path: Path) -> tuple[SimServer, Path]:
    sim = sim_factory("happy", device_approve_after=0.0)
    path = tmp_path / "sim.toml"
    sim.write_config(path)
    return sim, path


def token_path(sim: SimServer) -> str:
    return f"/{sim.tenant_id}/oauth2/v2.0/token"


def test_a_throttled_call_says_what_it_waits_for_and_until_when_at_a_terminal(
    config: tuple[SimServer, Path],
    memory_keyring: MemoryKeyring,
    stderr_is_a_terminal: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim, path = config
    sim.add_fault("/lcs", "429", count=1, retry_after=3)
    code, out, err = run_cli(["--config", str(path), "status"], capsys)
    assert code == EXIT_OK, err
    assert re.search(rf"^dwtui: LCS API throttled, retrying in 3 s {UNTIL}$", err, re.MULTILINE), err
    assert "contoso-uat" in out


def test_short_waits_and_pipes_stay_quiet(
    config: tuple[SimServer, Path], memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim, path = config
    sim.add_fault("/lcs", "429", count=1, retry_after=3)
    code, _, err = run_cli(["--config", str(path), "status"], capsys)
    assert code == EXIT_OK
    assert "retrying in" not in err  # stderr is not a terminal here


def test_sign_in_throttling_is_waited_out_and_said(
    config: tuple[SimServer, Path],
    memory_keyring: MemoryKeyring,
    stderr_is_a_terminal: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim, path = config
    sim.add_fault(token_path(sim), "429", count=1, retry_after=3)
    code, _, err = run_cli(["--config", str(path), "status"], capsys)
    assert code == EXIT_OK, err
    pattern = rf"^dwtui: sign-in throttled by the identity provider, retrying in 3 s {UNTIL}$"
    assert re.search(pattern, err, re.MULTILINE), err
    assert "sign in failed" not in err
    # The wait for the person ends too: the device code's expiry is said with the code.
    [prompt] = [line for line in err.splitlines() if "/devicelogin" in line]
    assert re.search(r" Waiting until \d\d:\d\d:\d\d UTC at most\.$", prompt), prompt


def test_sign_in_throttling_beyond_the_cap_ends_with_a_clear_error(
    config: tuple[SimServer, Path], memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim, path = config
    sim.add_fault(token_path(sim), "429", count=1, retry_after=100_800)
    code, out, err = run_cli(["--config", str(path), "status"], capsys)
    assert code == EXIT_SERVICE
    assert out == ""
    line = err.strip().splitlines()[-1]
    assert line.startswith(
        "dwtui: sign-in [HTTP 429]: throttled by the identity provider: the service asked to "
        "wait 28.0 h (Retry-After), longer than dwtui waits (120 s) (Try again after "
    )
    assert "sign in failed" not in err
    # It asked once and stopped: no retry, no sleep.
    assert [r["status"] for r in sim.requests() if r["path"] == token_path(sim)] == [429]


def test_a_service_asking_for_more_than_the_cap_ends_status_with_one_line(
    config: tuple[SimServer, Path], memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim, path = config
    assert run_cli(["--config", str(path), "status"], capsys)[0] == EXIT_OK  # signed in
    sim.add_fault("/lcs", "429", count=1, retry_after=600)
    code, _, err = run_cli(["--config", str(path), "status", "--no-interactive"], capsys)
    assert code == EXIT_SERVICE
    [line] = err.strip().splitlines()
    assert line.startswith(
        "dwtui: LCS API [HTTP 429]: throttled: the service asked to wait 600 s (Retry-After), longer "
        "than dwtui waits (120 s) (Try again after "
    )
