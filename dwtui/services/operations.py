"""OperationStore: the operations dwtui started, kept on disk so nothing is started twice or lost.

One JSON file under the platform state directory, written atomically (temp file + os.replace) and
only while holding an exclusive flock on a lock file beside it, so two terminals (or two threads)
never both claim the same install. A slot is claimed *before* the install POST, and the service's
operation id attached once the POST answers. Nothing secret is stored: ids, states and messages.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import platformdirs

from dwtui.domain.models import Fault
from dwtui.domain.operations import (
    OperationKind,
    OperationRecord,
    OperationStatus,
    record_from_json,
    record_to_json,
    with_stage,
)
from dwtui.services.errors import ServiceError
from dwtui.services.private_files import open_private, private_dir

FILE_NAME = "operations.json"
FORMAT_VERSION = 1
KEEP_FINISHED = 20  # finished records kept per store, newest first, for "the last install failed"
# A POST answers in well under this; an older claim without an operation id has lost its claimant.
CLAIM_TIMEOUT = 10 * 60.0


def default_store_path() -> Path:
    return platformdirs.user_state_path("dwtui") / FILE_NAME


def same_environment(a: str, b: str) -> bool:
    # LCS ids come as 32 hex digits or as a hyphenated GUID for the same environment.
    return a.replace("-", "").lower() == b.replace("-", "").lower()


class AlreadyRunning(ServiceError):
    """Another run (this terminal or another) holds the slot: watch its record instead.

    `note`, when set, says how it was found (a service that refused a second request, say).
    """

    def __init__(self, record: OperationRecord, note: str = "") -> None:
        what = "an install" if record.kind is OperationKind.INSTALL else f"a {record.kind.value}"
        detail = f"operation {record.operation_id}" if record.operation_id else "being started"
        super().__init__(
            Fault(
                service="dwtui",
                message=note or f"{what} is already under way for this environment ({detail})",
                code="already_running",
            )
        )
        self.record = record
        self.note = note


class OperationStore:
    def __init__(
        self,
        path: Path | None = None,
        *,
        clock: Callable[[], float] = time.time,
        pid: int | None = None,
        host: str | None = None,
    ) -> None:
        self.path = path or default_store_path()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.clock = clock
        self.pid = pid if pid is not None else os.getpid()
        self.host = host if host is not None else socket.gethostname()
        self._thread_lock = threading.Lock()

    # -- file handling ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        private_dir(self.path.parent)
        with self._thread_lock:
            descriptor = open_private(self.lock_path, os.O_RDWR)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                # Closing the descriptor releases the flock too; unlock first to say so.
                with contextlib.suppress(OSError):
                    fcntl.flock(descriptor, fcntl.LOCK_UN)
                os.close(descriptor)

    def _read(self) -> list[OperationRecord]:
        try:
            document: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            # A damaged file must not stop the app: it is rewritten on the next change.
            return []
        items = document.get("operations", []) if isinstance(document, dict) else []
        return [r for r in (record_from_json(item) for item in items) if r is not None]

    def _write(self, records: list[OperationRecord]) -> None:
        running = [r for r in records if not r.finished]
        finished = sorted(
            (r for r in records if r.finished), key=lambda r: r.finished_at or 0.0, reverse=True
        )[:KEEP_FINISHED]
        document = {
            "version": FORMAT_VERSION,
            "operations": [record_to_json(r) for r in (*running, *finished)],
        }
        descriptor, temp_name = tempfile.mkstemp(prefix=".operations-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp_name, 0o600)
            os.replace(temp_name, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise

    # -- reading ------------------------------------------------------------------------------------

    def records(self) -> list[OperationRecord]:
        with self._locked():
            return self._read()

    def active(self, profile: str | None, environment_id: str, kind: OperationKind) -> OperationRecord | None:
        """The unfinished operation of this kind on this environment, whichever profile started it.

        `profile` is informational: two profiles can name the same environment, and the slot is the
        environment's, so it is not used to filter.
        """
        del profile
        with self._locked():
            return _find_active(self._read(), environment_id, kind)

    def last(self, environment_id: str, kind: OperationKind) -> OperationRecord | None:
        """The newest record of this kind on this environment, running or finished."""
        with self._locked():
            matching = [
                r
                for r in self._read()
                if r.kind is kind and same_environment(r.lcs_environment_id, environment_id)
            ]
        return max(matching, key=lambda r: r.started_at, default=None)

    def get(self, claim_id: str) -> OperationRecord | None:
        with self._locked():
            return next((r for r in self._read() if r.claim_id == claim_id), None)

    # -- changing -----------------------------------------------------------------------------------

    def begin(
        self,
        kind: OperationKind,
        profile: str,
        environment_id: str,
        bap_environment_id: str,
        package: str,
        *,
        plan: tuple[str, ...] = (),
    ) -> OperationRecord:
        """Claim the slot before the POST; AlreadyRunning when another run holds it."""
        with self._locked():
            records = self._read()
            existing = _find_active(records, environment_id, kind)
            if existing is not None:
                raise AlreadyRunning(existing)
            now = self.clock()
            record = OperationRecord(
                kind=kind,
                profile=profile,
                lcs_environment_id=environment_id,
                bap_environment_id=bap_environment_id,
                package=package,
                started_at=now,
                claim_id=uuid.uuid4().hex,
                message="starting",
                claimant_pid=self.pid,
                claimant_host=self.host,
                log=with_stage((), now, OperationStatus.NOT_STARTED, "starting"),
                plan=plan,
                request_sent=False,
            )
            self._write([*records, record])
            return record

    def mark_sent(self, claim_id: str) -> OperationRecord:
        """The request is about to leave: from now on only the service's state can settle the claim."""
        return self._change(claim_id, lambda r: replace(r, request_sent=True))

    def attach(
        self, claim_id: str, operation_id: str, *, message: str = "", operation_url: str = ""
    ) -> OperationRecord:
        """The POST answered: from now on the operation can be followed by id (or at its URL)."""
        now = self.clock()
        return self._change(
            claim_id,
            lambda r: replace(
                r,
                operation_id=operation_id,
                operation_url=operation_url or r.operation_url,
                message=message or r.message,
                log=with_stage(r.log, now, r.status, message or r.message),
            ),
        )

    def update(self, record: OperationRecord) -> OperationRecord:
        """Save what a poll learnt (status, message, percent, log) for the record's claim."""
        return self._change(
            record.claim_id,
            lambda stored: replace(
                record,
                # The claimant fields stay as claimed; a resuming watcher only reports progress.
                claimant_pid=stored.claimant_pid,
                claimant_host=stored.claimant_host,
                finished_at=stored.finished_at if record.finished_at is None else record.finished_at,
                # What the claimant learnt meanwhile is never forgotten by a watcher's older copy.
                operation_id=record.operation_id or stored.operation_id,
                operation_url=record.operation_url or stored.operation_url,
                request_sent=record.request_sent or stored.request_sent,
            ),
        )

    def finish(
        self,
        claim_id: str,
        status: OperationStatus,
        *,
        message: str = "",
        error_code: str = "",
        error_message: str = "",
    ) -> OperationRecord:
        now = self.clock()
        return self._change(
            claim_id,
            lambda r: replace(
                r,
                status=status,
                message=message or r.message,
                error_code=error_code,
                error_message=error_message,
                finished_at=now,
                log=with_stage(r.log, now, status, message or r.message),
            ),
        )

    def release(self, claim_id: str) -> None:
        """Drop a claim whose POST certainly did not start anything (refused, or proven not started)."""
        with self._locked():
            records = self._read()
            kept = [r for r in records if r.claim_id != claim_id]
            if len(kept) != len(records):
                self._write(kept)

    def _change(self, claim_id: str, change: Callable[[OperationRecord], OperationRecord]) -> OperationRecord:
        with self._locked():
            records = self._read()
            for index, record in enumerate(records):
                if record.claim_id == claim_id:
                    records[index] = change(record)
                    self._write(records)
                    return records[index]
        raise KeyError(f"no operation claim {claim_id} in {self.path}")

    # -- claims whose claimant went away --------------------------------------------------------------

    def is_stale(self, record: OperationRecord) -> bool:
        """A claim without an operation id whose claimant process is gone (or that is too old).

        Such a claim cannot be trusted either way: the POST may or may not have reached the service.
        """
        if not record.starting:
            return False
        if self.clock() - record.started_at > CLAIM_TIMEOUT:
            return True
        if record.claimant_host != self.host:
            return False  # another machine's process cannot be checked; wait for CLAIM_TIMEOUT
        if record.claimant_pid == self.pid:
            return False
        return not _process_alive(record.claimant_pid)


def _find_active(
    records: list[OperationRecord], environment_id: str, kind: OperationKind
) -> OperationRecord | None:
    for record in records:
        if (
            record.kind is kind
            and not record.finished
            and same_environment(record.lcs_environment_id, environment_id)
        ):
            return record
    return None


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
