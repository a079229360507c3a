"""The readiness doctor's pure part: the check catalogue and each check's judgement.

- model: states (ok, problem, unknown, not applicable), evidence, results and the report;
- catalogue: every check's id, title, the calls its evidence comes from, its remedy and link;
- access, environment, integration, dualwrite, onebox: the judgements, from what services answered
  to a Finding. The I/O (reading the services concurrently) is dwtui.services.doctor.
"""

from dwtui.domain.doctor.catalogue import BY_ID, CATALOGUE
from dwtui.domain.doctor.model import (
    CheckResult,
    CheckSpec,
    CheckState,
    DoctorReport,
    Evidence,
    Finding,
    Group,
    Outcome,
    Source,
    outcome_of,
    worst,
)

__all__ = [
    "BY_ID",
    "CATALOGUE",
    "CheckResult",
    "CheckSpec",
    "CheckState",
    "DoctorReport",
    "Evidence",
    "Finding",
    "Group",
    "Outcome",
    "Source",
    "outcome_of",
    "worst",
]
