"""The dual-write packages' install, as steps a front end calls from a worker thread.

read_packages (what is installed) -> plan_install (the packages wanted and what they need, in
dependency order, with their terms) -> start_install (claim, POST the first, attach) ->
services.watch.watch(...) -> continue_plan (the next package, once the last one succeeded) ... One
install at a time per environment: the operation store's claim covers the whole environment.

On start-up a front end calls resume_install to pick up an install started earlier (by this
terminal before it was closed, or by another one) instead of starting a second, and to go on with a
plan whose next package was not started yet. A claim whose POST answer was lost is settled from the
package state, never by posting again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dwtui.domain.models import (
    DataverseEnvironment,
    Fault,
    LcsEnvironment,
    PackageState,
    PowerPlatformSnapshot,
)
from dwtui.domain.operations import (
    TYPICAL_INSTALL_SECONDS,
    OperationKind,
    OperationRecord,
    OperationStatus,
    PackageListing,
    TermsDocument,
    no_terms_notice,
)
from dwtui.domain.packages import (
    APPLICATION_KEYS,
    DualWritePackage,
    Installed,
    PackageProblem,
    PackageStatus,
    by_name,
    install_plan,
    statuses,
)
from dwtui.services.changes import record_change
from dwtui.services.errors import ServiceError, certainly_not_sent
from dwtui.services.operations import AlreadyRunning, OperationStore
from dwtui.services.ppapi import SERVICE
from dwtui.services.session import Session
from dwtui.services.watch import NOT_SHOWN_YET, PACKAGE_PATIENCE

KIND = OperationKind.INSTALL
# [I] A 409 to the install POST is read as "another install is under way" (no source shows it).
UNDER_WAY = "another install is under way (the service refused a second one); following the package state"


@dataclass(frozen=True, slots=True)
class PackageChoice:
    """The dual-write packages of one environment, read afresh: what a person chooses from."""

    environment: LcsEnvironment
    dataverse: DataverseEnvironment
    listings: tuple[PackageListing, ...]
    statuses: tuple[PackageStatus, ...]


@dataclass(frozen=True, slots=True)
class PlanStep:
    package: DualWritePackage
    listing: PackageListing
    terms: tuple[TermsDocument, ...]  # when the list carries terms URIs (undocumented; rarely)
    notice: str = ""  # shown instead of terms when the list carries none

    @property
    def unique_name(self) -> str:
        return self.listing.package.unique_name


@dataclass(frozen=True, slots=True)
class InstallPlan:
    """What the terms dialog shows and what start_install posts, package by package."""

    environment: LcsEnvironment
    dataverse: DataverseEnvironment
    steps: tuple[PlanStep, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(step.unique_name for step in self.steps)

    def titles(self) -> str:
        return ", ".join(step.package.title for step in self.steps)


class InstallUncertain(ServiceError):
    """The install POST got no answer: it may have started. The claim stays until settle_claim()."""

    def __init__(self, record: OperationRecord, fault: Fault) -> None:
        super().__init__(
            Fault(
                service=fault.service,
                message=f"the install request got no answer ({fault.message}); it may have started. "
                "dwtui will check the package state before anything is sent again",
                code="install_uncertain",
                url=fault.url,
            )
        )
        self.record = record
        self.cause = fault


@dataclass(frozen=True, slots=True)
class Resumed:
    """What resume_install found: an install to keep watching, and the last one's outcome."""

    record: OperationRecord | None  # watch this; None when nothing runs
    note: str = ""  # a sentence for the progress pane / stderr
    last: OperationRecord | None = None  # the newest finished install, for "last install failed"
    started_elsewhere: bool = False  # another live process is between its claim and its POST
    # A plan whose last install succeeded but whose next package was not started (dwtui was closed
    # in between): continue_plan(..., unfinished) goes on with it.
    unfinished: OperationRecord | None = None


def _refuse(message: str, code: str) -> ServiceError:
    return ServiceError(Fault(service="dwtui", message=message, code=code))


def _read_only(session: Session, environment: LcsEnvironment) -> bool:
    return environment.is_production and not session.profile.allow_production_changes


def read_packages(
    session: Session, environment: LcsEnvironment, snapshot: PowerPlatformSnapshot
) -> PackageChoice:
    """Read the package list again (its states may have changed since the screen was painted)."""
    if _read_only(session, environment):
        raise _refuse(
            "production environments are read-only; set allow_production_changes = true in the profile",
            "read_only",
        )
    dataverse = snapshot.dataverse
    if not isinstance(dataverse, DataverseEnvironment):
        raise _refuse("Power Platform Integration must be set up first", "not_integrated")
    if not dataverse.instance_url:
        raise _refuse(
            "the Power Platform environment has no Dataverse yet: add Dataverse first", "no_dataverse"
        )
    listings = session.ppapi.listings(dataverse.bap_environment_id)
    return PackageChoice(environment, dataverse, listings, statuses(tuple(item.package for item in listings)))


def wanted_keys(names: tuple[str, ...] = (), *, every: bool = False) -> tuple[str, ...]:
    """The plan a person asks for: the dual-write application, plus packages named by key or name."""
    from dwtui.domain.packages import CATALOGUE

    if every:
        return tuple(package.key for package in CATALOGUE)
    try:
        return tuple(dict.fromkeys((*APPLICATION_KEYS, *(by_name(name).key for name in names))))
    except PackageProblem as problem:
        raise _refuse(str(problem), "unknown_package") from problem


@dataclass(frozen=True, slots=True)
class PreparedChoice:
    """The packages a person can choose from, each with its terms already read (the TUI's dialog)."""

    choice: PackageChoice
    steps: dict[str, PlanStep]  # by package key: every dual-write package that can be installed

    def plan(self, wanted: tuple[str, ...]) -> InstallPlan:
        """The plan for `wanted` (keys) and what they need, in dependency order; no I/O."""
        try:
            needed = install_plan(tuple(item.package for item in self.choice.listings), wanted)
        except PackageProblem as problem:
            raise _refuse(str(problem), "package_problem") from problem
        if not needed:
            raise _refuse("every package of the plan is installed already", "already_installed")
        return InstallPlan(
            self.choice.environment,
            self.choice.dataverse,
            tuple(self.steps[status.package.key] for status in needed),
        )


def _step(session: Session, status: PackageStatus, listing: PackageListing) -> PlanStep:
    # PP-TUT: terms arrive with the install answer (termsOfServiceBlobUris); a list item that
    # carries them too [I] lets them be read before Configure.
    terms = tuple(_terms(session, uri) for uri in listing.terms_uris)
    notice = "" if listing.terms_uris else no_terms_notice(listing.learn_more_url)
    return PlanStep(status.package, listing, terms, notice)


def prepare_choice(session: Session, choice: PackageChoice) -> PreparedChoice:
    """Read the terms of every dual-write package that can be installed (the list rarely has any)."""
    steps = {}
    for status in choice.statuses:
        if status.listed is None or status.state not in (Installed.NOT_INSTALLED, Installed.FAILED):
            continue
        listing = next(item for item in choice.listings if item.package is status.listed)
        steps[status.package.key] = _step(session, status, listing)
    return PreparedChoice(choice, steps)


def plan_install(
    session: Session, choice: PackageChoice, wanted: tuple[str, ...] = APPLICATION_KEYS
) -> InstallPlan:
    """The packages to install for `wanted` and what they need, in dependency order, with terms."""
    try:
        needed = install_plan(tuple(item.package for item in choice.listings), tuple(wanted))
    except PackageProblem as problem:
        raise _refuse(str(problem), "package_problem") from problem
    if not needed:
        raise _refuse("every package of the plan is installed already", "already_installed")
    steps = []
    for status in needed:
        listing = next(item for item in choice.listings if item.package is status.listed)
        steps.append(_step(session, status, listing))
    return InstallPlan(choice.environment, choice.dataverse, tuple(steps))


def prepare_install(
    session: Session,
    environment: LcsEnvironment,
    snapshot: PowerPlatformSnapshot,
    wanted: tuple[str, ...] = APPLICATION_KEYS,
) -> InstallPlan:
    """read_packages and plan_install in one (the CLI's path)."""
    return plan_install(session, read_packages(session, environment, snapshot), wanted)


def _terms(session: Session, uri: str) -> TermsDocument:
    try:
        return TermsDocument(uri, text=session.ppapi.terms(uri))
    except ServiceError as error:
        return TermsDocument(uri, error=error.fault.message)


def _post(
    session: Session,
    environment: LcsEnvironment,
    bap_environment_id: str,
    listing: PackageListing,
    plan: tuple[str, ...],
    store: OperationStore,
) -> OperationRecord:
    """Claim the environment's install slot, POST this package once, save its operation."""
    unique_name = listing.package.unique_name
    record = store.begin(
        KIND, session.profile.name, environment.environment_id, bap_environment_id, unique_name, plan=plan
    )
    what = f"Dual-write package install ({unique_name})"
    target = f"Power Platform environment {bap_environment_id}"
    try:
        record = store.mark_sent(record.claim_id)
        started = session.ppapi.install(bap_environment_id, listing)
    except ServiceError as error:
        fault = error.fault
        if fault.http_status == 409:
            # [I] The service refuses an install while another runs (the simulator's 409; the real
            # answer is undocumented): that one is followed by this package's state, never posted
            # again. The claim stays, without an operation id, as for a lost answer.
            record_change(
                session,
                environment,
                what,
                f"refused [{fault.code}] {fault.message}; following the install under way",
                target,
                service=SERVICE,
            )
            kept = store.update(record.observed(store.clock(), OperationStatus.RUNNING, UNDER_WAY, None))
            raise AlreadyRunning(
                kept,
                f"the Power Platform API refused a second install ({fault.code}: {fault.message}); "
                f"following {unique_name} by its package state",
            ) from error
        if certainly_not_sent(fault):
            store.release(record.claim_id)
            record_change(
                session, environment, what, f"refused [{fault.code}] {fault.message}", target, service=SERVICE
            )
            raise
        record_change(
            session,
            environment,
            what,
            f"answer lost [{fault.code}]; following the package state",
            target,
            service=SERVICE,
        )
        raise InstallUncertain(record, fault) from error
    # Any other exception leaves the POST in an unknown state: the claim stays for settle_claim().
    terms = f"; terms {', '.join(started.terms_uris)}" if started.terms_uris else ""
    record_change(
        session,
        environment,
        what,
        f"requested (operation {started.operation_id}){terms}",
        target,
        service=SERVICE,
    )
    return store.attach(
        record.claim_id,
        started.operation_id,
        message=started.state or "install requested",
        operation_url=started.operation_url,
    )


def start_install(session: Session, plan: InstallPlan, store: OperationStore) -> OperationRecord:
    """Start the plan's first package. AlreadyRunning when an install is under way already."""
    bap_id = plan.dataverse.bap_environment_id
    return _post(session, plan.environment, bap_id, plan.steps[0].listing, plan.names, store)


def continue_plan(
    session: Session, environment: LcsEnvironment, finished: OperationRecord, store: OperationStore
) -> OperationRecord | None:
    """After `finished` succeeded: start the plan's next package that is not installed, or None.

    The list is read again first, so a package installed meanwhile (elsewhere) is skipped, and one
    being installed by someone else is followed rather than posted again.
    """
    rest = finished.rest_of_plan()
    if not rest:
        return None
    if finished.claim_id and store.get(finished.claim_id) is not None:
        # Handed on once, whatever happens next: a refused or failed request must not be sent
        # again at every refresh; the person plans again with d / `dwtui setup`.
        store.update(replace(finished, plan=()))
    listings = session.ppapi.listings(finished.bap_environment_id)
    for name in rest:
        listing = next((item for item in listings if item.package.unique_name.lower() == name.lower()), None)
        if listing is None:
            raise _refuse(f"{name} is no longer in this environment's package list", "not_listed")
        state = listing.package.state
        if state is PackageState.INSTALLED:
            continue
        if state is PackageState.INSTALLING:
            raise _refuse(f"{name} is being installed elsewhere; refresh to follow it", "already_running")
        return _post(session, environment, finished.bap_environment_id, listing, finished.plan, store)
    return None


def _patience(session: Session) -> float:
    speed = session.demo.speed if session.demo is not None else 1.0
    return PACKAGE_PATIENCE * TYPICAL_INSTALL_SECONDS / speed


def settle_claim(session: Session, store: OperationStore, record: OperationRecord) -> OperationRecord | None:
    """Decide a claim without an operation id from the package state; never posts.

    Installing, or not yet shown in the list while the request is recent: keep it (the watcher
    follows the package state). Installed / InstallFailed: finish it with that outcome. Still not
    installed long after the request: it never took effect, so release the slot (None).
    """
    package = next(
        (
            p
            for p in session.ppapi.packages(record.bap_environment_id)
            if p.unique_name.lower() == record.package.lower()
        ),
        None,
    )
    if package is None:
        raise ServiceError(
            Fault(SERVICE, f"the package {record.package} is not listed for this environment", "not_listed")
        )
    if package.state is PackageState.INSTALLING:
        return store.update(record.observed(store.clock(), OperationStatus.RUNNING, "installing", None))
    if package.state is PackageState.INSTALLED:
        return store.finish(record.claim_id, OperationStatus.SUCCEEDED, message="installed")
    if package.state is PackageState.INSTALL_FAILED:
        code, _, message = package.error.partition(": ")
        return store.finish(
            record.claim_id,
            OperationStatus.FAILED,
            message="install failed",
            error_code=code if message else "",
            error_message=message or package.error,
        )
    if store.clock() - record.started_at < _patience(session):
        # The list may not show an install at once [I]; the watcher decides after a while.
        return store.update(record.observed(store.clock(), OperationStatus.RUNNING, NOT_SHOWN_YET, None))
    store.release(record.claim_id)
    return None


def resume_install(session: Session, store: OperationStore, environment_id: str) -> Resumed:
    """The install to keep watching for this environment, if any (call on start-up and on refresh)."""
    last = store.last(environment_id, KIND)
    finished = last if last is not None and last.finished else None
    active = store.active(session.profile.name, environment_id, KIND)
    if active is None:
        if finished is not None and finished.status is OperationStatus.SUCCEEDED and finished.rest_of_plan():
            return Resumed(None, "going on with the packages of the plan", finished, unfinished=finished)
        return Resumed(None, "", finished)
    if active.operation_id:
        return Resumed(
            active, f"following the install started earlier (operation {active.operation_id})", finished
        )
    if not store.is_stale(active):
        return Resumed(
            active, "the install is being started in another terminal", finished, started_elsewhere=True
        )
    settled = settle_claim(session, store, active)
    if settled is None:
        return Resumed(
            None,
            "an earlier start was interrupted before the service took it; nothing is installing",
            finished,
        )
    if settled.finished:
        return Resumed(None, f"an earlier install ended: {settled.status.value}", settled)
    return Resumed(
        settled, "following an install whose start was interrupted (by its package state)", finished
    )
