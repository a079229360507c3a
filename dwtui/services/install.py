"""The dual-write application install, as steps a front end calls from a worker thread.

prepare_install (fresh package state + the terms to show) -> start_install (claim, POST, attach)
-> services.watch.watch(...). On start-up a front end calls resume_install to pick up an install
started earlier (by this terminal before it was closed, or by another one) instead of starting
a second. A claim whose POST answer was lost is settled from the package state, never by posting
again.
"""

from __future__ import annotations

from dataclasses import dataclass

from dwtui.domain.assessment import dual_write_package
from dwtui.domain.models import (
    DataverseEnvironment,
    Fault,
    LcsEnvironment,
    PackageState,
    PowerPlatformSnapshot,
)
from dwtui.domain.operations import (
    OperationKind,
    OperationRecord,
    OperationStatus,
    PackageListing,
    TermsDocument,
    no_terms_notice,
)
from dwtui.domain.token_refusals import CONSENT_REQUIRED
from dwtui.services.changes import record_change
from dwtui.services.errors import ServiceError
from dwtui.services.operations import OperationStore
from dwtui.services.ppapi import SERVICE
from dwtui.services.session import Session

KIND = OperationKind.INSTALL


@dataclass(frozen=True, slots=True)
class InstallPlan:
    """What the terms modal shows and what start_install posts."""

    environment: LcsEnvironment
    dataverse: DataverseEnvironment
    listing: PackageListing
    terms: tuple[TermsDocument, ...]
    notice: str = ""  # shown instead of terms when the package lists none


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


def _refuse(message: str, code: str) -> ServiceError:
    return ServiceError(Fault(service="dwtui", message=message, code=code))


def _read_only(session: Session, environment: LcsEnvironment) -> bool:
    return environment.is_production and not session.profile.allow_production_changes


def prepare_install(
    session: Session, environment: LcsEnvironment, snapshot: PowerPlatformSnapshot
) -> InstallPlan:
    """Re-read the package (its state may have changed since the screen was painted) and its terms."""
    if _read_only(session, environment):
        raise _refuse(
            "production environments are read-only; set allow_production_changes = true in the profile",
            "read_only",
        )
    dataverse = snapshot.dataverse
    if not isinstance(dataverse, DataverseEnvironment):
        raise _refuse("Power Platform Integration must be set up first", "not_integrated")
    listings = session.ppapi.listings(dataverse.bap_environment_id)
    package = dual_write_package(tuple(item.package for item in listings))
    if package is None:
        raise _refuse("the environment lists no dual-write application package", "no_package")
    listing = next(item for item in listings if item.package is package)
    if package.state is PackageState.INSTALLED:
        raise _refuse("the dual-write application is already installed", "already_installed")
    if package.state is PackageState.INSTALLING:
        raise _refuse("the dual-write application is being installed", "already_running")
    terms = tuple(_terms(session, uri) for uri in listing.terms_uris)
    notice = "" if listing.terms_uris else no_terms_notice(listing.learn_more_url)
    return InstallPlan(environment, dataverse, listing, terms, notice)


def _terms(session: Session, uri: str) -> TermsDocument:
    try:
        return TermsDocument(uri, text=session.ppapi.terms(uri))
    except ServiceError as error:
        return TermsDocument(uri, error=error.fault.message)


def _certainly_not_started(fault: Fault) -> bool:
    # A 4xx answer (throttling included) means the service refused the request; a timeout, a cut
    # connection or a 5xx may come after the service acted on it. A token refused for want of
    # consent means the request was never sent.
    if fault.code == CONSENT_REQUIRED:
        return True
    status = fault.http_status
    return status is not None and 400 <= status < 500


def start_install(session: Session, plan: InstallPlan, store: OperationStore) -> OperationRecord:
    """Claim the slot, POST the install once, save its operation id. AlreadyRunning if claimed."""
    record = store.begin(
        KIND,
        session.profile.name,
        plan.environment.environment_id,
        plan.dataverse.bap_environment_id,
        plan.listing.package.unique_name,
    )
    what = f"Dual-write application install ({plan.listing.package.unique_name})"
    target = f"Power Platform environment {plan.dataverse.bap_environment_id}"
    try:
        started = session.ppapi.install(plan.dataverse.bap_environment_id, plan.listing)
    except ServiceError as error:
        fault = error.fault
        if fault.service == "sign-in" or _certainly_not_started(fault):
            store.release(record.claim_id)
            record_change(
                session,
                plan.environment,
                what,
                f"refused [{fault.code}] {fault.message}",
                target,
                service=SERVICE,
            )
            raise
        record_change(
            session,
            plan.environment,
            what,
            f"answer lost [{fault.code}]; following the package state",
            target,
            service=SERVICE,
        )
        raise InstallUncertain(record, fault) from error
    # Any other exception leaves the POST in an unknown state: the claim stays for settle_claim().
    record_change(
        session,
        plan.environment,
        what,
        f"requested (operation {started.operation_id})",
        target,
        service=SERVICE,
    )
    return store.attach(record.claim_id, started.operation_id, message=started.state or "install requested")


def settle_claim(session: Session, store: OperationStore, record: OperationRecord) -> OperationRecord | None:
    """Decide a claim without an operation id from the package state; never posts.

    Installing: keep it (the watcher follows the package state). Installed / InstallFailed: finish
    it with that outcome. Not installed: the POST never took effect, so release the slot (None).
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
    store.release(record.claim_id)
    return None


def resume_install(session: Session, store: OperationStore, environment_id: str) -> Resumed:
    """The install to keep watching for this environment, if any (call on start-up and on refresh)."""
    last = store.last(environment_id, KIND)
    finished = last if last is not None and last.finished else None
    active = store.active(session.profile.name, environment_id, KIND)
    if active is None:
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
