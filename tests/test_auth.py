"""Real MSAL against the simulator's identity provider over TLS, with the token cache in a real keyring."""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from keyrings.cryptfile.cryptfile import CryptFileKeyring

from dwtui.domain.errors import explain
from dwtui.domain.models import Fault, SignedIn
from dwtui.domain.profile import BAP_SCOPE, DUALWRITE_SCOPE, Profile, parse_profile
from dwtui.services.activity import ActivityLog
from dwtui.services.auth import (
    CERTIFICATE_PASSPHRASE,
    Authenticator,
    fault_from_msal,
    store_client_secret,
    store_secret,
)
from dwtui.services.errors import ServiceError, SignInRequired
from dwtui.services.http import HttpPolicy
from dwtui.services.secrets import SecretStore
from dwtui.sim.server import SimServer
from tests.helpers import make_session

SimFactory = Callable[..., SimServer]
SERVICE = "dwtui-test"
# dwtui refuses file keyrings (they prompt when locked); here one unlocked in code stands in for an
# OS store, which a test machine does not have, so the token cache really goes through a keyring.
STAND_IN = frozenset({"keyrings.cryptfile.cryptfile.CryptFileKeyring"})


def cryptfile_keyring(path: Path) -> CryptFileKeyring:
    """A new CryptFileKeyring object on `path`, unlocked programmatically (cheap KDF for tests)."""
    backend = CryptFileKeyring()
    backend.file_path = str(path)
    backend.time_cost = 1
    backend.memory_cost = 1024
    backend.parallelism = 1
    backend.keyring_key = "test keyring passphrase"
    return backend


class Rig:
    """Builds Authenticators the way a fresh run of dwtui would: new keyring object, new HTTP client."""

    def __init__(self, keyring_file: Path) -> None:
        self.keyring_file = keyring_file
        self.policies: list[HttpPolicy] = []
        self.activity = ActivityLog()

    def secrets(self) -> SecretStore:
        store = SecretStore(SERVICE, backend=cryptfile_keyring(self.keyring_file), allowed=STAND_IN)
        assert store.secure
        return store

    def auth(self, profile: Profile, secrets: SecretStore | None = None) -> Authenticator:
        policy = HttpPolicy(ca_bundle=profile.ca_bundle or None, activity=self.activity, max_attempts=1)
        self.policies.append(policy)
        return Authenticator(profile, policy, secrets or self.secrets())

    def auth_texts(self) -> list[str]:
        return [json.dumps(asdict(e)) for e in self.activity.entries()]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(tmp_path / "keyring" / "cryptfile.cfg")
    yield made
    for policy in made.policies:
        policy.close()


def profile_for(sim: SimServer, **changes: Any) -> Profile:
    return parse_profile("sim", {**sim.profile_table(), **changes})


def app_profile(sim: SimServer, **changes: Any) -> Profile:
    return profile_for(sim, **{"auth": "client-secret", "client_id": sim.confidential_client_id, **changes})


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def idp_calls(sim: SimServer, suffix: str) -> list[dict[str, Any]]:
    return [r for r in sim.world.requests() if r["path"].endswith(suffix)]


def never() -> bool:
    return False


# -- device code ------------------------------------------------------------------------------------


def test_device_code_sign_in_then_a_silent_second_start(sim_factory: SimFactory, rig: Rig) -> None:
    sim = sim_factory(device_approve_after=0.0)
    profile = profile_for(sim)
    auth = rig.auth(profile)

    # Nothing cached: no network at all, not even OIDC discovery.
    assert auth.signed_in() is None
    assert auth.try_silent() is None
    with pytest.raises(SignInRequired):
        auth.token_getter(profile.lcs_scope)()
    assert sim.world.requests() == []

    prompt = auth.start_device_flow()
    assert prompt.verification_uri == f"{sim.base_url}/devicelogin"
    assert prompt.user_code and prompt.user_code in prompt.message
    assert prompt.expires_at > time.time()
    identity = auth.finish_device_flow(prompt, never)
    assert identity == SignedIn(username=sim.user_name, tenant_id=sim.tenant_id, kind="user")
    statuses = [r["status"] for r in idp_calls(sim, "/oauth2/v2.0/token")]
    assert statuses[0] == 400 and statuses[-1] == 200  # authorization_pending, then the tokens
    assert auth.signed_in() == identity

    lcs_token = auth.token_getter(profile.lcs_scope)()
    assert claims_of(lcs_token)["aud"] == profile.lcs_api_url
    texts = rig.auth_texts()
    assert any(prompt.user_code in t for t in texts if '"auth"' in t)
    assert not any(lcs_token in t for t in texts)
    keyring_bytes = rig.keyring_file.read_bytes()
    assert lcs_token.encode() not in keyring_bytes
    assert lcs_token.split(".")[1].encode() not in keyring_bytes

    # A second run: a new keyring object, store, HTTP client and Authenticator.
    sim.world.reset_log()
    second = rig.auth(profile)
    assert second.signed_in() == identity  # read from the keyring, no network
    assert sim.world.requests() == []
    assert second.try_silent() == identity
    assert idp_calls(sim, "/devicecode") == []

    # Another resource through the refresh token: no device code, a token with that audience.
    bap_token = second.token_getter(BAP_SCOPE)()
    assert claims_of(bap_token)["aud"] == "https://service.powerapps.com"
    assert claims_of(bap_token)["idtyp"] == "user"
    assert idp_calls(sim, "/devicecode") == []

    # The cache (several JWTs) is larger than one keyring entry may be, so it was chunked.
    backend = cryptfile_keyring(rig.keyring_file)
    assert backend.get_password(SERVICE, profile.secret_key("token-cache") + "#2") is not None


def test_sign_out_forgets_the_cache(sim_factory: SimFactory, rig: Rig) -> None:
    sim = sim_factory(device_approve_after=0.0)
    profile = profile_for(sim)
    auth = rig.auth(profile)
    auth.finish_device_flow(auth.start_device_flow(), never)
    auth.sign_out()
    assert auth.signed_in() is None
    with pytest.raises(SignInRequired):
        auth.token_getter(profile.lcs_scope)()
    assert rig.secrets().get(profile.secret_key("token-cache")) is None
    assert rig.auth(profile).try_silent() is None
    assert any("Signed out" in e.summary for e in rig.activity.entries() if e.kind == "auth")


def test_device_code_cancel_stops_polling(sim_factory: SimFactory, rig: Rig) -> None:
    sim = sim_factory(device_approve_after=math.inf)
    auth = rig.auth(profile_for(sim))
    prompt = auth.start_device_flow()

    def polled_once() -> bool:
        # Cancel as soon as the identity provider has been asked once, as a person pressing Esc.
        return len(idp_calls(sim, "/oauth2/v2.0/token")) >= 1

    with pytest.raises(ServiceError) as caught:
        auth.finish_device_flow(prompt, polled_once)
    assert caught.value.fault.code == "cancelled"
    assert len(idp_calls(sim, "/oauth2/v2.0/token")) == 1
    # The device code (a secret: whoever holds it gets the tokens) is never recorded; the user code is.
    device_codes = list(sim.world.device_codes)
    assert device_codes
    texts = rig.auth_texts()
    assert not any(code in t for code in device_codes for t in texts)
    assert any(prompt.user_code in t for t in texts)
    with pytest.raises(ServiceError) as again:
        auth.finish_device_flow(prompt, never)
    assert again.value.fault.code == "no_flow"
    assert auth.signed_in() is None


def test_device_code_declined(sim_factory: SimFactory, rig: Rig) -> None:
    sim = sim_factory(device_approve_after=math.inf)
    auth = rig.auth(profile_for(sim))
    prompt = auth.start_device_flow()
    assert sim.decline_device_code(prompt.user_code)
    with pytest.raises(ServiceError) as caught:
        auth.finish_device_flow(prompt, never)
    fault = caught.value.fault
    assert (fault.service, fault.code) == ("sign-in", "authorization_declined")
    assert fault.message == "AADSTS70019: The end user declined the sign-in."


def test_device_code_expired(sim_factory: SimFactory, rig: Rig) -> None:
    sim = sim_factory(device_approve_after=math.inf, device_code_lifetime=0.5)
    auth = rig.auth(profile_for(sim))
    prompt = auth.start_device_flow()
    with pytest.raises(ServiceError) as caught:
        auth.finish_device_flow(prompt, never)
    assert caught.value.fault.code == "expired_token"
    assert auth.signed_in() is None


# -- applications -----------------------------------------------------------------------------------


def test_client_secret_missing_good_and_invalid(sim: SimServer, rig: Rig) -> None:
    profile = app_profile(sim)
    secrets = rig.secrets()
    auth = rig.auth(profile, secrets)

    with pytest.raises(ServiceError) as missing:
        auth.sign_in_confidential()
    assert missing.value.fault.code == "client_secret_missing"
    assert "dwtui secret set client-secret --profile sim" in missing.value.fault.message
    assert auth.try_silent() is None

    store_client_secret(secrets, profile, "wrong-secret")
    with pytest.raises(ServiceError) as invalid:
        auth.sign_in_confidential()
    fault = invalid.value.fault
    assert (fault.service, fault.code) == ("sign-in", "invalid_client")
    assert fault.message.startswith("AADSTS7000215: Invalid client secret provided.")
    assert "\n" not in fault.message and "Trace ID" not in fault.message

    # The corrected secret is picked up by the same Authenticator.
    store_client_secret(secrets, profile, sim.client_secret + "\n")
    assert auth.sign_in_confidential() == SignedIn(sim.confidential_client_id, profile.tenant_id, "app")
    token = auth.token_getter(BAP_SCOPE)()
    assert claims_of(token)["idtyp"] == "app"
    calls = len(idp_calls(sim, "/oauth2/v2.0/token"))
    assert auth.token_getter(BAP_SCOPE)() == token  # from MSAL's cache
    assert len(idp_calls(sim, "/oauth2/v2.0/token")) == calls

    # A second run sees the cached app token in the keyring without any network call.
    sim.world.reset_log()
    second = rig.auth(profile)
    assert second.signed_in() == SignedIn(sim.confidential_client_id, profile.tenant_id, "app")
    assert sim.world.requests() == []
    assert sim.client_secret.encode() not in rig.keyring_file.read_bytes()


def _write_pem(path: Path, pem: str, passphrase: str | None = None) -> Path:
    if passphrase is None:
        path.write_text(pem, encoding="ascii")
        return path
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    ).decode()
    certificate = pem[pem.index("-----BEGIN CERTIFICATE-----") :]
    path.write_text(encrypted + certificate, encoding="ascii")
    return path


def test_certificate_sign_in(sim: SimServer, rig: Rig, tmp_path: Path) -> None:
    path = _write_pem(tmp_path / "app.pem", sim.client_certificate_pem)
    profile = app_profile(sim, auth="certificate", certificate_path=str(path))
    auth = rig.auth(profile)
    assert auth.sign_in_confidential().kind == "app"
    assert claims_of(auth.token_getter(profile.lcs_scope)())["aud"] == profile.lcs_api_url
    assert [r["status"] for r in idp_calls(sim, "/oauth2/v2.0/token")] == [200]


def test_certificate_with_a_passphrase_from_the_keyring(sim: SimServer, rig: Rig, tmp_path: Path) -> None:
    path = _write_pem(tmp_path / "app.pem", sim.client_certificate_pem, passphrase="pem pass")
    profile = app_profile(sim, auth="certificate", certificate_path=str(path))
    secrets = rig.secrets()
    auth = rig.auth(profile, secrets)
    with pytest.raises(ServiceError) as locked:
        auth.sign_in_confidential()
    assert locked.value.fault.code == "certificate"
    assert (
        "encrypted" in locked.value.fault.message and "certificate-passphrase" in locked.value.fault.message
    )

    store_secret(secrets, profile, CERTIFICATE_PASSPHRASE, "not it")
    with pytest.raises(ServiceError, match="does not open the private key"):
        auth.sign_in_confidential()
    store_secret(secrets, profile, CERTIFICATE_PASSPHRASE, "pem pass")
    assert auth.sign_in_confidential().kind == "app"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read it"),
        ("not a pem", "no PEM private key"),
        ("key-only", "no PEM certificate"),
    ],
)
def test_certificate_file_problems(
    sim: SimServer, rig: Rig, tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "app.pem"
    if content == "key-only":
        pem = sim.client_certificate_pem
        path.write_text(pem[: pem.index("-----BEGIN CERTIFICATE-----")])
    elif content is not None:
        path.write_text(content)
    auth = rig.auth(app_profile(sim, auth="certificate", certificate_path=str(path)))
    with pytest.raises(ServiceError) as caught:
        auth.sign_in_confidential()
    assert caught.value.fault.code == "certificate"
    assert problem in caught.value.fault.message and str(path) in caught.value.fault.message


# -- TLS and transport ------------------------------------------------------------------------------


def test_the_profile_ca_wins_over_environment_variables(
    sim: SimServer, rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = tmp_path / "wrong-ca.pem"
    wrong.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.setenv(variable, str(wrong))
    profile = app_profile(sim)
    secrets = rig.secrets()
    store_client_secret(secrets, profile, sim.client_secret)
    assert rig.auth(profile, secrets).sign_in_confidential().kind == "app"


def test_without_the_simulators_ca_tls_fails_clearly(sim: SimServer, rig: Rig) -> None:
    profile = app_profile(sim, ca_bundle="")
    secrets = rig.secrets()
    store_client_secret(secrets, profile, sim.client_secret)
    with pytest.raises(ServiceError) as caught:
        rig.auth(profile, secrets).sign_in_confidential()
    assert caught.value.fault.code == "tls"
    assert "ca_bundle" in caught.value.fault.message


def test_an_unreachable_identity_provider_is_a_network_fault(
    sim_factory: SimFactory, rig: Rig, tmp_path: Path
) -> None:
    sim = sim_factory()
    ca_copy = tmp_path / "ca.pem"  # the simulator removes its own CA file when it stops
    ca_copy.write_bytes(sim.ca_file.read_bytes())
    profile = app_profile(sim, ca_bundle=str(ca_copy))
    secrets = rig.secrets()
    store_client_secret(secrets, profile, sim.client_secret)
    sim.stop()
    with pytest.raises(ServiceError) as caught:
        rig.auth(profile, secrets).sign_in_confidential()
    assert caught.value.fault.code == "network"
    assert caught.value.fault.message.startswith("cannot reach the identity provider")


def test_a_public_profile_cannot_sign_in_as_an_application(sim: SimServer, rig: Rig) -> None:
    with pytest.raises(ServiceError) as caught:
        rig.auth(profile_for(sim)).sign_in_confidential()
    assert caught.value.fault.code == "wrong_auth"


# -- consent ----------------------------------------------------------------------------------------

PPAPI_SCOPE = "https://api.powerplatform.com/.default"


def _assert_never_asks_to_sign_in_again(fault: Fault) -> None:
    explanation = explain(fault)
    for text in (fault.message, explanation.meaning, explanation.remedy):
        assert "sign in again" not in text.lower()
        assert "sign-in expired" not in text.lower()


def test_a_missing_consent_names_the_api_and_the_admin_consent_remedy(
    sim_factory: SimFactory, rig: Rig
) -> None:
    sim = sim_factory("no-consent-ppapi", device_approve_after=0.0)
    profile = profile_for(sim)
    auth = rig.auth(profile)
    identity = auth.finish_device_flow(auth.start_device_flow(), never)

    with pytest.raises(ServiceError) as refused:
        auth.token_getter(PPAPI_SCOPE)()
    assert not isinstance(refused.value, SignInRequired)
    fault = refused.value.fault
    assert (fault.service, fault.code, fault.http_status) == ("Power Platform API", "consent_required", None)
    assert f"(scope {PPAPI_SCOPE})" in fault.message
    assert f"to app {sim.client_id}" in fault.message and "AADSTS65001" in fault.message
    explanation = explain(fault)
    assert "AADSTS65001" in explanation.meaning and "DelegationDoesNotExist" in explanation.meaning
    assert f"{sim.base_url}/{sim.tenant_id}/adminconsent?client_id={sim.client_id}" in explanation.remedy
    assert "API permissions" in explanation.remedy and "Grant admin consent" in explanation.remedy
    assert "8578e004-a5c6-46e7-913e-12f58912df43" in explanation.remedy  # the permission to add
    assert explanation.doc.endswith("/entra/identity/enterprise-apps/grant-admin-consent")
    _assert_never_asks_to_sign_in_again(fault)
    assert any("No consent for" in e.summary for e in rig.activity.entries() if e.kind == "auth")

    # Still signed in, and every other API gets its token in the same session.
    assert auth.signed_in() == identity
    assert claims_of(auth.token_getter(profile.lcs_scope)())["aud"] == profile.lcs_api_url
    assert claims_of(auth.token_getter(BAP_SCOPE)())["aud"] == "https://service.powerapps.com"
    assert claims_of(auth.token_getter(DUALWRITE_SCOPE)())["aud"] == "https://IntegratorApp.com"
    assert rig.auth(profile).try_silent() == identity  # a second run signs in silently as before


def test_device_code_sign_in_without_consent_for_lcs_is_an_lcs_fault(
    sim_factory: SimFactory, rig: Rig
) -> None:
    sim = sim_factory(device_approve_after=0.0)
    sim.world.consent_withheld.add(sim.lcs_api_url)
    profile = profile_for(sim)
    auth = rig.auth(profile)
    with pytest.raises(ServiceError) as refused:
        auth.finish_device_flow(auth.start_device_flow(), never)
    fault = refused.value.fault
    assert (fault.service, fault.code) == ("LCS API", "consent_required")
    assert f"(scope {profile.lcs_scope})" in fault.message
    assert "913c6de4-2a4a-4a61-a9ce-945d2b2ce2e0" in explain(fault).remedy
    _assert_never_asks_to_sign_in_again(fault)
    assert auth.signed_in() is None


@pytest.mark.parametrize(
    ("resource", "scope", "service", "read", "sim_service"),
    [
        ("https://service.powerapps.com", BAP_SCOPE, "BAP admin API", "dataverse", "bap"),
        ("dataverse", "", "Dataverse", "integration", "dataverse"),
        ("https://IntegratorApp.com", DUALWRITE_SCOPE, "dual-write gateway", "link", "gateway"),
    ],
)
def test_each_api_without_consent_is_named_in_its_own_source(
    sim_factory: SimFactory, resource: str, scope: str, service: str, read: str, sim_service: str
) -> None:
    sim = sim_factory("happy", device_approve_after=0.0)
    withheld = sim.dataverse_url("contosouat").rstrip("/") if resource == "dataverse" else resource
    sim.world.consent_withheld.add(withheld)
    session = make_session(sim, sign_in=True)
    try:
        environment = session.environment(sim.environment_id("uat"))
        snapshot = session.power_platform(environment)
    finally:
        session.close()
    fault = getattr(snapshot, read)
    assert isinstance(fault, Fault)
    assert (fault.service, fault.code) == (service, "consent_required")
    assert f"(scope {scope or withheld + '/.default'})" in fault.message
    _assert_never_asks_to_sign_in_again(fault)
    # Without a token, the API that needs it got no request at all.
    assert not [r for r in sim.requests() if r["service"] == sim_service]


def test_an_msal_error_dict_without_consent_becomes_the_apis_fault_for_any_flow(sim: SimServer) -> None:
    # The confidential-client and device-code paths hand MSAL's dict to fault_from_msal with the
    # scope they asked for; without a profile and scope it stays a sign-in fault, as before.
    answer = {"error": "invalid_grant", "error_codes": [65001], "error_description": "AADSTS65001: ..."}
    fault = fault_from_msal(answer, app_profile(sim), BAP_SCOPE).fault
    assert (fault.service, fault.code) == ("BAP admin API", "consent_required")
    assert f"adminconsent?client_id={sim.confidential_client_id}" in explain(fault).remedy
    assert fault_from_msal(answer).fault.service == "sign-in"
    rejected = {"error": "invalid_client", "error_codes": [7000215]}
    other = fault_from_msal(rejected, app_profile(sim), BAP_SCOPE)
    assert (other.fault.service, other.fault.code) == ("sign-in", "invalid_client")
