"""Add Dataverse to the Power Platform environment Power Platform Integration links (BAP provisionInstance).

The seed procedure's prerequisite ("Connect finance and operations apps with a new Microsoft Dataverse
instance") needs a Power Platform environment with Dataverse; LCS gives every environment one
without it at first (enable-power-platform-integration.md). The call is the one
New-AdminPowerAppCdsDatabase (Microsoft.PowerApps.Administration.PowerShell) and the terraform
provider's AddDataverseToEnvironment (microsoft/terraform-provider-power-platform,
internal/services/environment/api_environment.go) make: a lifecycle operation, started once
(claimed in the operation store before the POST) and followed by the same watcher as installs.

The same article says that Dataverse "can't be manually added" to the initial environment in the
Power Platform admin center: the service may refuse the call for it, and the refusal is shown with
the documented alternative (Setup in LCS).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from dwtui.domain.models import ApplicationPackage, DataverseEnvironment, Fault, LcsEnvironment
from dwtui.domain.operations import (
    TYPICAL_ADD_DATAVERSE_SECONDS,
    OperationKind,
    OperationRecord,
    OperationState,
    OperationStatus,
)
from dwtui.domain.templates import DEFAULT_TEMPLATE, TEMPLATES
from dwtui.domain.watch_events import WatchEvent
from dwtui.services.bap import SERVICE, BapClient, DataverseRequest
from dwtui.services.changes import record_change
from dwtui.services.errors import ServiceError, certainly_not_sent
from dwtui.services.operations import OperationStore
from dwtui.services.session import Session
from dwtui.services.watch import watch

KIND = OperationKind.ADD_DATAVERSE
# An operation id that says "follow the environment's provisioningState" (the Location was lost).
ENVIRONMENT_STATE = "environment:"
CANNOT_ADD_NOTE = (
    "Microsoft's Power Platform Integration article says Dataverse can't be added to the initial "
    "Power Platform environment LCS creates in the Power Platform admin center; if the service refuses "
    "this request, use Setup in LCS (Environment details > Power Platform Integration)."
)


@dataclass(frozen=True, slots=True)
class AddDataversePlan:
    environment: LcsEnvironment
    power_platform: DataverseEnvironment  # the linked Power Platform environment, without Dataverse
    request: DataverseRequest

    def describe(self) -> str:
        template = ", ".join(f"{t} ({TEMPLATES.get(t, 'unknown')})" for t in self.request.templates)
        return (
            f"Add Dataverse to the Power Platform environment {self.power_platform.display_name} "
            f"({self.power_platform.bap_environment_id}) linked to {self.environment.name}.\n"
            f"Language: {self.request.language}   Currency: {self.request.currency}   "
            f"Template: {template or 'none'}"
        )


def _refuse(message: str, code: str) -> ServiceError:
    return ServiceError(Fault(service="dwtui", message=message, code=code))


def plan_add_dataverse(
    session: Session,
    environment: LcsEnvironment,
    power_platform: DataverseEnvironment | Fault | None,
    *,
    language: int = 1033,
    currency: str = "USD",
    template: str = DEFAULT_TEMPLATE,
) -> AddDataversePlan:
    """Check that the environment can have Dataverse added, and what will be sent."""
    if environment.is_production and not session.profile.allow_production_changes:
        raise _refuse(
            "production environments are read-only; set allow_production_changes = true in the profile",
            "read_only",
        )
    if not isinstance(power_platform, DataverseEnvironment):
        raise _refuse("no Power Platform environment is linked to this environment", "not_integrated")
    if power_platform.instance_url:
        raise _refuse("the Power Platform environment already has Dataverse", "already_has_dataverse")
    return AddDataversePlan(environment, power_platform, dataverse_request(language, currency, template))


def dataverse_request(language: int, currency: str, template: str) -> DataverseRequest:
    """What provisionInstance is sent, checked: a person's typo is refused before anything is read."""
    if template not in TEMPLATES:
        raise _refuse(f"unknown template '{template}'; use one of {', '.join(TEMPLATES)}", "invalid_template")
    code = currency.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise _refuse(f"'{currency}' is not an ISO 4217 currency code such as USD or EUR", "invalid_currency")
    if not 1 <= language <= 0xFFFF:
        raise _refuse(
            f"{language} is not a language id (an LCID such as 1033 for English)", "invalid_language"
        )
    return DataverseRequest(language, code, (template,))


def start_add_dataverse(session: Session, plan: AddDataversePlan, store: OperationStore) -> OperationRecord:
    """Claim the slot, POST provisionInstance once, keep its Location. AlreadyRunning if claimed."""
    bap_id = plan.power_platform.bap_environment_id
    record = store.begin(
        KIND, session.profile.name, plan.environment.environment_id, bap_id, ",".join(plan.request.templates)
    )
    what = "Add Dataverse"
    target = f"Power Platform environment {bap_id}"
    try:
        started = session.bap.add_dataverse(bap_id, plan.request)
    except ServiceError as error:
        fault = error.fault
        if certainly_not_sent(fault):
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
        # A timeout or a 5xx may come after the service acted: the environment's state decides.
        record_change(
            session,
            plan.environment,
            what,
            f"answer lost [{fault.code}]; checking its state",
            target,
            service=SERVICE,
        )
        settled = settle_add_dataverse(session, store, record)
        if settled is None:
            raise
        return settled
    record_change(session, plan.environment, what, f"requested ({started.location})", target, service=SERVICE)
    return store.attach(
        record.claim_id, started.location, message="provisioning requested", operation_url=started.location
    )


def settle_add_dataverse(
    session: Session, store: OperationStore, record: OperationRecord
) -> OperationRecord | None:
    """A claim without a Location (the POST's answer was lost), decided from BAP; never posts again.

    [I] BAP reports provisioningState LinkedDatabaseProvisioning as soon as it accepts the request
    (the answer body in microsoft/AdvocacyPlatform's tests already carries it), so an environment
    that shows neither that state nor Dataverse never took the request: the slot is released.
    """
    environment = session.bap.environment(record.bap_environment_id)
    if environment.instance_url:
        return store.finish(record.claim_id, OperationStatus.SUCCEEDED, message="Dataverse added")
    if environment.provisioning_state.lower() == "linkeddatabaseprovisioning":
        # Followed through the environment's own state from now on (no Location is known).
        return store.attach(
            record.claim_id, ENVIRONMENT_STATE + record.bap_environment_id, message="adding Dataverse"
        )
    store.release(record.claim_id)
    return None


def resume_add_dataverse(
    session: Session, store: OperationStore, environment_id: str
) -> OperationRecord | None:
    """The Dataverse being added to this environment's Power Platform environment, if any."""
    active = store.active(session.profile.name, environment_id, KIND)
    if active is None or active.operation_id:
        return active
    if not store.is_stale(active):
        return active
    return settle_add_dataverse(session, store, active)


class LifecycleSource:
    """The BAP lifecycle operation seen as services.watch polls one."""

    def __init__(self, bap: BapClient) -> None:
        self.bap = bap

    def operation(
        self,
        bap_environment_id: str,
        operation_id: str,
        *,
        timeout: float | None = None,
        operation_url: str = "",
    ) -> OperationState:
        if operation_id.startswith(ENVIRONMENT_STATE):
            environment = self.bap.environment(bap_environment_id)
            if environment.instance_url:
                return OperationState(OperationStatus.SUCCEEDED, "Succeeded", "Dataverse added")
            state = environment.provisioning_state or "unknown"
            if state.lower() == "linkeddatabaseprovisioning":
                return OperationState(OperationStatus.RUNNING, state, "adding Dataverse")
            return OperationState(
                OperationStatus.FAILED,
                state,
                "adding Dataverse failed",
                error_code=state,
                error_message=f"provisioning state {state}",
            )
        return self.bap.lifecycle(operation_url or operation_id, timeout=timeout)

    def packages(self, bap_environment_id: str) -> tuple[ApplicationPackage, ...]:
        raise _refuse(
            "this request has no operation to follow; refresh to see the environment", "no_operation"
        )


def watch_add_dataverse(
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
    """Follow the lifecycle operation to its end, and record the outcome in the audit trail."""
    from dwtui.domain.watch_events import Finished

    def relay(event: WatchEvent) -> None:
        if isinstance(event, Finished):
            fault = event.fault
            result = "succeeded" if fault is None else f"failed [{fault.code}] {fault.message}"
            record_change(
                session, environment, "Add Dataverse", result, record.bap_environment_id, service=SERVICE
            )
        on_event(event)

    return watch(
        LifecycleSource(session.bap),
        record,
        on_event=relay,
        cancelled=cancelled,
        store=store,
        poll_now=poll_now,
        speed=speed,
        clock=clock,
        typical=TYPICAL_ADD_DATAVERSE_SECONDS,
        service=SERVICE,
    )
