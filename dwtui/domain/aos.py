"""Restarting the AOS on a one-box VM: the PowerShell dwtui runs, and how to read its answers.

The same steps as d365fo.tools `Restart-D365Environment -Aos`: stop and start the `w3svc` and
`DynamicsAxBatch` services, then start the `AOSService` web site (WebAdministration module).
Service names are constants, never input, so no text a person types reaches a command line.
"""

from __future__ import annotations

from dataclasses import dataclass

AOS_SERVICES = ("w3svc", "DynamicsAxBatch")
AOS_WEBSITE = "AOSService"
ELEVATION_HINT = (
    "Restarting the AOS needs an elevated shell: close this terminal, right-click Windows Terminal "
    '(or PowerShell) and choose "Run as administrator", then start dwtui again.'
)

# Flags for every PowerShell call: no profile scripts (they can prompt or be slow), no prompts.
POWERSHELL = ("powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command")

ELEVATION_CHECK = (
    "([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent())"
    ".IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)"
)


def _names(services: tuple[str, ...]) -> str:
    return ",".join(services)


def stop_script(services: tuple[str, ...] = AOS_SERVICES) -> str:
    return f"$ErrorActionPreference = 'Stop'; Stop-Service -Name {_names(services)} -Force"


def start_script(services: tuple[str, ...] = AOS_SERVICES, website: str = AOS_WEBSITE) -> str:
    return (
        f"$ErrorActionPreference = 'Stop'; Start-Service -Name {_names(services)}; "
        f"Import-Module WebAdministration; Start-Website -Name {website}"
    )


def status_script(services: tuple[str, ...] = AOS_SERVICES) -> str:
    # One "name=status" line per service, easy to parse whatever the console's culture.
    return f"Get-Service -Name {_names(services)} | ForEach-Object {{ '{{0}}={{1}}' -f $_.Name, $_.Status }}"


def restart_script(services: tuple[str, ...] = AOS_SERVICES, website: str = AOS_WEBSITE) -> str:
    """The whole restart as one line, for people who run it themselves in an elevated PowerShell."""
    return (
        f"Stop-Service -Name {_names(services)} -Force; Start-Service -Name {_names(services)}; "
        f"Import-Module WebAdministration; Start-Website -Name {website}"
    )


def command(script: str) -> tuple[str, ...]:
    """The argv for subprocess (no shell): PowerShell with `script` as its -Command."""
    return (*POWERSHELL, script)


def parse_elevated(output: str) -> bool | None:
    """The elevation check's answer: True, False, or None when PowerShell printed something else."""
    word = output.strip().splitlines()[-1].strip().lower() if output.strip() else ""
    if word == "true":
        return True
    if word == "false":
        return False
    return None


def parse_status(output: str) -> dict[str, str]:
    """`name=Running` lines from status_script, keyed case-insensitively by service name."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        name, sep, status = line.strip().partition("=")
        if sep and name:
            found[name.strip().lower()] = status.strip()
    return found


def not_running(statuses: dict[str, str], services: tuple[str, ...] = AOS_SERVICES) -> list[str]:
    """The services that did not come back (missing from the answer counts as not running)."""
    return [name for name in services if statuses.get(name.lower(), "").lower() != "running"]


@dataclass(frozen=True, slots=True)
class StepResult:
    name: str  # "check elevation", "stop w3svc, DynamicsAxBatch", ...
    ok: bool
    duration_s: float
    output: str = ""


@dataclass(frozen=True, slots=True)
class RestartResult:
    ok: bool
    simulated: bool
    steps: tuple[StepResult, ...]
    statuses: dict[str, str]
    message: str
