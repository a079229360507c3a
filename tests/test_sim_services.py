"""Each simulated service's HTTP shapes, per scenario, over TLS with minted tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.helpers import bearer, sim_client

BAP_SCOPE = "https://service.powerapps.com//.default"
PPAPI_SCOPE = "https://api.powerplatform.com/.default"
GATEWAY_SCOPE = "https://IntegratorApp.com/.default"
LCS_HEADERS = {"x-ms-version": "2017-09-15"}
UAT_HOST = "contoso-uat.sandbox.operations.dynamics.com"
ENVIRONMENTS = "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments"


@pytest.fixture
def http(sim: SimServer) -> Iterator[httpx.Client]:
    with sim_client(sim) as client:
        yield client


def lcs_get(sim: SimServer, client: httpx.Client, **params: Any) -> httpx.Response:
    return client.get(
        f"{sim.lcs_api_url}/environmentinfo/v1/detail/project/{sim.project_id}/",
        params=params,
        headers={**LCS_HEADERS, **bearer(sim.mint_token(sim.lcs_scope))},
    )


def bap_environments(sim: SimServer, client: httpx.Client) -> list[dict[str, Any]]:
    answer = client.get(
        f"{sim.bap_api_url}{ENVIRONMENTS}",
        params={"api-version": "2020-10-01"},
        headers=bearer(sim.mint_token(BAP_SCOPE)),
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["value"])


def integration(sim: SimServer, client: httpx.Client, unique_name: str) -> httpx.Response:
    url = sim.dataverse_url(unique_name)
    return client.get(
        f"{url}api/data/v9.2/RetrieveFinanceAndOperationsIntegrationDetails",
        headers={**bearer(sim.mint_token(f"{url.rstrip('/')}/.default")), "OData-Version": "4.0"},
    )


def gateway_link(sim: SimServer, client: httpx.Client, identifier: str = UAT_HOST) -> httpx.Response:
    return client.get(
        f"{sim.dualwrite_gateway_url}/api/DualWriteManagement/1.0/Environments",
        params={"targetType": "AX", "identifier": identifier},
        headers=bearer(sim.mint_token(GATEWAY_SCOPE)),
    )


# -- LCS ------------------------------------------------------------------------------------------


def test_lcs_pages_through_the_project(sim: SimServer, http: httpx.Client) -> None:
    seen: list[str] = []
    page = 1
    while True:
        body = lcs_get(sim, http, page=page).json()
        assert body["IsSuccess"] is True
        assert body["ResultPageCurrent"] == page
        assert len(body["Data"]) <= 2
        seen += [item["EnvironmentName"] for item in body["Data"]]
        if not body["ResultHasMorePages"]:
            break
        page += 1
    assert page == 2
    assert seen == ["contoso-uat", "contoso-prod", "contoso-dev"]


def test_lcs_item_has_every_documented_field(sim: SimServer, http: httpx.Client) -> None:
    [item] = lcs_get(sim, http, environmentId=sim.environment_ids["prod"]).json()["Data"]
    documented = {
        "EnvironmentId", "EnvironmentName", "ProjectId", "EnvironmentInfrastructure", "EnvironmentType",
        "EnvironmentGroup", "EnvironmentProduct", "EnvironmentEndpointBaseUrl", "DeploymentState",
        "TopologyDisplayName", "CurrentApplicationBuildVersion", "CurrentApplicationReleaseName",
        "CurrentPlatformReleaseName", "CurrentPlatformVersion", "DeployedOnUTC", "CloudStorageLocation",
        "DisasterRecoveryLocation", "DeploymentStatusDisplay", "CanStart", "CanStop",
    }  # fmt: skip
    assert set(item) == documented
    assert item["EnvironmentType"] == "Production"
    assert item["EnvironmentEndpointBaseUrl"] == "https://contoso-prod.operations.dynamics.com/"
    assert item["ProjectId"] == int(sim.project_id)  # a number, as the doc shows it


def test_lcs_by_name_and_unknown_environments(sim: SimServer, http: httpx.Client) -> None:
    [item] = lcs_get(sim, http, environmentName="contoso-dev").json()["Data"]
    assert item["EnvironmentId"] == sim.environment_ids["dev"]
    assert item["EnvironmentType"] == "DevTestDev"
    for params in ({"environmentId": "0" * 32}, {"environmentName": "contoso-qa"}):
        answer = lcs_get(sim, http, **params)
        assert answer.status_code == 200  # LCS reports its own failures inside a 200
        assert answer.json()["IsSuccess"] is False
        assert "was not found" in answer.json()["ErrorMessage"]


def test_lcs_needs_x_ms_version_and_a_user(sim: SimServer, http: httpx.Client) -> None:
    url = f"{sim.lcs_api_url}/environmentinfo/v1/detail/project/{sim.project_id}/"
    answer = http.get(url, params={"page": 1}, headers=bearer(sim.mint_token(sim.lcs_scope)))
    assert answer.status_code == 400
    assert "x-ms-version" in answer.json()["ErrorMessage"]
    app_only = http.get(url, headers={**LCS_HEADERS, **bearer(sim.mint_token(sim.lcs_scope, kind="app"))})
    assert app_only.status_code == 401
    assert "Service Principal authentication isn't supported" in app_only.json()["ErrorMessage"]
    assert "WWW-Authenticate" in app_only.headers


def test_lcs_unknown_project_is_an_envelope_failure(sim: SimServer, http: httpx.Client) -> None:
    answer = http.get(
        f"{sim.lcs_api_url}/environmentinfo/v1/detail/project/7654321/",
        headers={**LCS_HEADERS, **bearer(sim.mint_token(sim.lcs_scope))},
    )
    assert answer.status_code == 200 and answer.json()["IsSuccess"] is False


# -- per scenario: BAP, Power Platform API, Dataverse, gateway --------------------------------------

# scenario: (Dataverse PPI links to uat or None, dual-write package state, Dataverse dual-write links uat to)
EXPECTED = {
    "happy": ("contosouat", "None", None),
    "installed": ("contosouat", "Installed", None),
    "linked": ("contosouat", "Installed", "contosouat"),
    "not-integrated": (None, None, None),
    "mismatch": ("contosouat", "Installed", "contosouatold"),
    "throttled": ("contosouat", "None", None),
}


@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_power_platform_side_of_each_scenario(sim_factory: SimFactory, scenario: str) -> None:
    integrated, package_state, linked_to = EXPECTED[scenario]
    sim = sim_factory(scenario)
    uat = sim.environment_ids["uat"]
    with sim_client(sim) as client:
        environments = bap_environments(sim, client)
        linked = [e for e in environments if e["properties"].get("linkedAppMetadata", {}).get("id") == uat]
        if integrated is None:
            assert linked == []
            orphan = next(e for e in environments if e["properties"]["displayName"] == "contoso-uat-dv")
            assert "linkedAppMetadata" not in orphan["properties"]
            refused = integration(sim, client, "contosouatdv")
            assert refused.status_code == 400
            assert refused.json() == {
                "error": {
                    "code": "0x80048d0b",
                    "message": "Dataverse instance isn't integrated with finance and operations.",
                }
            }
        else:
            [environment] = linked
            metadata = environment["properties"]["linkedEnvironmentMetadata"]
            assert metadata["uniqueName"] == integrated
            assert metadata["instanceUrl"] == sim.dataverse_url(integrated)
            assert environment["properties"]["linkedAppMetadata"] == {
                "type": "Linked",
                "id": uat,
                "url": "https://contoso-uat.sandbox.operations.dynamics.com/",
            }
            details = integration(sim, client, integrated).json()
            assert details["Id"] == uat
            assert details["TenantId"] == sim.tenant_id
            assert details["Url"] == "https://contoso-uat.sandbox.operations.dynamics.com"
            packages = client.get(
                f"{sim.power_platform_api_url}/appmanagement/environments/{environment['name']}/applicationPackages",
                params={"api-version": "2022-03-01-preview"},
                headers=bearer(sim.mint_token(PPAPI_SCOPE)),
            ).json()["value"]
            [core] = [p for p in packages if p["uniqueName"] == "DualWriteCoreAnchor"]
            assert core["applicationName"] == "Dual-write core solution"
            assert core["state"] == "Installed"  # Power Platform Integration's template installs it
            [application] = [p for p in packages if p["uniqueName"] == "msdyn_DualWriteAppCoreAnchor"]
            assert application["applicationName"] == "Dual-write Application Core Solutions"
            assert application["state"] == package_state
            assert "termsOfServiceBlobUris" not in application  # the documented list item has none
            assert len(packages) >= 9

        link = gateway_link(sim, client)
        assert link.status_code == 200
        if linked_to is None:
            assert link.json() == []
        else:
            [item] = link.json()
            assert set(item) == {
                "cid",
                "cname",
                "targetType",
                "displayName",
                "detail",
                "powerAppsEnvironment",
            }
            assert item["targetType"] == "AX"
            assert item["detail"] == {"isSolutionAware": True}
            connection = client.get(
                f"{sim.dualwrite_gateway_url}/api/ConnectionSet/{item['cname']}",
                headers=bearer(sim.mint_token(GATEWAY_SCOPE)),
            ).json()
            assert connection["id"] == item["cid"]
            by_type = {e["targetType"]: e for e in connection["environments"].values()}
            assert by_type["CRM"]["directUrl"] == sim.dataverse_url(linked_to)
            assert by_type["CRM"]["powerAppsEnvironment"] == item["powerAppsEnvironment"]
            assert by_type["AX"]["directUrl"] == "https://contoso-uat.sandbox.operations.dynamics.com/"
            mappings = connection["dualWriteDetail"]["legalEntityMappings"]["mappings"]
            assert [(m["left"]["name"], m["right"]["name"]) for m in mappings] == [
                ("usmf", "usmf"),
                ("demf", "demf"),
            ]


def test_production_is_always_healthy_and_dev_is_integrated_only(sim: SimServer, http: httpx.Client) -> None:
    by_link = {
        e["properties"]["linkedAppMetadata"]["id"]: e
        for e in bap_environments(sim, http)
        if "linkedAppMetadata" in e["properties"]
    }
    assert set(by_link) == {sim.environment_ids[s] for s in ("uat", "prod", "dev")}
    [prod_link] = gateway_link(sim, http, "contoso-prod.operations.dynamics.com").json()
    assert prod_link["powerAppsEnvironment"] == by_link[sim.environment_ids["prod"]]["name"]
    assert gateway_link(sim, http, "contosodev1a2b3c4d5e.axcloud.dynamics.com").json() == []


def test_bap_get_one_environment_and_errors(sim: SimServer, http: httpx.Client) -> None:
    environment = bap_environments(sim, http)[0]
    url = f"{sim.bap_api_url}{ENVIRONMENTS}/{environment['name']}"
    token = bearer(sim.mint_token(BAP_SCOPE))
    one = http.get(url, params={"api-version": "2020-10-01"}, headers=token)
    assert one.json() == environment
    missing_version = http.get(url, headers=token)
    assert missing_version.status_code == 400
    assert missing_version.json()["error"]["code"] == "MissingApiVersionParameter"
    unknown = http.get(
        f"{sim.bap_api_url}{ENVIRONMENTS}/nope", params={"api-version": "2020-10-01"}, headers=token
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "EnvironmentNotFound"


def test_dataverse_who_am_i_and_unknown_org(sim: SimServer, http: httpx.Client) -> None:
    url = sim.dataverse_url("contosouat")
    token = bearer(sim.mint_token(f"{url}.default"))
    who = http.get(f"{url}api/data/v9.2/WhoAmI", headers=token).json()
    assert {"BusinessUnitId", "UserId", "OrganizationId"} <= set(who)
    assert who["@odata.context"].endswith("#Microsoft.Dynamics.CRM.WhoAmIResponse")
    other = sim.dataverse_url("nosuchorg")
    assert http.get(f"{other}api/data/v9.2/WhoAmI", headers=token).status_code == 404


def test_gateway_refuses_a_url_as_identifier(sim: SimServer, http: httpx.Client) -> None:
    answer = gateway_link(sim, http, f"https://{UAT_HOST}")
    assert answer.status_code == 400
    assert "host" in answer.json()["message"]
    unknown = http.get(
        f"{sim.dualwrite_gateway_url}/api/ConnectionSet/nope", headers=bearer(sim.mint_token(GATEWAY_SCOPE))
    )
    assert unknown.status_code == 404


# -- api-versions: the simulator takes only the documented ones, as the services do -----------------


@pytest.mark.parametrize(
    ("service", "path", "documented"),
    [
        # TF constants.go BAP_API_VERSION; d365bap.tools Get-BapEnvironment.
        ("bap", ENVIRONMENTS, "2023-06-01"),
        # PP-TUT, TF and d365bap.tools.
        ("ppapi", "/appmanagement/environments/{env}/applicationPackages", "2022-03-01-preview"),
    ],
)
def test_an_undocumented_api_version_is_refused_as_the_service_refuses_it(
    sim: SimServer, http: httpx.Client, service: str, path: str, documented: str
) -> None:
    from dwtui.services import bap, ppapi

    client_version = {"bap": bap.API_VERSION, "ppapi": ppapi.API_VERSION}[service]
    assert client_version == documented  # what dwtui sends is the documented version
    base = {"bap": sim.bap_api_url, "ppapi": sim.power_platform_api_url}[service]
    scope = {"bap": BAP_SCOPE, "ppapi": PPAPI_SCOPE}[service]
    url = base + path.format(env=bap_environments(sim, http)[0]["name"])
    token = bearer(sim.mint_token(scope))
    assert http.get(url, params={"api-version": documented}, headers=token).status_code == 200
    for other in ("2019-05-01", "1", documented + "x"):
        refused = http.get(url, params={"api-version": other}, headers=token)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "InvalidApiVersionParameter"
    missing = http.get(url, headers=token)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "MissingApiVersionParameter"


def test_lcs_refuses_an_x_ms_version_other_than_2017_09_15(sim: SimServer, http: httpx.Client) -> None:
    from dwtui.services import lcs

    assert lcs.HEADERS["x-ms-version"] == "2017-09-15"  # reference-environment-metadata.md
    url = f"{sim.lcs_api_url}/environmentinfo/v1/detail/project/{sim.project_id}/"
    token = bearer(sim.mint_token(sim.lcs_scope))
    answer = http.get(url, headers={"x-ms-version": "2020-01-01", **token})
    assert answer.json()["IsSuccess"] is False and "x-ms-version" in answer.json()["ErrorMessage"]
