"""The fleet view's rows: every environment of one or more LCS projects, each fact with its age.

A row starts from what LCS lists (name, type, state, version) with every other fact still being
read, and is completed from the same snapshot and assessment the main screen uses, plus the
operations dwtui follows. Each fact keeps when its source answered, so a front end can say how old
it is; a fact that could not be read keeps its fault. The doctor's worst finding is a hook
(`doctor`) that the doctor fills in later: until then it is NOT_CHECKED.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from dwtui.domain.assessment import NOT_INTEGRATED_CODE, Assessment, IntegrationState, LinkState
from dwtui.domain.linking import TYPICAL_LINK_SECONDS
from dwtui.domain.models import (
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    LcsEnvironment,
    PowerPlatformSnapshot,
)
from dwtui.domain.operations import (
    TYPICAL_ADD_DATAVERSE_SECONDS,
    TYPICAL_INSTALL_SECONDS,
    OperationKind,
    OperationRecord,
    estimate_progress,
)
from dwtui.domain.packages import Installed, PackageStatus

# BAP's provisioningState while Dataverse is being added (the terraform provider's poll).
_ADDING_DATAVERSE = "linkeddatabaseprovisioning"


class Column(StrEnum):
    """The fleet table's columns, in order; the values are the `--json` keys."""

    NAME = "name"
    TYPE = "type"
    STATE = "state"
    VERSION = "version"
    INTEGRATION = "integration"  # Power Platform Integration
    DATAVERSE = "dataverse"
    PACKAGES = "packages"  # the dual-write packages
    LINK = "link"
    MISMATCH = "mismatch"
    OPERATION = "operation"  # a running install, link or Add Dataverse, and its progress
    DOCTOR = "doctor"  # the doctor's worst finding
    AGE = "age"  # of the row's oldest fact


@dataclass(frozen=True, slots=True)
class Fact:
    """One cell: words as the main screen says them, and when its source answered."""

    value: str  # "" while reading
    read_at: float | None = None  # time.time() of the answer; None while reading or never read
    detail: str = ""  # more words: a version, a message, what a count means
    fault: Fault | None = None  # why it could not be read (value is then "unknown")
    number: float | None = None  # what it counts, for sorting: packages installed, percent done
    reading: bool = False  # its source has not answered yet

    def age(self, now: float) -> float | None:
        return None if self.read_at is None else max(0.0, now - self.read_at)


READING = Fact("", reading=True)
# The doctor's hook, until the doctor runs for the fleet.
NOT_CHECKED = Fact("not checked", detail="the doctor has not checked this environment")
UNKNOWN = "unknown"
NONE = "none"

# What a running operation is called in the table and the JSON.
OPERATION_WORDS: dict[OperationKind, str] = {
    OperationKind.INSTALL: "install",
    OperationKind.LINK: "link",
    OperationKind.ADD_DATAVERSE: "add Dataverse",
}
_TYPICAL: dict[OperationKind, float] = {
    OperationKind.INSTALL: TYPICAL_INSTALL_SECONDS,
    OperationKind.LINK: TYPICAL_LINK_SECONDS,
    OperationKind.ADD_DATAVERSE: TYPICAL_ADD_DATAVERSE_SECONDS,
}


@dataclass(frozen=True, slots=True)
class FleetRow:
    environment: LcsEnvironment
    lcs_read_at: float  # when LCS listed it (perhaps a cached listing: then it is older)
    integration: Fact = READING
    dataverse: Fact = READING
    packages: Fact = READING
    link: Fact = READING
    mismatch: Fact = READING
    operation: Fact = READING
    doctor: Fact = NOT_CHECKED
    package_states: tuple[PackageStatus, ...] = ()  # every dual-write package, once read
    # Shown from the on-disk cache: a live read has not replaced it (yet, or it could not).
    from_cache: bool = False

    @property
    def project_id(self) -> str:
        return self.environment.project_id

    @property
    def environment_id(self) -> str:
        return self.environment.environment_id

    @property
    def key(self) -> tuple[str, str]:
        """Identifies the row across reads: its project and its LCS id (hyphens and case ignored)."""
        return (self.project_id, self.environment_id.replace("-", "").lower())

    def fact(self, column: Column) -> Fact:
        env = self.environment
        lcs = {
            Column.NAME: env.name,
            Column.TYPE: env.environment_type,
            Column.STATE: env.deployment_status or env.deployment_state,
            Column.VERSION: env.application_release or env.application_version,
        }
        if column in lcs:
            return Fact(lcs[column], self.lcs_read_at)
        if column is Column.AGE:
            oldest = self.oldest_read_at
            return Fact("", oldest)
        return {
            Column.INTEGRATION: self.integration,
            Column.DATAVERSE: self.dataverse,
            Column.PACKAGES: self.packages,
            Column.LINK: self.link,
            Column.MISMATCH: self.mismatch,
            Column.OPERATION: self.operation,
            Column.DOCTOR: self.doctor,
        }[column]

    @property
    def facts(self) -> tuple[Fact, ...]:
        return tuple(self.fact(column) for column in Column if column is not Column.AGE)

    @property
    def complete(self) -> bool:
        """Every source has answered (or failed): nothing is still being read."""
        return not any(fact.reading for fact in self.facts)

    @property
    def oldest_read_at(self) -> float | None:
        times = [fact.read_at for fact in self.facts if fact.read_at is not None]
        return min(times) if times else None

    @property
    def faults(self) -> tuple[Fault, ...]:
        seen: list[Fault] = []
        for fact in self.facts:
            if fact.fault is not None and fact.fault not in seen:
                seen.append(fact.fault)
        return tuple(seen)


def listed_row(environment: LcsEnvironment, read_at: float) -> FleetRow:
    """A row as soon as LCS lists its environment: the other facts are being read."""
    return FleetRow(environment, read_at)


def failed_row(row: FleetRow, fault: Fault) -> FleetRow:
    """Its Power Platform facts could not be read at all (no snapshot): each says why."""
    failed = Fact(UNKNOWN, fault=fault)
    return replace(
        row,
        integration=failed,
        dataverse=failed,
        packages=failed,
        link=failed,
        mismatch=failed,
        operation=failed,
        from_cache=False,
    )


def read_row(
    row: FleetRow,
    snapshot: PowerPlatformSnapshot,
    assessment: Assessment,
    running: Sequence[OperationRecord] = (),
    *,
    doctor: Fact = NOT_CHECKED,
    now: float | None = None,
) -> FleetRow:
    """The row completed from the main screen's snapshot and assessment and dwtui's running operations."""
    at = snapshot.read_at
    moment = at if now is None else now
    return replace(
        row,
        integration=_integration(snapshot, assessment, at),
        dataverse=_dataverse(snapshot.dataverse, at),
        packages=_packages(snapshot, assessment, at),
        link=_link(snapshot.link, assessment, at),
        mismatch=_mismatch(snapshot, assessment, at),
        operation=_operation(snapshot, assessment, running, at, moment),
        doctor=doctor,
        package_states=assessment.packages,
        from_cache=False,
    )


def _first_fault(*parts: object) -> Fault | None:
    faults = (part for part in parts if isinstance(part, Fault) and part.code != NOT_INTEGRATED_CODE)
    return next(faults, None)


def _integration(snapshot: PowerPlatformSnapshot, assessment: Assessment, at: float) -> Fact:
    state = assessment.integration
    if state is IntegrationState.UNKNOWN:
        return Fact(UNKNOWN, at, fault=_first_fault(snapshot.dataverse, snapshot.integration))
    dataverse = snapshot.dataverse
    detail = dataverse.display_name if isinstance(dataverse, DataverseEnvironment) else ""
    return Fact(state.value, at, detail)


def _dataverse(dataverse: DataverseEnvironment | Fault | None, at: float) -> Fact:
    if isinstance(dataverse, Fault):
        return Fact(UNKNOWN, at, fault=dataverse)
    if dataverse is None:
        return Fact(NONE, at, "no Power Platform environment names this environment")
    if not dataverse.instance_url:
        if dataverse.provisioning_state.lower() == _ADDING_DATAVERSE:
            return Fact("being added", at, f"Dataverse is being added to {dataverse.display_name}")
        return Fact(NONE, at, f"{dataverse.display_name} has no Dataverse")
    state = dataverse.instance_state.lower() or "present"
    return Fact(state, at, " ".join(part for part in (dataverse.version, dataverse.instance_url) if part))


def _packages(snapshot: PowerPlatformSnapshot, assessment: Assessment, at: float) -> Fact:
    if isinstance(snapshot.packages, Fault):
        return Fact(UNKNOWN, at, fault=snapshot.packages)
    if snapshot.packages is None:
        return Fact(NONE, at, "no Dataverse to install into")
    states = [status.state for status in assessment.packages]
    listed = sum(1 for state in states if state is not Installed.NOT_LISTED)
    installed = states.count(Installed.INSTALLED)
    words = [f"{installed} of {listed} dual-write packages installed"]
    for state in (Installed.FAILED, Installed.INSTALLING):
        if state in states:
            words.append(f"{states.count(state)} {state.value}")
    return Fact(assessment.app.value, at, ", ".join(words), number=float(installed))


def _link(link: DualWriteLink | Fault | None, assessment: Assessment, at: float) -> Fact:
    state = assessment.link
    if state is LinkState.UNKNOWN:
        return Fact(UNKNOWN, at, fault=link if isinstance(link, Fault) else None)
    detail = ""
    if isinstance(link, DualWriteLink):
        if link.linked:
            detail = f"to {link.dataverse_name or link.dataverse_url}"
        elif link.request is not None and link.request.message:
            detail = link.request.message
    return Fact(state.value, at, detail)


def _mismatch(snapshot: PowerPlatformSnapshot, assessment: Assessment, at: float) -> Fact:
    mismatch = assessment.mismatch
    if mismatch is not None:
        names = mismatch.integration_dataverse_url or "no Dataverse"
        return Fact(
            "yes",
            at,
            f"dual-write is linked to {mismatch.dual_write_dataverse_url}; Power Platform Integration "
            f"names {names}",
        )
    if assessment.link is LinkState.UNKNOWN:
        return Fact(UNKNOWN, at, "the link state could not be read", fault=_first_fault(snapshot.link))
    if assessment.link is LinkState.LINKED and assessment.integration is IntegrationState.UNKNOWN:
        return Fact(UNKNOWN, at, "Power Platform Integration could not be read", fault=_first_fault(
            snapshot.dataverse, snapshot.integration
        ))
    return Fact("no", at)


def _progress(kind: OperationKind, elapsed: float | None, percent: float | None) -> tuple[str, float | None]:
    """(words, percent for sorting): the service's percent, else an estimate from the typical time."""
    if percent is not None:
        return f"{percent:.0f}%", percent
    if elapsed is None:
        return "", None
    estimate = estimate_progress(elapsed, None, typical=_TYPICAL[kind])
    return estimate.summary, None


def _seconds_since(iso: str, now: float) -> float | None:
    try:
        moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0.0, now - moment.timestamp())


def _operation(
    snapshot: PowerPlatformSnapshot,
    assessment: Assessment,
    running: Sequence[OperationRecord],
    at: float,
    now: float,
) -> Fact:
    """The operation under way: one dwtui follows (with its last poll), else what the services show."""
    for kind in OperationKind:
        record = next((r for r in running if r.kind is kind and not r.finished), None)
        if record is None:
            continue
        progress, percent = _progress(kind, now - record.started_at, record.percent)
        stage = f"{record.status.value}: {record.message}" if record.message else record.status.value
        detail = "; ".join(part for part in (stage, progress) if part)
        return Fact(OPERATION_WORDS[kind], record.last_polled_at or record.started_at, detail, number=percent)
    link = snapshot.link
    if assessment.link is LinkState.LINKING and isinstance(link, DualWriteLink):
        request = link.request
        elapsed = _seconds_since(request.created_on, now) if request and request.created_on else None
        progress, _ = _progress(OperationKind.LINK, elapsed, None)
        message = request.message if request else ""
        detail = "; ".join(part for part in (message, progress) if part)
        return Fact(OPERATION_WORDS[OperationKind.LINK], at, detail)
    if any(status.state is Installed.INSTALLING for status in assessment.packages):
        return Fact(OPERATION_WORDS[OperationKind.INSTALL], at, "the package list says Installing")
    dataverse = snapshot.dataverse
    if (
        isinstance(dataverse, DataverseEnvironment)
        and not dataverse.instance_url
        and dataverse.provisioning_state.lower() == _ADDING_DATAVERSE
    ):
        return Fact(OPERATION_WORDS[OperationKind.ADD_DATAVERSE], at, "BAP says LinkedDatabaseProvisioning")
    return Fact(NONE, at)
