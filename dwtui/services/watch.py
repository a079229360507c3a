"""Watching a long-running operation until it ends: adaptive polls, transient faults, silent tokens.

`watch()` blocks (run it in a worker thread) and reports through `on_event`, which may be called
from that thread: a front end turns each event into a message. The token is asked for at every
poll, so MSAL refreshes it silently during a 30-minute wait; when it cannot, the watcher says so
(SignInNeeded) and keeps waiting for a sign-in instead of failing. A record without an operation
id (the POST's answer was lost) is followed through the package state instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from dwtui.domain.errors import explain
from dwtui.domain.models import ApplicationPackage, Fault, PackageState
from dwtui.domain.operations import (
    TYPICAL_INSTALL_SECONDS,
    OperationRecord,
    OperationState,
    OperationStatus,
    estimate_progress,
    fault_delay,
    format_duration,
    poll_delay,
)
from dwtui.domain.watch_events import (
    Finished,
    GaveUp,
    Polled,
    SignInNeeded,
    StateChanged,
    TransientFault,
    WatchEvent,
)
from dwtui.services.errors import ServiceError, SignInRequired
from dwtui.services.http import MAX_RETRY_AFTER, beyond_cap_fault
from dwtui.services.operations import OperationStore
from dwtui.services.ppapi import SERVICE

# Transient faults in a row before giving up: with the backoff reaching 60 s this is about half
# an hour of a service that does not answer, longer than the install itself is expected to take.
MAX_TRANSIENT_STREAK = 40
MAX_PERSISTENT_STREAK = 3  # 4xx other than 401/408/429: an id the service does not know, say
_WAIT_SLICE = 0.25  # how often a wait looks at cancelled()
_TRANSIENT_CODES = frozenset({"timeout", "network", "malformed"})
_TRANSIENT_STATUSES = frozenset({401, 408, 429})
# An install followed by its package state (its POST's answer was lost): the list may say "None"
# for a while after the POST [I: no source shows the list during an install]. Only after this many
# typical durations without a change is it taken as "no install is running".
PACKAGE_PATIENCE = 1.5
NOT_SHOWN_YET = "the package list does not show the install yet"




class OperationSource(Protocol):
    """What the watcher polls: the Power Platform API for installs, the gateway for links."""

    def operation(
        self,
        bap_environment_id: str,
        operation_id: str,
        *,
        timeout: float | None = None,
        operation_url: str = "",
    ) -> OperationState: ...

    def packages(self, bap_environment_id: str) -> tuple[ApplicationPackage, ...]: ...


def is_transient(fault: Fault) -> bool:
    status = fault.http_status
    return (
        fault.code in _TRANSIENT_CODES
        or (status is not None and (status in _TRANSIENT_STATUSES or status >= 500))
        or fault.code.startswith("HTTP 5")
    )


def failure_fault(record: OperationRecord, service: str = SERVICE) -> Fault:
    return Fault(
        service=service,
        message=record.error_message or record.message or f"the operation ended {record.status.value}",
        code=record.error_code or record.status.value,
    )


def _state_from_package(client: OperationSource, record: OperationRecord) -> OperationState:
    for package in client.packages(record.bap_environment_id):
        if package.unique_name.lower() != record.package.lower():
            continue
        code, _, message = package.error.partition(": ")
        return {
            PackageState.INSTALLED: OperationState(OperationStatus.SUCCEEDED, "Installed", "installed"),
            PackageState.INSTALL_FAILED: OperationState(
                OperationStatus.FAILED,
                "InstallFailed",
                "install failed",
                error_code=code if message else "",
                error_message=message or package.error,
            ),
            PackageState.INSTALLING: OperationState(OperationStatus.RUNNING, "Installing", "installing"),
            # Followed because it was installing: back to "None" means nothing runs any more.
            # "None" right after the POST does not mean canceled: watch() decides after a while.
            PackageState.NOT_INSTALLED: OperationState(OperationStatus.RUNNING, "None", NOT_SHOWN_YET),
        }.get(
            package.state, OperationState(OperationStatus.UNKNOWN, package.state.value, package.state.value)
        )
    raise ServiceError(
        Fault(SERVICE, f"the package {record.package} is not listed for this environment", "not_listed")
    )


def poll_once(
    client: OperationSource, record: OperationRecord, timeout: float | None = None
) -> OperationState:
    if record.operation_id:
        return client.operation(
            record.bap_environment_id,
            record.operation_id,
            timeout=timeout,
            operation_url=record.operation_url,
        )
    # A source that can find an id-less claim's operation in its service's own state (the gateway's
    # link requests) says so with follow_unattached; installs fall back on the package state.
    follow = getattr(client, "follow_unattached", None)
    if follow is not None:
        state: OperationState = follow(record)
        return state
    return _state_from_package(client, record)


def gave_up_on_package(
    state: OperationState, record: OperationRecord, elapsed: float, typical: float
) -> bool:
    """An id-less install whose package list has said "None" for longer than patience allows."""
    return (
        not record.operation_id
        and state.raw_status == "None"
        and elapsed > PACKAGE_PATIENCE * typical
    )


class _Waiter:
    def __init__(
        self,
        cancelled: Callable[[], bool],
        poll_now: threading.Event | None,
        sleep: Callable[[float], None] | None,
    ) -> None:
        self.cancelled = cancelled
        self.poll_now = poll_now
        self.sleep = sleep

    def wait(self, seconds: float) -> None:
        """Wait, returning early when cancelled or when someone asks for a poll now."""
        if self.sleep is not None:
            self.sleep(seconds)
            return
        deadline = time.monotonic() + seconds
        while not self.cancelled():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            step = min(left, _WAIT_SLICE)
            if self.poll_now is not None:
                if self.poll_now.wait(step):
                    self.poll_now.clear()
                    return
            else:
                time.sleep(step)


def watch(
    client: OperationSource,
    record: OperationRecord,
    *,
    on_event: Callable[[WatchEvent], None],
    cancelled: Callable[[], bool] = lambda: False,
    store: OperationStore | None = None,
    poll_now: threading.Event | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.time,
    speed: float = 1.0,
    schedule: Callable[..., float] = poll_delay,
    typical: float = TYPICAL_INSTALL_SECONDS,
    poll_timeout: float | None = None,
    service: str = SERVICE,
) -> OperationRecord:
    """Poll until the operation ends, the watcher gives up, or `cancelled()`; the last record.

    `speed` > 1 compresses the schedule and the typical duration (the simulator's --speed).
    `sleep`, when given, replaces the interruptible wait (benchmarks with a simulated clock).
    """
    if record.finished:
        # Settled before the watch began (an interrupted start the service's state decided).
        on_event(_finished_event(record, service))
        return record
    waiter = _Waiter(cancelled, poll_now, sleep)
    scaled_typical = typical / speed
    transient = persistent = 0
    while not cancelled():
        elapsed = max(0.0, clock() - record.started_at)
        try:
            state = poll_once(client, record, poll_timeout)
        except SignInRequired as needed:
            retry_in = fault_delay(elapsed * speed, 3, typical=typical) / speed
            on_event(SignInNeeded(needed.fault.message, retry_in))
            waiter.wait(retry_in)
            continue
        except ServiceError as error:
            fault = error.fault
            if is_transient(fault):
                transient, persistent = transient + 1, 0
                limit = MAX_TRANSIENT_STREAK
            else:
                transient, persistent = 0, persistent + 1
                limit = MAX_PERSISTENT_STREAK
            streak = max(transient, persistent)
            if fault.retry_after is not None and fault.retry_after > MAX_RETRY_AFTER:
                # Never a silent sleep of hours: the operation goes on, the watching stops and says
                # when the service will answer again.
                if not fault.remedy:
                    fault = beyond_cap_fault(
                        fault.service, fault.message, fault.retry_after, MAX_RETRY_AFTER,
                        status=fault.http_status, url=fault.url,
                    )
                on_event(GaveUp(record, fault, streak))
                return record
            if streak >= limit:
                on_event(GaveUp(record, fault, streak))
                return record
            # Retry-After is the service's own clock: real seconds, whatever `speed` says.
            retry_in = (
                fault.retry_after
                if fault.retry_after is not None
                else fault_delay(elapsed * speed, streak, typical=typical) / speed
            )
            on_event(TransientFault(fault, retry_in, streak))
            waiter.wait(retry_in)
            continue
        transient = persistent = 0
        if state.operation_id and not record.operation_id:
            record = replace(record, operation_id=state.operation_id)
        if gave_up_on_package(state, record, elapsed * speed, typical):
            state = OperationState(
                OperationStatus.CANCELED,
                "None",
                f"the package list has shown no install for {format_duration(elapsed)}: the request was "
                "probably never taken; start the install again",
            )
        now = clock()
        old = record.status
        record = record.observed(now, state.status, state.message, state.percent)
        if old is not state.status:
            on_event(StateChanged(old, state.status, state.message, now))
        if state.status.terminal:
            record = _finish(record, state, now, store)
            on_event(_finished_event(record, service))
            return record
        if store is not None:
            record = _saved(store, record) or record
        next_in = schedule(elapsed * speed, typical=typical, percent=state.percent) / speed
        on_event(
            Polled(
                record,
                state.status,
                state.message,
                state.percent,
                estimate_progress(elapsed, state.percent, state.status, typical=scaled_typical),
                elapsed,
                next_in,
            )
        )
        waiter.wait(next_in)
    return record


def _finish(
    record: OperationRecord, state: OperationState, now: float, store: OperationStore | None
) -> OperationRecord:
    record = replace(record, finished_at=now, error_code=state.error_code, error_message=state.error_message)
    if store is not None:
        # Save the last poll first: finish() builds on the stored record, which would otherwise
        # keep the previous poll's time and percent.
        if _saved(store, record) is None:
            return record  # no longer in the store (released by its claimant): nothing to finish
        record = store.finish(
            record.claim_id,
            state.status,
            message=state.message,
            error_code=state.error_code,
            error_message=state.error_message,
        )
    return record


def _saved(store: OperationStore, record: OperationRecord) -> OperationRecord | None:
    """The record as stored after this poll; None when its claim is gone (its claimant released
    it: a watcher of another terminal's claim must not fail for that)."""
    try:
        return store.update(record)
    except KeyError:
        return None


def _finished_event(record: OperationRecord, service: str) -> Finished:
    if record.status is OperationStatus.SUCCEEDED:
        return Finished(record, record.status)
    fault = failure_fault(record, service)
    return Finished(record, record.status, fault, explain(fault))
