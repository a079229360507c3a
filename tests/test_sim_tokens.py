"""Every simulated service endpoint checks its bearer token: missing, forged, expired, wrong audience."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from dwtui.sim import tokens
from dwtui.sim.server import SimServer
from tests.helpers import bearer, sim_client

ENVIRONMENTS = "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments"

# name: (URL under the base, scope of a good token, extra headers)
Endpoint = tuple[Callable[[SimServer], str], Callable[[SimServer], str], dict[str, str]]
ENDPOINTS: dict[str, Endpoint] = {
    "lcs": (
        lambda s: f"{s.lcs_api_url}/environmentinfo/v1/detail/project/{s.project_id}/?page=1",
        lambda s: s.lcs_scope,
        {"x-ms-version": "2017-09-15"},
    ),
    "bap list": (
        lambda s: f"{s.bap_api_url}{ENVIRONMENTS}?api-version=2020-10-01",
        lambda s: "https://service.powerapps.com//.default",
        {},
    ),
    "ppapi": (
        lambda s: (
            f"{s.power_platform_api_url}/appmanagement/environments/"
            f"{next(iter(s.world.power_platform))}/applicationPackages?api-version=2022-03-01-preview"
        ),
        lambda s: "https://api.powerplatform.com/.default",
        {},
    ),
    "dataverse": (
        lambda s: (
            f"{s.dataverse_url('contosouat')}api/data/v9.2/RetrieveFinanceAndOperationsIntegrationDetails"
        ),
        lambda s: f"{s.dataverse_url('contosouat')}.default",
        {},
    ),
    "gateway": (
        lambda s: (
            f"{s.dualwrite_gateway_url}/api/DualWriteManagement/1.0/Environments"
            "?targetType=AX&identifier=contoso-prod.operations.dynamics.com"
        ),
        lambda s: "https://IntegratorApp.com/.default",
        {},
    ),
}


def _expired(sim: SimServer, scope: str) -> str:
    now = int(time.time())
    return tokens.sign(
        {"aud": tokens.resource_of(scope), "tid": sim.tenant_id, "idtyp": "user", "iat": now - 7200,
         "nbf": now - 7200, "exp": now - 60}
    )  # fmt: skip


def _forged(sim: SimServer, scope: str) -> str:
    head, claims, _ = sim.mint_token(scope).split(".")
    return f"{head}.{claims}.{tokens.b64url(b'not the signature')}"


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_token_checks(sim: SimServer, name: str) -> None:
    url_of, scope_of, headers = ENDPOINTS[name]
    url, scope = url_of(sim), scope_of(sim)
    other_scope = "https://somewhere.example.com/.default"
    with sim_client(sim) as client:
        good = client.get(url, headers={**headers, **bearer(sim.mint_token(scope))})
        assert good.status_code == 200, good.text
        refusals = {
            "missing": client.get(url, headers=headers),
            "not a jwt": client.get(url, headers={**headers, **bearer("opaque-garbage")}),
            "forged": client.get(url, headers={**headers, **bearer(_forged(sim, scope))}),
            "expired": client.get(url, headers={**headers, **bearer(_expired(sim, scope))}),
            "wrong audience": client.get(url, headers={**headers, **bearer(sim.mint_token(other_scope))}),
            "basic": client.get(url, headers={**headers, "Authorization": "Basic dXNlcjpwYXNz"}),
        }
    for why, answer in refusals.items():
        assert answer.status_code == 401, why
        assert answer.headers["content-type"].startswith("application/json"), why
        assert answer.json(), why
        assert answer.headers["WWW-Authenticate"].startswith("Bearer "), why


def test_expired_message_says_so(sim: SimServer) -> None:
    with sim_client(sim) as client:
        answer = client.get(
            f"{sim.bap_api_url}{ENVIRONMENTS}?api-version=2020-10-01",
            headers=bearer(_expired(sim, "https://service.powerapps.com//.default")),
        )
    assert answer.json()["error"] == {
        "code": "InvalidAuthenticationToken",
        "message": "The access token has expired.",
    }


def test_a_token_for_one_org_does_not_open_another(sim: SimServer) -> None:
    uat, prod = sim.dataverse_url("contosouat"), sim.dataverse_url("contosoprod")
    with sim_client(sim) as client:
        answer = client.get(f"{prod}api/data/v9.2/WhoAmI", headers=bearer(sim.mint_token(f"{uat}.default")))
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"


def test_short_token_lifetime_knob(sim_factory: Callable[..., SimServer]) -> None:
    sim = sim_factory(token_lifetime=1)
    claims = tokens.split_jwt(sim.mint_token(sim.lcs_scope))
    assert claims is not None
    assert claims[1]["exp"] - claims[1]["iat"] == 1


def test_resource_of_scopes() -> None:
    assert (
        tokens.resource_of("https://lcsapi.lcs.dynamics.com//.default") == "https://lcsapi.lcs.dynamics.com"
    )
    assert tokens.resource_of("openid https://api.powerplatform.com/AppManagement.Read") == (
        "https://api.powerplatform.com"
    )
    assert tokens.resource_of("openid profile offline_access") == tokens.GRAPH_RESOURCE
    with pytest.raises(ValueError, match="kind"):
        SimServer().mint_token("x", kind="robot")
