"""The LCS environment: deployed and not being serviced, its type, its version against the minimums.

Minimums, from the public sources:
- dual-write: "Platform update 33 (app version 10.0.9) or later" (requirements-and-prerequisites.md,
  ms.date 02/09/2022; the dual-write wizard's health check "App version is up to date");
- Reset dual-write connection: Platform update 54 / 10.0.30 (reset.md), a note, not a failure;
- Power Platform Integration: none of its articles (enable-power-platform-integration.md 2021-2023,
  environment-lifecycle-connect-finops-new-dv.md) names a minimum version, so none is checked.

LCS documents DeploymentState "Finished" and DeploymentStatusDisplay "Deployed" or "Failed"
(reference-environment-metadata.md); any other value is read as "not deployed" [I].
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dwtui.domain.doctor import catalogue as c
from dwtui.domain.doctor.model import CheckState, Evidence, Finding
from dwtui.domain.models import LcsEnvironment

DUAL_WRITE_MIN_APP = (10, 0, 9)
DUAL_WRITE_MIN_PLATFORM = 33
RESET_MIN_APP = (10, 0, 30)
RESET_MIN_PLATFORM = 54
_RELEASE = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_PLATFORM = re.compile(r"(?i)(?:platform\s*)?update\s*(\d+)")


@dataclass(frozen=True, slots=True)
class FoVersion:
    application: tuple[int, int, int] | None  # CurrentApplicationReleaseName, e.g. 10.0.41
    platform: int | None  # CurrentPlatformReleaseName, e.g. Update65

    def text(self) -> str:
        parts = []
        if self.application is not None:
            parts.append(".".join(str(n) for n in self.application))
        if self.platform is not None:
            parts.append(f"Platform update {self.platform}")
        return " / ".join(parts) or "unknown"

    def below(self, application: tuple[int, int, int], platform: int) -> bool:
        """Below the minimum by what LCS says (either number below is enough)."""
        return (self.application is not None and self.application < application) or (
            self.platform is not None and self.platform < platform
        )


def parse_version(environment: LcsEnvironment) -> FoVersion:
    """The release numbers LCS names; the topology's "(10.0.20 with Platform update 44)" fills gaps."""
    release = _RELEASE.search(environment.application_release) or _RELEASE.search(environment.topology)
    platform = _PLATFORM.search(environment.platform_release) or _PLATFORM.search(environment.topology)
    application = (int(release.group(1)), int(release.group(2)), int(release.group(3))) if release else None
    return FoVersion(application, int(platform.group(1)) if platform else None)


def _lcs(environment: LcsEnvironment, answer: str) -> Evidence:
    return Evidence.of(c.LCS_DETAIL, answer)


def deployment(environment: LcsEnvironment) -> Finding:
    status = environment.deployment_status.strip()
    state = environment.deployment_state.strip()
    evidence = (
        _lcs(
            environment, f"DeploymentState {state or '(none)'}, DeploymentStatusDisplay {status or '(none)'}"
        ),
    )
    if status.lower() == "deployed" and state.lower() in ("finished", ""):
        return Finding(CheckState.OK, f"{environment.name} is deployed", evidence)
    if not status and not state:
        return Finding(CheckState.UNKNOWN, "LCS did not say whether the environment is deployed", evidence)
    if status.lower() == "failed":
        return Finding(
            CheckState.PROBLEM, f"LCS says the last deployment of {environment.name} failed", evidence
        )
    return Finding(
        CheckState.PROBLEM,
        f"{environment.name} is not deployed and idle: LCS says {status or state} (values other than "
        "Deployed and Failed are not documented; read as being serviced, inferred)",
        evidence,
        inferred=True,
    )


def environment_type(environment: LcsEnvironment, allow_production_changes: bool) -> Finding:
    kind = environment.environment_type or "unknown type"
    evidence = (
        _lcs(environment, f"EnvironmentType {kind}"),
        Evidence.of(c.PROFILE, f"allow_production_changes = {str(allow_production_changes).lower()}"),
    )
    if not environment.is_production:
        return Finding(CheckState.OK, f"{kind}: dwtui may change it", evidence)
    if allow_production_changes:
        return Finding(CheckState.OK, "Production, and the profile allows changes to it", evidence)
    return Finding(
        CheckState.PROBLEM,
        "Production, and the profile keeps it read-only: dwtui will read it but change nothing",
        evidence,
    )


def version(environment: LcsEnvironment) -> Finding:
    found = parse_version(environment)
    evidence = (
        _lcs(
            environment,
            f"CurrentApplicationReleaseName {environment.application_release or '(none)'}, "
            f"CurrentPlatformReleaseName {environment.platform_release or '(none)'}",
        ),
    )
    minimum = "10.0.9 / Platform update 33"
    if found.application is None and found.platform is None:
        return Finding(CheckState.UNKNOWN, "LCS names no application or platform release", evidence)
    if found.below(DUAL_WRITE_MIN_APP, DUAL_WRITE_MIN_PLATFORM):
        return Finding(
            CheckState.PROBLEM,
            f"{found.text()} is below {minimum}, the minimum dual-write documents",
            evidence,
        )
    reset = (
        "; Reset dual-write connection needs 10.0.30 / Platform update 54"
        if found.below(RESET_MIN_APP, RESET_MIN_PLATFORM)
        else ""
    )
    return Finding(
        CheckState.OK,
        f"{found.text()}: at or above {minimum} (dual-write's minimum; Power Platform Integration "
        f"documents none){reset}",
        evidence,
    )
