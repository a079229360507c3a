"""The simulated gateway's link and reset calls, spoken to directly over TLS."""

from __future__ import annotations

import time
from typing import Any

import httpx

from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.helpers import bearer, sim_client

SCOPE = "https://IntegratorApp.com/.default"
UAT_HOST = "contoso-uat.sandbox.operations.dynamics.com"


class Clock:
    """Moves the simulator's clock forward instead of sleeping."""

    def __init__(self, sim: SimServer) -> None:
        self.offset = 0.0
        sim.world.clock = lambda: time.monotonic() + self.offset


def link_body(sim: SimServer, *, crm: bool = True, org_name: str = "contosouat") -> dict[str, Any]:
    org = sim.world.org_by_unique_name(org_name)
    assert org is not None
    environments = [
        {"targetType": "AX", "name": UAT_HOST, "displayName": "contoso-uat", "id": org.bap_id,
         "isDevInstance": False, "directUrl": f"https://{UAT_HOST}/"},
    ]
    if crm:
        environments.insert(0, {"targetType": "CRM", "name": "contosouat", "displayName": "contoso-uat",
                                "id": org.bap_id, "isDevInstance": False,
                                "directUrl": sim.dataverse_url(org_name)})
    return {"powerAppsEnvironmentName": org.bap_id, "environments": environments, "legalEntities": ["USMF"]}


def test_link_takes_four_simulated_minutes_and_is_listed_from_its_acceptance(sim_factory: SimFactory) -> None:
    """[I] The simulator's model: the connection set exists, and lists its link request, at once."""
    sim = sim_factory("installed", speed=1.0)
    clock = Clock(sim)
    headers = bearer(sim.mint_token(SCOPE))
    gateway = sim.dualwrite_gateway_url
    with sim_client(sim) as client:
        bad = client.post(f"{gateway}/api/ConnectionSet", params={"targetType": "AX"},
                          json=link_body(sim, crm=False), headers=headers)
        started = client.post(f"{gateway}/api/ConnectionSet", params={"targetType": "AX"},
                              json=link_body(sim), headers=headers)
        again = client.post(f"{gateway}/api/ConnectionSet", params={"targetType": "AX"},
                            json=link_body(sim), headers=headers)
        answer = started.json()
        status_url = (f"{gateway}/api/DualWriteManagement/1.0/SolutionAware/{answer['cid']}"
                      f"/Status/{answer['requestId']}")

        def state() -> dict[str, Any]:
            return dict(client.get(status_url, headers=headers).json())

        def environments() -> list[Any]:
            query = {"targetType": "AX", "identifier": UAT_HOST}
            url = f"{gateway}/api/DualWriteManagement/1.0/Environments"
            return list(client.get(url, params=query, headers=headers).json())

        def requests() -> list[Any]:
            connection_set = client.get(f"{gateway}/api/ConnectionSet/{answer['cname']}", headers=headers)
            return list(connection_set.json()["dualWriteDetail"]["solutionAwareRequests"])

        early, listed_early, requests_early = state(), environments(), requests()
        clock.offset = 239.0
        late = state()
        clock.offset = 241.0
        done, listed_done, requests_done = state(), environments(), requests()
        linked_again = client.post(f"{gateway}/api/ConnectionSet", params={"targetType": "AX"},
                                   json=link_body(sim), headers=headers)
        unauthenticated = client.get(status_url)
    assert (bad.status_code, bad.json()["code"]) == (400, "InvalidConnectionSet")
    assert started.status_code == 202 and answer["cname"] == "contoso-uat-contosouat"
    assert (again.status_code, again.json()["code"]) == (409, "LinkInProgress")
    assert again.json()["requestId"] == answer["requestId"]
    assert early["state"] == "1" and early["result"]["status"] == "InProgress"
    assert [item["cid"] for item in listed_early] == [answer["cid"]]
    assert [(r["requestId"], r["action"], r["state"]) for r in requests_early] == [
        (answer["requestId"], "Link", "1")
    ]
    assert late["state"] == "1" and late["result"]["message"].startswith("Saving")
    assert done["state"] == "2" and done["requestId"] == answer["requestId"]
    assert [item["cid"] for item in listed_done] == [answer["cid"]]
    assert [(r["requestId"], r["state"]) for r in requests_done] == [(answer["requestId"], "2")]
    assert (linked_again.status_code, linked_again.json()["code"]) == (409, "AlreadyLinked")
    assert unauthenticated.status_code == 401
    with sim.world.lock:
        assert sim.world.connection_sets["contoso-uat-contosouat"].legal_entities == ("usmf",)


def test_dw9003_ax_fails_when_the_ax_side_is_checked(sim_factory: SimFactory) -> None:
    sim = sim_factory("link-dw9003-ax", speed=1.0)
    clock = Clock(sim)
    headers = bearer(sim.mint_token(SCOPE))
    with sim_client(sim) as client:
        answer = client.post(f"{sim.dualwrite_gateway_url}/api/ConnectionSet", params={"targetType": "AX"},
                             json=link_body(sim), headers=headers).json()
        url = (f"{sim.dualwrite_gateway_url}/api/DualWriteManagement/1.0/SolutionAware/{answer['cid']}"
               f"/Status/{answer['requestId']}")
        clock.offset = 181.0  # three quarters of the way: where AX is checked
        failed = client.get(url, headers=headers).json()
    assert failed["state"] == "3"
    assert failed["result"] == {
        "status": "Failed",
        "code": "DW9003",
        "message": "Failed to connect to AX. Ensure that the service principal has the correct "
        "permissions to access AX.",
    }


def test_a_failed_link_stays_listed_until_a_new_request_replaces_it(sim_factory: SimFactory) -> None:
    sim = sim_factory("link-dw9003-crm", speed=1.0)
    clock = Clock(sim)
    headers = bearer(sim.mint_token(SCOPE))
    gateway = sim.dualwrite_gateway_url
    with sim_client(sim) as client:
        first = client.post(f"{gateway}/api/ConnectionSet", params={"targetType": "AX"},
                            json=link_body(sim), headers=headers).json()
        clock.offset = 121.0  # half way: where CRM is checked
        listed = client.get(f"{gateway}/api/DualWriteManagement/1.0/Environments",
                            params={"targetType": "AX", "identifier": UAT_HOST}, headers=headers).json()
        failed = client.get(f"{gateway}/api/ConnectionSet/{first['cname']}", headers=headers).json()
        with sim.world.lock:
            sim.world.link_failure = ""  # the permissions were fixed
        second = client.post(f"{gateway}/api/ConnectionSet", params={"targetType": "AX"},
                             json=link_body(sim), headers=headers)
        replaced = client.get(f"{gateway}/api/ConnectionSet/{first['cname']}", headers=headers).json()
    assert [item["cid"] for item in listed] == [first["cid"]]
    (request,) = failed["dualWriteDetail"]["solutionAwareRequests"]
    assert (request["requestId"], request["state"], request["result"]["code"]) == (
        first["requestId"], "3", "DW9003",
    )
    assert second.status_code == 202 and second.json()["requestId"] != first["requestId"]
    assert [(r["requestId"], r["state"]) for r in replaced["dualWriteDetail"]["solutionAwareRequests"]] == [
        (second.json()["requestId"], "1")
    ]


def test_reset_validates_its_query_and_payload(sim_factory: SimFactory) -> None:
    sim = sim_factory("maps-running")
    headers = bearer(sim.mint_token(SCOPE))
    with sim.world.lock:
        cid = sim.world.connection_set_for(sim.environment_id("uat")).cid  # type: ignore[union-attr]
    url = f"{sim.dualwrite_gateway_url}/api/ConnectionSet/{cid}/Reset"
    with sim_client(sim) as client:
        maps = client.get(f"{sim.dualwrite_gateway_url}/api/DualWriteManagement/1.0/Entities",
                          params={"targetType": "AX", "cid": cid}, headers=headers).json()
        no_force = client.post(url, params={"targetType": "AX"}, json=link_body(sim), headers=headers)
        no_body = client.post(url, params={"targetType": "AX", "forceReset": "True"}, headers=headers)
        refused = client.post(url, params={"targetType": "AX", "forceReset": "False"}, json=link_body(sim),
                              headers=headers)
        forced = client.post(url, params={"targetType": "AX", "forceReset": "True"}, json=link_body(sim),
                             headers=headers)
        maps_after = client.get(f"{sim.dualwrite_gateway_url}/api/DualWriteManagement/1.0/Entities",
                                params={"targetType": "AX", "cid": cid}, headers=headers).json()
    assert sorted(m["detail"]["state"] for m in maps) == ["1", "4", "4", "4"]
    assert no_force.status_code == 400 and no_body.status_code == 400
    assert (refused.status_code, refused.json()["code"]) == (409, "DualWriteMapsRunning")
    assert forced.status_code == 200 and forced.json()["cname"] == "contoso-uat-contosouat"
    assert maps_after == []


def test_reset_on_a_cloud_hosted_environment_without_integration_keeps_its_dataverse(
    sim_factory: SimFactory,
) -> None:
    sim = sim_factory("happy")
    world = sim.world
    with world.lock:
        dev = world.lcs_by_short("dev")
        org = world.org_by_unique_name("contosodev")
        assert org is not None
        org.linked_lcs_id = ""  # a cloud-hosted VM with no Power Platform integration
        from dwtui.sim.world import ConnectionSetRecord

        world.connection_sets["contoso-dev-contosodev"] = ConnectionSetRecord(
            "5a1f0c1e-0000-4000-8000-000000000002", "contoso-dev-contosodev", dev.environment_id, org.bap_id,
            maps={"Customers V3": "1"},
        )
    with sim_client(sim) as client:
        answer = client.post(
            f"{sim.dualwrite_gateway_url}/api/ConnectionSet/5a1f0c1e-0000-4000-8000-000000000002/Reset",
            params={"targetType": "AX", "forceReset": "False"}, json=link_body(sim),
            headers=bearer(sim.mint_token(SCOPE)),
        )
    assert answer.status_code == 200 and answer.json()["cname"] == "contoso-dev-contosodev"
    with world.lock:
        assert world.connection_sets["contoso-dev-contosodev"].maps == {}


def test_reset_refused_when_integration_is_blank(sim_factory: SimFactory) -> None:
    sim = sim_factory("not-integrated")
    with sim.world.lock:
        org = sim.world.org_by_unique_name("contosouatdv")
        assert org is not None
        from dwtui.sim.world import ConnectionSetRecord

        sim.world.connection_sets["x"] = ConnectionSetRecord(
            "5a1f0c1e-0000-4000-8000-000000000003", "x", sim.environment_id("uat"), org.bap_id
        )
    with sim_client(sim) as client:
        answer: httpx.Response = client.post(
            f"{sim.dualwrite_gateway_url}/api/ConnectionSet/5a1f0c1e-0000-4000-8000-000000000003/Reset",
            params={"targetType": "AX", "forceReset": "True"}, json=link_body(sim, org_name="contosouatdv"),
            headers=bearer(sim.mint_token(SCOPE)),
        )
    assert (answer.status_code, answer.json()["code"]) == (400, "PowerPlatformIntegrationNotSetUp")


def test_acting_faults_take_effect_before_the_answer_is_lost_or_late(sim_factory: SimFactory) -> None:
    """"acted-503": the link is made, the answer is a 503; "late": made at once, answered later."""
    sim = sim_factory("installed", speed=1.0)
    headers = bearer(sim.mint_token(SCOPE))
    gateway = sim.dualwrite_gateway_url
    sim.add_fault("/gateway/api/ConnectionSet", "acted-503", method="POST")
    with sim_client(sim) as client:
        lost = client.post(f"{gateway}/api/ConnectionSet", params={"targetType": "AX"},
                           json=link_body(sim), headers=headers)
        with sim.world.lock:
            made = sim.world.connection_set_for(sim.environment_id("uat"))
            assert made is not None
            sim.world.connection_sets.clear()  # start again, for the late answer
        sim.add_fault("/gateway/api/ConnectionSet", "late", method="POST", delay=1.0)
        began = time.monotonic()
        late = client.post(f"{gateway}/api/ConnectionSet", params={"targetType": "AX"},
                           json=link_body(sim), headers=headers)
        waited = time.monotonic() - began
    assert lost.status_code == 503 and lost.json() == {"message": "simulated HTTP 503"}
    assert made.link_request
    assert late.status_code == 202 and waited >= 1.0
    with sim.world.lock:
        again = sim.world.connection_set_for(sim.environment_id("uat"))
        assert again is not None and again.link_request == late.json()["requestId"]
    assert [r["fault"] for r in sim.requests() if r["method"] == "POST"] == ["acted-503", "late"]
