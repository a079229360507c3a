"""Restarting the AOS: real PowerShell on Windows, a simulated service controller elsewhere.

Both controllers have one interface (elevated, stop, start, status, each timed), and
`restart_aos` takes the same path through either: check elevation, stop, start (services and the
AOSService web site), then read the services' status back and name any that did not come back.
Every step is recorded in the Activity log as kind "command".
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from dwtui.domain.aos import (
    AOS_SERVICES,
    AOS_WEBSITE,
    ELEVATION_CHECK,
    ELEVATION_HINT,
    RestartResult,
    StepResult,
    command,
    not_running,
    parse_elevated,
    parse_status,
    start_script,
    status_script,
    stop_script,
)
from dwtui.services.activity import ActivityEntry, ActivityLog

SERVICE = "AOS"
STEP_TIMEOUT = 300.0  # DynamicsAxBatch can take minutes to stop while batch tasks finish
_OUTPUT_LIMIT = 2000


class ServiceController(Protocol):
    simulated: bool

    def elevated(self) -> tuple[bool | None, StepResult]: ...

    def stop(self, services: tuple[str, ...]) -> StepResult: ...

    def start(self, services: tuple[str, ...], website: str) -> StepResult: ...

    def status(self, services: tuple[str, ...]) -> tuple[dict[str, str], StepResult]: ...


Runner = Callable[..., "subprocess.CompletedProcess[str]"]


class WindowsServiceController:
    """PowerShell through subprocess (no shell), each call bounded by a timeout."""

    simulated = False

    def __init__(self, *, timeout: float = STEP_TIMEOUT, runner: Runner = subprocess.run) -> None:
        self.timeout = timeout
        self.runner = runner

    def _run(self, name: str, script: str) -> StepResult:
        started = time.perf_counter()
        try:
            done = self.runner(
                list(command(script)), capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            # subprocess.run has already killed PowerShell; the services keep whatever state they reached.
            return StepResult(
                name,
                False,
                time.perf_counter() - started,
                f"timed out after {self.timeout:g} s; PowerShell was stopped",
            )
        except OSError as error:
            return StepResult(name, False, time.perf_counter() - started, f"cannot run PowerShell: {error}")
        output = "\n".join(part.strip() for part in (done.stdout, done.stderr) if part and part.strip())
        return StepResult(name, done.returncode == 0, time.perf_counter() - started, output[:_OUTPUT_LIMIT])

    def elevated(self) -> tuple[bool | None, StepResult]:
        step = self._run("check elevation", ELEVATION_CHECK)
        return (parse_elevated(step.output) if step.ok else None), step

    def stop(self, services: tuple[str, ...]) -> StepResult:
        return self._run(f"stop {', '.join(services)}", stop_script(services))

    def start(self, services: tuple[str, ...], website: str) -> StepResult:
        return self._run(
            f"start {', '.join(services)} and web site {website}", start_script(services, website)
        )

    def status(self, services: tuple[str, ...]) -> tuple[dict[str, str], StepResult]:
        step = self._run("read service status", status_script(services))
        return parse_status(step.output), step


@dataclass
class SimulatedServiceController:
    """The same path without touching anything: simulated services with simulated durations.

    `stuck` services do not come back after start; a step whose duration exceeds `timeout` times out.
    `sleep` waits the (speed-divided) duration, so the demo shows progress; tests pass a no-op.
    """

    speed: float = 1.0
    stop_seconds: float = 8.0
    start_seconds: float = 12.0
    timeout: float = STEP_TIMEOUT
    stuck: frozenset[str] = frozenset()
    is_elevated: bool = True
    sleep: Callable[[float], None] = time.sleep
    statuses: dict[str, str] = field(default_factory=lambda: {name: "Running" for name in AOS_SERVICES})
    simulated: bool = True

    def _wait(self, seconds: float) -> tuple[bool, float]:
        if seconds > self.timeout:
            self.sleep(self.timeout / self.speed)
            return False, self.timeout
        self.sleep(seconds / self.speed)
        return True, seconds

    def elevated(self) -> tuple[bool | None, StepResult]:
        answer = "True" if self.is_elevated else "False"
        return self.is_elevated, StepResult("check elevation", True, 0.0, f"{answer} (simulated)")

    def stop(self, services: tuple[str, ...]) -> StepResult:
        finished, took = self._wait(self.stop_seconds)
        name = f"stop {', '.join(services)}"
        if not finished:
            return StepResult(name, False, took, f"timed out after {self.timeout:g} s (simulated)")
        for service in services:
            self.statuses[service] = "Stopped"
        return StepResult(name, True, took, "simulated: Stop-Service " + ",".join(services) + " -Force")

    def start(self, services: tuple[str, ...], website: str) -> StepResult:
        finished, took = self._wait(self.start_seconds)
        name = f"start {', '.join(services)} and web site {website}"
        if not finished:
            return StepResult(name, False, took, f"timed out after {self.timeout:g} s (simulated)")
        for service in services:
            self.statuses[service] = "Stopped" if service in self.stuck else "Running"
        failed = [s for s in services if s in self.stuck]
        if failed:
            return StepResult(name, False, took, f"simulated: service {', '.join(failed)} failed to start")
        return StepResult(
            name, True, took, f"simulated: Start-Service {','.join(services)}; Start-Website {website}"
        )

    def status(self, services: tuple[str, ...]) -> tuple[dict[str, str], StepResult]:
        found = {name.lower(): self.statuses.get(name, "Stopped") for name in services}
        output = "\n".join(f"{name}={self.statuses.get(name, 'Stopped')}" for name in services)
        return found, StepResult("read service status", True, 0.0, output)


def default_controller(*, demo: bool = False, speed: float = 1.0) -> ServiceController:
    if sys.platform == "win32" and not demo:
        return WindowsServiceController()
    return SimulatedServiceController(speed=speed)


def restart_aos(
    controller: ServiceController,
    activity: ActivityLog,
    *,
    services: tuple[str, ...] = AOS_SERVICES,
    website: str = AOS_WEBSITE,
    clock: Callable[[], float] = time.time,
    on_step: Callable[[StepResult], None] | None = None,
) -> RestartResult:
    """Stop and start the AOS services and web site; the caller has already asked for confirmation."""
    steps: list[StepResult] = []
    prefix = "simulated: " if controller.simulated else ""

    def note(step: StepResult, script: str) -> None:
        steps.append(step)
        activity.record(
            ActivityEntry(
                at=clock(),
                kind="command",
                summary=f"{prefix}{script}" if script else f"{prefix}{step.name}",
                service=SERVICE,
                duration_ms=step.duration_s * 1000.0,
                status=0 if step.ok else 1,
                detail=step.output,
            )
        )
        if on_step is not None:
            on_step(step)

    def finish(ok: bool, statuses: dict[str, str], message: str) -> RestartResult:
        if controller.simulated:
            message = f"{message} (simulated: this is not a Windows one-box, nothing was restarted)"
        return RestartResult(ok, controller.simulated, tuple(steps), statuses, message)

    elevated, check = controller.elevated()
    note(check, ELEVATION_CHECK)
    if elevated is False:
        return finish(False, {}, ELEVATION_HINT)
    if elevated is None:
        return finish(
            False,
            {},
            f"Could not tell whether this shell is elevated: {check.output or 'no answer'}. "
            + ELEVATION_HINT,
        )
    stopped = controller.stop(services)
    note(stopped, stop_script(services))
    if not stopped.ok:
        statuses, read = controller.status(services)
        note(read, status_script(services))
        return finish(
            False,
            statuses,
            f"Stopping the AOS failed: {stopped.output}. Nothing was started; "
            "check the services in services.msc and try again.",
        )
    started = controller.start(services, website)
    note(started, start_script(services, website))
    statuses, read = controller.status(services)
    note(read, status_script(services))
    down = not_running(statuses, services)
    if down:
        shown = ", ".join(f"{name} ({statuses.get(name.lower(), 'unknown')})" for name in down)
        return finish(
            False,
            statuses,
            f"The AOS did not come back: {shown}. Start it with "
            f"Start-Service {','.join(down)} in an elevated PowerShell, or in services.msc.",
        )
    if not started.ok:
        return finish(
            False,
            statuses,
            f"The services run, but starting the {website} web site failed: "
            f"{started.output}. Start it in IIS Manager.",
        )
    return finish(
        True,
        statuses,
        "The AOS was restarted: w3svc and DynamicsAxBatch are running and the "
        f"{website} web site was started.",
    )
