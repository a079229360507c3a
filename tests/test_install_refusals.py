"""The install POST's outcomes: a refusal started nothing, a lost answer is settled from the package
state, and a refusal because another install runs ([I] the simulator's 409) follows that install."""

from __future__ import annotations

from pathlib import Path

import pytest

from dwtui.domain.operations import OperationKind, OperationStatus
from dwtui.services.errors import ServiceError
from dwtui.services.install import UNDER_WAY, InstallUncertain, settle_claim, start_install
from dwtui.services.operations import AlreadyRunning, OperationStore
from dwtui.services.watch import NOT_SHOWN_YET, Finished, watch
from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.install_support import Recorder, app_session, plan_for

SPEED = 300.0
INSTALL = "/ppapi/appmanagement/environments/"


def make_sim(sim_factory: SimFactory) -> SimServer:
    sim = sim_factory("happy", speed=SPEED, device_code_lifetime=60.0)
    sim.world.install_seconds = 600.0  # two real seconds
    return sim


def posted(sim: SimServer) -> list[int | None]:
    """The status of every install request that reached the simulator, in order."""
    return [r["status"] for r in sim.requests() if r["method"] == "POST" and r["path"].endswith("/install")]


def accepted(sim: SimServer) -> int:
    """The installs the simulated service acted on (its own record, not the answers)."""
    with sim.world.lock:
        return sum(1 for o in sim.world.operations.values() if o.kind == "install")


def test_a_refused_install_request_started_nothing_and_frees_the_slot(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    sim = make_sim(sim_factory)
    session = app_session(sim)
    plan = plan_for(session)
    store = OperationStore(tmp_path / "operations.json")
    sim.add_fault(INSTALL, "429", method="POST")
    with pytest.raises(ServiceError) as refused:
        start_install(session, plan, store)
    session.close()
    assert refused.value.fault.http_status == 429
    assert not isinstance(refused.value, InstallUncertain | AlreadyRunning)
    assert store.records() == []
    assert posted(sim) == [429] and accepted(sim) == 0
    assert any("refused [HTTP 429]" in e.summary for e in session.activity.entries() if e.kind == "change")


def test_an_install_answer_lost_after_the_service_acted_keeps_the_claim_and_follows_the_package(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    sim = make_sim(sim_factory)
    session = app_session(sim)
    plan = plan_for(session)
    store = OperationStore(tmp_path / "operations.json")
    sim.add_fault(INSTALL, "acted-503", method="POST")  # installing, but the answer is a 503
    with pytest.raises(InstallUncertain) as uncertain:
        start_install(session, plan, store)
    record = uncertain.value.record
    assert uncertain.value.cause.http_status == 503
    held = store.active(None, plan.environment.environment_id, OperationKind.INSTALL)
    assert held is not None and held.claim_id == record.claim_id and held.request_sent
    followed = settle_claim(session, store, record)
    assert followed is not None and followed.message == NOT_SHOWN_YET
    recorder = Recorder()
    final = watch(session.ppapi, followed, on_event=recorder, store=store, speed=SPEED)
    session.close()
    assert final.status is OperationStatus.SUCCEEDED
    assert recorder.wait_for(Finished, timeout=0).status is OperationStatus.SUCCEEDED
    assert posted(sim) == [503] and accepted(sim) == 1


def test_an_install_refused_because_another_runs_follows_that_one(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    """Two clients with their own operation stores (two machines) install at once: one install runs,
    and the one refused follows it by the package state to its end."""
    sim = make_sim(sim_factory)
    session = app_session(sim)
    plan = plan_for(session)
    mine, theirs = OperationStore(tmp_path / "a.json"), OperationStore(tmp_path / "b.json")
    first = start_install(session, plan, mine)
    with pytest.raises(AlreadyRunning) as refused:
        start_install(session, plan, theirs)
    second = refused.value.record
    assert not second.operation_id and second.message == UNDER_WAY
    assert "refused a second install (InstallInProgress" in refused.value.note
    assert theirs.active(None, plan.environment.environment_id, OperationKind.INSTALL) is not None
    recorder = Recorder()
    final = watch(session.ppapi, second, on_event=recorder, store=theirs, speed=SPEED)
    watch(session.ppapi, first, on_event=lambda event: None, store=mine, speed=SPEED)
    session.close()
    assert final.status is OperationStatus.SUCCEEDED
    assert posted(sim) == [200, 409] and accepted(sim) == 1
