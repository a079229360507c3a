"""A link is started once, whatever happens: lost answers, refusals, stopped runs and a second
client are settled from the gateway's own state ([I] the simulator lists a link request on its
connection set from its acceptance), never by sending the request again."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dwtui.domain.assessment import LinkState
from dwtui.domain.linking import LINK_PATIENCE_SECONDS, integration_dataverse, split_link_operation_id
from dwtui.domain.models import DualWriteLink, LcsEnvironment, PowerPlatformSnapshot
from dwtui.domain.operations import OperationKind, OperationRecord, OperationStatus
from dwtui.services.errors import ServiceError
from dwtui.services.linking import (
    ADOPTED,
    FOUND,
    NOT_SHOWN_YET,
    REQUESTED,
    active_link,
    settle_link,
    start_link,
    watch_link,
)
from dwtui.services.operations import AlreadyRunning, OperationStore
from dwtui.services.session import Session
from dwtui.services.watch import Finished, Polled, WatchEvent
from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.helpers import make_session

SPEED = 240.0  # the simulator's 4-minute link takes one second
LINK_POST = "/gateway/api/ConnectionSet"


def link_posts(sim: SimServer) -> list[dict[str, Any]]:
    """Every link request that reached the simulator, answered or not."""
    return [r for r in sim.requests() if r["method"] == "POST" and r["path"] == LINK_POST]


def accepted(sim: SimServer) -> list[str]:
    """The link requests the simulated gateway acted on (its own record, not the answers)."""
    with sim.world.lock:
        return [o.operation_id for o in sim.world.operations.values() if o.kind == "link"]


def changes(session: Session) -> list[str]:
    return [f"{e.summary} | {e.detail}" for e in session.activity.entries() if e.kind == "change"]


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(10)
    return child.pid


def later(store: OperationStore, seconds: float) -> OperationStore:
    """The same store seen `seconds` from now (by this process)."""
    return OperationStore(store.path, clock=lambda: time.time() + seconds)


def follow(session: Session, environment: LcsEnvironment, record: OperationRecord,
           store: OperationStore) -> tuple[OperationRecord, list[WatchEvent]]:
    events: list[WatchEvent] = []
    final = watch_link(session, environment, record, on_event=events.append, store=store, speed=SPEED)
    return final, events


@pytest.fixture
def sim(sim_factory: SimFactory) -> SimServer:
    return sim_factory("installed", speed=SPEED, device_approve_after=0)


@pytest.fixture
def session(sim: SimServer) -> Any:
    opened = make_session(sim, sign_in=True)
    yield opened
    opened.close()


@pytest.fixture
def store(tmp_path: Path) -> OperationStore:
    return OperationStore(tmp_path / "operations.json")


def uat(session: Session, sim: SimServer) -> tuple[LcsEnvironment, PowerPlatformSnapshot]:
    environment = session.environment(sim.environment_id("uat"))
    return environment, session.power_platform(environment)


# -- the answer to the link request -----------------------------------------------------------------


def test_an_answer_lost_after_the_gateway_acted_is_found_there_and_followed(
    sim: SimServer, session: Session, store: OperationStore
) -> None:
    environment, before = uat(session, sim)
    sim.add_fault(LINK_POST, "acted-503", method="POST")  # the gateway links, then answers 503
    record = start_link(session, environment, before, store=store)
    (request_id,) = accepted(sim)
    assert record.message == FOUND and split_link_operation_id(record.operation_id)[1] == request_id
    final, events = follow(session, environment, record, store)
    assert final.status is OperationStatus.SUCCEEDED
    assert [e.status for e in events if isinstance(e, Finished)] == [OperationStatus.SUCCEEDED]
    assert len(link_posts(sim)) == 1
    recorded = changes(session)
    assert any("answer lost [HTTP 503]" in c for c in recorded), recorded
    assert any(f"found on the gateway (request {request_id})" in c for c in recorded), recorded


def test_a_server_error_before_the_gateway_acted_keeps_the_claim_until_the_gateway_can_tell(
    sim: SimServer, session: Session, store: OperationStore
) -> None:
    environment, before = uat(session, sim)
    sim.add_fault(LINK_POST, "503", method="POST")  # refused at the door: nothing was made
    record = start_link(session, environment, before, store=store)
    # In doubt: not released (the gateway may yet show it), not finished, never sent again.
    assert not record.operation_id and not record.finished and record.request_sent
    assert record.message == NOT_SHOWN_YET
    held = store.active(None, environment.environment_id, OperationKind.LINK)
    assert held is not None and held.claim_id == record.claim_id
    with pytest.raises(AlreadyRunning):
        start_link(session, environment, before, store=store)
    # Past the patience, with nothing on the gateway, the request never arrived: the slot is free.
    assert settle_link(session, environment, later(store, LINK_PATIENCE_SECONDS + 1), record) is None
    assert store.records() == []
    assert len(link_posts(sim)) == 1 and accepted(sim) == []


def test_a_refused_link_request_started_nothing_and_frees_the_slot_at_once(
    sim: SimServer, session: Session, store: OperationStore
) -> None:
    environment, before = uat(session, sim)
    sim.add_fault(LINK_POST, "429", method="POST")
    reads_before = len(sim.requests())
    with pytest.raises(ServiceError) as refused:
        start_link(session, environment, before, store=store)
    assert refused.value.fault.http_status == 429 and not isinstance(refused.value, AlreadyRunning)
    assert store.records() == []
    # A refusal is certain: the gateway is not asked whether the request took effect.
    assert [r["method"] for r in sim.requests()[reads_before:]] == ["POST"]
    assert any("refused [HTTP 429]" in c for c in changes(session))
    assert start_link(session, environment, before, store=store).message == REQUESTED


def test_a_request_refused_for_a_link_under_way_follows_that_one(
    sim: SimServer, session: Session, tmp_path: Path
) -> None:
    """Two clients with their own operation stores (two machines) link at once: one request runs."""
    environment, before = uat(session, sim)
    mine, theirs = OperationStore(tmp_path / "a.json"), OperationStore(tmp_path / "b.json")
    first = start_link(session, environment, before, store=mine)
    with pytest.raises(AlreadyRunning) as refused:
        start_link(session, environment, before, store=theirs)  # read before the first was sent
    second = refused.value.record
    assert second.operation_id == first.operation_id
    assert "the gateway refused a second link request (LinkInProgress" in refused.value.note
    assert [r["status"] for r in link_posts(sim)] == [202, 409]
    final, _ = follow(session, environment, second, theirs)
    assert final.status is OperationStatus.SUCCEEDED
    assert len(accepted(sim)) == 1


def test_a_request_refused_because_the_link_was_made_meanwhile_reports_it_made(
    sim: SimServer, session: Session, tmp_path: Path
) -> None:
    environment, before = uat(session, sim)
    mine, theirs = OperationStore(tmp_path / "a.json"), OperationStore(tmp_path / "b.json")
    first = start_link(session, environment, before, store=mine)
    follow(session, environment, first, mine)
    with pytest.raises(AlreadyRunning) as refused:
        start_link(session, environment, before, store=theirs)
    settled = refused.value.record
    assert settled.finished and settled.status is OperationStatus.SUCCEEDED
    final, events = follow(session, environment, settled, theirs)
    assert final.status is OperationStatus.SUCCEEDED and not [e for e in events if isinstance(e, Polled)]
    assert [r["status"] for r in link_posts(sim)] == [202, 409]


def test_the_production_guard_refuses_an_unlinked_production_environment(sim: SimServer) -> None:
    with sim.world.lock:  # contoso-prod installed and integrated, but not linked
        prod = sim.world.connection_set_for(sim.environment_id("prod"))
        assert prod is not None
        del sim.world.connection_sets[prod.cname]
    session = make_session(sim, sign_in=True)
    try:
        environment = session.environment(sim.environment_id("prod"))
        snapshot = session.power_platform(environment)
        assert session.assess(environment, snapshot).link is LinkState.NOT_LINKED
        with pytest.raises(ServiceError) as refused:
            start_link(session, environment, snapshot, store=OperationStore(Path("/nonexistent/x.json")))
    finally:
        session.close()
    assert refused.value.fault.code == "read_only"
    assert "contoso-prod is a production environment" in refused.value.fault.message
    assert link_posts(sim) == []


# -- claims left by a run that stopped ----------------------------------------------------------------


def stopped_claim(store: OperationStore, sim: SimServer, session: Session, *, sent: bool) -> OperationRecord:
    """The claim a run left when it was stopped before its request's id was saved."""
    gone = OperationStore(store.path, pid=dead_pid())
    environment, snapshot = uat(session, sim)
    dataverse = integration_dataverse(snapshot)
    assert dataverse is not None
    record = gone.begin(
        OperationKind.LINK, "sim", environment.environment_id, dataverse.bap_environment_id, ""
    )
    return gone.mark_sent(record.claim_id) if sent else record


def post_link(session: Session, sim: SimServer) -> str:
    """The stopped run's request, as the gateway got it (its answer never reached the run)."""
    environment, snapshot = uat(session, sim)
    dataverse = integration_dataverse(snapshot)
    assert session.gateway is not None and dataverse is not None
    return session.gateway.start_link(environment, dataverse).request_id


def test_a_run_stopped_before_its_request_left_frees_the_slot_without_waiting(
    sim: SimServer, session: Session, store: OperationStore
) -> None:
    stopped_claim(store, sim, session, sent=False)
    environment, before = uat(session, sim)
    assert active_link(session, environment, store) is None
    assert store.records() == [] and link_posts(sim) == []
    record = start_link(session, environment, before, store=store)
    assert follow(session, environment, record, store)[0].status is OperationStatus.SUCCEEDED
    assert len(link_posts(sim)) == 1


def test_a_run_stopped_after_the_gateway_took_its_request_is_followed_not_repeated(
    sim: SimServer, session: Session, store: OperationStore
) -> None:
    stopped_claim(store, sim, session, sent=True)
    request_id = post_link(session, sim)
    environment, _ = uat(session, sim)
    record = active_link(session, environment, store)
    assert record is not None and record.message == FOUND
    assert split_link_operation_id(record.operation_id)[1] == request_id
    final, _ = follow(session, environment, record, store)
    assert final.status is OperationStatus.SUCCEEDED
    assert len(link_posts(sim)) == 1


def test_a_stopped_run_whose_link_ended_meanwhile_is_reported_as_ended(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    ends = (("installed", OperationStatus.SUCCEEDED), ("link-dw9003-crm", OperationStatus.FAILED))
    for scenario, status in ends:
        sim = sim_factory(scenario, speed=SPEED, device_approve_after=0)
        session = make_session(sim, sign_in=True)
        store = OperationStore(tmp_path / f"{scenario}.json")
        try:
            stopped_claim(store, sim, session, sent=True)
            post_link(session, sim)
            time.sleep(1.5)  # the simulated link (or its failure) is over
            environment, _ = uat(session, sim)
            record = active_link(session, environment, store)
        finally:
            session.close()
        assert record is not None and record.finished and record.status is status, scenario
        if status is OperationStatus.FAILED:
            assert record.error_code == "DW9003" and "Failed to connect to CRM" in record.error_message
        assert store.active(None, environment.environment_id, OperationKind.LINK) is None
        assert len(link_posts(sim)) == 1


def test_a_stopped_run_whose_request_the_gateway_never_shows_is_released_after_the_patience(
    sim: SimServer, session: Session, store: OperationStore
) -> None:
    stopped_claim(store, sim, session, sent=True)
    environment, _ = uat(session, sim)
    kept = active_link(session, environment, store)
    assert kept is not None and not kept.operation_id and kept.message == NOT_SHOWN_YET
    assert active_link(session, environment, later(store, LINK_PATIENCE_SECONDS + 1)) is None
    assert store.records() == [] and link_posts(sim) == []


def test_a_link_started_on_another_machine_is_found_on_the_gateway_and_followed(
    sim: SimServer, session: Session, tmp_path: Path
) -> None:
    environment, before = uat(session, sim)
    theirs, mine = OperationStore(tmp_path / "theirs.json"), OperationStore(tmp_path / "mine.json")
    started = start_link(session, environment, before, store=theirs)
    seen = session.power_platform(environment)
    assert isinstance(seen.link, DualWriteLink) and seen.link.linking and not seen.link.linked
    assert session.assess(environment, seen).link is LinkState.LINKING
    assert active_link(session, environment, mine) is None  # without the gateway's state: nothing known
    adopted = active_link(session, environment, mine, seen.link)
    assert adopted is not None and adopted.operation_id == started.operation_id and adopted.message == ADOPTED
    assert follow(session, environment, adopted, mine)[0].status is OperationStatus.SUCCEEDED
    assert len(link_posts(sim)) == 1


def test_a_claim_in_doubt_is_followed_through_the_gateway_until_a_request_shows(
    sim: SimServer, session: Session, tmp_path: Path
) -> None:
    """The watcher of a claim without an id asks the gateway at each poll, and follows the request it
    finds there (here another client's, sent after this one's was lost at the door)."""
    environment, before = uat(session, sim)
    mine, theirs = OperationStore(tmp_path / "mine.json"), OperationStore(tmp_path / "theirs.json")
    sim.add_fault(LINK_POST, "503", method="POST")
    record = start_link(session, environment, before, store=mine)
    assert not record.operation_id
    other = start_link(session, environment, before, store=theirs)
    final, _ = follow(session, environment, record, mine)
    assert final.status is OperationStatus.SUCCEEDED and final.operation_id == other.operation_id
    stored = mine.last(environment.environment_id, OperationKind.LINK)
    assert stored is not None and stored.operation_id == other.operation_id
    assert [r["status"] for r in link_posts(sim)] == [503, 202]
