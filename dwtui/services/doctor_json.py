"""`dwtui doctor`: the report as JSON with stable, documented keys (README "Doctor"), and as text.

Keys are a contract with scripts: add keys freely, never rename or remove one without raising
SCHEMA. Check ids are stable too (dwtui.domain.doctor.catalogue).
"""

from __future__ import annotations

from typing import Any

from dwtui.domain.doctor import CheckResult, CheckState, DoctorReport, Group
from dwtui.domain.models import SignedIn

SCHEMA = 1
_WIDTH = 9  # "problem" and "n/a" line up


def check_to_json(result: CheckResult) -> dict[str, Any]:
    return {
        "id": result.check_id,
        "group": result.group.value,
        "title": result.title,
        "state": result.state.value,
        "summary": result.summary,
        "inferred": result.inferred,
        "evidence": [
            {"service": e.service, "call": e.call, "answer": e.answer, "inferred": e.inferred}
            for e in result.evidence
        ],
        "remedy": result.remedy,
        "doc": result.doc,
        "duration_s": result.duration_s,
    }


def report_to_json(report: DoctorReport, signed_in: SignedIn | None) -> dict[str, Any]:
    environment = report.environment
    return {
        "schema": SCHEMA,
        "command": "doctor",
        "environment": None
        if environment is None
        else {
            "id": environment.environment_id,
            "name": environment.name,
            "type": environment.environment_type,
        },
        "signed_in": None
        if signed_in is None
        else {"username": signed_in.username, "tenant_id": signed_in.tenant_id, "kind": signed_in.kind},
        "outcome": report.outcome.value,
        "counts": report.counts(),
        "checks": [check_to_json(result) for result in report.results],
    }


def state_label(state: CheckState) -> str:
    return {CheckState.PROBLEM: "PROBLEM", CheckState.NOT_APPLICABLE: "n/a"}.get(state, state.value)


def result_line(result: CheckResult) -> str:
    """One line: state, title, and [I] when what it rests on is inferred."""
    inferred = " [I]" if result.inferred else ""
    return f"{state_label(result.state):<{_WIDTH}}{result.title}{inferred}"


def result_to_text(result: CheckResult) -> list[str]:
    pad = " " * (_WIDTH + 2)
    if result.state is CheckState.NOT_APPLICABLE:
        return [f"  {result_line(result)}: {result.summary}"]
    lines = [f"  {result_line(result)}", f"{pad}{result.summary}"]
    for evidence in result.evidence:
        mark = " [I]" if evidence.inferred else ""
        lines.append(f"{pad}evidence{mark}: {evidence.service}: {evidence.call} -> {evidence.answer}")
    if result.remedy:
        lines.append(f"{pad}remedy: {result.remedy}")
    if result.doc and result.state is not CheckState.OK:
        lines.append(f"{pad}see: {result.doc}")
    return lines


def report_to_text(report: DoctorReport, profile_name: str, signed_in: SignedIn | None) -> str:
    environment = report.environment
    who = signed_in.username if signed_in else "not signed in"
    where = f"{environment.name} ({environment.environment_type})" if environment else "environment unknown"
    lines = [f"Doctor: {where}; profile {profile_name}, signed in as {who}"]
    for group in Group:
        results = [result for result in report.results if result.group is group]
        if not results:
            continue
        lines += ["", group.value[:1].upper() + group.value[1:]]
        for result in results:
            lines += result_to_text(result)
    counts = report.counts()
    lines += [
        "",
        f"{len(report.results)} checks: {counts['ok']} ok, {counts['problem']} problem(s), "
        f"{counts['unknown']} could not run, {counts['not_applicable']} not applicable. "
        "[I] marks what rests on an inference (no public source shows it).",
    ]
    return "\n".join(lines)
