"""Each service client against each simulator scenario, over real TLS, with minted tokens."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from dwtui.domain.models import LcsEnvironment, PackageState
from dwtui.domain.profile import BAP_SCOPE, DUALWRITE_SCOPE, POWER_PLATFORM_SCOPE, dataverse_scope
from dwtui.services.activity import ActivityLog
from dwtui.services.bap import BapClient
from dwtui.services.bap import parse_environment as parse_bap_environment
from dwtui.services.dataverse import DataverseClient
from dwtui.services.dualwrite import DualWriteGateway, fo_identifier
from dwtui.services.errors import ServiceError
from dwtui.services.http import HttpPolicy
from dwtui.services.lcs import LcsClient
from dwtui.services.lcs import parse_environment as parse_lcs_environment
from dwtui.services.ppapi import PowerPlatformClient, parse_package
from dwtui.services.shapes import expect_list, text

UAT_HOST = "contoso-uat.sandbox.operations.dynamics.com"
UAT_URL = f"https://{UAT_HOST}/"


@dataclass
class Rig:
    sim: Any
    http: HttpPolicy
    activity: ActivityLog
    waits: list[float] = field(default_factory=list)

    def token(self, scope: str, kind: str = "user") -> Any:
        return lambda: self.sim.mint_token(scope, kind)

    def lcs(self, kind: str = "user") -> LcsClient:
        return LcsClient(self.sim.lcs_api_url, self.http, self.token(self.sim.lcs_scope, kind))

    def bap(self) -> BapClient:
        return BapClient(self.sim.bap_api_url, self.http, self.token(BAP_SCOPE))

    def ppapi(self) -> PowerPlatformClient:
        url = self.sim.power_platform_api_url
        return PowerPlatformClient(url, self.http, self.token(POWER_PLATFORM_SCOPE))

    def dataverse(self, unique_name: str) -> DataverseClient:
        url = self.sim.dataverse_url(unique_name)
        return DataverseClient(url, self.http, self.token(dataverse_scope(url)))

    def gateway(self) -> DualWriteGateway:
        return DualWriteGateway(self.sim.dualwrite_gateway_url, self.http, self.token(DUALWRITE_SCOPE))

    def uat(self) -> LcsEnvironment:
        return self.lcs().environment(self.sim.project_id, self.sim.environment_id("uat"))


def make_rig(sim: Any) -> Iterator[Rig]:
    activity = ActivityLog()
    waits: list[float] = []
    offset = [0.0]
    sim.world.clock = lambda: time.monotonic() + offset[0]

    def sleep(seconds: float) -> None:
        # Move the simulator's clock instead of sleeping: its throttle window then moves on.
        waits.append(seconds)
        offset[0] += seconds

    rig = Rig(sim, HttpPolicy(ca_bundle=str(sim.ca_file), activity=activity, sleep=sleep), activity, waits)
    try:
        yield rig
    finally:
        rig.http.close()


@pytest.fixture
def rig(sim: Any) -> Iterator[Rig]:
    yield from make_rig(sim)


@pytest.fixture(params=["happy", "installed", "linked", "not-integrated", "mismatch", "throttled"])
def scenario_rig(request: pytest.FixtureRequest, sim_factory: Any) -> Iterator[tuple[str, Rig]]:
    sim = sim_factory(request.param, speed=1.0)
    for rig in make_rig(sim):
        yield request.param, rig


# -- LCS ------------------------------------------------------------------------------------------


def test_lcs_pages_through_every_environment(rig: Rig) -> None:
    environments = rig.lcs().environments(rig.sim.project_id)
    assert {e.name for e in environments} == {"contoso-uat", "contoso-prod", "contoso-dev"}
    pages = [r for r in rig.sim.requests() if r["path"].startswith("/lcs")]
    assert [r["query"] for r in pages] == ["page=1", "page=2"]  # page size 2, three environments
    uat = next(e for e in environments if e.name == "contoso-uat")
    assert uat.environment_type == "Sandbox" and uat.fo_url == UAT_URL
    assert uat.project_id == rig.sim.project_id and uat.topology and uat.deployed_on_utc
    prod = next(e for e in environments if e.name == "contoso-prod")
    assert prod.is_production and not prod.is_onebox
    assert next(e for e in environments if e.name == "contoso-dev").is_onebox


def test_lcs_sends_its_version_header_and_by_id_and_name(rig: Rig) -> None:
    lcs = rig.lcs()
    uat_id = rig.sim.environment_id("uat")
    assert lcs.environment(rig.sim.project_id, uat_id).name == "contoso-uat"
    prod = lcs.environment_by_name(rig.sim.project_id, "CONTOSO-PROD")
    assert prod.environment_id == rig.sim.environment_id("prod")
    # The simulator refuses requests without x-ms-version: 2017-09-15, so reaching here proves it.
    assert all(r["status"] == 200 for r in rig.sim.requests())


def test_lcs_is_success_false_is_a_service_error(rig: Rig) -> None:
    with pytest.raises(ServiceError) as raised:
        rig.lcs().environment(rig.sim.project_id, "00000000000000000000000000000000")
    fault = raised.value.fault
    assert fault.service == "LCS API" and "was not found" in fault.message
    with pytest.raises(ServiceError) as project:
        rig.lcs().environments("7654321")
    assert "7654321" in project.value.fault.message


def test_lcs_refuses_app_only_tokens(rig: Rig) -> None:
    with pytest.raises(ServiceError) as raised:
        rig.lcs(kind="app").environments(rig.sim.project_id)
    assert raised.value.fault.http_status == 401
    assert "Service Principal" in raised.value.fault.message


def test_lcs_throttled_waits_as_told(sim_factory: Any) -> None:
    sim = sim_factory("throttled", speed=1.0)
    for rig in make_rig(sim):
        environments = rig.lcs().environments(sim.project_id)
        assert len(environments) == 3
        assert rig.waits[0] == 10.0  # the window starts full: the first call waits 10 s
        summaries = [e.summary for e in rig.activity.entries() if e.kind == "wait"]
        assert re.fullmatch(r"LCS API throttled, retrying in 10 s \(until \d\d:\d\d:\d\d UTC\)", summaries[0])
        assert all(e.service == "LCS API" for e in rig.activity.entries())


def test_lcs_throttled_past_max_attempts_reports_retry_after(sim_factory: Any) -> None:
    sim = sim_factory("throttled", speed=1.0)
    activity = ActivityLog()
    http = HttpPolicy(ca_bundle=str(sim.ca_file), activity=activity, max_attempts=1, sleep=lambda s: None)
    try:
        with pytest.raises(ServiceError) as raised:
            lcs = LcsClient(sim.lcs_api_url, http, lambda: sim.mint_token(sim.lcs_scope))
            lcs.environments(sim.project_id)
    finally:
        http.close()
    fault = raised.value.fault
    assert fault.code == "HTTP 429" and fault.retry_after == 10.0 and "Rate limit" in fault.message


# -- BAP ------------------------------------------------------------------------------------------


def test_bap_environments_and_one_by_id(rig: Rig) -> None:
    environments = rig.bap().environments()
    uat = next(e for e in environments if e.unique_name == "contosouat")
    assert uat.instance_url == rig.sim.dataverse_url("contosouat")
    assert uat.display_name == "contoso-uat" and uat.instance_state == "Ready" and uat.sku == "Sandbox"
    assert uat.linked_fo_environment_id == rig.sim.environment_id("uat") and uat.linked_app_type == "Linked"
    assert rig.bap().environment(uat.bap_environment_id) == uat
    default = next(e for e in environments if e.unique_name == "contosodefault")
    assert default.linked_fo_environment_id == "" and default.linked_fo_url == ""
    with pytest.raises(ServiceError) as raised:
        rig.bap().environment("00000000-0000-0000-0000-000000000000")
    assert raised.value.fault.code == "EnvironmentNotFound"


def test_bap_for_fo_environment_matches_by_id_then_url(rig: Rig) -> None:
    uat = rig.uat()
    found = rig.bap().for_fo_environment(uat)
    assert found is not None and found.unique_name == "contosouat"
    # Ids compare without hyphens or case.
    raw = uat.environment_id.replace("-", "")
    hyphenated = "-".join((raw[:8], raw[8:12], raw[12:16], raw[16:20], raw[20:])).upper()
    assert rig.bap().for_fo_environment(replace(uat, environment_id=hyphenated)) == found
    # An unknown id still matches on the F&O URL (trailing slash and case ignored).
    unknown = "f" * 32
    by_url = replace(uat, environment_id=unknown, fo_url=UAT_URL.upper().rstrip("/"))
    assert rig.bap().for_fo_environment(by_url) == found
    nobody = replace(uat, environment_id=unknown, fo_url="https://elsewhere.example/")
    assert rig.bap().for_fo_environment(nobody) is None


# -- Dataverse ------------------------------------------------------------------------------------


def test_dataverse_integration_details_and_who_am_i(rig: Rig) -> None:
    client = rig.dataverse("contosouat")
    details = client.integration_details()
    assert details.fo_url.rstrip("/") == UAT_URL.rstrip("/")
    assert details.fo_environment_id == rig.sim.environment_id("uat")
    assert details.tenant_id == rig.sim.tenant_id
    me = client.who_am_i()
    assert me.user_id and me.business_unit_id and me.organization_id


def test_dataverse_not_integrated_is_0x80048d0b(sim_factory: Any) -> None:
    for rig in make_rig(sim_factory("not-integrated")):
        with pytest.raises(ServiceError) as raised:
            rig.dataverse("contosouatdv").integration_details()
        fault = raised.value.fault
        assert fault.code == "0x80048d0b" and fault.http_status == 400 and fault.service == "Dataverse"


# -- Power Platform API ---------------------------------------------------------------------------


def test_ppapi_packages(rig: Rig) -> None:
    uat = rig.bap().for_fo_environment(rig.uat())
    assert uat is not None
    packages = rig.ppapi().packages(uat.bap_environment_id)
    by_name = {p.unique_name: p for p in packages}
    # Power Platform Integration's template installed the core; the application core is not yet.
    core = by_name["DualWriteCoreAnchor"]
    assert core.state is PackageState.INSTALLED and core.version and core.package_id
    assert core.application_name == "Dual-write core solution"
    application = by_name["msdyn_DualWriteAppCoreAnchor"]
    assert application.state is PackageState.NOT_INSTALLED
    assert application.application_name == "Dual-write Application Core Solutions"
    assert by_name["MicrosoftOperationsVEAnchor"].state is PackageState.INSTALLED
    assert by_name["msdyn_Dynamics365FinanceExtendedAnchor"].state is PackageState.NOT_INSTALLED


# -- dual-write gateway ---------------------------------------------------------------------------


def test_fo_identifier_is_the_host_only() -> None:
    assert fo_identifier("https://Contoso-UAT.sandbox.operations.dynamics.com/") == UAT_HOST
    assert fo_identifier(UAT_HOST) == UAT_HOST
    assert fo_identifier("https://h.example:8443/path?x=1") == "h.example"
    assert fo_identifier("") == ""


def test_gateway_not_linked_and_bad_url(rig: Rig) -> None:
    assert rig.gateway().link(UAT_URL).linked is False
    query = [r["query"] for r in rig.sim.requests() if r["path"].startswith("/gateway")]
    assert query == [f"targetType=AX&identifier={UAT_HOST}"]
    with pytest.raises(ServiceError) as raised:
        rig.gateway().link("")
    assert raised.value.fault.code == "no_fo_url"


# -- every scenario, every client -----------------------------------------------------------------

EXPECTED = {
    # scenario: (BAP names a Dataverse for uat, its integration answers, the Dual-write Application
    #            Core's state, linked Dataverse unique name or None)
    "happy": ("contosouat", True, PackageState.NOT_INSTALLED, None),
    "installed": ("contosouat", True, PackageState.INSTALLED, None),
    "linked": ("contosouat", True, PackageState.INSTALLED, "contosouat"),
    "not-integrated": (None, False, None, None),
    "mismatch": ("contosouat", True, PackageState.INSTALLED, "contosouatold"),
    "throttled": ("contosouat", True, PackageState.NOT_INSTALLED, None),
}


def test_each_client_in_each_scenario(scenario_rig: tuple[str, Rig]) -> None:
    name, rig = scenario_rig
    dataverse_name, integrated, package_state, linked_to = EXPECTED[name]
    uat = rig.uat()
    assert uat.name == "contoso-uat"
    dataverse = rig.bap().for_fo_environment(uat)
    if dataverse_name is None:
        assert dataverse is None
    else:
        assert dataverse is not None and dataverse.unique_name == dataverse_name
        details = rig.dataverse(dataverse_name).integration_details()
        assert details.fo_environment_id == uat.environment_id and integrated
        packages = {p.unique_name: p for p in rig.ppapi().packages(dataverse.bap_environment_id)}
        assert packages["DualWriteCoreAnchor"].state is PackageState.INSTALLED
        assert packages["msdyn_DualWriteAppCoreAnchor"].state is package_state
    link = rig.gateway().link(uat.fo_url)
    if linked_to is None:
        assert link.linked is False and link.dataverse_url == ""
    else:
        assert link.linked and link.connection_set_id and link.connection_set_name
        assert link.dataverse_url == rig.sim.dataverse_url(linked_to)
        assert link.fo_url == UAT_URL and link.power_apps_environment_id
        assert link.dataverse_name and link.legal_entities
        assert all(m.fo_company and m.dataverse_company for m in link.legal_entities)
    # The prod environment is healthy in every scenario.
    prod = rig.lcs().environment(rig.sim.project_id, rig.sim.environment_id("prod"))
    prod_link = rig.gateway().link(prod.fo_url)
    assert prod_link.linked and prod_link.dataverse_url == rig.sim.dataverse_url("contosoprod")
    if name == "throttled":
        assert rig.waits and rig.waits[0] == 10.0
    else:
        assert rig.waits == []


# -- faults through the clients -------------------------------------------------------------------


def test_clients_surface_malformed_json(rig: Rig) -> None:
    rig.sim.add_fault("/gateway", "malformed", count=1)
    with pytest.raises(ServiceError) as raised:
        rig.gateway().link(UAT_URL)
    assert raised.value.fault.code == "malformed" and raised.value.fault.service == "dual-write gateway"


def test_clients_retry_5xx_then_succeed(rig: Rig) -> None:
    rig.sim.add_fault("/ppapi", "503", count=1)
    rig.sim.add_fault("/dataverse", "429", count=1, retry_after=3)
    uat = rig.bap().for_fo_environment(rig.uat())
    assert uat is not None
    assert rig.ppapi().packages(uat.bap_environment_id)
    assert rig.dataverse("contosouat").integration_details().fo_url
    assert len(rig.waits) == 2 and rig.waits[1] == 3.0
    summaries = [e.summary for e in rig.activity.entries() if e.kind == "wait"]
    assert summaries[0].startswith("Power Platform API unavailable (HTTP 503), retrying in ")
    assert re.fullmatch(r"Dataverse throttled, retrying in 3 s \(until \d\d:\d\d:\d\d UTC\)", summaries[1])


# -- parsing: strict about shapes, tolerant about missing optional fields --------------------------


def test_wrong_shapes_are_malformed_and_say_what_was_expected() -> None:
    with pytest.raises(ServiceError) as lcs:
        parse_lcs_environment(["not", "an", "object"])
    assert lcs.value.fault.code == "malformed" and "object" in lcs.value.fault.message
    with pytest.raises(ServiceError) as missing_id:
        parse_lcs_environment({"EnvironmentName": "x"})
    assert "EnvironmentId" in missing_id.value.fault.message
    with pytest.raises(ServiceError) as nested:
        parse_bap_environment({"name": "x", "properties": {"linkedEnvironmentMetadata": ["wrong"]}})
    assert "linkedEnvironmentMetadata" in nested.value.fault.message
    with pytest.raises(ServiceError) as listed:
        expect_list("Power Platform API", {"value": []}, "value")
    assert listed.value.fault.message == "expected value to be a JSON array, got an object"
    with pytest.raises(ServiceError) as scalar:
        text("LCS API", {"a": 1}, "EnvironmentName")
    assert "EnvironmentName" in scalar.value.fault.message


def test_missing_optional_fields_become_empty() -> None:
    lcs = parse_lcs_environment({"EnvironmentId": "abc", "ProjectId": 1234567, "EnvironmentName": None})
    assert lcs.environment_id == "abc" and lcs.project_id == "1234567" and lcs.name == "" and lcs.fo_url == ""
    bap = parse_bap_environment({"name": "env-1"})
    assert bap.bap_environment_id == "env-1" and bap.instance_url == "" and bap.linked_fo_environment_id == ""
    package = parse_package({"uniqueName": "X", "localizedName": "Shown", "state": "InstallFailed",
                             "errorDetails": {"code": "E1", "message": "broke"}})
    assert package.application_name == "Shown" and package.state is PackageState.INSTALL_FAILED
    assert package.error == "E1: broke"
    assert parse_package({"state": "Weird"}).state is PackageState.UNKNOWN
