"""The doctor against the simulator over TLS: every check on the good scenarios, each failure through
its scenario, the one-box from start to finish, and a check that fails or hangs among the others."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from dwtui.domain.doctor import BY_ID, CATALOGUE, CheckResult, CheckState, Finding, Outcome
from dwtui.domain.doctor import catalogue as c
from dwtui.services.doctor import Doctor, DoctorInputs
from dwtui.services.doctor_checks import JUDGES
from dwtui.services.session import Session
from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.helpers import make_session

OK, PROBLEM, UNKNOWN, NA = CheckState.OK, CheckState.PROBLEM, CheckState.UNKNOWN, CheckState.NOT_APPLICABLE
GATEWAY_CHECKS = {c.DUALWRITE_LINK, c.DUALWRITE_MISMATCH, c.DUALWRITE_MAPS}


def _session(sim_factory: SimFactory, scenario: str, environment: str = "uat") -> tuple[SimServer, Session]:
    sim = sim_factory(scenario, device_approve_after=0)
    return sim, make_session(sim, sign_in=True, environment=environment)


def _states(results: tuple[CheckResult, ...]) -> dict[str, CheckState]:
    return {result.check_id: result.state for result in results}


@pytest.mark.parametrize("scenario", ["happy", "installed", "linked"])
def test_every_applicable_check_passes(sim_factory: SimFactory, scenario: str) -> None:
    _, session = _session(sim_factory, scenario)
    try:
        report = Doctor(session).run()
    finally:
        session.close()
    assert report.outcome is Outcome.OK, [
        (r.check_id, r.summary) for r in report.results if r.state is not OK
    ]
    assert report.environment is not None and report.environment.name == "contoso-uat"
    states = _states(report.results)
    assert {check for check, state in states.items() if state is NA} == {
        spec.check_id for spec in CATALOGUE if spec.group.value == "one-box"
    } | ({c.DUALWRITE_MISMATCH, c.DUALWRITE_MAPS} if scenario != "linked" else set())
    assert all(result.evidence for result in report.results if result.state is OK)


FAILURES = [
    ("no-consent-ppapi", "uat", c.SIGNIN_POWER_PLATFORM, "no admin consent for the Power Platform API"),
    ("no-consent-bap", "uat", c.SIGNIN_BAP, "no admin consent for the BAP admin API"),
    ("no-consent-dataverse", "uat", c.SIGNIN_DATAVERSE, "no admin consent for the Dataverse"),
    ("no-consent-gateway", "uat", c.SIGNIN_GATEWAY, "no admin consent for the dual-write gateway"),
    ("lcs-no-access", "uat", c.RIGHTS_LCS, "LCS does not show you the environment"),
    ("not-power-platform-admin", "uat", c.RIGHTS_POWER_PLATFORM, "not a Power Platform administrator"),
    ("not-system-administrator", "uat", c.RIGHTS_DATAVERSE, "your roles: Basic User"),
    ("deployment-failed", "uat", c.ENVIRONMENT_STATE, "last deployment of contoso-uat failed"),
    ("happy", "prod", c.ENVIRONMENT_TYPE, "read-only"),
    ("old-version", "uat", c.ENVIRONMENT_VERSION, "10.0.8 / Platform update 32 is below"),
    ("not-integrated", "uat", c.INTEGRATION_SETUP, "not set up"),
    ("no-dataverse", "uat", c.INTEGRATION_SETUP, "has no Dataverse yet"),
    ("dataverse-not-ready", "uat", c.INTEGRATION_DATAVERSE, "is NotReady, not Ready"),
    ("tenant-mismatch", "uat", c.INTEGRATION_TENANT, "no link across tenants"),
    ("packages-broken", "uat", c.DUALWRITE_PACKAGES, "Dual-write Application Core failed to install"),
    ("no-gateway-host", "uat", c.DUALWRITE_GATEWAY, "names no dual-write gateway"),
    ("link-failed", "uat", c.DUALWRITE_LINK, "DW9003"),
    ("mismatch", "uat", c.DUALWRITE_MISMATCH, "linked via Dual-write to a different destination"),
    ("maps-running", "uat", c.DUALWRITE_MAPS, "needs Force Reset"),
]


@pytest.mark.parametrize(("scenario", "environment", "check", "words"), FAILURES)
def test_each_failure_is_found_through_its_scenario(
    sim_factory: SimFactory, scenario: str, environment: str, check: str, words: str
) -> None:
    _, session = _session(sim_factory, scenario, environment)
    try:
        report = Doctor(session).run()
    finally:
        session.close()
    found = next(result for result in report.results if result.check_id == check)
    assert found.state is PROBLEM, (found.summary, found.evidence)
    assert words in found.summary
    assert found.remedy and found.doc.startswith(("https://", "README"))
    assert report.outcome is Outcome.PROBLEM
    assert not [r.summary for r in report.results if "could not run this check" in r.summary]


def test_the_failures_cover_every_check_outside_the_one_box() -> None:
    covered = {check for _, _, check, _ in FAILURES}
    assert {spec.check_id for spec in CATALOGUE if spec.group.value != "one-box"} - covered == {
        c.SIGNIN_LCS  # an application profile (delegated_only): not a scenario, see the domain tests
    }


# -- the one-box ----------------------------------------------------------------------------------


def _onebox(sim: SimServer, session: Session, tmp_path: Path) -> DoctorInputs:
    from dwtui.services.axdb_demo import create_demo_database, demo_connection_string
    from dwtui.services.verify import store_app_secret

    database = create_demo_database(tmp_path / "AXDB.sqlite")
    store_app_secret(session.secrets, session.profile, sim.onebox_client_id, sim.onebox_client_secret)
    return DoctorInputs(
        onebox_app_id=sim.onebox_client_id, axdb_connection_string=demo_connection_string(database)
    )


ONEBOX = [c.ONEBOX_APP_ID, c.ONEBOX_APP_USER, c.ONEBOX_FLIGHT, c.ONEBOX_AOS, c.ONEBOX_VERIFY]


def _onebox_states(session: Session, inputs: DoctorInputs) -> tuple[CheckState, ...]:
    results = {r.check_id: r for r in Doctor(session, inputs).run().results}
    return tuple(results[check].state for check in ONEBOX)


def test_the_one_box_from_missing_flight_to_set_up(sim_factory: SimFactory, tmp_path: Path) -> None:
    from dwtui.domain.flight import FlightPlan
    from dwtui.services.aos import SimulatedServiceController
    from dwtui.services.onebox import enable_flight, restart

    sim, session = _session(sim_factory, "happy", "dev")
    inputs = _onebox(sim, session, tmp_path)
    try:
        # The flight is off; restarting the AOS means nothing yet; verify names the flight.
        assert _onebox_states(session, inputs) == (OK, OK, PROBLEM, NA, PROBLEM)
        assert enable_flight(session, inputs.axdb_connection_string, FlightPlan()).committed
        # dwtui committed the flight and has not restarted the AOS since.
        assert _onebox_states(session, inputs) == (OK, OK, OK, PROBLEM, PROBLEM)
        assert restart(session, controller=SimulatedServiceController(sleep=lambda _: None)).ok
        assert _onebox_states(session, inputs) == (OK, OK, OK, OK, OK)
    finally:
        session.close()


@pytest.mark.parametrize(
    ("scenario", "words"),
    [
        ("onebox-no-app-user", "no active application user"),
        ("onebox-app-user-no-role", "has no security role"),
        ("onebox-app-user-deleted", "1 soft-deleted one(s), which do not count"),
    ],
)
def test_each_application_user_failure_is_found(
    sim_factory: SimFactory, tmp_path: Path, scenario: str, words: str
) -> None:
    sim, session = _session(sim_factory, scenario, "dev")
    try:
        report = Doctor(session, _onebox(sim, session, tmp_path)).run()
    finally:
        session.close()
    results = {r.check_id: r for r in report.results}
    assert results[c.ONEBOX_APP_USER].state is PROBLEM and words in results[c.ONEBOX_APP_USER].summary
    assert results[c.ONEBOX_VERIFY].state is PROBLEM


def test_without_an_app_id_or_a_database_the_one_box_cannot_be_checked(sim_factory: SimFactory) -> None:
    _, session = _session(sim_factory, "happy", "dev")
    try:
        report = Doctor(session).run()
    finally:
        session.close()
    assert _states(report.results)[c.ONEBOX_APP_ID] is UNKNOWN
    assert {r.check_id for r in report.results if r.state is UNKNOWN} == set(ONEBOX)
    assert report.outcome is Outcome.INCOMPLETE


# -- concurrency, limits and time ----------------------------------------------------------------------


def test_a_failing_and_a_hanging_check_do_not_stop_the_others(sim_factory: SimFactory) -> None:
    sim, session = _session(sim_factory, "linked")
    sim.add_fault("/gateway/api/DualWriteManagement/1.0/Environments", "slow", delay=30.0)
    sim.add_fault("/ppapi", "500", count=-1)
    order: list[str] = []
    started = time.monotonic()
    try:
        report = Doctor(session, time_limit=2.0).run(lambda result: order.append(result.check_id))
    finally:
        elapsed = time.monotonic() - started
        session.close()
    results = {r.check_id: r for r in report.results}
    for check in GATEWAY_CHECKS:
        assert results[check].state is UNKNOWN
        assert results[check].summary.startswith("timed out after 2 s (waiting for dual-write gateway")
    assert results[c.DUALWRITE_PACKAGES].state is UNKNOWN
    assert "HTTP 500" in results[c.DUALWRITE_PACKAGES].summary
    others = [r for r in report.results if r.check_id not in GATEWAY_CHECKS | {c.DUALWRITE_PACKAGES}]
    assert all(r.state in (OK, NA) for r in others), [(r.check_id, r.summary) for r in others]
    assert all(r.duration_s < 2.0 for r in others)
    assert set(order[-3:]) == GATEWAY_CHECKS  # the others were reported as they finished, before
    assert 2.0 <= elapsed < 10.0
    assert report.outcome is Outcome.INCOMPLETE


def test_every_read_is_made_once_and_lcs_is_called_once(sim_factory: SimFactory) -> None:
    sim, session = _session(sim_factory, "linked")
    sim.reset_log()
    try:
        Doctor(session).run()
    finally:
        session.close()
    calls = [r for r in sim.requests() if r["service"] != "idp"]
    by_service = {
        service: sum(1 for r in calls if r["service"] == service) for service in ("lcs", "bap", "ppapi")
    }
    assert by_service == {"lcs": 1, "bap": 1, "ppapi": 1}
    gateway = [r["path"] for r in calls if r["service"] == "gateway"]
    assert sorted(gateway) == sorted(set(gateway))  # Environments, ConnectionSet, Entities: once each


def test_each_result_is_reported_once_on_the_calling_thread_and_the_report_keeps_catalogue_order(
    sim_factory: SimFactory,
) -> None:
    _, session = _session(sim_factory, "happy")
    seen: list[tuple[str, int]] = []
    try:
        report = Doctor(session).run(lambda result: seen.append((result.check_id, threading.get_ident())))
    finally:
        session.close()
    assert sorted(check for check, _ in seen) == sorted(spec.check_id for spec in CATALOGUE)
    assert {thread for _, thread in seen} == {threading.get_ident()}
    assert [r.check_id for r in report.results] == [spec.check_id for spec in CATALOGUE]


def test_cancel_ends_the_run_and_the_checks_still_running_are_unknown(sim_factory: SimFactory) -> None:
    sim, session = _session(sim_factory, "linked")
    sim.add_fault("/gateway/api/DualWriteManagement/1.0/Environments", "slow", delay=30.0)
    doctor = Doctor(session, time_limit=60.0)
    waiting = len(CATALOGUE) - len(GATEWAY_CHECKS)
    arrived = threading.Semaphore(0)
    box: list[object] = []
    worker = threading.Thread(target=lambda: box.append(doctor.run(lambda _: arrived.release())))
    try:
        worker.start()
        for _ in range(waiting):
            assert arrived.acquire(timeout=20)
        doctor.cancel()
        worker.join(timeout=5)
        assert not worker.is_alive()
    finally:
        session.close()
    (report,) = box
    results = {r.check_id: r for r in report.results}  # type: ignore[attr-defined]
    assert {
        check for check, r in results.items() if r.summary == "cancelled before it finished"
    } == GATEWAY_CHECKS


def test_a_check_that_crashes_says_so_and_the_others_go_on(sim_factory: SimFactory) -> None:
    _, session = _session(sim_factory, "happy")

    def broken(_reads: object) -> Finding:
        raise RuntimeError("boom")

    checks = [BY_ID[c.ENVIRONMENT_STATE], BY_ID[c.ENVIRONMENT_VERSION]]
    judges = {**JUDGES, c.ENVIRONMENT_VERSION: broken}
    try:
        report = Doctor(session, checks=checks, judges=judges).run()
    finally:
        session.close()
    state, version = report.results
    assert state.state is OK
    assert (
        version.state is UNKNOWN and version.summary == "dwtui could not run this check: RuntimeError: boom"
    )


def test_a_doctor_runs_once_and_needs_a_judge_for_every_check(sim_factory: SimFactory) -> None:
    _, session = _session(sim_factory, "happy")
    try:
        with pytest.raises(ValueError, match="no judge"):
            Doctor(session, judges={})
        doctor = Doctor(session, checks=[BY_ID[c.ENVIRONMENT_STATE]])
        doctor.run()
        with pytest.raises(RuntimeError, match="runs once"):
            doctor.run()
    finally:
        session.close()


def test_an_environment_already_read_costs_no_lcs_call(sim_factory: SimFactory) -> None:
    sim, session = _session(sim_factory, "happy")
    try:
        known = session.environment(sim.environment_id("uat"))
        sim.reset_log()
        report = Doctor(session, DoctorInputs(environment=known)).run()
    finally:
        session.close()
    assert report.outcome is Outcome.OK and report.environment == known
    assert [r for r in sim.requests() if r["service"] == "lcs"] == []
