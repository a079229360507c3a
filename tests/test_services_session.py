"""Session.power_platform() and Session.assess() end to end, for every scenario, over real TLS."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from dwtui.domain.assessment import AppState, IntegrationState, LinkState, Remedy
from dwtui.domain.models import DataverseEnvironment, DualWriteLink, Fault, IntegrationDetails
from dwtui.services.activity import ActivityLog
from dwtui.services.errors import ServiceError
from dwtui.services.http import HttpPolicy
from dwtui.services.session import Session
from tests.helpers import make_session


class SimClock:
    """The policy's sleep: records waits and moves the simulator's clock instead of sleeping."""

    def __init__(self, sim: Any) -> None:
        self.waits: list[float] = []
        self.offset = 0.0
        sim.world.clock = lambda: time.monotonic() + self.offset

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.offset += seconds


def session_for(sim: Any, *, sign_in: bool) -> tuple[Session, SimClock, ActivityLog]:
    clock = SimClock(sim)
    activity = ActivityLog()
    http = HttpPolicy(ca_bundle=str(sim.ca_file), activity=activity, sleep=clock)
    session = make_session(sim, activity=activity, http=http, sign_in=sign_in)
    return session, clock, activity


def use_minted_tokens(session: Session, sim: Any) -> None:
    """Token getters that skip MSAL: the simulator mints what its identity provider would issue."""

    def getter(scope: str) -> Callable[[], str]:
        return lambda: str(sim.mint_token(scope))

    session.auth.token_getter = getter  # type: ignore[method-assign]
    session.lcs.token = getter(session.profile.lcs_scope)
    session.bap.token = getter("https://service.powerapps.com//.default")
    session.ppapi.token = getter("https://api.powerplatform.com/.default")
    assert session.gateway is not None
    session.gateway.token = getter("https://IntegratorApp.com/.default")


EXPECTED = {
    "happy": (IntegrationState.SET_UP, AppState.NOT_INSTALLED, LinkState.NOT_LINKED, None),
    "installed": (IntegrationState.SET_UP, AppState.INSTALLED, LinkState.NOT_LINKED, None),
    "linked": (IntegrationState.SET_UP, AppState.INSTALLED, LinkState.LINKED, None),
    "not-integrated": (IntegrationState.NOT_SET_UP, AppState.NOT_INSTALLED, LinkState.NOT_LINKED, None),
    "mismatch": (IntegrationState.SET_UP, AppState.INSTALLED, LinkState.LINKED, Remedy.RESET_CONNECTION),
}
# "throttled" is not among them: after a real sign-in, whether LCS still throttles depends on how
# long signing in took, so a test of it here could pass with no wait at all. The next test reads it
# with minted tokens on a controlled clock, where the 10 s wait is certain.


@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_power_platform_and_assess_after_a_real_sign_in(sim_factory: Any, scenario: str) -> None:
    sim = sim_factory(scenario)
    session, clock, activity = session_for(sim, sign_in=True)
    try:
        environment = session.environment(sim.environment_id("uat"))
        snapshot = session.power_platform(environment)
        assessment = session.assess(environment, snapshot)
    finally:
        session.close()
    integration, app, link, remedy = EXPECTED[scenario]
    assert (assessment.integration, assessment.app, assessment.link) == (integration, app, link)
    assert assessment.faults == ()
    if remedy is None:
        assert assessment.mismatch is None
    else:
        assert assessment.mismatch is not None and assessment.mismatch.remedy is remedy
        assert assessment.mismatch.integration_dataverse_url == sim.dataverse_url("contosouat")
        assert assessment.mismatch.dual_write_dataverse_url == sim.dataverse_url("contosouatold")
        assert isinstance(snapshot.link_dataverse_integration, IntegrationDetails | Fault)
    if integration is IntegrationState.SET_UP:
        assert isinstance(snapshot.dataverse, DataverseEnvironment)
        assert assessment.dataverse_url == sim.dataverse_url("contosouat")
        assert isinstance(snapshot.integration, IntegrationDetails)
        assert snapshot.integration.fo_environment_id == environment.environment_id
    else:
        assert snapshot.dataverse is None and snapshot.integration is None and snapshot.packages is None
    assert isinstance(snapshot.link, DualWriteLink)
    http = [entry for entry in activity.entries() if entry.kind == "http"]
    services = {entry.service for entry in http}
    assert {"sign-in", "LCS API", "BAP admin API", "dual-write gateway"} <= services
    if integration is IntegrationState.SET_UP:
        assert {"Dataverse", "Power Platform API"} <= services
    # Real MSAL went through the same client: its token traffic is logged, its secrets are not.
    logged = repr(activity.entries())
    assert "eyJ" not in logged and "Bearer" not in logged and "device_code=" not in logged
    waits = [entry for entry in activity.entries() if entry.kind == "wait"]
    assert clock.waits == [] and waits == []


def test_status_in_the_throttled_scenario_waits_ten_seconds(sim_factory: Any) -> None:
    sim = sim_factory("throttled", speed=1.0)
    session, clock, activity = session_for(sim, sign_in=False)
    use_minted_tokens(session, sim)
    try:
        report = session.status()
    finally:
        session.close()
    assert report.environment.name == "contoso-uat"
    assert report.assessment.integration is IntegrationState.SET_UP
    assert clock.waits == [10.0]
    (wait,) = [entry for entry in activity.entries() if entry.kind == "wait"]
    assert re.fullmatch(r"LCS API throttled, retrying in 10 s \(until \d\d:\d\d:\d\d UTC\)", wait.summary)
    assert wait.status == 429 and wait.duration_ms == 10_000.0


def test_a_failing_source_becomes_a_fault_not_an_exception(sim_factory: Any) -> None:
    sim = sim_factory("linked")
    session, _clock, _activity = session_for(sim, sign_in=False)
    use_minted_tokens(session, sim)
    try:
        environment = session.environment(sim.environment_id("uat"))
        sim.add_fault("/ppapi", "500", count=1)
        sim.add_fault("/gateway", "malformed", count=1)
        snapshot = session.power_platform(environment)
        assessment = session.assess(environment, snapshot)
    finally:
        session.close()
    assert isinstance(snapshot.packages, Fault) and snapshot.packages.code == "HTTP 500"
    assert isinstance(snapshot.link, Fault) and snapshot.link.code == "malformed"
    assert assessment.app is AppState.UNKNOWN and assessment.link is LinkState.UNKNOWN
    assert {fault.code for fault in assessment.faults} == {"HTTP 500", "malformed"}


def test_environments_of_the_project(sim_factory: Any) -> None:
    sim = sim_factory("happy")
    session, _clock, _activity = session_for(sim, sign_in=False)
    use_minted_tokens(session, sim)
    try:
        names = sorted(environment.name for environment in session.environments())
        production = session.environment(sim.environment_id("prod"))
        snapshot = session.power_platform(production)
        assessment = session.assess(production, snapshot)
    finally:
        session.close()
    assert names == ["contoso-dev", "contoso-prod", "contoso-uat"]
    # Production is healthy in every scenario, and read-only without allow_production_changes.
    assert (assessment.integration, assessment.app, assessment.link) == (
        IntegrationState.SET_UP, AppState.INSTALLED, LinkState.LINKED,
    )
    assert not any(available.enabled for action, available in assessment.actions.items()
                   if action.value != "refresh" and action.value != "onebox")


def test_an_environment_of_another_project_is_read_from_that_project(sim_factory: Any) -> None:
    sim = sim_factory("fleet")
    session, _clock, _activity = session_for(sim, sign_in=False)
    use_minted_tokens(session, sim)
    try:
        fabrikam = next(e for e in session.lcs.environments("2345678") if e.name == "fabrikam-001")
        again = session.environment(fabrikam.environment_id, "2345678")
        with pytest.raises(ServiceError) as refused:
            session.environment(fabrikam.environment_id)  # the profile's project has no such environment
    finally:
        session.close()
    assert (again.name, again.project_id) == ("fabrikam-001", "2345678")
    assert "1234567" in refused.value.fault.message
