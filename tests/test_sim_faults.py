"""Injected faults, LCS throttling and the request log, as a test or a service client sees them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.helpers import bearer, sim_client

ENVIRONMENTS = "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments"


@pytest.fixture
def http(sim: SimServer) -> Iterator[httpx.Client]:
    with sim_client(sim, timeout=5.0) as client:
        yield client


def bap(sim: SimServer, client: httpx.Client, timeout: float | None = None) -> httpx.Response:
    return client.get(
        f"{sim.bap_api_url}{ENVIRONMENTS}",
        params={"api-version": "2020-10-01", "access_token": "leak"},
        headers=bearer(sim.mint_token("https://service.powerapps.com//.default")),
        timeout=timeout or 5.0,
    )


def lcs(sim: SimServer, client: httpx.Client) -> httpx.Response:
    return client.get(
        f"{sim.lcs_api_url}/environmentinfo/v1/detail/project/{sim.project_id}/",
        params={"page": 1},
        headers={"x-ms-version": "2017-09-15", **bearer(sim.mint_token(sim.lcs_scope))},
    )


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_then_recovery(sim: SimServer, http: httpx.Client, kind: str) -> None:
    sim.add_fault("/bap", kind, count=2)
    answers = [bap(sim, http) for _ in range(3)]
    assert [a.status_code for a in answers] == [int(kind), int(kind), 200]
    assert answers[0].json() == {"message": f"simulated HTTP {kind}"}


def test_faults_only_hit_their_prefix_and_method(sim: SimServer, http: httpx.Client) -> None:
    sim.add_fault("/bap", "500", count=-1, method="POST")
    sim.add_fault("/ppapi", "500", count=-1)
    assert bap(sim, http).status_code == 200
    assert lcs(sim, http).status_code == 200
    sim.clear_faults()


def test_429_fault_carries_retry_after(sim: SimServer, http: httpx.Client) -> None:
    sim.add_fault("/bap", "429", retry_after=7)
    answer = bap(sim, http)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"
    assert bap(sim, http).status_code == 200


def test_malformed_is_a_200_that_is_not_json(sim: SimServer, http: httpx.Client) -> None:
    sim.add_fault("/bap", "malformed")
    answer = bap(sim, http)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        answer.json()


def test_reset_drops_the_connection(sim: SimServer, http: httpx.Client) -> None:
    sim.add_fault("/bap", "reset")
    with pytest.raises(httpx.RemoteProtocolError):
        bap(sim, http)
    assert bap(sim, http).status_code == 200


def test_timeout_outlasts_a_short_client_timeout(sim: SimServer, http: httpx.Client) -> None:
    sim.add_fault("/bap", "timeout", delay=1.0)
    with pytest.raises(httpx.ReadTimeout):
        bap(sim, http, timeout=0.2)
    assert bap(sim, http).status_code == 200


def test_control_endpoints_over_http(sim: SimServer, http: httpx.Client) -> None:
    created = http.post(
        f"{sim.base_url}/_sim/faults", json={"path_prefix": "/lcs", "kind": "503", "count": 1}
    )
    assert created.status_code == 201
    assert created.json()["kind"] == "503"
    assert [f["path_prefix"] for f in http.get(f"{sim.base_url}/_sim/faults").json()] == ["/lcs"]
    bad = http.post(f"{sim.base_url}/_sim/faults", json={"path_prefix": "/lcs", "kind": "explode"})
    assert bad.status_code == 400
    assert lcs(sim, http).status_code == 503
    assert lcs(sim, http).status_code == 200

    log = http.get(f"{sim.base_url}/_sim/requests").json()
    assert [(e["service"], e["status"], e["fault"], e["auth"]) for e in log] == [
        ("lcs", 503, "503", "user"),
        ("lcs", 200, None, "user"),
    ]  # control calls are not logged
    assert http.post(f"{sim.base_url}/_sim/reset-log").status_code == 204
    assert http.get(f"{sim.base_url}/_sim/requests").json() == []
    assert http.delete(f"{sim.base_url}/_sim/faults").status_code == 204


def test_request_log_redacts_secret_query_values_and_records_auth_kind(
    sim: SimServer, http: httpx.Client
) -> None:
    bap(sim, http)
    http.get(f"{sim.bap_api_url}{ENVIRONMENTS}", params={"api-version": "2020-10-01"})
    first, second = sim.requests()
    assert "leak" not in first["query"] and "access_token=%2A%2A%2A" in first["query"]
    assert (first["auth"], first["status"]) == ("user", 200)
    assert (second["auth"], second["status"]) == ("none", 401)
    assert set(first) >= {"method", "path", "query", "auth", "status", "service"}


def test_throttled_lcs_answers_429_until_the_window_frees(sim_factory: SimFactory) -> None:
    sim = sim_factory("throttled", speed=50.0)
    with sim_client(sim) as client:
        first = lcs(sim, client)
        assert first.status_code == 429
        assert first.headers["Retry-After"] == "1"  # 10 s / speed 50, at least 1
        assert first.json()["IsSuccess"] is False
        # Other services are not throttled.
        assert bap(sim, client).status_code == 200


def test_throttle_is_six_calls_a_minute_per_project(sim_factory: SimFactory) -> None:
    sim = sim_factory("throttled", speed=1.0)
    assert sim.world.lcs_throttle is not None
    sim.world.lcs_throttle.prefill(sim.project_id, [])  # an empty window: count our own calls
    with sim_client(sim) as client:
        statuses = [lcs(sim, client).status_code for _ in range(7)]
        assert statuses == [200] * 6 + [429]
        retry_after = int(lcs(sim, client).headers["Retry-After"])
        assert 55 <= retry_after <= 60


def test_first_throttled_wait_is_ten_simulated_seconds(sim_factory: SimFactory) -> None:
    sim = sim_factory("throttled", speed=1.0)
    with sim_client(sim) as client:
        assert lcs(sim, client).headers["Retry-After"] == "10"


def test_happy_lcs_is_not_throttled(sim: SimServer, http: httpx.Client) -> None:
    assert [lcs(sim, http).status_code for _ in range(8)] == [200] * 8
