"""The AOS restart through the Windows controller (with a fake PowerShell) and the simulated one."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from typing import Any

from dwtui.domain import aos
from dwtui.services.activity import ActivityLog
from dwtui.services.aos import SimulatedServiceController, WindowsServiceController, restart_aos


class FakePowerShell:
    """Answers each script as a scripted PowerShell would; records the argv it was given."""

    def __init__(self, answers: dict[str, Callable[[], tuple[int, str, str]]]) -> None:
        self.answers = answers
        self.calls: list[Sequence[str]] = []

    def __call__(self, argv: Sequence[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        assert kw["timeout"] > 0 and kw["capture_output"] and not kw.get("shell")
        self.calls.append(argv)
        script = argv[-1]
        for marker, answer in self.answers.items():
            if marker in script:
                code, out, err = answer()
                return subprocess.CompletedProcess(list(argv), code, out, err)
        raise AssertionError(f"unexpected script {script}")


def ok(out: str = "") -> Callable[[], tuple[int, str, str]]:
    return lambda: (0, out, "")


def test_not_elevated_stops_before_touching_anything() -> None:
    shell = FakePowerShell({"IsInRole": ok("False\r\n")})
    activity = ActivityLog()
    result = restart_aos(WindowsServiceController(runner=shell), activity)
    assert not result.ok and not result.simulated
    assert "Run as administrator" in result.message
    assert len(shell.calls) == 1
    assert [e.kind for e in activity.entries()] == ["command"]


def test_a_windows_restart_runs_the_documented_commands() -> None:
    shell = FakePowerShell(
        {
            "IsInRole": ok("True"),
            "Stop-Service": ok(),
            "Start-Service": ok(),
            "Get-Service": ok("w3svc=Running\r\nDynamicsAxBatch=Running\r\n"),
        }
    )
    activity = ActivityLog()
    result = restart_aos(WindowsServiceController(runner=shell), activity)
    assert result.ok and "restarted" in result.message
    scripts = [call[-1] for call in shell.calls]
    assert scripts[1] == aos.stop_script() and scripts[2] == aos.start_script()
    assert all(list(call[:2]) == ["powershell.exe", "-NoProfile"] for call in shell.calls)
    assert [e.summary for e in activity.entries()][1:3] == [aos.stop_script(), aos.start_script()]


def test_a_service_that_does_not_come_back_is_named() -> None:
    shell = FakePowerShell(
        {
            "IsInRole": ok("True"),
            "Stop-Service": ok(),
            "Start-Service": lambda: (1, "", "Service 'DynamicsAxBatch' cannot be started"),
            "Get-Service": ok("w3svc=Running\r\nDynamicsAxBatch=Stopped\r\n"),
        }
    )
    result = restart_aos(WindowsServiceController(runner=shell), ActivityLog())
    assert not result.ok
    assert "did not come back: DynamicsAxBatch (Stopped)" in result.message
    assert "Start-Service DynamicsAxBatch" in result.message


def test_a_powershell_that_hangs_times_out_cleanly() -> None:
    def hang() -> tuple[int, str, str]:
        raise subprocess.TimeoutExpired("powershell.exe", 5)

    shell = FakePowerShell({"IsInRole": ok("True"), "Stop-Service": hang, "Get-Service": ok("w3svc=Running")})
    result = restart_aos(WindowsServiceController(runner=shell, timeout=5), ActivityLog())
    assert not result.ok and "timed out after 5 s" in result.message
    assert "Nothing was started" in result.message
    assert not any("Start-Service" in call[-1] for call in shell.calls)


def test_the_simulated_controller_takes_the_same_path() -> None:
    waited: list[float] = []
    controller = SimulatedServiceController(speed=2.0, sleep=waited.append)
    activity = ActivityLog()
    seen: list[str] = []
    result = restart_aos(controller, activity, on_step=lambda step: seen.append(step.name))
    assert result.ok and result.simulated and "nothing was restarted" in result.message
    assert waited == [4.0, 6.0]  # stop 8 s and start 12 s, divided by the speed
    assert seen == [
        "check elevation",
        "stop w3svc, DynamicsAxBatch",
        "start w3svc, DynamicsAxBatch and web site AOSService",
        "read service status",
    ]
    assert [s.duration_s for s in result.steps][1:3] == [8.0, 12.0]
    assert all(e.kind == "command" and e.summary.startswith("simulated: ") for e in activity.entries())


def test_a_simulated_service_that_does_not_come_back() -> None:
    controller = SimulatedServiceController(sleep=lambda _s: None, stuck=frozenset({"DynamicsAxBatch"}))
    result = restart_aos(controller, ActivityLog())
    assert not result.ok and "DynamicsAxBatch (Stopped)" in result.message
    assert result.statuses == {"w3svc": "Running", "dynamicsaxbatch": "Stopped"}


def test_a_simulated_timeout_and_a_shell_that_is_not_elevated() -> None:
    slow = SimulatedServiceController(sleep=lambda _s: None, stop_seconds=400.0, timeout=300.0)
    result = restart_aos(slow, ActivityLog())
    assert not result.ok and "timed out after 300 s" in result.message
    plain = SimulatedServiceController(sleep=lambda _s: None, is_elevated=False)
    refused = restart_aos(plain, ActivityLog())
    assert not refused.ok and "Run as administrator" in refused.message and len(refused.steps) == 1
