"""What the doctor says about one prerequisite: its state, the evidence, and the remedy.

A check reads one or more services, and a pure judgement (the other modules of this package) turns
what they answered into a Finding; the runner adds the check's catalogue entry and how long it took.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from dwtui.domain.models import LcsEnvironment


class CheckState(StrEnum):
    OK = "ok"
    PROBLEM = "problem"  # the check ran and found something that stops or breaks dual-write
    UNKNOWN = "unknown"  # the check could not run; the summary says why
    NOT_APPLICABLE = "not_applicable"


class Group(StrEnum):
    ACCESS = "sign-in and consent"
    RIGHTS = "your rights"
    ENVIRONMENT = "environment"
    INTEGRATION = "Power Platform Integration"
    DUAL_WRITE = "dual-write"
    ONEBOX = "one-box"


@dataclass(frozen=True, slots=True)
class Source:
    """A call a check takes its evidence from, and the public source that shows the call."""

    service: str  # "LCS API", "BAP admin API", "Dataverse", ...
    call: str  # "GET /environmentinfo/v1/detail/project/{projectId}/?environmentId={id}"
    source: str = ""  # the docs URL or repo and path that shows it
    inferred: bool = False  # no public source shows the call: dwtui infers it


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one call answered, in a line a person reads."""

    service: str
    call: str
    answer: str
    inferred: bool = False  # what the answer is taken to mean is inferred

    @staticmethod
    def of(source: Source, answer: str, *, inferred: bool = False) -> Evidence:
        return Evidence(source.service, source.call, answer, inferred or source.inferred)


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One entry of the catalogue: what is checked, from where, and the documented way out."""

    check_id: str  # stable, e.g. "signin.bap": the JSON key a script matches on
    group: Group
    title: str
    sources: tuple[Source, ...]
    remedy: str  # what to do when the check finds a problem (a finding may say more precisely)
    doc: str  # the page that documents the requirement and its remedy
    time_limit: float = 60.0  # seconds; past it the check is unknown ("timed out after N s")
    inferred: bool = False  # the judgement itself rests on an inference


@dataclass(frozen=True, slots=True)
class Finding:
    """A judgement's answer; remedy and doc, when empty, come from the check's catalogue entry."""

    state: CheckState
    summary: str
    evidence: tuple[Evidence, ...] = ()
    remedy: str = ""
    doc: str = ""
    inferred: bool = False


@dataclass(frozen=True, slots=True)
class CheckResult:
    spec: CheckSpec
    state: CheckState
    summary: str
    evidence: tuple[Evidence, ...]
    remedy: str  # "" when the state needs none (ok, not applicable)
    doc: str
    inferred: bool
    duration_s: float

    @property
    def check_id(self) -> str:
        return self.spec.check_id

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def group(self) -> Group:
        return self.spec.group

    @staticmethod
    def of(spec: CheckSpec, finding: Finding, duration_s: float) -> CheckResult:
        """The catalogue's remedy stands in for a problem's; an unknown carries its own (why it
        could not run, and what helps), and an ok needs none."""
        state = finding.state
        remedy = finding.remedy or (spec.remedy if state is CheckState.PROBLEM else "")
        doc = finding.doc or (spec.doc if state in (CheckState.PROBLEM, CheckState.UNKNOWN) else "")
        return CheckResult(
            spec=spec,
            state=state,
            summary=finding.summary,
            evidence=finding.evidence,
            remedy=remedy,
            doc=doc,
            inferred=finding.inferred or spec.inferred or any(e.inferred for e in finding.evidence),
            duration_s=round(max(0.0, duration_s), 3),
        )


class Outcome(StrEnum):
    """The run as a whole: what the exit code of `dwtui doctor` says."""

    OK = "ok"  # every applicable check passed
    PROBLEM = "problem"  # at least one check found a problem
    INCOMPLETE = "incomplete"  # none found a problem, but at least one could not run


_SEVERITY = {
    CheckState.PROBLEM: 3,
    CheckState.UNKNOWN: 2,
    CheckState.OK: 1,
    CheckState.NOT_APPLICABLE: 0,
}


def outcome_of(states: Iterable[CheckState]) -> Outcome:
    seen = set(states)
    if CheckState.PROBLEM in seen:
        return Outcome.PROBLEM
    if CheckState.UNKNOWN in seen:
        return Outcome.INCOMPLETE
    return Outcome.OK


@dataclass(frozen=True, slots=True)
class DoctorReport:
    environment: LcsEnvironment | None  # None when LCS could not name it
    results: tuple[CheckResult, ...]  # in catalogue order

    @property
    def outcome(self) -> Outcome:
        return outcome_of(result.state for result in self.results)

    def counts(self) -> dict[str, int]:
        counts = {state.value: 0 for state in CheckState}
        for result in self.results:
            counts[result.state.value] += 1
        return counts

    @property
    def worst(self) -> CheckResult | None:
        """The first of the most severe results (a problem before an unknown before an ok)."""
        return worst(self.results)


def worst(results: Iterable[CheckResult]) -> CheckResult | None:
    chosen: CheckResult | None = None
    for result in results:
        if chosen is None or _SEVERITY[result.state] > _SEVERITY[chosen.state]:
            chosen = result
    return chosen
