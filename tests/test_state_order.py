"""One word order for an environment's state on every surface (the TUI's in tests/tui/test_state_order.py):
what LCS displays for the environment first, then the state of its last deployment."""

from __future__ import annotations

import pytest

from dwtui.domain.models import LcsEnvironment
from tests.cli_support import clear_overrides, run_cli


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


def _environment(state: str, status: str) -> LcsEnvironment:
    return LcsEnvironment("a" * 32, "contoso-uat", "1234567", "Sandbox", "https://x/", state, status)


def test_the_state_is_the_displayed_word_then_the_deployment_state() -> None:
    assert _environment("Finished", "Deployed").state_text == "Deployed / Finished"
    assert _environment("Finished", "Failed").state_text == "Failed / Finished"
    assert _environment("Finished", "").state_text == "Finished"
    assert _environment("", "Deployed").state_text == "Deployed"
    assert _environment("", "").state_text == ""


def test_the_command_lines_status_shows_the_state_in_that_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["--demo", "--speed", "50", "status"], capsys)
    assert code == 0, err
    [row] = [line for line in out.splitlines() if line.strip().startswith("State ")]
    assert row.split(None, 1)[1] == "Deployed / Finished"
