"""The fleet reader against the simulator over TLS: 3 projects, 60 environments, LCS's limit of 6 calls
per project per minute, rows that fill in as their reads finish, and the short-lived cache."""

from __future__ import annotations

import json
import re
import stat
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dwtui.domain.assessment import Assessment
from dwtui.domain.doctor import BY_ID, CheckResult, CheckState
from dwtui.domain.doctor.fleet import CHECKS, FleetDoctorContext, findings
from dwtui.domain.fleet import NOT_CHECKED, Column, Fact, FleetRow
from dwtui.domain.models import Fault, LcsEnvironment, PowerPlatformSnapshot
from dwtui.domain.operations import OperationKind
from dwtui.services.activity import ActivityLog
from dwtui.services.doctor import Doctor, DoctorInputs
from dwtui.services.errors import ServiceError
from dwtui.services.fleet import FleetReader, FleetResult, fleet_doctor
from dwtui.services.fleet_cache import CACHE_LIFETIME, FleetCache
from dwtui.services.http import HttpPolicy
from dwtui.services.operations import OperationStore
from dwtui.services.rate_limit import SlidingWindowLimiter
from dwtui.services.session import Session
from dwtui.sim import fleet_world
from dwtui.sim.scenarios import build_world
from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.helpers import make_session

SPEED = 100.0
WINDOW = 60.0 / SPEED  # LCS's minute, as the simulator runs it
# Where no timing is asserted: LCS's minute is 60 ms, a whole read of a project about a second.
FAST = 1000.0
PROJECTS = ["1234567", "2345678", "3456789"]
# Each generated environment's kind (the scenario is the same on every run).
KINDS = {made.record.name: made.kind for made in fleet_world.populate(build_world("happy"))}

# (integration, dataverse, packages, link, mismatch, operation) for each kind of environment.
EXPECTED = {
    "linked": ("set up", "ready", "installed", "linked", "no", "none"),
    "core-only": ("set up", "ready", "not installed", "not linked", "no", "none"),
    "not-integrated": ("not set up", "none", "none", "not linked", "no", "none"),
    "no-dataverse": (
        "Power Platform environment without Dataverse",
        "none",
        "none",
        "not linked",
        "no",
        "none",
    ),
    "mismatch": ("set up", "ready", "installed", "linked", "yes", "none"),
    "failed": ("set up", "ready", "failed", "not linked", "no", "none"),
    "installing": ("set up", "ready", "installing", "not linked", "no", "install"),
    "linking": ("set up", "ready", "installed", "linking", "no", "link"),
    "servicing": ("set up", "ready", "installed", "not linked", "no", "none"),
    "all-packages": ("set up", "ready", "installed", "linked", "no", "none"),
    "adding-dataverse": (
        "Power Platform environment without Dataverse",
        "being added",
        "none",
        "not linked",
        "no",
        "add Dataverse",
    ),
    "deploy-failed": ("not set up", "none", "none", "not linked", "no", "none"),
}


@pytest.fixture
def sim(sim_factory: SimFactory) -> SimServer:
    return sim_factory("fleet", speed=SPEED)


@pytest.fixture(scope="module")
def fast_sim() -> Iterator[SimServer]:
    """One simulator for the tests that assert no timing: each reads with its own cache."""
    with SimServer("fleet", speed=FAST, device_code_lifetime=60.0) as server:
        yield server


def _session(sim: SimServer, tmp_path: Path) -> Session:
    made = make_session(sim, sign_in=True, lcs_limiter=SlidingWindowLimiter(6, 60.0 / sim.speed))
    made.operations = OperationStore(tmp_path / "operations.json")
    return made


@pytest.fixture
def session(sim: SimServer, tmp_path: Path) -> Iterator[Session]:
    made = _session(sim, tmp_path)
    yield made
    made.close()


@pytest.fixture(scope="module")
def fast_session(fast_sim: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    made = _session(fast_sim, tmp_path_factory.mktemp("fleet-state"))
    yield made
    made.close()


def reader_for(session: Session, tmp_path: Path, **kw: Any) -> FleetReader:
    return FleetReader(session, cache=FleetCache(tmp_path / "fleet-cache.json", **kw))


class Seen:
    """Every row the reader reported, in order, with when."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.events: list[tuple[float, FleetRow]] = []

    def __call__(self, row: FleetRow) -> None:
        self.events.append((time.monotonic() - self.started, row))


def lcs_calls(sim: SimServer) -> dict[str, list[dict[str, Any]]]:
    calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in sim.requests():
        if entry["service"] == "lcs":
            project = re.search(r"/project/([^/]+)", entry["path"])
            assert project is not None
            calls[project.group(1)].append(entry)
    return calls


def test_every_environment_of_three_projects_with_its_facts(
    sim: SimServer, session: Session, tmp_path: Path
) -> None:
    result = reader_for(session, tmp_path).read(PROJECTS)
    assert result.complete and result.faults == ()
    assert [p.environments for p in result.projects] == [20, 20, 20]
    assert not any(p.from_cache for p in result.projects)
    assert len(result.rows) == 60
    assert [row.project_id for row in result.rows] == [p for p in PROJECTS for _ in range(20)]
    for row in result.rows:
        kind = KINDS.get(row.environment.name)
        if kind is None:
            continue  # contoso-uat, -prod and -dev: the base world
        facts = (row.integration, row.dataverse, row.packages, row.link, row.mismatch, row.operation)
        assert tuple(fact.value for fact in facts) == EXPECTED[kind], (row.environment.name, kind)
        assert row.doctor == NOT_CHECKED
        if kind == "servicing":
            assert row.fact(Column.STATE).value == "Servicing"
        if kind == "all-packages":
            assert row.packages.number == 9
    types = {row.environment.environment_type for row in result.rows}
    assert types == {"Production", "Sandbox", "DevTestDev"}
    # The tenant's Power Platform environments are listed once for all 60 rows.
    bap_lists = [r for r in sim.requests() if r["path"].endswith("/scopes/admin/environments")]
    assert len(bap_lists) == 1


def test_rows_fill_in_as_their_reads_finish(sim: SimServer, session: Session, tmp_path: Path) -> None:
    seen = Seen()
    result = reader_for(session, tmp_path).read(PROJECTS, seen)
    rows = [row for _, row in seen.events]
    first_listed = next(i for i, row in enumerate(rows) if not row.complete)
    first_complete = next(i for i, row in enumerate(rows) if row.complete)
    last_listed = max(i for i, row in enumerate(rows) if not row.complete)
    # A row appears with its LCS facts while the rest is read, and is reported again once complete;
    # complete rows arrive while LCS is still being listed (its limit makes the listing the longest part).
    assert first_listed < first_complete < last_listed
    assert all(row.integration.reading for row in rows if not row.complete)
    assert len(rows) == 120  # each of 60 rows twice: listed, then read
    assert {row.key for row in rows} == {row.key for row in result.rows}
    first_complete_at = seen.events[first_complete][0]
    assert first_complete_at < WINDOW  # before LCS's first window has passed


def test_never_more_than_six_lcs_calls_per_project_in_any_simulated_minute(
    sim: SimServer, session: Session, tmp_path: Path
) -> None:
    reader_for(session, tmp_path).read(PROJECTS)
    calls = lcs_calls(sim)
    assert sorted(calls) == PROJECTS
    for project, entries in calls.items():
        assert len(entries) == 10, project  # 20 environments, 2 a page: the limit had to be kept
        assert [entry["status"] for entry in entries] == [200] * 10  # never a 429
        times = sorted(entry["at"] for entry in entries)
        for first, seventh in zip(times, times[6:], strict=False):
            assert seventh - first >= WINDOW, project
    # The projects were listed side by side: the second window of each began about when the others'.
    starts = [sorted(e["at"] for e in entries)[6] for entries in calls.values()]
    assert max(starts) - min(starts) < WINDOW


def test_a_project_that_cannot_be_listed_does_not_stop_the_others(
    fast_sim: SimServer, fast_session: Session, tmp_path: Path
) -> None:
    result = reader_for(fast_session, tmp_path).read(["1234567", "999"])
    good, bad = result.projects
    assert good.environments == 20 and good.fault is None
    assert bad.fault is not None and "999" in bad.fault.message and bad.fault.service == "LCS API"
    assert len(result.rows) == 20 and result.faults == (bad.fault,)


def test_other_services_are_asked_again_after_their_retry_after(sim: SimServer, tmp_path: Path) -> None:
    waits: list[float] = []
    activity = ActivityLog()
    http = HttpPolicy(ca_bundle=str(sim.ca_file), activity=activity, sleep=waits.append)
    session = make_session(
        sim, sign_in=True, http=http, activity=activity, lcs_limiter=SlidingWindowLimiter(6, WINDOW)
    )
    try:
        sim.add_fault("/ppapi/", "429", count=2, retry_after=7)
        sim.add_fault("/gateway/", "503", count=1, retry_after=3)
        result = reader_for(session, tmp_path).read(["2345678"])
    finally:
        session.close()
    assert result.complete and result.faults == ()
    assert sorted(waits) == [3.0, 7.0, 7.0]  # as each service asked, then the read went on
    assert sum("throttled, retrying in 7 s" in e.summary for e in activity.entries()) == 2


def test_an_operation_this_machine_follows_shows_with_its_progress(
    fast_sim: SimServer, fast_session: Session, tmp_path: Path
) -> None:
    environment = next(r for r in fast_sim.world.lcs_environments.values() if r.name == "fabrikam-008")
    assert KINDS["fabrikam-008"] == "core-only"
    store = fast_session.operations
    record = store.begin(
        OperationKind.INSTALL, "sim", environment.environment_id, "bap", "msdyn_DualWriteAppCoreAnchor"
    )
    store.attach(record.claim_id, "op-1")
    stored = store.get(record.claim_id)
    assert stored is not None
    store.update(stored.observed(time.time() - 30.0, stored.status, "Importing solutions", 40.0))
    result = reader_for(fast_session, tmp_path).read(["2345678"])
    row = next(r for r in result.rows if r.environment.name == "fabrikam-008")
    assert row.operation.value == "install" and row.operation.number == 40.0
    assert row.packages.value == "installing"  # as the main screen says while dwtui follows one
    age = row.operation.age(time.time())
    assert age is not None and age >= 30.0  # as old as its last poll


def test_the_doctor_hook_fills_the_doctor_column(
    fast_sim: SimServer, fast_session: Session, tmp_path: Path
) -> None:
    finding = Fact("problem", 1.0, "no Power Platform admin rights")
    reader = FleetReader(
        fast_session, cache=FleetCache(tmp_path / "c.json"), doctor=lambda env, snapshot, assessment: finding
    )
    result = reader.read(["3456789"])
    assert {row.doctor for row in result.rows} == {finding}


def test_the_fleets_doctor_says_what_dwtui_doctor_says_for_the_same_checks(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    """The fleet judges the facts it read with the doctor's own judgements: for each check it runs,
    `dwtui doctor` (which reads for itself) finds the same state and says the same."""
    # Slow enough that the running installs, links and Add Dataverse are still running (a minute of
    # real time to go) when the doctor reads them after the fleet did.
    sim = sim_factory("fleet", speed=20.0, device_code_lifetime=60.0)
    session = _session(sim, tmp_path)
    seen: dict[str, tuple[CheckResult, ...]] = {}
    hook = fleet_doctor(session)

    def doctor(env: LcsEnvironment, snapshot: PowerPlatformSnapshot, assessment: Assessment) -> Fact:
        context = FleetDoctorContext(
            signed_in_tenant=session.signed_in_tenant(),
            gateway_url=session.profile.dualwrite_gateway_url,
            gateway_is_simulator=True,
        )
        seen[env.name] = findings(env, snapshot, context)
        return hook(env, snapshot, assessment)

    reader = FleetReader(session, cache=FleetCache(tmp_path / "c.json"), doctor=doctor)
    rows = {row.environment.name: row for row in reader.read(["2345678"]).rows}
    by_kind = {KINDS[name]: name for name in reversed(list(rows))}
    states = set()
    for kind, name in sorted(by_kind.items()):
        environment = rows[name].environment
        report = Doctor(
            session, DoctorInputs(environment=environment), checks=[BY_ID[c] for c in CHECKS]
        ).run()
        fleet = seen[name]
        assert [(r.check_id, r.state, r.summary) for r in fleet] == [
            (r.check_id, r.state, r.summary) for r in report.results
        ], kind
        worst = report.worst
        assert worst is not None and rows[name].doctor.value == worst.state.value, kind
        states.add(worst.state)
    session.close()
    assert states == {CheckState.OK, CheckState.PROBLEM}


def test_a_doctor_that_cannot_run_fails_its_own_cell_only(
    fast_sim: SimServer, fast_session: Session, tmp_path: Path
) -> None:
    refusal = Fault("Power Platform API", "no admin consent", "consent_required")

    def doctor(*_: Any) -> Fact:
        raise ServiceError(refusal)

    reader = FleetReader(fast_session, cache=FleetCache(tmp_path / "c.json"), doctor=doctor)
    result = reader.read(["3456789"])
    assert all(row.doctor.fault == refusal and row.link.fault is None for row in result.rows)
    assert result.faults == (refusal,)


# -- the cache --------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def test_reopening_shows_the_cached_rows_at_once_and_spares_lcs(
    fast_sim: SimServer, fast_session: Session, tmp_path: Path
) -> None:
    clock = Clock()
    reader = reader_for(fast_session, tmp_path, clock=clock)
    first = reader.read(PROJECTS[1:])
    clock.offset = 120.0  # reopened two minutes later
    fast_sim.reset_log()
    seen = Seen()
    again = reader.read(PROJECTS[1:], seen)
    cached = [row for _, row in seen.events[:40]]
    # The first 40 reports are the cached rows, complete, before anything was asked of a service.
    assert all(row.from_cache and row.complete for row in cached)
    assert [row.key for row in cached] == [row.key for row in first.rows]
    assert [row.integration for row in cached] == [row.integration for row in first.rows]
    assert all(seen.events[i][0] < seen.events[40][0] for i in range(40))
    listed_age = cached[0].fact(Column.NAME).age(time.time())
    assert listed_age is not None and listed_age >= 0  # the ages of cached facts are kept
    # LCS is not listed again within the cache's lifetime; the other facts are read again.
    assert lcs_calls(fast_sim) == {}
    assert all(p.from_cache for p in again.projects)
    assert again.complete and all(not row.from_cache for row in again.rows)
    assert any(r["service"] == "ppapi" for r in fast_sim.requests())


def test_the_cache_expires_after_its_lifetime(
    fast_sim: SimServer, fast_session: Session, tmp_path: Path
) -> None:
    clock = Clock()
    reader = reader_for(fast_session, tmp_path, clock=clock)
    reader.read(["1234567"])
    clock.offset = CACHE_LIFETIME + 1.0
    fast_sim.reset_log()
    seen = Seen()
    result = reader.read(["1234567"], seen)
    assert not any(row.from_cache for _, row in seen.events)
    assert len(lcs_calls(fast_sim)["1234567"]) == 10  # listed again
    assert not result.projects[0].from_cache


def test_refresh_lists_lcs_even_when_the_cache_is_fresh(
    fast_sim: SimServer, fast_session: Session, tmp_path: Path
) -> None:
    reader = reader_for(fast_session, tmp_path)
    reader.read(["2345678"])
    fast_sim.reset_log()
    result = reader.read(["2345678"], refresh=True)
    assert len(lcs_calls(fast_sim)["2345678"]) == 10 and not result.projects[0].from_cache


def test_the_cache_is_private_and_holds_no_secret(
    fast_sim: SimServer, fast_session: Session, tmp_path: Path
) -> None:
    reader = reader_for(fast_session, tmp_path)
    result = reader.read(PROJECTS[:2])
    path = reader.cache.path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    for token in (
        fast_session.auth.token_getter(fast_session.profile.lcs_scope)(),
        fast_session.auth.token_getter("https://service.powerapps.com//.default")(),
    ):
        assert token not in text
    for secret_like in (
        "eyJ",
        "Bearer",
        "access_token",
        "refresh_token",
        "client_secret",
        fast_sim.client_secret,
    ):
        assert secret_like not in text, secret_like
    document = json.loads(text)
    assert {entry["project_id"] for entry in document["entries"]} == set(PROJECTS[:2])
    assert sum(len(entry["rows"]) for entry in document["entries"]) == len(result.rows)


def test_another_profile_does_not_see_the_cache(
    fast_sim: SimServer, fast_session: Session, tmp_path: Path
) -> None:
    reader_for(fast_session, tmp_path).read(["1234567"])
    other = make_session(fast_sim, sign_in=True, lcs_limiter=SlidingWindowLimiter(6, 60.0 / FAST))
    other.profile = replace(other.profile, name="other")
    try:
        fast_sim.reset_log()
        result = reader_for(other, tmp_path).read(["1234567"])
    finally:
        other.close()
    assert not result.projects[0].from_cache and len(lcs_calls(fast_sim)["1234567"]) == 10


def test_a_damaged_cache_is_ignored(fast_sim: SimServer, fast_session: Session, tmp_path: Path) -> None:
    (tmp_path / "fleet-cache.json").write_text('{"version": 1, "entries": [{"scope": 3', encoding="utf-8")
    result = reader_for(fast_session, tmp_path).read(["1234567"])
    assert result.complete and not result.projects[0].from_cache


# -- stopping -----------------------------------------------------------------------------------------


def test_cancel_ends_a_wait_for_lcs_at_once(sim: SimServer, tmp_path: Path) -> None:
    """With LCS's real minute, the read waits after 6 pages; cancelling ends that wait."""
    session = make_session(sim, sign_in=True)  # a 60-second window
    reader = reader_for(session, tmp_path)
    listed = threading.Event()
    outcome: list[FleetResult] = []

    def on_row(row: FleetRow) -> None:
        if row.environment.name == "contoso-011":  # on the sixth page
            listed.set()

    thread = threading.Thread(target=lambda: outcome.append(reader.read(["1234567"], on_row)))
    thread.start()
    try:
        assert listed.wait(30)
        time.sleep(0.2)  # the seventh page now waits for the window
        started = time.monotonic()
        reader.cancel()
        thread.join(30)
        assert time.monotonic() - started < 5.0
    finally:
        session.close()
    result = outcome[0]
    assert result.cancelled and not result.complete
    assert len(lcs_calls(sim)["1234567"]) == 6
