"""Nothing started twice, nothing lost: a killed watcher, lost POST answers and stale claims."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dwtui.domain.operations import TYPICAL_INSTALL_SECONDS, OperationKind, OperationStatus
from dwtui.services.activity import ActivityLog
from dwtui.services.http import HttpPolicy
from dwtui.services.install import InstallUncertain, resume_install, settle_claim, start_install
from dwtui.services.operations import OperationStore
from dwtui.services.watch import NOT_SHOWN_YET, PACKAGE_PATIENCE, Finished, watch
from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.install_support import Recorder, app_session, install_posts, plan_for

REPO = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).with_name("install_child.py")


def make_sim(sim_factory: SimFactory, speed: float = 100.0, install_seconds: float = 600.0) -> SimServer:
    sim = sim_factory("happy", speed=speed, device_code_lifetime=60.0)
    sim.world.install_seconds = install_seconds
    return sim


def dead_pid() -> int:
    """The id of a process that has certainly ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(10)
    return child.pid


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_killed_watcher_is_resumed_by_a_new_one_and_one_install_is_made(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    sim = make_sim(sim_factory)
    store = OperationStore(tmp_path / "operations.json")
    config = {"profile": sim.profile_table("uat"), "store": str(store.path), "speed": sim.speed}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), json.dumps(config)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready, "the child never attached an operation"
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line.startswith("attached "), (line, child.stderr.read() if child.stderr else "")
        operation_id = line.split()[1]
        environment_id = sim.environment_id("uat")

        def polled() -> bool:
            record = store.active(None, environment_id, OperationKind.INSTALL)
            return record is not None and record.last_polled_at is not None

        wait_until(polled, 30, "the child's first saved poll")
    finally:
        child.kill()
        child.wait(10)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()

    session = app_session(sim)
    resumed = resume_install(session, OperationStore(store.path), sim.environment_id("uat"))
    assert resumed.record is not None and resumed.record.operation_id == operation_id
    assert not resumed.record.finished
    recorder = Recorder()
    final = watch(session.ppapi, resumed.record, on_event=recorder, store=store, speed=sim.speed)
    session.close()
    assert recorder.wait_for(Finished, timeout=0).status is OperationStatus.SUCCEEDED
    # The elapsed time runs from the original start, not from the resume.
    assert final.started_at == resumed.record.started_at
    assert len(install_posts(sim)) == 1


def test_claim_whose_post_answer_was_lost_is_followed_by_package_state(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    sim = make_sim(sim_factory, speed=300.0)
    path = tmp_path / "operations.json"
    session = app_session(sim)
    plan = plan_for(session)
    # A process (now gone) claimed the slot and its POST reached the service; the answer was lost.
    gone = OperationStore(path, pid=dead_pid())
    gone.begin(
        OperationKind.INSTALL,
        "sim",
        plan.environment.environment_id,
        plan.dataverse.bap_environment_id,
        plan.steps[0].unique_name,
    )
    session.ppapi.install(plan.dataverse.bap_environment_id, plan.steps[0].listing)

    store = OperationStore(path)
    resumed = resume_install(session, store, plan.environment.environment_id)
    assert resumed.record is not None and resumed.record.operation_id == ""
    assert "interrupted" in resumed.note
    recorder = Recorder()
    watch(session.ppapi, resumed.record, on_event=recorder, store=store, speed=sim.speed)
    session.close()
    assert recorder.wait_for(Finished, timeout=0).status is OperationStatus.SUCCEEDED
    assert store.active(None, plan.environment.environment_id, OperationKind.INSTALL) is None
    assert len(install_posts(sim)) == 1


def test_stale_claim_that_never_posted_is_released_without_posting(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    sim = make_sim(sim_factory)
    path = tmp_path / "operations.json"
    session = app_session(sim)
    plan = plan_for(session)
    OperationStore(path, pid=dead_pid()).begin(
        OperationKind.INSTALL,
        "sim",
        plan.environment.environment_id,
        plan.dataverse.bap_environment_id,
        plan.steps[0].unique_name,
    )
    # Soon after the claim a list that says "None" proves nothing (the service may not show an
    # install at once): the claim is followed by its package state, never posted again.
    soon = resume_install(session, OperationStore(path), plan.environment.environment_id)
    assert soon.record is not None and soon.record.message == NOT_SHOWN_YET
    assert install_posts(sim) == []
    # Long after it, the list still says "None": the POST never took effect, and the slot is freed.
    later = time.time() + PACKAGE_PATIENCE * TYPICAL_INSTALL_SECONDS + 1.0  # a real session: no speed
    store = OperationStore(path, clock=lambda: later)
    resumed = resume_install(session, store, plan.environment.environment_id)
    assert resumed.record is None and "nothing is installing" in resumed.note
    assert store.active(None, plan.environment.environment_id, OperationKind.INSTALL) is None
    assert install_posts(sim) == []
    # The slot is free again: a person may start the install (after the terms and OK, again).
    assert start_install(session, plan, store).operation_id
    session.close()


def test_live_claimant_means_started_elsewhere(sim_factory: SimFactory, tmp_path: Path) -> None:
    sim = make_sim(sim_factory)
    session = app_session(sim)
    plan = plan_for(session)
    path = tmp_path / "operations.json"
    # pid 1 is always alive: another terminal between its claim and its POST's answer.
    OperationStore(path, pid=1).begin(
        OperationKind.INSTALL,
        "sim",
        plan.environment.environment_id,
        plan.dataverse.bap_environment_id,
        plan.steps[0].unique_name,
    )
    resumed = resume_install(session, OperationStore(path), plan.environment.environment_id)
    session.close()
    assert resumed.started_elsewhere and resumed.record is not None
    assert install_posts(sim) == []


def test_install_post_without_answer_is_uncertain_and_settled_from_package_state(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    sim = make_sim(sim_factory)
    http = HttpPolicy(ca_bundle=str(sim.ca_file), activity=ActivityLog(), timeout=1.0)
    session = app_session(sim, http=http)
    plan = plan_for(session)
    store = OperationStore(tmp_path / "operations.json")
    sim.add_fault("/ppapi", "timeout", count=1, delay=3.0, method="POST")
    with pytest.raises(InstallUncertain) as uncertain:
        start_install(session, plan, store)
    record = uncertain.value.record
    assert uncertain.value.fault.code == "install_uncertain"
    # The POST is never retried, and the claim stays until the package state settles it: right
    # after, "None" in the list proves nothing; long after, it shows the POST never took effect.
    assert store.active(None, plan.environment.environment_id, OperationKind.INSTALL) == record
    followed = settle_claim(session, store, record)
    assert followed is not None and not followed.finished and followed.message == NOT_SHOWN_YET
    later = time.time() + PACKAGE_PATIENCE * TYPICAL_INSTALL_SECONDS + 1.0  # a real session: no speed
    late_store = OperationStore(store.path, clock=lambda: later)
    assert settle_claim(session, late_store, record) is None
    assert store.active(None, plan.environment.environment_id, OperationKind.INSTALL) is None
    posts = [r for r in sim.requests() if r["method"] == "POST" and r["path"].endswith("/install")]
    assert len(posts) == 1
    session.close()
