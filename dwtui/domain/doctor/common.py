"""What every judgement shares: a service's fault as evidence, and "could not run" as a finding."""

from __future__ import annotations

import re

from dwtui.domain.doctor.model import CheckState, Evidence, Finding, Source
from dwtui.domain.errors import explain
from dwtui.domain.models import Fault

# Faults that say nothing about the environment: the service was not reached or not in a state to answer.
_TRANSIENT = frozenset({"network", "timeout", "tls", "malformed", "cancelled", "throttled", "HTTP 429"})
_HTTP_5XX = re.compile(r"HTTP 5\d\d")
_SHORT = 240


def short(text: str, limit: int = _SHORT) -> str:
    """One line of at most `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def fault_text(fault: Fault) -> str:
    code = f"[{fault.code}] " if fault.code else ""
    shown = fault.http_status and fault.code != f"HTTP {fault.http_status}"
    status = f"HTTP {fault.http_status}: " if shown else ""
    return short(f"{code}{status}{fault.message}")


def fault_evidence(source: Source, fault: Fault) -> Evidence:
    return Evidence.of(source, fault_text(fault))


def is_transient(fault: Fault) -> bool:
    """A fault that tells nothing about the environment or the person (the check could not run)."""
    return fault.code in _TRANSIENT or bool(_HTTP_5XX.fullmatch(fault.code)) or fault.http_status == 429


def could_not_read(what: str, fault: Fault, source: Source | None = None) -> Finding:
    """UNKNOWN: `what` could not be read, with the fault's documented meaning and remedy."""
    explanation = explain(fault)
    evidence = Evidence(fault.service, source.call if source else what, fault_text(fault))
    return Finding(
        CheckState.UNKNOWN,
        short(f"could not read {what}: {fault.service} {fault_text(fault)}"),
        (evidence,),
        remedy=explanation.remedy,
        doc=explanation.doc,
    )


def needs(what: str, state: CheckState = CheckState.UNKNOWN) -> Finding:
    """A check that cannot be judged before another prerequisite is in place (`what` says which)."""
    return Finding(state, short(what))


def timed_out(seconds: float, waiting_for: str = "") -> Finding:
    """UNKNOWN: the check's own time limit passed before it finished."""
    waited = f" (waiting for {waiting_for})" if waiting_for else ""
    return Finding(
        CheckState.UNKNOWN,
        f"timed out after {seconds:g} s{waited}",
        remedy="The service did not answer within the check's time limit; run the doctor again, or with a "
        "longer --time-limit.",
    )


def crashed(kind: str, message: str) -> Finding:
    """UNKNOWN: the check itself failed; never a traceback, but the error's type and message."""
    return Finding(
        CheckState.UNKNOWN,
        short(f"dwtui could not run this check: {kind}: {message}"),
        remedy="Run the doctor again; if it persists, report it with the output of --json.",
    )
