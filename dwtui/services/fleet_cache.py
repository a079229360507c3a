"""The fleet's short-lived cache on disk: what was read, so that reopening the fleet is instant.

One JSON file in the state directory (beside operations.json), 0600, written whole to a temporary
file and moved into place. It holds what the fleet shows and nothing secret: LCS environments (ids,
names, URLs, versions), each row's facts with when they were read, and a fault's service, code and
message (already redacted by the HTTP policy; never a URL, a header or a token).

An entry lives CACHE_LIFETIME seconds from its LCS listing. Within that time a reopened fleet
shows the cached rows at once, with their ages, and does not list LCS again (its 6 calls per
project per minute are the scarcest thing the fleet spends); the other facts are read again
anyway. After it, or with a refresh, LCS is listed again. A damaged file is ignored and rewritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from dwtui.domain.fleet import Fact, FleetRow
from dwtui.domain.models import Fault, LcsEnvironment
from dwtui.domain.packages import BY_KEY, Installed, PackageStatus
from dwtui.services.private_files import FILE_MODE, private_dir

FILE_NAME = "fleet-cache.json"
FORMAT_VERSION = 1
CACHE_LIFETIME = 10 * 60.0  # seconds from an LCS listing (README "Fleet")
_FACTS = ("integration", "dataverse", "packages", "link", "mismatch", "operation", "doctor")
_LCS_FIELDS = tuple(f.name for f in fields(LcsEnvironment))


@dataclass(frozen=True, slots=True)
class CachedProject:
    project_id: str
    listed_at: float  # when LCS listed the project's environments
    environments: tuple[LcsEnvironment, ...]
    rows: tuple[FleetRow, ...]  # the rows whose reads had finished, marked from_cache when loaded


def _fault_to_json(fault: Fault | None) -> dict[str, Any] | None:
    if fault is None:
        return None
    return {
        "service": fault.service,
        "code": fault.code,
        "message": fault.message,
        "http_status": fault.http_status,
    }


def _fault_from_json(raw: Any) -> Fault | None:
    if not isinstance(raw, dict):
        return None
    status = raw.get("http_status")
    return Fault(
        str(raw.get("service", "")),
        str(raw.get("message", "")),
        str(raw.get("code", "")),
        status if isinstance(status, int) else None,
    )


def _fact_to_json(fact: Fact) -> dict[str, Any]:
    return {
        "value": fact.value,
        "read_at": fact.read_at,
        "detail": fact.detail,
        "number": fact.number,
        "fault": _fault_to_json(fact.fault),
    }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _fact_from_json(raw: Any) -> Fact:
    if not isinstance(raw, dict):
        raise ValueError("a fact is an object")
    return Fact(
        str(raw.get("value", "")),
        _number(raw.get("read_at")),
        str(raw.get("detail", "")),
        _fault_from_json(raw.get("fault")),
        _number(raw.get("number")),
    )


def _environment_from_json(raw: Any) -> LcsEnvironment:
    if not isinstance(raw, dict) or not raw.get("environment_id"):
        raise ValueError("an environment needs its id")
    return LcsEnvironment(**{name: str(raw.get(name, "")) for name in _LCS_FIELDS})


def _package_from_json(raw: Any) -> PackageStatus:
    if not isinstance(raw, dict) or raw.get("key") not in BY_KEY:
        raise ValueError("a package of the catalogue")
    return PackageStatus(
        BY_KEY[str(raw["key"])], Installed(str(raw.get("state"))), str(raw.get("version", "")),
        str(raw.get("error", "")),
    )


def _row_to_json(row: FleetRow) -> dict[str, Any]:
    return {
        "environment_id": row.environment_id,
        "facts": {name: _fact_to_json(getattr(row, name)) for name in _FACTS},
        "packages": [
            {"key": s.package.key, "state": s.state.value, "version": s.version, "error": s.error}
            for s in row.package_states
        ],
    }


def _row_from_json(raw: Any, environments: dict[str, LcsEnvironment], listed_at: float) -> FleetRow:
    if not isinstance(raw, dict) or raw.get("environment_id") not in environments:
        raise ValueError("a row of a listed environment")
    facts = raw.get("facts")
    if not isinstance(facts, dict):
        raise ValueError("a row's facts")
    packages = raw.get("packages", [])
    return FleetRow(
        environments[str(raw["environment_id"])],
        listed_at,
        **{name: _fact_from_json(facts.get(name)) for name in _FACTS},
        package_states=tuple(_package_from_json(p) for p in packages) if isinstance(packages, list) else (),
        from_cache=True,
    )


class FleetCache:
    def __init__(
        self, path: Path, *, lifetime: float = CACHE_LIFETIME, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self.lifetime = lifetime
        self.clock = clock
        self._lock = threading.Lock()

    def _fresh(self, listed_at: float) -> bool:
        return 0.0 <= self.clock() - listed_at < self.lifetime

    def _entries(self) -> list[dict[str, Any]]:
        try:
            document: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []  # absent or damaged: nothing cached (the next save rewrites it)
        if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
            return []
        entries = document.get("entries")
        return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []

    def load(self, scope: str, project_id: str) -> CachedProject | None:
        """The project's cached listing and rows, or None when there is none within the lifetime."""
        with self._lock:
            entries = self._entries()
        for entry in entries:
            if entry.get("scope") != scope or entry.get("project_id") != project_id:
                continue
            listed_at = _number(entry.get("listed_at"))
            if listed_at is None or not self._fresh(listed_at):
                return None
            try:
                listed = tuple(_environment_from_json(raw) for raw in entry.get("environments", []))
                by_id = {environment.environment_id: environment for environment in listed}
                rows = tuple(_row_from_json(raw, by_id, listed_at) for raw in entry.get("rows", []))
            except (TypeError, ValueError):
                return None
            return CachedProject(project_id, listed_at, listed, rows)
        return None

    def save(self, scope: str, projects: Sequence[CachedProject]) -> None:
        """Replace these projects' entries; other profiles' and projects' stay while they are fresh."""
        replaced = {project.project_id for project in projects}
        with self._lock:
            kept = [
                entry
                for entry in self._entries()
                if not (entry.get("scope") == scope and entry.get("project_id") in replaced)
                and self._fresh(_number(entry.get("listed_at")) or -1.0)
            ]
            for project in projects:
                kept.append(
                    {
                        "scope": scope,
                        "project_id": project.project_id,
                        "listed_at": project.listed_at,
                        "environments": [asdict(environment) for environment in project.environments],
                        "rows": [_row_to_json(row) for row in project.rows],
                    }
                )
            self._write({"version": FORMAT_VERSION, "entries": kept})

    def _write(self, document: dict[str, Any]) -> None:
        private_dir(self.path.parent)
        descriptor, temp_name = tempfile.mkstemp(prefix=".fleet-cache-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(document, handle)
            os.chmod(temp_name, FILE_MODE)  # mkstemp's already; said here because it matters
            os.replace(temp_name, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise

    def clear(self) -> None:
        with self._lock, contextlib.suppress(FileNotFoundError):
            self.path.unlink()
