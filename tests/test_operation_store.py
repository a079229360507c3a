"""OperationStore: claims, attach/update/finish, atomic files, the cross-process lock, stale claims."""

from __future__ import annotations

import json
import multiprocessing
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dwtui.domain.operations import OperationKind, OperationRecord, OperationStatus
from dwtui.services.operations import CLAIM_TIMEOUT, AlreadyRunning, OperationStore

ENV = "6f4a1c2e9b3d4e8fa7c05d1b2e3f4a5b"
ENV_GUID = "6f4a1c2e-9b3d-4e8f-a7c0-5d1b2e3f4a5b"  # the same environment, written as a GUID
INSTALL = OperationKind.INSTALL


def begin(store: OperationStore, environment: str = ENV, profile: str = "sim") -> OperationRecord:
    return store.begin(INSTALL, profile, environment, "bap-1", "DualWriteCoreAnchor")


def test_claim_attach_update_finish(tmp_path: Path) -> None:
    store = OperationStore(tmp_path / "state" / "operations.json")
    claimed = begin(store)
    assert claimed.starting and claimed.status is OperationStatus.NOT_STARTED
    assert store.active("sim", ENV, INSTALL) == claimed
    attached = store.attach(claimed.claim_id, "op-1", message="InstallRequested")
    assert attached.operation_id == "op-1" and not attached.starting
    polled = store.update(attached.observed(5.0, OperationStatus.RUNNING, "Applying maps", 40.0))
    assert (polled.status, polled.percent) == (OperationStatus.RUNNING, 40.0)
    done = store.finish(claimed.claim_id, OperationStatus.FAILED, error_code="DW9003", error_message="no")
    assert done.finished and done.error_code == "DW9003"
    assert store.active("sim", ENV, INSTALL) is None
    assert store.last(ENV, INSTALL) == done
    # A new OperationStore (a later run) reads the same.
    assert OperationStore(store.path).last(ENV, INSTALL) == done
    assert [e.status for e in done.log] == [
        OperationStatus.NOT_STARTED,
        OperationStatus.NOT_STARTED,
        OperationStatus.RUNNING,
        OperationStatus.FAILED,
    ]


def test_one_slot_per_environment_whatever_the_profile_or_id_spelling(tmp_path: Path) -> None:
    store = OperationStore(tmp_path / "operations.json")
    first = begin(store)
    with pytest.raises(AlreadyRunning) as refused:
        begin(store, ENV_GUID, profile="other")
    assert refused.value.record == first
    assert begin(store, "d3e4f5a6b7c84d9ea0b1c2d3e4f5a6b7").lcs_environment_id != ENV
    store.release(first.claim_id)
    assert begin(store, ENV_GUID).starting


def test_file_is_private_json_without_secrets(tmp_path: Path) -> None:
    store = OperationStore(tmp_path / "operations.json")
    store.attach(begin(store).claim_id, "op-1")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    document = json.loads(store.path.read_text())
    assert document["version"] == 1
    keys = set(document["operations"][0])
    assert not {k for k in keys if any(w in k for w in ("token", "secret", "password"))}
    assert not list(tmp_path.glob(".operations-*"))  # no temp file left behind


def test_damaged_file_does_not_stop_anything(tmp_path: Path) -> None:
    path = tmp_path / "operations.json"
    path.write_text("{not json")
    store = OperationStore(path)
    assert store.records() == []
    assert begin(store).starting
    assert len(store.records()) == 1


def test_finished_history_is_bounded(tmp_path: Path) -> None:
    store = OperationStore(tmp_path / "operations.json")
    for _ in range(30):
        store.finish(begin(store).claim_id, OperationStatus.SUCCEEDED)
    assert len(store.records()) == 20


def _claim_in_child(path: str, barrier: Any, results: Any) -> None:
    store = OperationStore(Path(path))
    barrier.wait(10)
    try:
        begin(store)
        results.put("claimed")
    except AlreadyRunning:
        results.put("refused")


def test_two_processes_claiming_at_once_get_one_slot(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    path = str(tmp_path / "operations.json")
    children = [context.Process(target=_claim_in_child, args=(path, barrier, results)) for _ in range(2)]
    for child in children:
        child.start()
    outcomes = sorted(results.get(timeout=30) for _ in children)
    for child in children:
        child.join(10)
    assert outcomes == ["claimed", "refused"]


def test_stale_claims(tmp_path: Path) -> None:
    path = tmp_path / "operations.json"
    now = [1000.0]
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(10)
    mine = OperationStore(path, clock=lambda: now[0])
    dead = begin(OperationStore(path, clock=lambda: now[0], pid=child.pid))
    assert mine.is_stale(dead)
    mine.release(dead.claim_id)
    remote = begin(OperationStore(path, clock=lambda: now[0], pid=child.pid, host="another-host"))
    assert not mine.is_stale(remote)  # another machine's process cannot be checked...
    now[0] += CLAIM_TIMEOUT + 1
    assert mine.is_stale(remote)  # ...until no POST could still be waiting for its answer
    attached = mine.attach(remote.claim_id, "op-1")
    assert not mine.is_stale(attached)
