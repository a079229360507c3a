"""The dual-write application install against the simulator over TLS, with real MSAL sign-in.

Each install is shortened (install_seconds) and sped up, so a whole run takes a few real seconds;
the watcher's schedule is compressed by the same speed.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from dwtui.domain.models import PackageState
from dwtui.domain.operations import OperationKind, OperationStatus
from dwtui.services.errors import ServiceError
from dwtui.services.install import prepare_install, start_install
from dwtui.services.operations import AlreadyRunning, OperationStore
from dwtui.services.watch import Finished, GaveUp, Polled, SignInNeeded, StateChanged, TransientFault, watch
from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.install_support import Recorder, app_session, install_posts, plan_for, sign_in_again

SPEED = 600.0
INSTALL_SECONDS = 600.0  # 1 real second at SPEED
APP_CORE = "msdyn_DualWriteAppCoreAnchor"


def started_sim(
    sim_factory: SimFactory, scenario: str = "happy", speed: float = SPEED, **kw: object
) -> SimServer:
    # At this speed a device code would expire (900 simulated s) before MSAL's first 1 s poll.
    sim = sim_factory(scenario, speed=speed, device_code_lifetime=60.0, **kw)
    sim.world.install_seconds = INSTALL_SECONDS
    return sim


def run_install(sim: SimServer, store: OperationStore) -> tuple[Recorder, Finished]:
    session = app_session(sim)
    try:
        plan = plan_for(session)
        record = start_install(session, plan, store)
        recorder = Recorder()
        watch(session.ppapi, record, on_event=recorder, store=store, speed=sim.speed)
        return recorder, recorder.wait_for(Finished, timeout=0)
    finally:
        session.close()


@pytest.fixture
def store(tmp_path: Path) -> OperationStore:
    return OperationStore(tmp_path / "state" / "operations.json")


def test_success_terms_stages_and_one_install(sim_factory: SimFactory, store: OperationStore) -> None:
    sim = started_sim(sim_factory)
    session = app_session(sim)
    plan = plan_for(session)
    # The dual-write application is what is missing of it: the Application Core (the core solution
    # is installed with Power Platform Integration).
    assert plan.names == (APP_CORE,)
    [step] = plan.steps
    # The documented list carries no terms (PP-TUT: they come with the install answer), so Configure
    # shows the notice with the package's learn-more link instead.
    assert step.terms == () and "http://go.microsoft.com/fwlink/?LinkID=773454" in step.notice
    record = start_install(session, plan, store)
    assert record.operation_id and store.active("sim", record.lcs_environment_id, record.kind) == record
    # The change is in the audit trail: what, where, by whom, with the operation id and the terms
    # URIs the install answered with (their signatures redacted).
    changes_made = [e for e in session.activity.entries() if e.kind == "change"]
    assert len(changes_made) == 1
    assert f"Dual-write package install ({APP_CORE})" in changes_made[0].summary
    assert record.operation_id in changes_made[0].summary and "by " in changes_made[0].detail
    assert "/termsblob/" in changes_made[0].summary and "simulated-signature" not in changes_made[0].summary

    recorder = Recorder()
    final = watch(session.ppapi, record, on_event=recorder, store=store, speed=sim.speed)

    finished = recorder.wait_for(Finished, timeout=0)
    assert finished.status is OperationStatus.SUCCEEDED and finished.fault is None
    changes = [(e.old, e.new) for e in recorder.of(StateChanged)]
    assert changes[-1][1] is OperationStatus.SUCCEEDED
    assert OperationStatus.RUNNING in [new for _, new in changes]
    messages = [entry.message for entry in final.log]
    assert "Importing solutions" in messages
    # The log holds state changes only, never one entry per poll.
    assert len(final.log) < len(recorder.of(Polled))
    # No source documents a percent and the simulator gives none by default: only estimates.
    assert all(e.percent is None and not e.estimate.from_service for e in recorder.of(Polled))
    assert all(0.0 <= e.estimate.fraction <= 1.0 for e in recorder.of(Polled))

    assert store.active("sim", record.lcs_environment_id, record.kind) is None
    assert store.last(record.lcs_environment_id, record.kind) == final
    # The finished record keeps the poll that saw the end, not the one before it.
    assert final.last_polled_at == recorder.of(StateChanged)[-1].at
    assert len(install_posts(sim)) == 1
    package = {p.unique_name: p for p in session.ppapi.packages(plan.dataverse.bap_environment_id)}
    assert package[APP_CORE].state is PackageState.INSTALLED
    with pytest.raises(ServiceError) as again:
        plan_for(session)
    assert again.value.fault.code == "already_installed"
    session.close()


def test_terms_on_the_list_and_a_percent_are_shown_when_a_service_gives_them(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    """[I] Neither is documented; where a list carries terms URIs they are read before Configure
    (without a token), and a percentComplete is shown as the service's own."""
    sim = started_sim(sim_factory, "progress-reported")
    session = app_session(sim)
    plan = plan_for(session)
    [step] = plan.steps
    assert len(step.terms) == 2 and not step.notice
    assert "MICROSOFT SOFTWARE LICENSE TERMS" in step.terms[0].text and "<" not in step.terms[0].text
    assert "privacy notice" in step.terms[1].text
    terms_requests = [r for r in sim.requests() if r["path"].startswith("/termsblob/")]
    assert len(terms_requests) == 2 and {r["auth"] for r in terms_requests} == {"none"}
    shown = [e.url for e in session.activity.entries() if "/termsblob/" in e.url]
    assert shown and all("simulated-signature" not in url for url in shown)
    record = start_install(session, plan, store)
    recorder = Recorder()
    watch(session.ppapi, record, on_event=recorder, store=store, speed=sim.speed)
    percents = [e.percent for e in recorder.of(Polled) if e.percent is not None]
    assert percents and percents == sorted(percents)
    assert any(e.estimate.from_service for e in recorder.of(Polled))
    session.close()


def test_an_install_answered_202_with_operation_location_is_followed(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    """Issue 9's second failure: the terraform provider's answer shape (202, empty body, the
    operation in Operation-Location) used to end in "malformed" while the install ran on."""
    sim = started_sim(sim_factory, "install-202")
    session = app_session(sim)
    record = start_install(session, plan_for(session), store)
    assert record.operation_id and record.operation_url.startswith(sim.power_platform_api_url)
    recorder = Recorder()
    final = watch(session.ppapi, record, on_event=recorder, store=store, speed=sim.speed)
    assert final.status is OperationStatus.SUCCEEDED
    polls = [r for r in sim.requests() if "/operations/" in r["path"]]
    assert polls and all(record.operation_id in r["path"] for r in polls)
    assert len(install_posts(sim)) == 1
    session.close()


def test_an_operation_location_on_another_host_is_never_followed() -> None:
    from dwtui.services.ppapi import parse_install

    base = "https://api.powerplatform.com"
    # Same host: followed as given.
    here = f"{base}/appmanagement/environments/e/operations/op-1?api-version=2022-03-01-preview"
    started = parse_install(None, operation_location=here, base=base)
    assert (started.operation_id, started.operation_url) == ("op-1", here)
    # Another host: the token stays home; the id is kept and the documented path is polled.
    elsewhere = "https://evil.example/appmanagement/environments/e/operations/op-2"
    started = parse_install(None, operation_location=elsewhere, base=base)
    assert (started.operation_id, started.operation_url) == ("op-2", "")
    with pytest.raises(ServiceError) as refused:
        parse_install(None, operation_location="https://evil.example/somewhere", base=base)
    assert refused.value.fault.code == "malformed" and "another host" in refused.value.fault.message


def test_a_failed_install_carries_the_operations_error_and_can_be_retried(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    sim = started_sim(sim_factory, "install-failed")
    _, finished = run_install(sim, store)
    assert finished.status is OperationStatus.FAILED
    # TF's dto: {errorName, errorCode, message, type, statusCode, source}; errorName is the code.
    assert finished.fault is not None and finished.fault.code == "SolutionImportFailed"
    assert finished.fault.message.startswith("The import of solution msdyn_DualWriteAppCoreMaps failed")
    assert "(error code -2147188707)" in finished.fault.message
    assert finished.explanation is not None
    assert "install it again" in finished.explanation.remedy
    assert "manage-apps" in finished.explanation.doc
    record = finished.record
    assert (record.error_code, record.status) == ("SolutionImportFailed", OperationStatus.FAILED)
    # A failed install can be retried: the package is InstallFailed (with errorDetails), the slot free.
    session = app_session(sim)
    retry_plan = plan_for(session)
    assert retry_plan.steps[0].listing.package.state is PackageState.INSTALL_FAILED
    assert "SolutionImportFailed" in retry_plan.steps[0].listing.package.error
    assert store.active("sim", record.lcs_environment_id, record.kind) is None
    session.close()


@pytest.mark.parametrize("kind", ["500", "503", "reset", "429", "timeout"])
def test_each_transient_fault_is_a_note_not_a_failure(
    sim_factory: SimFactory, store: OperationStore, kind: str
) -> None:
    sim = started_sim(sim_factory)
    retry_after = 1.0 if kind == "429" else None
    session = app_session(sim)
    plan = plan_for(session)
    record = start_install(session, plan, store)
    # Only now: the plan's package list must not meet the faults, the operation polls must.
    sim.add_fault("/ppapi/appmanagement", kind, count=2, retry_after=retry_after, delay=2.0, method="GET")
    recorder = Recorder()
    watch(session.ppapi, record, on_event=recorder, store=store, speed=sim.speed, poll_timeout=0.5)
    session.close()

    notes = recorder.of(TransientFault)
    assert [n.streak for n in notes] == [1, 2]
    expected_code = {
        "500": "HTTP 500",
        "503": "HTTP 503",
        "429": "HTTP 429",
        "reset": "network",
        "timeout": "timeout",
    }
    assert notes[0].fault.code == expected_code[kind]
    if kind == "429":
        assert all(n.retry_in == pytest.approx(1.0) for n in notes)
    assert recorder.wait_for(Finished, timeout=0).status is OperationStatus.SUCCEEDED
    assert not recorder.of(GaveUp)


def test_slow_answers_are_just_slow(sim_factory: SimFactory, store: OperationStore) -> None:
    sim = started_sim(sim_factory)
    session = app_session(sim)
    record = start_install(session, plan_for(session), store)
    sim.add_fault("/ppapi/appmanagement", "slow", count=3, delay=0.3, method="GET")
    recorder = Recorder()
    watch(session.ppapi, record, on_event=recorder, store=store, speed=sim.speed)
    session.close()
    assert not recorder.of(TransientFault)
    assert recorder.wait_for(Finished, timeout=0).status is OperationStatus.SUCCEEDED
    assert sum(1 for r in sim.requests() if r["fault"] == "slow") == 3


def test_flaky_scenario_survives_random_faults(sim_factory: SimFactory, store: OperationStore) -> None:
    sim = started_sim(sim_factory, "flaky")
    recorder, finished = run_install(sim, store)
    assert finished.status is OperationStatus.SUCCEEDED
    chaos = sim.world.chaos
    assert chaos is not None
    served = {r["fault"] for r in sim.requests() if r["fault"]}
    # Seeded, but how many polls an install takes depends on the machine's pace: the seed's third
    # draw is a reset, so every run serves at least that; what was served is what was drawn, and
    # each failing one became a visible note.
    assert "reset" in served and served == set(chaos.drawn)
    failing = sum(n for kind, n in chaos.drawn.items() if kind != "slow")
    assert len(recorder.of(TransientFault)) == failing
    assert len(install_posts(sim)) == 1


def test_tokens_expiring_mid_wait_are_renewed_silently(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    # short-token: access tokens live 3 simulated minutes, 0.6 real seconds at this speed... so
    # slower here, to keep each token valid long enough to make one request with it.
    sim = started_sim(sim_factory, "short-token", speed=60.0)
    assert sim.world.token_lifetime == pytest.approx(3.0)
    sim.world.install_seconds = 300.0  # 5 real seconds: more than one token lifetime
    before = sum(1 for r in sim.requests() if r["path"].endswith("/oauth2/v2.0/token"))
    recorder, finished = run_install(sim, store)
    assert finished.status is OperationStatus.SUCCEEDED
    assert not recorder.of(SignInNeeded)
    token_calls = sum(1 for r in sim.requests() if r["path"].endswith("/oauth2/v2.0/token")) - before
    polls = [r for r in sim.requests() if "/operations/" in r["path"]]
    # Every poll asked MSAL for the token; with tokens this short it went back to the identity
    # provider many times during one install, and the polls kept being accepted.
    assert token_calls >= 2
    assert polls[-1]["status"] == 200


def test_sign_in_needed_mid_wait_then_resumed_after_sign_in(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    sim = started_sim(sim_factory)
    sim.world.install_seconds = 1200.0
    session = app_session(sim)
    record = start_install(session, plan_for(session), store)
    recorder = Recorder()
    poll_now = threading.Event()
    first_poll = threading.Event()
    recorder.hooks.append(lambda e: first_poll.set() if isinstance(e, Polled) else None)
    worker = threading.Thread(
        target=watch,
        args=(session.ppapi, record),
        kwargs={"on_event": recorder, "store": store, "speed": sim.speed, "poll_now": poll_now},
        daemon=True,
    )
    worker.start()
    assert first_poll.wait(10)
    session.auth.sign_out()
    needed = recorder.wait_for(SignInNeeded, timeout=10)
    assert "sign" in needed.message.lower()
    sign_in_again(session)
    poll_now.set()
    assert recorder.wait_for(Finished, timeout=20).status is OperationStatus.SUCCEEDED
    worker.join(5)
    session.close()


def test_two_concurrent_starters_make_one_install(sim_factory: SimFactory, tmp_path: Path) -> None:
    sim = started_sim(sim_factory)
    path = tmp_path / "operations.json"
    sessions = [app_session(sim), app_session(sim)]
    plans = [plan_for(s) for s in sessions]
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def start(index: int) -> None:
        # Separate stores over one file: separate flock descriptors, as two terminals would have.
        store = OperationStore(path)
        barrier.wait(5)
        try:
            outcomes[index] = start_install(sessions[index], plans[index], store)
        except AlreadyRunning as refused:
            outcomes[index] = refused

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    refused = [o for o in outcomes if isinstance(o, AlreadyRunning)]
    assert len(refused) == 1 and refused[0].fault.code == "already_running"
    assert len(install_posts(sim)) == 1
    for session in sessions:
        session.close()


def test_prepare_refuses_production_without_permission(sim_factory: SimFactory) -> None:
    sim = started_sim(sim_factory)
    session = app_session(sim)
    production = session.environment(sim.environment_id("prod"))
    with pytest.raises(ServiceError) as refused:
        prepare_install(session, production, session.power_platform(production))
    assert refused.value.fault.code == "read_only"
    session.close()


def test_poll_now_cuts_the_wait_and_cancel_stops_the_watcher(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    sim = started_sim(sim_factory)
    sim.world.install_seconds = 3600.0
    session = app_session(sim)
    record = start_install(session, plan_for(session), store)
    recorder = Recorder()
    poll_now = threading.Event()
    stop = threading.Event()
    outcome: list[object] = []

    def run() -> None:
        outcome.append(
            watch(
                session.ppapi,
                record,
                on_event=recorder,
                cancelled=stop.is_set,
                poll_now=poll_now,
                # An hour between polls: only "poll now" can bring the second one within the test.
                schedule=lambda elapsed, **_: 3600.0 * sim.speed,
                speed=sim.speed,
            )
        )

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    first = recorder.wait_for(Polled, timeout=10)
    assert first.next_poll_in == pytest.approx(3600.0)
    poll_now.set()
    with recorder.changed:
        assert recorder.changed.wait_for(lambda: len(recorder.of(Polled)) >= 2, 10)
    stop.set()
    worker.join(5)
    assert not worker.is_alive() and outcome
    assert not recorder.of(Finished)
    session.close()


def test_watcher_gives_up_on_an_operation_the_service_does_not_know(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    sim = started_sim(sim_factory)
    session = app_session(sim)
    record = start_install(session, plan_for(session), store)
    recorder = Recorder()
    final = watch(
        session.ppapi, replace(record, operation_id="not-an-operation"), on_event=recorder, speed=sim.speed
    )
    session.close()
    gave_up = recorder.wait_for(GaveUp, timeout=0)
    assert gave_up.fault.code == "OperationNotFound" and gave_up.streak == 3
    assert not final.finished and not recorder.of(Finished)


def test_a_consent_withdrawn_mid_wait_gives_up_without_asking_for_a_sign_in(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    sim = started_sim(sim_factory)
    sim.world.install_seconds = 60_000.0  # far longer than the watcher keeps trying
    # Under MSAL's five-minute margin, so every poll asks the identity provider for its token.
    sim.world.token_lifetime = 120.0
    session = app_session(sim)
    record = start_install(session, plan_for(session), store)
    recorder = Recorder()
    first_poll = threading.Event()
    recorder.hooks.append(lambda e: first_poll.set() if isinstance(e, Polled) else None)
    worker = threading.Thread(
        target=watch,
        args=(session.ppapi, record),
        kwargs={"on_event": recorder, "store": store, "speed": sim.speed},
        daemon=True,
    )
    worker.start()
    try:
        assert first_poll.wait(10)
        with sim.world.lock:
            sim.world.consent_withheld.add("https://api.powerplatform.com")
        gave_up = recorder.wait_for(GaveUp, timeout=20)
    finally:
        worker.join(10)
        session.close()
    assert (gave_up.fault.service, gave_up.fault.code) == ("Power Platform API", "consent_required")
    assert not recorder.of(SignInNeeded)
    assert session.auth.signed_in() is not None


def test_an_install_refused_a_token_for_want_of_consent_was_never_started(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    sim = started_sim(sim_factory)
    sim.world.token_lifetime = 120.0  # under MSAL's five-minute margin: the POST asks for a new token
    session = app_session(sim)
    try:
        plan = plan_for(session)
        with sim.world.lock:
            sim.world.consent_withheld.add("https://api.powerplatform.com")
        with pytest.raises(ServiceError) as refused:
            start_install(session, plan, store)
    finally:
        session.close()
    assert refused.value.fault.code == "consent_required"
    assert install_posts(sim) == []
    # Nothing was sent, so nothing is claimed: the next start is not told one is under way.
    assert store.active("sim", plan.environment.environment_id, OperationKind.INSTALL) is None
    assert [e for e in session.activity.entries() if e.kind == "change" and "refused" in e.summary + e.detail]


def test_a_retry_after_beyond_the_cap_stops_the_watching_with_a_clear_fault(
    sim_factory: SimFactory, store: OperationStore
) -> None:
    """Never a silent sleep of hours: the watcher stops and says when the service answers again."""
    sim = started_sim(sim_factory)
    session = app_session(sim)
    record = start_install(session, plan_for(session), store)
    sim.add_fault("/ppapi/appmanagement", "429", count=1, retry_after=100_800, method="GET")
    recorder = Recorder()
    waited: list[float] = []
    final = watch(session.ppapi, record, on_event=recorder, store=store, speed=sim.speed, sleep=waited.append)
    session.close()
    gave_up = recorder.wait_for(GaveUp, timeout=0)
    assert waited == [] and not recorder.of(TransientFault)
    assert (gave_up.fault.code, gave_up.fault.retry_after) == ("HTTP 429", 100_800.0)
    assert "asked to wait 28.0 h (Retry-After), longer than dwtui waits (120 s)" in gave_up.fault.message
    assert gave_up.fault.remedy.startswith("Try again after ")
    assert not final.finished
