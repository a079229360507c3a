"""`dwtui status`: the status report as JSON with stable, documented keys, and as plain text.

The JSON keys are a contract with scripts (README "dwtui status --json"): add keys freely, never
rename or remove one without bumping SCHEMA. The text mirrors the main screen, top to bottom.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from dwtui.domain.assessment import Action, IntegrationState, LinkState, assess
from dwtui.domain.errors import Surface, explain
from dwtui.domain.linking import TYPICAL_LINK_SECONDS, AdminLink, admin_link
from dwtui.domain.models import (
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    IntegrationDetails,
    LcsEnvironment,
    SignedIn,
)
from dwtui.domain.operations import (
    TYPICAL_ADD_DATAVERSE_SECONDS,
    TYPICAL_INSTALL_SECONDS,
    OperationKind,
    OperationRecord,
    estimate_progress,
    format_duration,
)
from dwtui.domain.packages import PackageStatus
from dwtui.services.operations import OperationStore, same_environment
from dwtui.services.session import StatusReport

SCHEMA = 1


def environment_to_json(environment: LcsEnvironment) -> dict[str, Any]:
    return {
        "id": environment.environment_id,
        "name": environment.name,
        "project_id": environment.project_id,
        "type": environment.environment_type,
        "fo_url": environment.fo_url,
        "deployment_state": environment.deployment_state,
        "deployment_status": environment.deployment_status,
        "application_version": environment.application_version,
        "application_release": environment.application_release,
        "platform_version": environment.platform_version,
        "platform_release": environment.platform_release,
        "is_production": environment.is_production,
        "is_onebox": environment.is_onebox,
    }


def _dataverse(dataverse: DataverseEnvironment | Fault | None) -> dict[str, Any] | None:
    if not isinstance(dataverse, DataverseEnvironment):
        return None
    return {
        "name": dataverse.display_name,
        "url": dataverse.instance_url,
        "environment_id": dataverse.bap_environment_id,
        "organization_id": dataverse.organization_id,
        "unique_name": dataverse.unique_name,
        "state": dataverse.instance_state,
        "version": dataverse.version,
    }


def _integration_details(details: IntegrationDetails | Fault | None) -> dict[str, Any] | None:
    if not isinstance(details, IntegrationDetails):
        return None
    return {
        "fo_url": details.fo_url,
        "fo_environment_id": details.fo_environment_id,
        "tenant_id": details.tenant_id,
    }


def fault_to_json(fault: Fault) -> dict[str, Any]:
    explanation = explain(fault, Surface.CLI)
    return {
        "service": fault.service,
        "code": fault.code,
        "message": fault.message,
        "http_status": fault.http_status,
        "meaning": explanation.meaning,
        "remedy": explanation.remedy,
        "doc": explanation.doc,
    }


def _signed_in(signed_in: SignedIn | None) -> dict[str, Any] | None:
    if signed_in is None:
        return None
    return {"username": signed_in.username, "tenant_id": signed_in.tenant_id, "kind": signed_in.kind}


@dataclass(frozen=True, slots=True)
class OperationsView:
    """What the operation store knows of the environment: running operations and the last outcomes."""

    install: OperationRecord | None = None  # running (or being started)
    link: OperationRecord | None = None
    last_install: OperationRecord | None = None  # the newest finished one
    last_link: OperationRecord | None = None
    add_dataverse: OperationRecord | None = None
    last_add_dataverse: OperationRecord | None = None


def read_operations(store: OperationStore, environment_id: str) -> OperationsView:
    """Read-only: a stale claim shows as it is; the commands that change things settle it."""
    return operations_of(store.records(), environment_id)


def operations_of(records: Sequence[OperationRecord], environment_id: str) -> OperationsView:
    """The environment's operations among the store's records (read once for many environments)."""
    running: dict[OperationKind, OperationRecord | None] = {}
    finished: dict[OperationKind, OperationRecord | None] = {}
    for kind in OperationKind:
        mine = [
            r for r in records if r.kind is kind and same_environment(r.lcs_environment_id, environment_id)
        ]
        running[kind] = next((r for r in mine if not r.finished), None)
        done = [r for r in mine if r.finished]
        finished[kind] = max(done, key=lambda r: r.finished_at or 0.0, default=None)
    return OperationsView(
        running[OperationKind.INSTALL],
        running[OperationKind.LINK],
        finished[OperationKind.INSTALL],
        finished[OperationKind.LINK],
        running[OperationKind.ADD_DATAVERSE],
        finished[OperationKind.ADD_DATAVERSE],
    )


def with_operations(report: StatusReport, operations: OperationsView, *, read_only: bool) -> StatusReport:
    """The report as the operation store sees it too: an install or link this machine follows is under
    way even where the service's own lists do not say so (the package list says "None" during an
    install in every captured answer)."""
    if operations.install is None and operations.link is None:
        return report
    assessment = assess(
        report.environment,
        report.snapshot,
        read_only=read_only,
        installing=operations.install is not None,
        linking=operations.link is not None,
    )
    return replace(report, assessment=assessment)


def operation_to_json(record: OperationRecord | None) -> dict[str, Any] | None:
    """One install or link as dwtui remembers it (nothing secret: ids, states and messages)."""
    if record is None:
        return None
    return {
        "kind": record.kind.value,
        "operation_id": record.operation_id,
        "status": record.status.value,
        "message": record.message,
        "percent": record.percent,
        "started_at": record.started_at,
        "last_polled_at": record.last_polled_at,
        "finished_at": record.finished_at,
        "error_code": record.error_code,
        "error_message": record.error_message,
        "environment_id": record.lcs_environment_id,
        "dataverse_environment_id": record.bap_environment_id,
        "profile": record.profile,
        "package": record.package if record.kind is OperationKind.INSTALL else "",
        "plan": list(record.plan),
    }


def package_to_json(status: PackageStatus) -> dict[str, Any]:
    return {
        "key": status.package.key,
        "unique_name": status.package.unique_name,
        "title": status.package.title,
        "application": status.package.application,
        "requires": list(status.package.requires),
        "state": status.state.value,
        "version": status.version,
        "error": status.error,
    }


def admin_link_to_json(link: AdminLink | None) -> dict[str, Any] | None:
    if link is None:
        return None
    return {"url": link.url, "navigation": link.navigation, "note": link.note}


def report_admin_link(report: StatusReport) -> AdminLink | None:
    """The hyperlink to the dual-write administration area, once dual-write is linked."""
    if report.assessment.link is not LinkState.LINKED:
        return None
    return admin_link(report.environment.fo_url)


def report_to_json(report: StatusReport, operations: OperationsView | None = None) -> dict[str, Any]:
    """The report as JSON-ready data (only str, bool, number, None, lists and dicts)."""
    seen = operations or OperationsView()
    assessment = report.assessment
    snapshot = report.snapshot
    # A connection set whose link request runs or failed [I] is not a link yet: its fields stay "".
    link = snapshot.link if isinstance(snapshot.link, DualWriteLink) and snapshot.link.linked else None
    mismatch = assessment.mismatch
    return {
        "schema": SCHEMA,
        "environment": environment_to_json(report.environment),
        "integration": {
            "state": assessment.integration.value,
            "dataverse": _dataverse(snapshot.dataverse),
            "details": _integration_details(snapshot.integration),
        },
        "dual_write_application": {
            "state": assessment.app.value,
            "version": assessment.app_version,
            "packages": [package_to_json(status) for status in assessment.packages],
        },
        "link": {
            "state": assessment.link.value,
            "dataverse_url": link.dataverse_url if link else "",
            "dataverse_name": link.dataverse_name if link else "",
            "connection_set": link.connection_set_name if link else "",
            "gateway_configured": not (
                isinstance(snapshot.link, Fault) and snapshot.link.code == "not_configured"
            ),
            # The state is read as Microsoft's Dual-write automations tool reads it; creating a link
            # and following its progress are calls no public source shows.
            "request_unverified": True,
        },
        "mismatch": None
        if mismatch is None
        else {
            "warning": mismatch.warning,
            "integration_dataverse_url": mismatch.integration_dataverse_url,
            "dual_write_dataverse_url": mismatch.dual_write_dataverse_url,
            "remedy": mismatch.remedy.value,
        },
        "faults": [fault_to_json(fault) for fault in assessment.faults],
        "actions": {
            action.value: {"enabled": availability.enabled, "reason": availability.reason}
            for action, availability in assessment.actions.items()
        },
        "signed_in": _signed_in(report.signed_in),
        "read_at": snapshot.read_at,
        "operations": {
            "install": operation_to_json(seen.install),
            "link": operation_to_json(seen.link),
            "last_install": operation_to_json(seen.last_install),
            "last_link": operation_to_json(seen.last_link),
            "add_dataverse": operation_to_json(seen.add_dataverse),
            "last_add_dataverse": operation_to_json(seen.last_add_dataverse),
        },
        "admin_link": admin_link_to_json(report_admin_link(report)),
    }


# Each action under its button's name, with the command that does it (the screen's keys mean
# nothing on a command line).
ACTION_LABELS = {
    "add_dataverse": ("Add Dataverse", "dwtui integrate"),
    "setup": ("Dual-write application", "dwtui setup"),
    "link": ("Link to Power Platform environment", "dwtui link"),
    "reset": ("Reset dual-write connection", "dwtui reset"),
    "onebox": ("One-box", "dwtui onebox"),
}


def operation_line(record: OperationRecord, now: float | None = None, *, speed: float = 1.0) -> str:
    """`Running: Installing Dual-write core solution (45%, about 2 min left), started 3 min 10 s ago`.

    `speed` is the demo's --speed: its operations take 1/speed of the typical duration.
    """
    elapsed = max(0.0, (now if now is not None else time.time()) - record.started_at)
    typical = {
        OperationKind.LINK: TYPICAL_LINK_SECONDS,
        OperationKind.ADD_DATAVERSE: TYPICAL_ADD_DATAVERSE_SECONDS,
    }.get(record.kind, TYPICAL_INSTALL_SECONDS) / speed
    estimate = estimate_progress(elapsed, record.percent, record.status, typical=typical)
    stage = f"{record.status.value}: {record.message}" if record.message else record.status.value
    ident = f"operation {record.operation_id}" if record.operation_id else "being started"
    return f"{stage} ({estimate.summary}), started {format_duration(elapsed)} ago, {ident}"


def report_to_text(
    report: StatusReport, profile_name: str, operations: OperationsView | None = None, *, speed: float = 1.0
) -> str:
    """The main screen's facts, top to bottom, as plain text (estimates at the demo's `speed`)."""
    env, snapshot, assessment = report.environment, report.snapshot, report.assessment
    who = report.signed_in.username if report.signed_in else "not signed in"
    lines = [f"Profile {profile_name}, signed in as {who}", "", "Environment"]

    def row(label: str, value: str) -> None:
        lines.append(f"  {label:<40}{value}")

    row("Name", env.name + ("  [PRODUCTION]" if env.is_production else ""))
    row("Environment id", env.environment_id)
    row("Type", env.environment_type)
    row("State", env.state_text or "-")
    row("Finance and operations URL", env.fo_url)
    row(
        "Application version",
        " ".join(x for x in (env.application_release, env.application_version) if x) or "-",
    )
    row("Platform version", " ".join(x for x in (env.platform_release, env.platform_version) if x) or "-")
    lines += ["", "Power Platform Integration"]
    row("Power Platform Integration", assessment.integration.value)
    dataverse = snapshot.dataverse
    if isinstance(dataverse, DataverseEnvironment):
        row("Dataverse environment", dataverse.display_name)
        row("Dataverse URL", dataverse.instance_url)
        row("Dataverse environment id", dataverse.bap_environment_id)
    version = f" (version {assessment.app_version})" if assessment.app_version else ""
    row("Dual-write application", assessment.app.value + version)
    for status in assessment.packages:
        installed = f" {status.version}" if status.version else ""
        lines.append(f"    {status.package.title + ' ':.<42} {status.state.value}{installed}")
    link = snapshot.link
    linked_to = ""
    if isinstance(link, DualWriteLink) and link.linked:
        linked_to = f" to {link.dataverse_name or link.dataverse_url} ({link.dataverse_url})"
    row("Link to Power Platform environment", assessment.link.value + linked_to)
    link_target = report_admin_link(report)
    if link_target is not None:
        row("Dual-write administration", link_target.url)
        row("", f"then {link_target.navigation}")
    mismatch = assessment.mismatch
    if mismatch is not None:
        lines += ["", "  WARNING: linking mismatch", f"  {mismatch.warning}"]
        row("Power Platform Integration names", mismatch.integration_dataverse_url or "(none)")
        row("Dual-write is linked to", mismatch.dual_write_dataverse_url)
        row("Remedy", mismatch.remedy.value)
    seen = operations or OperationsView()
    running = [
        (title, record, command)
        for title, record, command in (
            ("Dual-write package install", seen.install, "dwtui setup --wait"),
            ("Link to Power Platform environment", seen.link, "dwtui link --wait"),
            ("Add Dataverse", seen.add_dataverse, "dwtui integrate --wait"),
        )
        if record is not None
    ]
    if running:
        lines += ["", "Running"]
        for title, record, command in running:
            row(title, operation_line(record, speed=speed))
            row("", f"`{command}` follows it")
    lines += ["", "Actions"]
    for action, availability in assessment.actions.items():
        labelled = ACTION_LABELS.get(action.value)
        if action is Action.ADD_DATAVERSE and assessment.integration is not IntegrationState.NO_DATAVERSE:
            continue  # a step only environments without Dataverse need
        if labelled:
            label, command = labelled
            row(
                label,
                f"available: `{command}`" if availability.enabled else f"unavailable: {availability.reason}",
            )
    if assessment.faults:
        lines += ["", "Problems"]
        for fault in assessment.faults:
            explanation = explain(fault, Surface.CLI)
            lines.append(f"  {fault.service} [{fault.code or 'error'}]: {fault.message}")
            lines.append(f"    {explanation.meaning} {explanation.remedy}")
    return "\n".join(lines)
