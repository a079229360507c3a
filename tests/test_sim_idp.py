"""The simulator's identity provider, driven by real MSAL over TLS (and by plain HTTP for the edges)."""

from __future__ import annotations

import base64
import json
import math
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import msal
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from dwtui.sim.server import SimServer
from dwtui.sim.tls import make_client_certificate
from tests.conftest import SimFactory
from tests.helpers import bearer, sim_client

BAP_SCOPE = "https://service.powerapps.com//.default"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def http(sim: SimServer) -> Iterator[httpx.Client]:
    with sim_client(sim) as client:
        yield client


def _claims(jwt: str) -> dict[str, Any]:
    part = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def _public_app(sim: SimServer, client: httpx.Client, **kw: Any) -> msal.PublicClientApplication:
    return msal.PublicClientApplication(
        sim.client_id, authority=sim.authority, instance_discovery=False, http_client=client, **kw
    )


class _FormSafeClient:
    """MSAL's http_client contract over httpx, with bytes form values sent as text.

    MSAL hands its signed client assertion over as bytes; requests encodes bytes as-is, httpx
    sends str(b"...") instead, which Entra (and the simulator) reject as a malformed JWT.
    """

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kw: Any) -> Any:
        if isinstance(data, dict):
            data = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
        return self.client.post(url, params=params, data=data, headers=headers, **kw)

    def get(self, url: str, params: Any = None, headers: Any = None, **kw: Any) -> Any:
        return self.client.get(url, params=params, headers=headers, **kw)


def _confidential_app(
    sim: SimServer, credential: Any, client: httpx.Client
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        sim.confidential_client_id,
        client_credential=credential,
        authority=sim.authority,
        instance_discovery=False,
        http_client=_FormSafeClient(client),
    )


def _bap_status(sim: SimServer, client: httpx.Client, token: str) -> int:
    url = f"{sim.bap_api_url}/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments"
    return client.get(url, params={"api-version": "2020-10-01"}, headers=bearer(token)).status_code


@pytest.mark.parametrize("tenant", ["guid", "domain"])
def test_discovery_document_has_what_msal_reads(sim: SimServer, http: httpx.Client, tenant: str) -> None:
    segment = sim.tenant_id if tenant == "guid" else sim.tenant_domain
    document = http.get(f"{sim.base_url}/{segment}/v2.0/.well-known/openid-configuration").json()
    base = f"{sim.base_url}/{sim.tenant_id}"
    assert document["token_endpoint"] == f"{base}/oauth2/v2.0/token"
    assert document["device_authorization_endpoint"] == f"{base}/oauth2/v2.0/devicecode"
    assert document["authorization_endpoint"] == f"{base}/oauth2/v2.0/authorize"
    assert document["issuer"] == f"{base}/v2.0"


def test_unknown_tenant_is_an_oauth_error(sim: SimServer, http: httpx.Client) -> None:
    answer = http.get(f"{sim.base_url}/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_tenant"
    assert answer.json()["error_codes"] == [90002]


def test_msal_device_flow_is_pending_once_then_signs_in(sim_factory: SimFactory) -> None:
    sim = sim_factory(device_approve_after=0)
    with sim_client(sim) as client:
        app = _public_app(sim, client)
        flow = app.initiate_device_flow(scopes=[sim.lcs_scope])
        assert flow["verification_uri"] == f"{sim.base_url}/devicelogin"
        assert flow["user_code"] in flow["message"]
        assert flow["interval"] == 1
        sim.reset_log()
        result = app.acquire_token_by_device_flow(flow)
        assert "access_token" in result, result
        assert result["token_source"] == "identity_provider"
        assert result["id_token_claims"]["preferred_username"] == "admin@contoso.onmicrosoft.com"
        assert result["scope"] == sim.lcs_scope
        claims = _claims(result["access_token"])
        assert claims["aud"] == sim.lcs_api_url
        assert claims["idtyp"] == "user"
        assert claims["tid"] == sim.tenant_id
        statuses = [r["status"] for r in sim.requests() if r["path"].endswith("/token")]
        assert statuses == [400, 200]
        [account] = app.get_accounts()
        assert account["username"] == "admin@contoso.onmicrosoft.com"


def test_refresh_token_gets_other_resources_and_survives_a_cache_round_trip(sim_factory: SimFactory) -> None:
    sim = sim_factory(device_approve_after=0)
    with sim_client(sim) as client:
        cache = msal.SerializableTokenCache()
        app = _public_app(sim, client, token_cache=cache)
        result = app.acquire_token_by_device_flow(app.initiate_device_flow(scopes=[sim.lcs_scope]))
        assert "access_token" in result, result

        restored = msal.SerializableTokenCache()
        restored.deserialize(cache.serialize())
        second = _public_app(sim, client, token_cache=restored)
        [account] = second.get_accounts()
        again = second.acquire_token_silent([sim.lcs_scope], account=account)
        assert again is not None and again["token_source"] == "cache"
        bap = second.acquire_token_silent([BAP_SCOPE], account=account)
        assert bap is not None and bap["token_source"] == "identity_provider"
        assert _claims(bap["access_token"])["aud"] == "https://service.powerapps.com"
        assert _bap_status(sim, client, bap["access_token"]) == 200
        assert _bap_status(sim, client, result["access_token"]) == 401  # an LCS token is not a BAP token


def test_a_device_code_approved_by_hand_on_the_login_page(sim_factory: SimFactory) -> None:
    sim = sim_factory(device_approve_after=math.inf)
    with sim_client(sim) as client:
        app = _public_app(sim, client)
        flow = app.initiate_device_flow(scopes=[sim.lcs_scope])
        once = app.acquire_token_by_device_flow(dict(flow), exit_condition=lambda _flow: True)
        assert once["error"] == "authorization_pending"
        once = app.acquire_token_by_device_flow(dict(flow), exit_condition=lambda _flow: True)
        assert once["error"] == "authorization_pending"  # nobody approved it yet
        page = client.post(
            f"{sim.base_url}/devicelogin/approve",
            data={"user_code": flow["user_code"]},
            headers={"Accept": "text/html"},
        )
        assert page.status_code == 200 and "Approved" in page.text
        result = app.acquire_token_by_device_flow(dict(flow), exit_condition=lambda _flow: True)
        assert "access_token" in result, result
        unknown = client.post(f"{sim.base_url}/devicelogin/approve", params={"user_code": "NOPE"})
        assert unknown.status_code == 404


def test_declined_and_expired_device_codes(sim_factory: SimFactory) -> None:
    sim = sim_factory(device_approve_after=math.inf)
    with sim_client(sim) as client:
        app = _public_app(sim, client)
        flow = app.initiate_device_flow(scopes=[sim.lcs_scope])
        assert sim.decline_device_code(flow["user_code"])
        result = app.acquire_token_by_device_flow(flow, exit_condition=lambda _flow: True)
        assert result["error"] == "authorization_declined"

    expiring = sim_factory(device_code_lifetime=0)
    with sim_client(expiring) as client:
        app = _public_app(expiring, client)
        flow = app.initiate_device_flow(scopes=[expiring.lcs_scope])
        result = app.acquire_token_by_device_flow(flow, exit_condition=lambda _flow: True)
        assert result["error"] == "expired_token"


def test_device_code_auto_approval_waits_its_time(
    sim_factory: SimFactory,
) -> None:
    sim = sim_factory(device_approve_after=600)
    with sim_client(sim) as client:
        code = client.post(
            f"{sim.authority}/oauth2/v2.0/devicecode",
            data={"client_id": sim.client_id, "scope": sim.lcs_scope},
        ).json()
        poll = {"grant_type": DEVICE_GRANT, "client_id": sim.client_id, "device_code": code["device_code"]}
        for _ in range(3):
            answer = client.post(f"{sim.authority}/oauth2/v2.0/token", data=poll)
            assert answer.status_code == 400
            assert answer.json()["error"] == "authorization_pending"
            assert answer.json()["error_codes"] == [70016]
        assert sim.approve_device_code(code["user_code"])
        answer = client.post(f"{sim.authority}/oauth2/v2.0/token", data=poll)
        assert answer.status_code == 200
        body = answer.json()
        assert body["scope"] == sim.lcs_scope  # echoed from the devicecode call, never null
        assert {"access_token", "refresh_token", "id_token", "client_info", "expires_in"} <= set(body)
        assert _claims(body["id_token"])["aud"] == sim.client_id
        # A device code is good for one sign-in only.
        assert client.post(f"{sim.authority}/oauth2/v2.0/token", data=poll).json()["error"] == "invalid_grant"


def test_unknown_public_client_is_refused(sim: SimServer, http: httpx.Client) -> None:
    answer = http.post(
        f"{sim.authority}/oauth2/v2.0/devicecode",
        data={"client_id": "11111111-2222-3333-4444-555555555555", "scope": sim.lcs_scope},
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unauthorized_client"


def test_client_secret_signs_in_and_a_wrong_one_is_invalid_client(sim: SimServer, http: httpx.Client) -> None:
    app = _confidential_app(sim, sim.client_secret, http)
    result = app.acquire_token_for_client(scopes=[BAP_SCOPE])
    assert "access_token" in result, result
    claims = _claims(result["access_token"])
    assert claims["idtyp"] == "app"
    assert claims["appid"] == sim.confidential_client_id
    assert _bap_status(sim, http, result["access_token"]) == 200
    assert app.acquire_token_for_client(scopes=[BAP_SCOPE])["token_source"] == "cache"

    wrong = _confidential_app(sim, "not-the-secret", http).acquire_token_for_client(scopes=[BAP_SCOPE])
    assert wrong["error"] == "invalid_client"
    assert wrong["error_codes"] == [7000215]
    [log] = [r for r in sim.requests() if r["path"].endswith("/token") and r["status"] == 401]
    assert log["service"] == "idp"


def test_client_credentials_need_a_default_scope(sim: SimServer, http: httpx.Client) -> None:
    answer = http.post(
        f"{sim.authority}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sim.confidential_client_id,
            "client_secret": sim.client_secret,
            "scope": "https://service.powerapps.com//user_impersonation",
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"


def _split_pem(pem: str) -> tuple[str, str]:
    marker = "-----BEGIN CERTIFICATE-----"
    key, cert = pem.split(marker)
    return key, marker + cert


@pytest.mark.parametrize("style", ["sha1-thumbprint", "public-certificate"])
def test_certificate_credential_signs_in(sim: SimServer, http: httpx.Client, style: str) -> None:
    key, cert = _split_pem(sim.client_certificate_pem)
    if style == "sha1-thumbprint":  # RS256 with x5t
        thumbprint = x509.load_pem_x509_certificate(cert.encode()).fingerprint(hashes.SHA1()).hex()
        credential: dict[str, str] = {"private_key": key, "thumbprint": thumbprint}
    else:  # PS256 with x5t#S256
        credential = {"private_key": key, "public_certificate": cert}
    result = _confidential_app(sim, credential, http).acquire_token_for_client(scopes=[BAP_SCOPE])
    assert "access_token" in result, result
    assert _claims(result["access_token"])["idtyp"] == "app"


def test_an_unregistered_or_forged_certificate_is_invalid_client(sim: SimServer, http: httpx.Client) -> None:
    other = make_client_certificate("someone else")
    other_key, other_cert = _split_pem(other.pem)
    unregistered = _confidential_app(sim, {"private_key": other_key, "public_certificate": other_cert}, http)
    result = unregistered.acquire_token_for_client(scopes=[BAP_SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]

    _, registered_cert = _split_pem(sim.client_certificate_pem)
    thumbprint = x509.load_pem_x509_certificate(registered_cert.encode()).fingerprint(hashes.SHA1()).hex()
    forged = _confidential_app(sim, {"private_key": other_key, "thumbprint": thumbprint}, http)
    result = forged.acquire_token_for_client(scopes=[BAP_SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000274]


def test_refresh_token_is_bound_to_its_client(sim: SimServer, http: httpx.Client) -> None:
    code = http.post(
        f"{sim.authority}/oauth2/v2.0/devicecode", data={"client_id": sim.client_id, "scope": sim.lcs_scope}
    ).json()
    assert sim.approve_device_code(code["user_code"])
    poll = {"grant_type": DEVICE_GRANT, "client_id": sim.client_id, "device_code": code["device_code"]}
    http.post(f"{sim.authority}/oauth2/v2.0/token", data=poll)
    tokens = http.post(f"{sim.authority}/oauth2/v2.0/token", data=poll).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": BAP_SCOPE}
    ok = http.post(f"{sim.authority}/oauth2/v2.0/token", data={**refresh, "client_id": sim.client_id})
    assert (
        ok.status_code == 200 and _claims(ok.json()["access_token"])["aud"] == "https://service.powerapps.com"
    )
    stolen = http.post(
        f"{sim.authority}/oauth2/v2.0/token", data={**refresh, "client_id": sim.confidential_client_id}
    )
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    garbage = http.post(
        f"{sim.authority}/oauth2/v2.0/token",
        data={**refresh, "refresh_token": "x.y.z", "client_id": sim.client_id},
    )
    assert garbage.status_code == 400 and garbage.json()["error"] == "invalid_grant"


def test_msal_accepts_the_ca_through_its_http_client_only(sim: SimServer) -> None:
    with httpx.Client(verify=ssl.create_default_context()) as untrusting, pytest.raises(httpx.ConnectError):
        _public_app(sim, untrusting)


def test_a_bytes_assertion_mangled_by_httpx_is_refused_like_entra_would(
    sim: SimServer, http: httpx.Client
) -> None:
    key, cert = _split_pem(sim.client_certificate_pem)
    app = msal.ConfidentialClientApplication(
        sim.confidential_client_id,
        client_credential={"private_key": key, "public_certificate": cert},
        authority=sim.authority,
        instance_discovery=False,
        http_client=http,
    )
    result = app.acquire_token_for_client(scopes=[BAP_SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [50027]


PPAPI_SCOPE = "https://api.powerplatform.com/.default"
CONSENT_BODY_KEYS = {
    "error",
    "error_description",
    "error_codes",
    "suberror",
    "timestamp",
    "trace_id",
    "correlation_id",
    "error_uri",
}


def test_withheld_consent_answers_aadsts65001_for_that_api_only(sim_factory: SimFactory) -> None:
    sim = sim_factory("no-consent-ppapi", device_approve_after=0)
    with sim_client(sim) as client:
        cache = msal.SerializableTokenCache()
        app = _public_app(sim, client, token_cache=cache)
        signed_in = app.acquire_token_by_device_flow(app.initiate_device_flow(scopes=[sim.lcs_scope]))
        assert "access_token" in signed_in, signed_in
        [account] = app.get_accounts()

        # MSAL hands the body through, with the suberror as its classification.
        refused = app.acquire_token_silent_with_error([PPAPI_SCOPE], account=account)
        assert refused is not None and "access_token" not in refused
        assert refused["error"] == "invalid_grant"
        assert refused["error_codes"] == [65001]
        assert refused["suberror"] == refused["classification"] == "consent_required"
        # acquire_token_silent drops every error: a missing consent would look like an empty cache.
        assert app.acquire_token_silent([PPAPI_SCOPE], account=account) is None

        # The other APIs still get tokens from the same refresh token, which MSAL keeps.
        bap = app.acquire_token_silent_with_error([BAP_SCOPE], account=account)
        assert bap is not None and "access_token" in bap, bap
        assert _bap_status(sim, client, bap["access_token"]) == 200

        # The body on the wire, in Entra's shape.
        refresh = {
            "grant_type": "refresh_token",
            "client_id": sim.client_id,
            "refresh_token": signed_in["refresh_token"],
            "scope": PPAPI_SCOPE,
        }
        answer = client.post(f"{sim.authority}/oauth2/v2.0/token", data=refresh)
        assert answer.status_code == 400
        body = answer.json()
        assert set(body) == CONSENT_BODY_KEYS
        assert body["error_description"].startswith(
            f"AADSTS65001: The user or administrator has not consented to use the application with ID "
            f"'{sim.client_id}' named 'dwtui'. Send an interactive authorization request for this user "
            "and resource.\r\nTrace ID: "
        )
        assert f"\r\nCorrelation ID: {body['correlation_id']}\r\n" in body["error_description"]
        assert body["error_uri"].endswith("/error?code=65001")
        ok = client.post(f"{sim.authority}/oauth2/v2.0/token", data={**refresh, "scope": BAP_SCOPE})
        assert ok.status_code == 200
