"""The simulator's `fleet` scenario: three LCS projects, 60 environments, and LCS's documented limit
(6 calls per project per minute, 429 with Retry-After beyond), scaled by --speed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dwtui.sim import fleet_world
from dwtui.sim.scenarios import build_world
from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.helpers import bearer, sim_client


def lcs(sim: SimServer, client: httpx.Client, project: str, **params: Any) -> httpx.Response:
    return client.get(
        f"{sim.lcs_api_url}/environmentinfo/v1/detail/project/{project}/",
        params=params or {"page": 1},
        headers={"x-ms-version": "2017-09-15", **bearer(sim.mint_token(sim.lcs_scope))},
    )


def test_sixty_environments_in_three_projects_in_every_kind() -> None:
    world = build_world("fleet", 10.0)
    assert world.lcs_projects() == ["1234567", "2345678", "3456789"]
    assert [len(world.lcs_in_project(p)) for p in world.lcs_projects()] == [20, 20, 20]
    made = fleet_world.populate(build_world("happy"))
    assert {m.kind for m in made} == set(fleet_world.KINDS)
    assert len({r.fo_host for r in world.lcs_environments.values()}) == 60  # the gateway finds each by host
    assert world.lcs_throttle is not None and world.lcs_throttle.window == 6.0  # 60 s at speed 10


def test_each_project_lists_its_own_environments(sim_factory: SimFactory) -> None:
    sim = sim_factory("fleet", speed=1000.0)
    sim.world.lcs_throttle = None  # this test pages freely
    with sim_client(sim) as client:
        for project in ("1234567", "2345678", "3456789"):
            names: list[str] = []
            for page in range(1, 20):
                body = lcs(sim, client, project, page=page).json()
                assert body["IsSuccess"] is True
                assert {item["ProjectId"] for item in body["Data"]} == {int(project)}
                names += [item["EnvironmentName"] for item in body["Data"]]
                if not body["ResultHasMorePages"]:
                    break
            assert len(names) == 20 == len(set(names)), project
        unknown = lcs(sim, client, "999").json()
        assert unknown["IsSuccess"] is False and "999" in unknown["ErrorMessage"]
        # An environment is found by id only in its own project.
        fabrikam = sim.world.lcs_in_project("2345678")[0].environment_id
        assert lcs(sim, client, "2345678", environmentId=fabrikam).json()["IsSuccess"] is True
        assert lcs(sim, client, "1234567", environmentId=fabrikam).json()["IsSuccess"] is False


@pytest.mark.parametrize(("speed", "retry_after"), [(1.0, 60), (10.0, 6)])
def test_the_seventh_call_of_a_project_in_a_minute_is_refused_with_retry_after(
    sim_factory: SimFactory, speed: float, retry_after: int
) -> None:
    sim = sim_factory("fleet", speed=speed)
    with sim_client(sim) as client:
        statuses = [lcs(sim, client, "2345678").status_code for _ in range(6)]
        refused = lcs(sim, client, "2345678")
        # The limit is per project: another project still has its six calls.
        other = lcs(sim, client, "3456789")
    assert statuses == [200] * 6
    assert refused.status_code == 429
    assert retry_after - 2 <= int(refused.headers["Retry-After"]) <= retry_after
    assert refused.json()["IsSuccess"] is False
    assert other.status_code == 200
