"""Every estimate follows --speed: a demo at --speed 20 does not promise a real service's minutes."""

from __future__ import annotations

import re

import pytest

from dwtui.domain.linking import TYPICAL_LINK_SECONDS
from dwtui.domain.operations import (
    TYPICAL_INSTALL_SECONDS,
    OperationKind,
    OperationRecord,
    OperationStatus,
    at_speed,
)
from dwtui.services.status_json import operation_line
from tests.cli_support import clear_overrides, run_cli


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


def _running(kind: OperationKind, started_at: float) -> OperationRecord:
    record = OperationRecord(kind, "demo", "6f4a", "bap-1", "", started_at, "op-1")
    return record.observed(started_at + 1.0, OperationStatus.RUNNING, "Connecting", None)


def test_a_documented_duration_says_what_it_is_at_the_demos_speed() -> None:
    assert at_speed(TYPICAL_LINK_SECONDS, 1.0) == ""  # real services: the documentation's words alone
    assert at_speed(TYPICAL_LINK_SECONDS, 20.0) == " (about 15 s at --speed 20)"
    assert at_speed(TYPICAL_INSTALL_SECONDS, 60.0) == " (about 30 s at --speed 60)"
    assert at_speed(TYPICAL_LINK_SECONDS, 2000.0) == " (under 1 s at --speed 2000)"


def test_the_time_left_of_an_operation_under_way_follows_the_speed() -> None:
    record = _running(OperationKind.LINK, 1000.0)
    # 6 s into a link: a real one has most of its 5 minutes to go, a demo one at 20x has 9 s.
    assert "about 4 min 54 s left" in operation_line(record, 1006.0)
    assert "about 9 s left (estimate)" in operation_line(record, 1006.0, speed=20.0)
    late = operation_line(record, 1020.0, speed=20.0)
    assert "taking longer than usual (typically about 15 s)" in late


def test_the_command_lines_link_says_its_typical_time_and_its_estimates_at_the_demos_speed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--demo", "--speed", "60", "--scenario", "installed", "link", "--yes", "--wait"]
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    assert "It typically takes less than 5 minutes (about 5 s at --speed 60)." in out
    estimates = re.findall(r"; (about [^;]+ left[^;]*|taking longer[^;]+);", err)
    assert estimates, err
    assert not [e for e in estimates if "min" in e], estimates


def test_the_command_lines_add_dataverse_says_its_time_at_the_demos_speed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--demo", "--speed", "300", "--scenario", "no-dataverse", "integrate", "--yes"]
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    assert "Dataverse requested; it typically takes some minutes (about 2 s at --speed 300)." in out
