"""Link to Power Platform environment and Reset dual-write connection, for both front ends.

Functions take a Session (they do I/O and block: call them from a worker thread or the CLI).
Every change is recorded in the ActivityLog as kind "change": who, what, which environment, result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from dwtui.domain.linking import (
    LINK_PATIENCE_SECONDS,
    TYPICAL_LINK_SECONDS,
    ClaimDecision,
    ClaimVerdict,
    ResetPlan,
    integration_dataverse,
    judge_link_claim,
    link_blocker,
    link_operation_id,
    reset_plan,
    split_link_operation_id,
)
from dwtui.domain.models import (
    ApplicationPackage,
    DualWriteLink,
    Fault,
    LcsEnvironment,
    PowerPlatformSnapshot,
)
from dwtui.domain.operations import OperationKind, OperationRecord, OperationState, OperationStatus
from dwtui.services.changes import record_change
from dwtui.services.dualwrite import SERVICE, DualWriteGateway, link_request_state, reset_payload
from dwtui.services.errors import ServiceError, certainly_not_sent
from dwtui.services.operations import AlreadyRunning, OperationStore, same_environment
from dwtui.services.session import Session
from dwtui.services.watch import Finished, WatchEvent, watch

LINK = "Link to Power Platform environment"


@dataclass(frozen=True, slots=True)
class ResetResult:
    plan: ResetPlan
    forced: bool
    after: PowerPlatformSnapshot  # read again once the reset answered: the mismatch should be gone


def refuse(code: str, message: str) -> ServiceError:
    return ServiceError(Fault(SERVICE, message, code=code))


def gateway_of(session: Session) -> DualWriteGateway:
    if session.gateway is None:
        raise refuse(
            "not_configured", "no dualwrite_gateway_url in the profile, so dual-write cannot be changed"
        )
    return session.gateway


def check_writable(session: Session, environment: LcsEnvironment) -> None:
    if environment.is_production and not session.profile.allow_production_changes:
        raise refuse(
            "read_only",
            f"{environment.name} is a production environment and the profile is read-only for it; "
            "set allow_production_changes = true in the profile to change it",
        )


def linked(snapshot: PowerPlatformSnapshot) -> DualWriteLink:
    link = snapshot.link
    if not isinstance(link, DualWriteLink) or not link.linked:
        raise refuse("not_linked", "dual-write is not linked, so there is no connection to reset")
    return link


def running_maps(session: Session, snapshot: PowerPlatformSnapshot) -> tuple[str, ...]:
    """The table maps that still run: a reset needs Force Reset while there are any."""
    return gateway_of(session).running_maps(linked(snapshot).connection_set_id)


def reset_connection(
    session: Session, environment: LcsEnvironment, snapshot: PowerPlatformSnapshot, force: bool
) -> ResetResult:
    """Reset dual-write connection (reset.md), then read the Power Platform state again.

    Not retried: a reset wipes maps, keys and history, so a second one after a lost answer could
    wipe what someone set up in between. A lost answer surfaces as a fault; refresh to see the state.
    """
    link = linked(snapshot)
    plan = reset_plan(environment, snapshot)
    assert plan is not None  # linked() guarantees a link
    if not plan.allowed:
        raise refuse("integration_not_set_up", plan.reason)
    check_writable(session, environment)
    gateway = gateway_of(session)
    what = "Reset dual-write connection" + (" (force)" if force else "")
    moves = f"from {plan.current_dataverse_url or '?'} to {plan.target_dataverse_url or '?'}"
    try:
        payload = reset_payload(gateway.connection_set(link.connection_set_name), plan.target)
        gateway.reset(link.connection_set_id, payload, force=force)
    except ServiceError as error:
        record_change(
            session,
            environment,
            what,
            f"failed [{error.fault.code}] {error.fault.message}",
            f"{moves}; {plan.scenario.value}",
            service=SERVICE,
        )
        raise
    record_change(session, environment, what, "succeeded", f"{moves}; {plan.scenario.value}", service=SERVICE)
    return ResetResult(plan, force, session.power_platform(environment))


# -- Link to Power Platform environment ------------------------------------------------------------

REQUESTED = "link requested"
# [I] what dwtui assumes of the gateway (services/dualwrite.py): said wherever a person reads it.
ON_GATEWAY = "inferred: the gateway is taken to list a link request on its connection set"
FOUND = f"following the link request the gateway lists for this environment ({ON_GATEWAY})"
ADOPTED = f"following a link started elsewhere, found on the gateway ({ON_GATEWAY})"
NOT_SHOWN_YET = f"the gateway does not show the link request yet; asking again ({ON_GATEWAY})"
NEVER_TAKEN = (
    "the gateway shows no link and no link request for this environment: the request never reached "
    f"it, and nothing is linking. Link again ({ON_GATEWAY})"
)
ELSEWHERE = "the link is being requested in another terminal"


def _patience(session: Session) -> float:
    speed = session.demo.speed if session.demo is not None else 1.0
    return LINK_PATIENCE_SECONDS / speed


def _reported(store: OperationStore, environment_id: str) -> frozenset[str]:
    """Request ids (lower case) of this environment's links already finished in the store."""
    return frozenset(
        split_link_operation_id(r.operation_id)[1].lower()
        for r in store.records()
        if r.kind is OperationKind.LINK
        and r.finished
        and r.operation_id
        and same_environment(r.lcs_environment_id, environment_id)
    )


def _judge(
    session: Session,
    environment: LcsEnvironment,
    store: OperationStore,
    record: OperationRecord,
    *,
    conflict: bool = False,
) -> tuple[ClaimDecision, DualWriteLink]:
    link = gateway_of(session).link(environment.fo_url)
    decision = judge_link_claim(
        link,
        claimed_at=record.started_at,
        now=store.clock(),
        sent=record.request_sent,
        patience=_patience(session),
        conflict=conflict,
        finished_requests=_reported(store, environment.environment_id),
    )
    return decision, link


def settle_link(
    session: Session,
    environment: LcsEnvironment,
    store: OperationStore,
    record: OperationRecord,
    *,
    conflict: bool = False,
) -> OperationRecord | None:
    """Decide a link claim without a request id from the gateway's own state; never sends again.

    The claim is attached to a link request the gateway lists as running (whoever sent it),
    finished when the gateway shows the link made or this claim's request failed, kept while a
    request sent moments ago may not show yet, and released (None) only when nothing can be under
    way: the request never left, or `conflict` (the gateway refused it for another request that it
    no longer shows), or it was sent longer ago than the patience allows. Call it before anything
    else on a claim in doubt: at start-up, on `link`, on `status`, after a lost answer.
    """
    decision, link = _judge(session, environment, store, record, conflict=conflict)
    request = decision.request
    verdict = decision.verdict
    if verdict is ClaimVerdict.FOLLOW:
        assert request is not None
        attached = store.attach(
            record.claim_id, link_operation_id(link.connection_set_id, request.request_id), message=FOUND
        )
        settled = store.update(attached.observed(store.clock(), OperationStatus.RUNNING, FOUND, None))
        result = f"found on the gateway (request {request.request_id}); following it"
    elif verdict is ClaimVerdict.SUCCEEDED:
        settled = store.finish(record.claim_id, OperationStatus.SUCCEEDED, message="linked")
        result = "succeeded (the gateway shows the link)"
    elif verdict is ClaimVerdict.FAILED:
        assert request is not None
        state = link_request_state(request)
        if request.request_id:
            store.attach(record.claim_id, link_operation_id(link.connection_set_id, request.request_id))
        settled = store.finish(
            record.claim_id,
            OperationStatus.FAILED,
            message="link failed",
            error_code=state.error_code,
            error_message=state.error_message,
        )
        result = f"failed [{state.error_code}] {state.error_message} (the gateway lists the request)"
    elif verdict is ClaimVerdict.WAIT:
        stored = store.get(record.claim_id) or record
        return store.update(stored.observed(store.clock(), OperationStatus.RUNNING, NOT_SHOWN_YET, None))
    else:
        store.release(record.claim_id)
        sent = "sent" if record.request_sent else "never sent"
        record_change(
            session, environment, LINK, f"not started (request {sent}; the gateway shows none)",
            service=SERVICE,
        )
        return None
    record_change(session, environment, LINK, result, service=SERVICE)
    return settled


def start_link(
    session: Session,
    environment: LcsEnvironment,
    snapshot: PowerPlatformSnapshot,
    *,
    store: OperationStore,
    legal_entities: Sequence[str] = (),
) -> OperationRecord:
    """Claim the environment's link slot, ask the gateway to link (once), and save the request id.

    The slot is claimed before the POST, so a second press (or terminal) gets AlreadyRunning and
    watches the first. The POST is never retried. When its answer is lost (no answer, a 5xx: the
    gateway may have acted) the claim is settled from the gateway's state (settle_link): the record
    returned is then attached to the request found, finished, or kept without an id while the
    request may not show yet (a watcher follows it through the gateway). A refusal for another link
    under way (409) raises AlreadyRunning with that one's record, to follow; any other refusal (4xx,
    no token) certainly started nothing: the claim is released and the fault raised.
    """
    blocker = link_blocker(snapshot)
    if blocker:
        raise refuse("cannot_link", blocker)
    check_writable(session, environment)
    gateway = gateway_of(session)
    dataverse = integration_dataverse(snapshot)
    assert dataverse is not None  # link_blocker() checked it
    record = store.begin(
        OperationKind.LINK, session.profile.name, environment.environment_id, dataverse.bap_environment_id, ""
    )
    target = f"to {dataverse.display_name} ({dataverse.instance_url})"
    try:
        gateway.token()  # a sign-in that fails here sent nothing; the POST asks again (cached)
        record = store.mark_sent(record.claim_id)
        started = gateway.start_link(environment, dataverse, legal_entities)
    except ServiceError as error:
        return _unanswered(session, environment, store, record, error, target)
    record = store.attach(
        record.claim_id, link_operation_id(started.connection_set_id, started.request_id), message=REQUESTED
    )
    record_change(
        session, environment, LINK, f"started (request {started.request_id})", target, service=SERVICE
    )
    return record


def _unanswered(
    session: Session,
    environment: LcsEnvironment,
    store: OperationStore,
    record: OperationRecord,
    error: ServiceError,
    target: str,
) -> OperationRecord:
    """The link POST failed: refused (nothing started), refused for another link, or in doubt."""
    fault = error.fault
    refused = f"refused [{fault.code}] {fault.message}"
    if fault.http_status == 409:
        # Refused because a link exists or is under way: follow that one, never send again.
        try:
            settled = settle_link(session, environment, store, record, conflict=True)
        except ServiceError:
            store.release(record.claim_id)  # this request was refused: it started nothing
            record_change(session, environment, LINK, refused, target, service=SERVICE)
            raise error from None
        if settled is not None:
            record_change(
                session, environment, LINK, f"{refused}; following the link under way", target,
                service=SERVICE,
            )
            raise AlreadyRunning(
                settled,
                f"the gateway refused a second link request ({fault.code}: {fault.message}); "
                "following the link under way",
            ) from error
        record_change(session, environment, LINK, refused, target, service=SERVICE)
        raise error
    if certainly_not_sent(fault):
        store.release(record.claim_id)  # refused, or never sent (no token): nothing was started
        record_change(session, environment, LINK, refused, target, service=SERVICE)
        raise error
    record_change(
        session, environment, LINK, f"answer lost [{fault.code}] {fault.message}; asking the gateway",
        target, service=SERVICE,
    )
    try:
        settled = settle_link(session, environment, store, record)
    except ServiceError:
        # The gateway cannot be read either: the claim stays, and its watcher (or the next run)
        # settles it from the gateway before anything is sent again.
        kept = store.get(record.claim_id) or record
        return store.update(kept.observed(store.clock(), OperationStatus.RUNNING, NOT_SHOWN_YET, None))
    if settled is None:
        raise error
    return settled


def _adopt(
    session: Session, environment: LcsEnvironment, store: OperationStore, link: DualWriteLink
) -> OperationRecord | None:
    """A link request the gateway lists as running that no claim here knows (another machine's)."""
    request = link.request
    if request is None or not request.running or not request.request_id:
        return None
    try:
        record = store.begin(
            OperationKind.LINK,
            session.profile.name,
            environment.environment_id,
            link.power_apps_environment_id,
            "",
        )
    except AlreadyRunning as running:
        return running.record
    attached = store.attach(
        record.claim_id, link_operation_id(link.connection_set_id, request.request_id), message=ADOPTED
    )
    return store.update(attached.observed(store.clock(), OperationStatus.RUNNING, ADOPTED, None))


def active_link(
    session: Session,
    environment: LcsEnvironment,
    store: OperationStore,
    link: DualWriteLink | Fault | None = None,
) -> OperationRecord | None:
    """The link to follow for this environment, settled first; None when nothing is linking.

    A claim with a request id is returned as it is, and so is one whose claimant (another terminal)
    is alive and still sending. A claim whose claimant went away without an id is settled from the
    gateway (settle_link): the record returned may then be finished (the person is told how it
    ended). With `link` (the gateway's state as just read), a link request the gateway lists as
    running that no claim knows (started on another machine) is claimed and followed too.
    """
    record = store.active(session.profile.name, environment.environment_id, OperationKind.LINK)
    if record is None:
        return _adopt(session, environment, store, link) if isinstance(link, DualWriteLink) else None
    if record.operation_id or not store.is_stale(record):
        return record
    return settle_link(session, environment, store, record)


class LinkStatusSource:
    """The gateway seen as services.watch polls an operation: `operation(env, id)` -> OperationState.

    A claim without a request id is followed through the gateway's own state (follow_unattached).
    """

    def __init__(self, session: Session, environment: LcsEnvironment, store: OperationStore) -> None:
        self.session = session
        self.environment = environment
        self.store = store
        self.gateway = gateway_of(session)

    def operation(
        self,
        bap_environment_id: str,
        operation_id: str,
        *,
        timeout: float | None = None,
        operation_url: str = "",
    ) -> OperationState:
        del bap_environment_id, operation_url
        cid, request_id = split_link_operation_id(operation_id)
        return self.gateway.link_status(cid, request_id, timeout=timeout)

    def follow_unattached(self, record: OperationRecord) -> OperationState:
        """One poll of a claim without a request id: its claimant's progress, or the gateway's state."""
        store = self.store
        stored = store.get(record.claim_id) if record.claim_id else None
        if stored is None:
            raise refuse("not_taken", "the link request was not taken: nothing is linking; link again")
        if stored.finished:
            return OperationState(
                stored.status,
                stored.status.value,
                stored.message,
                error_code=stored.error_code,
                error_message=stored.error_message,
            )
        if stored.operation_id:
            state = self.operation(stored.bap_environment_id, stored.operation_id)
            return replace(state, operation_id=stored.operation_id)
        mine = stored.claimant_pid == store.pid and stored.claimant_host == store.host
        if not mine and not store.is_stale(stored):
            return OperationState(OperationStatus.RUNNING, "starting", ELSEWHERE)
        decision, link = _judge(self.session, self.environment, store, stored)
        request = decision.request
        if request is not None and decision.verdict in (ClaimVerdict.FOLLOW, ClaimVerdict.FAILED):
            # The watcher keeps the request's id from now on (and a failed one is known as reported).
            state = link_request_state(request)
            found = link_operation_id(link.connection_set_id, request.request_id)
            return replace(state, message=state.message or FOUND, operation_id=found)
        if decision.verdict is ClaimVerdict.SUCCEEDED:
            return OperationState(OperationStatus.SUCCEEDED, "linked", "linked")
        if decision.verdict is ClaimVerdict.WAIT:
            return OperationState(OperationStatus.RUNNING, "", NOT_SHOWN_YET)
        return OperationState(
            OperationStatus.CANCELED, "", NEVER_TAKEN, error_code="link_not_taken", error_message=NEVER_TAKEN
        )

    def packages(self, bap_environment_id: str) -> tuple[ApplicationPackage, ...]:
        # A link has no package to fall back on: follow_unattached reads the gateway instead.
        raise refuse("no_request_id", "this link has no request id to follow; refresh to see the link state")


def watch_link(
    session: Session,
    environment: LcsEnvironment,
    record: OperationRecord,
    *,
    on_event: Callable[[WatchEvent], None],
    store: OperationStore | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    poll_now: threading.Event | None = None,
    speed: float = 1.0,
    clock: Callable[[], float] = time.time,
) -> OperationRecord:
    """Follow a link request to its end with the install's watcher (adaptive polls, faults, tokens)."""
    source = LinkStatusSource(session, environment, store or session.operations)

    def relay(event: WatchEvent) -> None:
        if isinstance(event, Finished):
            fault = event.fault
            result = "succeeded" if fault is None else f"failed [{fault.code}] {fault.message}"
            record_change(
                session, environment, LINK, result, f"request {event.record.operation_id}", service=SERVICE
            )
        on_event(event)

    return watch(
        source,
        record,
        on_event=relay,
        cancelled=cancelled,
        store=store,
        poll_now=poll_now,
        speed=speed,
        clock=clock,
        typical=TYPICAL_LINK_SECONDS,
        service=SERVICE,
    )
