"""`dwtui fleet --json`: the fleet as JSON with stable, documented keys (README "dwtui fleet --json").

Add keys freely; never rename or remove one without raising SCHEMA.
"""

from __future__ import annotations

from typing import Any

from dwtui.domain.fleet import Fact, FleetRow
from dwtui.domain.packages import Installed
from dwtui.services.fleet import FleetResult, ProjectRead
from dwtui.services.status_json import fault_to_json, package_to_json

SCHEMA = 1


def fact_to_json(fact: Fact, now: float) -> dict[str, Any]:
    age = fact.age(now)
    return {
        "value": fact.value,
        "detail": fact.detail,
        "read_at": fact.read_at,
        "age_s": None if age is None else round(age, 1),
        "reading": fact.reading,
        "error": None if fact.fault is None else fault_to_json(fact.fault),
    }


def row_to_json(row: FleetRow, now: float) -> dict[str, Any]:
    env = row.environment
    lcs_age = max(0.0, now - row.lcs_read_at)
    oldest = row.oldest_read_at
    states = [status.state for status in row.package_states]
    packages = fact_to_json(row.packages, now) | {
        "installed": states.count(Installed.INSTALLED),
        "listed": sum(1 for state in states if state is not Installed.NOT_LISTED),
        "failed": states.count(Installed.FAILED),
        "installing": states.count(Installed.INSTALLING),
        "items": [package_to_json(status) for status in row.package_states],
    }
    return {
        "project_id": env.project_id,
        "id": env.environment_id,
        "name": env.name,
        "type": env.environment_type,
        "state": env.deployment_status or env.deployment_state,
        "version": env.application_release or env.application_version,
        "fo_url": env.fo_url,
        "listed_at": row.lcs_read_at,
        "listed_age_s": round(lcs_age, 1),
        "integration": fact_to_json(row.integration, now),
        "dataverse": fact_to_json(row.dataverse, now),
        "packages": packages,
        "link": fact_to_json(row.link, now),
        "mismatch": fact_to_json(row.mismatch, now),
        "operation": fact_to_json(row.operation, now) | {"percent": row.operation.number},
        "doctor": fact_to_json(row.doctor, now),
        "age_s": None if oldest is None else round(max(0.0, now - oldest), 1),
        "complete": row.complete,
        "from_cache": row.from_cache,
    }


def project_to_json(project: ProjectRead) -> dict[str, Any]:
    return {
        "id": project.project_id,
        "environments": project.environments,
        "listed_at": project.listed_at,
        "from_cache": project.from_cache,
        "error": None if project.fault is None else fault_to_json(project.fault),
    }


def fleet_to_json(
    result: FleetResult, rows: list[FleetRow], now: float, *, cache_path: str, cache_lifetime: float
) -> dict[str, Any]:
    """`rows` are the result's, as shown (filtered and sorted)."""
    return {
        "schema": SCHEMA,
        "command": "fleet",
        "read_at": now,
        "projects": [project_to_json(project) for project in result.projects],
        "environments": [row_to_json(row, now) for row in rows],
        "faults": [fault_to_json(fault) for fault in result.faults],
        "cache": {"path": cache_path, "lifetime_s": cache_lifetime},
    }
