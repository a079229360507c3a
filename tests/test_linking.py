"""Link to Power Platform environment and Reset dual-write connection against the simulator over TLS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dwtui.domain.assessment import LinkState, Remedy
from dwtui.domain.linking import ResetScenario, admin_link
from dwtui.domain.models import DualWriteLink, LcsEnvironment, PowerPlatformSnapshot
from dwtui.domain.operations import OperationKind, OperationStatus
from dwtui.services.errors import ServiceError
from dwtui.services.linking import (
    active_link,
    reset_connection,
    running_maps,
    start_link,
    watch_link,
)
from dwtui.services.operations import AlreadyRunning, OperationStore
from dwtui.services.session import Session
from dwtui.services.watch import Finished, Polled, WatchEvent
from tests.conftest import SimFactory
from tests.helpers import make_session

LINK_SPEED = 240.0  # a 4-minute link takes one second
LINK_POST = ("POST", "/gateway/api/ConnectionSet")


def signed_in(sim: Any) -> Session:
    return make_session(sim, sign_in=True)


def uat(session: Session, sim: Any) -> tuple[LcsEnvironment, PowerPlatformSnapshot]:
    environment = session.environment(sim.environment_id("uat"))
    return environment, session.power_platform(environment)


def posts(sim: Any, path_start: str) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["method"] == "POST" and r["path"].startswith(path_start)]


def changes(session: Session) -> list[str]:
    return [f"{e.summary} | {e.detail}" for e in session.activity.entries() if e.kind == "change"]


@pytest.fixture
def store(tmp_path: Path) -> OperationStore:
    return OperationStore(tmp_path / "operations.json")


# -- linking ----------------------------------------------------------------------------------------


def test_link_succeeds_is_watched_and_gives_the_admin_hyperlink(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    sim = sim_factory("installed", speed=LINK_SPEED, device_approve_after=0)
    session = signed_in(sim)
    try:
        environment, before = uat(session, sim)
        assert session.assess(environment, before).link is LinkState.NOT_LINKED
        record = start_link(session, environment, before, store=store)
        assert record.operation_id and store.active("sim", environment.environment_id, OperationKind.LINK)
        events: list[WatchEvent] = []
        final = watch_link(
            session, environment, record, on_event=events.append, store=store, speed=LINK_SPEED
        )
        after = session.power_platform(environment)
    finally:
        session.close()
    assert final.status is OperationStatus.SUCCEEDED
    finished = [e for e in events if isinstance(e, Finished)]
    assert len(finished) == 1 and finished[0].fault is None
    assert any(isinstance(e, Polled) and e.status is OperationStatus.RUNNING for e in events)
    assert store.active("sim", environment.environment_id, OperationKind.LINK) is None
    assessment = session.assess(environment, after)
    assert assessment.link is LinkState.LINKED and assessment.mismatch is None
    assert isinstance(after.link, DualWriteLink)
    assert after.link.dataverse_url == sim.dataverse_url("contosouat")
    assert {m.fo_company for m in after.link.legal_entities} == {"usmf", "demf"}
    hyperlink = admin_link(environment.fo_url)
    assert hyperlink is not None and hyperlink.url == "https://contoso-uat.sandbox.operations.dynamics.com/"
    assert len(posts(sim, LINK_POST[1])) == 1
    recorded = changes(session)
    assert any("Link to Power Platform environment on contoso-uat: started" in c for c in recorded)
    assert any("on contoso-uat: succeeded" in c and sim.user_name in c for c in recorded)


@pytest.mark.parametrize(
    ("scenario", "side", "remedy_words"),
    [
        ("link-dw9003-crm", "Failed to connect to CRM", "Dataverse"),
        ("link-dw9003-ax", "Failed to connect to AX", "Microsoft Entra ID applications"),
    ],
)
def test_link_fails_with_dw9003_code_and_remedy(
    sim_factory: SimFactory, store: OperationStore, scenario: str, side: str, remedy_words: str
) -> None:
    sim = sim_factory(scenario, speed=LINK_SPEED, device_approve_after=0)
    session = signed_in(sim)
    try:
        environment, before = uat(session, sim)
        record = start_link(session, environment, before, store=store)
        events: list[WatchEvent] = []
        final = watch_link(
            session, environment, record, on_event=events.append, store=store, speed=LINK_SPEED
        )
        after = session.power_platform(environment)
    finally:
        session.close()
    assert final.status is OperationStatus.FAILED
    (finished,) = [e for e in events if isinstance(e, Finished)]
    assert finished.fault is not None and finished.explanation is not None
    assert finished.fault.code == "DW9003" and finished.fault.service == "dual-write gateway"
    assert finished.fault.message.startswith(side)
    assert finished.explanation.code == "DW9003" and remedy_words in finished.explanation.remedy
    assert "requirements-and-prerequisites" in finished.explanation.doc
    assert session.assess(environment, after).link is LinkState.NOT_LINKED
    assert any("failed [DW9003]" in c for c in changes(session))
    # The slot is free again: the person can fix the permissions and link again.
    assert store.active("sim", environment.environment_id, OperationKind.LINK) is None


def test_a_second_link_while_one_runs_is_refused_locally(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    sim = sim_factory("installed", speed=1.0, device_approve_after=0)
    session = signed_in(sim)
    try:
        environment, before = uat(session, sim)
        first = start_link(session, environment, before, store=store)
        with pytest.raises(AlreadyRunning) as refused:
            start_link(session, environment, before, store=store)
    finally:
        session.close()
    assert refused.value.record.claim_id == first.claim_id
    assert len(posts(sim, LINK_POST[1])) == 1


def test_a_link_refused_a_token_for_want_of_consent_was_never_started(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    sim = sim_factory("installed", speed=1.0, device_approve_after=0)
    sim.world.token_lifetime = 120.0  # under MSAL's five-minute margin: the POST asks for a new token
    session = signed_in(sim)
    try:
        environment, before = uat(session, sim)
        with sim.world.lock:
            sim.world.consent_withheld.add("https://IntegratorApp.com")
        with pytest.raises(ServiceError) as refused:
            start_link(session, environment, before, store=store)
    finally:
        session.close()
    fault = refused.value.fault
    assert (fault.service, fault.code) == ("dual-write gateway", "consent_required")
    assert posts(sim, LINK_POST[1]) == []
    # Released, not finished as "no clear answer": nothing was sent.
    assert store.records() == []


def test_link_refused_when_already_linked_or_production(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    sim = sim_factory("linked", device_approve_after=0)
    session = signed_in(sim)
    try:
        environment, snapshot = uat(session, sim)
        with pytest.raises(ServiceError) as linked:
            start_link(session, environment, snapshot, store=store)
        prod = session.environment(sim.environment_id("prod"))
        prod_snapshot = session.power_platform(prod)
        with pytest.raises(ServiceError) as read_only:
            reset_connection(session, prod, prod_snapshot, force=False)
    finally:
        session.close()
    assert linked.value.fault.code == "cannot_link"
    assert read_only.value.fault.code == "read_only"
    assert posts(sim, "/gateway/api/ConnectionSet") == []


# -- mismatch and reset -----------------------------------------------------------------------------


def test_mismatch_then_reset_without_force_clears_it(sim_factory: SimFactory) -> None:
    sim = sim_factory("mismatch", device_approve_after=0)
    session = signed_in(sim)
    try:
        environment, before = uat(session, sim)
        mismatch = session.assess(environment, before).mismatch
        assert mismatch is not None and mismatch.remedy is Remedy.RESET_CONNECTION
        assert mismatch.dual_write_dataverse_url == sim.dataverse_url("contosouatold")
        assert mismatch.integration_dataverse_url == sim.dataverse_url("contosouat")
        assert running_maps(session, before) == ()
        result = reset_connection(session, environment, before, force=False)
        maps_after = running_maps(session, result.after)
    finally:
        session.close()
    assert result.plan.scenario is ResetScenario.DIFFERENT_ORG and not result.forced
    assert result.plan.target_dataverse_url == sim.dataverse_url("contosouat")
    assert session.assess(environment, result.after).mismatch is None
    assert maps_after == ()
    with sim.world.lock:
        (record,) = [cs for cs in sim.world.connection_sets.values() if cs.cname.startswith("contoso-uat-")]
        assert record.maps == {} and record.legal_entities == ("usmf", "demf")
    resets = posts(sim, "/gateway/api/ConnectionSet/")
    assert [r["query"] for r in resets] == ["targetType=AX&forceReset=False"]
    assert any("Reset dual-write connection on contoso-uat: succeeded" in c for c in changes(session))

    fresh = signed_in(sim)
    try:
        environment, again = uat(fresh, sim)
        assessment = fresh.assess(environment, again)
    finally:
        fresh.close()
    assert assessment.link is LinkState.LINKED and assessment.mismatch is None
    assert isinstance(again.link, DualWriteLink)
    assert again.link.dataverse_url == sim.dataverse_url("contosouat")


def test_maps_running_refuses_reset_without_force_then_force_resets(sim_factory: SimFactory) -> None:
    from dwtui.domain.errors import explain

    sim = sim_factory("maps-running", device_approve_after=0)
    session = signed_in(sim)
    try:
        environment, before = uat(session, sim)
        running = running_maps(session, before)
        with pytest.raises(ServiceError) as refused:
            reset_connection(session, environment, before, force=False)
        unchanged = session.power_platform(environment)
        forced = reset_connection(session, environment, unchanged, force=True)
    finally:
        session.close()
    assert len(running) == 3
    fault = refused.value.fault
    assert (fault.code, fault.http_status) == ("DualWriteMapsRunning", 409)
    assert "Force Reset" in explain(fault).remedy
    assert session.assess(environment, unchanged).mismatch is not None
    assert forced.forced and session.assess(environment, forced.after).mismatch is None
    resets = posts(sim, "/gateway/api/ConnectionSet/")
    assert [r["query"].rsplit("=", 1)[-1] for r in resets] == ["False", "True"]
    recorded = changes(session)
    assert any("failed [DualWriteMapsRunning]" in c for c in recorded)
    assert any("Reset dual-write connection (force) on contoso-uat: succeeded" in c for c in recorded)


def test_reset_is_not_retried_on_a_server_error(sim_factory: SimFactory) -> None:
    sim = sim_factory("mismatch", device_approve_after=0)
    session = signed_in(sim)
    try:
        environment, before = uat(session, sim)
        sim.add_fault("/gateway/api/ConnectionSet/", "503", count=1, method="POST")
        with pytest.raises(ServiceError) as failed:
            reset_connection(session, environment, before, force=False)
    finally:
        session.close()
    assert failed.value.fault.http_status == 503
    assert len(posts(sim, "/gateway/api/ConnectionSet/")) == 1


def test_reset_with_blank_integration_is_refused_before_any_call(sim_factory: SimFactory) -> None:
    sim = sim_factory("not-integrated", device_approve_after=0)
    with sim.world.lock:  # dual-write linked although Power Platform Integration was never set up
        org = sim.world.org_by_unique_name("contosouatdv")
        from dwtui.sim.world import ConnectionSetRecord

        sim.world.connection_sets["contoso-uat-contosouatdv"] = ConnectionSetRecord(
            "5a1f0c1e-0000-4000-8000-000000000001", "contoso-uat-contosouatdv",
            sim.environment_id("uat"), org.bap_id,
        )
    session = signed_in(sim)
    try:
        environment, snapshot = uat(session, sim)
        mismatch = session.assess(environment, snapshot).mismatch
        with pytest.raises(ServiceError) as refused:
            reset_connection(session, environment, snapshot, force=False)
    finally:
        session.close()
    assert mismatch is not None and mismatch.remedy is Remedy.CONNECT_INTEGRATION
    assert refused.value.fault.code == "integration_not_set_up"
    assert posts(sim, "/gateway/api/ConnectionSet/") == []


# -- a link watched across a restart ------------------------------------------------------------------

_CHILD = """
import json, sys
from pathlib import Path
from dwtui.domain.profile import parse_profile
from dwtui.services.activity import ActivityLog
from dwtui.services.linking import start_link
from dwtui.services.operations import OperationStore
from dwtui.services.secrets import SecretStore
from dwtui.services.session import Session

table, store_path, environment_id = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
session = Session(parse_profile("sim", table), secrets=SecretStore(memory_only=True), activity=ActivityLog())
session.auth.finish_device_flow(session.auth.start_device_flow(), lambda: False)
environment = session.environment(environment_id)
record = start_link(session, environment, session.power_platform(environment),
                    store=OperationStore(Path(store_path)))
print(record.operation_id, flush=True)
sys.stdin.read()  # wait to be killed mid-link
"""


def test_a_link_is_watched_across_a_restart(sim_factory: SimFactory, tmp_path: Path) -> None:
    speed = 60.0  # four seconds: the link is still running when the second process looks
    sim = sim_factory("installed", speed=speed, device_approve_after=0)
    store_path = tmp_path / "operations.json"
    session = signed_in(sim)  # the second run, signed in before the first one starts
    arguments = [json.dumps(sim.profile_table()), str(store_path), sim.environment_id("uat")]
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, *arguments],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert child.stdout is not None
        operation_id = child.stdout.readline().strip()
        assert operation_id, child.stderr.read() if child.stderr else ""
    finally:
        child.kill()
        child.wait(10)
    try:
        environment = session.environment(sim.environment_id("uat"))
        store = OperationStore(store_path)
        record = active_link(session, environment, store)
        assert record is not None and record.operation_id == operation_id
        assert record.claimant_pid == child.pid
        events: list[WatchEvent] = []
        final = watch_link(session, environment, record, on_event=events.append, store=store, speed=speed)
        after = session.power_platform(environment)
    finally:
        session.close()
    assert any(isinstance(e, Polled) and e.status is OperationStatus.RUNNING for e in events)
    assert final.status is OperationStatus.SUCCEEDED
    assert session.assess(environment, after).link is LinkState.LINKED
    assert len(posts(sim, LINK_POST[1])) == 1
    assert store.active("sim", environment.environment_id, OperationKind.LINK) is None
