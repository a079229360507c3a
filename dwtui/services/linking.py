"""Link to Power Platform environment and Reset dual-write connection, for both front ends.

Functions take a Session (they do I/O and block: call them from a worker thread or the CLI).
Every change is recorded in the ActivityLog as kind "change": who, what, which environment, result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dwtui.domain.linking import (
    TYPICAL_LINK_SECONDS,
    ResetPlan,
    integration_dataverse,
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
from dwtui.services.dualwrite import SERVICE, DualWriteGateway, reset_payload
from dwtui.services.errors import ServiceError, certainly_not_sent
from dwtui.services.operations import OperationStore
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


def start_link(
    session: Session,
    environment: LcsEnvironment,
    snapshot: PowerPlatformSnapshot,
    *,
    store: OperationStore,
    legal_entities: Sequence[str] = (),
) -> OperationRecord:
    """Claim the environment's link slot, ask the gateway to link, and save the request id.

    The slot is claimed before the POST, so a second press (or terminal) gets AlreadyRunning and
    watches the first. The POST is never retried: a lost answer may still have started a link.
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
        started = gateway.start_link(environment, dataverse, legal_entities)
    except ServiceError as error:
        fault = error.fault
        if certainly_not_sent(fault):
            store.release(record.claim_id)  # refused, or never sent (no token): nothing was started
        else:
            # No answer, or a server error: the link may or may not be under way. Free the slot
            # and say so; the next refresh shows whether dual-write got linked.
            store.finish(
                record.claim_id,
                OperationStatus.FAILED,
                message="the link request got no clear answer",
                error_code=fault.code,
                error_message=fault.message,
            )
        record_change(
            session, environment, LINK, f"failed [{fault.code}] {fault.message}", target, service=SERVICE
        )
        raise
    record = store.attach(
        record.claim_id,
        link_operation_id(started.connection_set_id, started.request_id),
        message="link requested",
    )
    record_change(
        session, environment, LINK, f"started (request {started.request_id})", target, service=SERVICE
    )
    return record


def active_link(
    session: Session, environment: LcsEnvironment, store: OperationStore
) -> OperationRecord | None:
    """The link this or another run started and that has not finished; stale claims are settled.

    A claim without a request id whose claimant died cannot be polled: if dual-write is linked
    now, the link happened; otherwise the slot is freed so the person can link again.
    """
    record = store.active(session.profile.name, environment.environment_id, OperationKind.LINK)
    if record is None or not store.is_stale(record):
        return record
    link = gateway_of(session).link(environment.fo_url)
    if link.linked:
        store.finish(record.claim_id, OperationStatus.SUCCEEDED, message="linked")
    else:
        store.release(record.claim_id)
    return None


class LinkStatusSource:
    """The gateway seen as services.watch polls an operation: `operation(env, id)` -> OperationState."""

    def __init__(self, gateway: DualWriteGateway) -> None:
        self.gateway = gateway

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

    def packages(self, bap_environment_id: str) -> tuple[ApplicationPackage, ...]:
        # A link has no package to fall back on; active_link() settles id-less claims instead.
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
    source = LinkStatusSource(gateway_of(session))

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
