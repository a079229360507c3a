"""HttpPolicy against the simulator over real TLS: CA pinning, retries, Retry-After, faults, logging."""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest

from dwtui.domain.profile import BAP_SCOPE
from dwtui.services.activity import ActivityEntry, ActivityLog
from dwtui.services.errors import ServiceError
from dwtui.services.http import MAX_RETRY_AFTER, HttpPolicy, parse_retry_after
from dwtui.services.shapes import service_fault

BAP_LIST = "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments"
API = {"api-version": "2020-10-01"}


class Waits:
    """The injected sleep: records each wait and moves the simulator's clock instead of sleeping."""

    def __init__(self, sim: Any) -> None:
        self.seconds: list[float] = []
        self.offset = 0.0
        sim.world.clock = lambda: time.monotonic() + self.offset

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        self.offset += seconds


@pytest.fixture
def waits(sim: Any) -> Waits:
    return Waits(sim)


@pytest.fixture
def activity() -> ActivityLog:
    return ActivityLog()


@pytest.fixture
def make_policy(sim: Any, waits: Waits, activity: ActivityLog) -> Iterator[Callable[..., HttpPolicy]]:
    made: list[HttpPolicy] = []

    def make(**overrides: Any) -> HttpPolicy:
        options: dict[str, Any] = {"ca_bundle": str(sim.ca_file), "activity": activity, "sleep": waits}
        options.update(overrides)
        policy = HttpPolicy(**options)
        made.append(policy)
        return policy

    yield make
    for policy in made:
        policy.close()


def bap_url(sim: Any) -> str:
    return f"{sim.bap_api_url}{BAP_LIST}"


def bap_token(sim: Any) -> str:
    return str(sim.mint_token(BAP_SCOPE))


def served(sim: Any, prefix: str) -> list[dict[str, Any]]:
    return [entry for entry in sim.requests() if entry["path"].startswith(prefix)]


def wait_entries(activity: ActivityLog) -> list[ActivityEntry]:
    return [entry for entry in activity.entries() if entry.kind == "wait"]


# -- TLS ------------------------------------------------------------------------------------------


def test_ca_bundle_wins_over_environment_variables(
    sim: Any, make_policy: Callable[..., HttpPolicy], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong-ca.pem"
    wrong.write_text(Path(certifi.where()).read_text(encoding="utf-8"), encoding="utf-8")
    for variable in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(variable, str(wrong))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    policy = make_policy()
    body = policy.get_json("BAP admin API", bap_url(sim), token=bap_token(sim), params=API)
    assert isinstance(body["value"], list) and body["value"]
    # The same environment, used directly by MSAL through .client: still our CA.
    response = policy.client.get(f"{sim.authority}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 200


def test_wrong_ca_is_a_tls_fault_and_never_retried(
    sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits, activity: ActivityLog
) -> None:
    policy = make_policy(ca_bundle=certifi.where())
    with pytest.raises(ServiceError) as raised:
        policy.get_json("BAP admin API", bap_url(sim), token=bap_token(sim), params=API)
    fault = raised.value.fault
    assert fault.code == "tls" and fault.service == "BAP admin API"
    assert certifi.where() in fault.message
    assert waits.seconds == []
    failures = [entry for entry in activity.entries() if entry.kind == "http"]
    assert len(failures) == 1 and failures[0].status is None
    assert "TLS" in failures[0].summary


def test_unreadable_ca_bundle_says_which_file(tmp_path: Path, activity: ActivityLog) -> None:
    with pytest.raises(ServiceError) as raised:
        HttpPolicy(ca_bundle=str(tmp_path / "missing.pem"), activity=activity)
    assert raised.value.fault.code == "tls" and "missing.pem" in raised.value.fault.message


def test_tls_is_never_disabled(sim: Any, make_policy: Callable[..., HttpPolicy]) -> None:
    policy = make_policy(ca_bundle=None)
    # With no bundle the system/certifi store is used, which does not know the simulator's CA.
    with pytest.raises(ServiceError) as raised:
        policy.get_json("BAP admin API", bap_url(sim), token=bap_token(sim), params=API)
    assert raised.value.fault.code == "tls"


# -- retries --------------------------------------------------------------------------------------


def test_429_honours_retry_after_and_records_the_wait(
    sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits, activity: ActivityLog
) -> None:
    sim.add_fault("/lcs", "429", count=2, retry_after=10)
    policy = make_policy()
    token = sim.mint_token(sim.lcs_scope)
    url = f"{sim.lcs_api_url}/environmentinfo/v1/detail/project/{sim.project_id}/"
    headers = {"x-ms-version": "2017-09-15"}
    body = policy.get_json("LCS API", url, token=token, params={"page": "1"}, headers=headers)
    assert body["IsSuccess"] is True
    assert waits.seconds == [10.0, 10.0]
    entries = wait_entries(activity)
    for entry in entries:
        # What is waited for and until when, in the wall clock's UTC time.
        summary, _, until = entry.summary.partition(" (until ")
        assert summary == "LCS API throttled, retrying in 10 s"
        moment = time.strptime(until, "%H:%M:%S UTC)")
        due = time.gmtime(entry.at + 10)
        assert (moment.tm_hour, moment.tm_min, moment.tm_sec) == (due.tm_hour, due.tm_min, due.tm_sec)
        assert entry.duration_ms == 10_000.0
    assert len(entries) == 2
    assert all(entry.service == "LCS API" and entry.status == 429 for entry in entries)
    assert len(served(sim, "/lcs")) == 3


def test_retry_after_beyond_the_cap_is_a_clear_error_not_a_sleep(
    sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits
) -> None:
    sim.add_fault("/bap", "429", count=1, retry_after=100_800)  # 28 hours
    policy = make_policy()
    assert policy.max_wait == MAX_RETRY_AFTER == 120.0  # the cap README documents
    with pytest.raises(ServiceError) as raised:
        policy.get_json("BAP admin API", bap_url(sim), token=bap_token(sim), params=API)
    fault = raised.value.fault
    assert waits.seconds == []  # no wait at all, and no second request
    assert len(served(sim, "/bap")) == 1
    assert (fault.service, fault.code, fault.http_status, fault.retry_after) == (
        "BAP admin API", "HTTP 429", 429, 100_800.0
    )
    assert fault.message == (
        "throttled: the service asked to wait 28.0 h (Retry-After), longer than dwtui waits (120 s)"
    )
    assert fault.remedy.startswith("Try again after ") and " UTC" in fault.remedy


def test_retry_after_up_to_the_cap_is_waited_out(
    sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits
) -> None:
    sim.add_fault("/bap", "503", count=1, retry_after=3)
    policy = make_policy(max_wait=3.0)
    policy.get_json("BAP admin API", bap_url(sim), token=bap_token(sim), params=API)
    assert waits.seconds == [3.0]


def test_5xx_then_success_backs_off_exponentially(
    sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits, activity: ActivityLog
) -> None:
    sim.add_fault("/bap", "503", count=2)
    # A "timeout" fault shorter than our timeout is a gateway's 504.
    sim.add_fault("/bap", "timeout", count=1, delay=0.05)
    policy = make_policy()
    body = policy.get_json("BAP admin API", bap_url(sim), token=bap_token(sim), params=API)
    assert body["value"]
    assert len(waits.seconds) == 3
    # base 1, 2, 4 s plus up to as much jitter again
    for attempt, seconds in enumerate(waits.seconds):
        assert 2.0**attempt <= seconds <= 2.0 ** (attempt + 1)
    summaries = [entry.summary for entry in wait_entries(activity)]
    assert summaries[0].startswith("BAP admin API unavailable (HTTP 503), retrying in ")
    assert summaries[2].startswith("BAP admin API unavailable (HTTP 504), retrying in ")


def test_gives_up_after_max_attempts_with_the_last_status(
    sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits
) -> None:
    sim.add_fault("/bap", "503", count=10, retry_after=2)
    policy = make_policy(max_attempts=3)
    with pytest.raises(ServiceError) as raised:
        policy.get_json("BAP admin API", bap_url(sim), token=bap_token(sim), params=API)
    fault = raised.value.fault
    assert fault.code == "HTTP 503" and fault.http_status == 503 and fault.retry_after == 2.0
    assert fault.message == "simulated HTTP 503"  # the gateway-style {"message"} body is read
    assert waits.seconds == [2.0, 2.0]
    assert len(served(sim, "/bap")) == 3


def test_500_is_not_retried(sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits) -> None:
    sim.add_fault("/bap", "500", count=1)
    policy = make_policy()
    with pytest.raises(ServiceError) as raised:
        policy.get_json("BAP admin API", bap_url(sim), token=bap_token(sim), params=API)
    assert raised.value.fault.code == "HTTP 500"
    assert waits.seconds == [] and len(served(sim, "/bap")) == 1


def test_post_is_never_retried(sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits) -> None:
    sim.add_fault("/gateway", "503", count=5, method="POST")
    policy = make_policy()
    url = f"{sim.dualwrite_gateway_url}/api/ConnectionSet/some-cid/Reset"
    with pytest.raises(ServiceError) as raised:
        policy.post_json("dual-write gateway", url, token="x", json={"a": 1})
    assert raised.value.fault.code == "HTTP 503"
    assert waits.seconds == [] and len(served(sim, "/gateway")) == 1
    # ...unless the caller says the call is idempotent.
    with pytest.raises(ServiceError):
        make_policy(max_attempts=2).post_json("dual-write gateway", url, token="x", json={}, idempotent=True)
    assert len(waits.seconds) == 1 and len(served(sim, "/gateway")) == 3


def test_timeout_is_retried_then_reported(
    sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits, activity: ActivityLog
) -> None:
    sim.add_fault("/bap", "timeout", count=2, delay=1.5)
    policy = make_policy(timeout=0.3, max_attempts=2)
    with pytest.raises(ServiceError) as raised:
        policy.get_json("BAP admin API", bap_url(sim), token=bap_token(sim), params=API)
    assert raised.value.fault.code == "timeout"
    assert "0.3 s" in raised.value.fault.message
    assert len(waits.seconds) == 1
    assert wait_entries(activity)[0].summary.startswith("BAP admin API timed out, retrying in ")


def test_per_request_timeout(sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits) -> None:
    sim.add_fault("/bap", "timeout", count=1, delay=1.5)
    policy = make_policy(timeout=30.0)
    with pytest.raises(ServiceError) as raised:
        policy.request("BAP admin API", "POST", bap_url(sim), token=bap_token(sim), timeout=0.3)
    assert raised.value.fault.code == "timeout" and waits.seconds == []


def test_connection_reset_is_retried(
    sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits, activity: ActivityLog
) -> None:
    sim.add_fault("/bap", "reset", count=1)
    policy = make_policy()
    body = policy.get_json("BAP admin API", bap_url(sim), token=bap_token(sim), params=API)
    assert body["value"] and len(waits.seconds) == 1
    http = [entry for entry in activity.entries() if entry.kind == "http"]
    # The cut exchange is logged as a failure, not as the 200 its headers claimed.
    assert http[0].status is None and "failed" in http[0].summary
    assert http[1].status == 200


def test_connection_reset_every_time_is_a_network_fault(
    sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits
) -> None:
    sim.add_fault("/bap", "reset", count=5)
    with pytest.raises(ServiceError) as raised:
        make_policy(max_attempts=2).get_json("BAP admin API", bap_url(sim), token=bap_token(sim), params=API)
    assert raised.value.fault.code == "network" and len(waits.seconds) == 1


def test_nothing_listening_is_a_network_fault(make_policy: Callable[..., HttpPolicy], waits: Waits) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServiceError) as raised:
        make_policy(max_attempts=2).get_json("LCS API", f"https://127.0.0.1:{port}/lcs", token="t")
    assert raised.value.fault.code == "network" and raised.value.fault.service == "LCS API"
    assert len(waits.seconds) == 1


def test_malformed_json(sim: Any, make_policy: Callable[..., HttpPolicy], waits: Waits) -> None:
    sim.add_fault("/bap", "malformed", count=1)
    with pytest.raises(ServiceError) as raised:
        make_policy().get_json("BAP admin API", bap_url(sim), token=bap_token(sim), params=API)
    assert raised.value.fault.code == "malformed" and "not valid JSON" in raised.value.fault.message
    assert waits.seconds == []


# -- error bodies ---------------------------------------------------------------------------------


def test_service_codes_from_error_bodies(sim: Any, make_policy: Callable[..., HttpPolicy]) -> None:
    policy = make_policy()
    with pytest.raises(ServiceError) as bap:
        policy.get_json("BAP admin API", f"{bap_url(sim)}/no-such-env", token=bap_token(sim), params=API)
    assert bap.value.fault.code == "EnvironmentNotFound" and bap.value.fault.http_status == 404
    with pytest.raises(ServiceError) as gateway:
        policy.get_json("dual-write gateway", f"{sim.dualwrite_gateway_url}/api/ConnectionSet/x", token=None)
    assert gateway.value.fault.code == "MissingAuthenticationToken" and gateway.value.fault.http_status == 401
    with pytest.raises(ServiceError) as oauth:
        policy.post_json(
            "sign-in",
            f"{sim.authority}/oauth2/v2.0/token",
            token=None,
            json=None,
        )
    # A token request with no grant: Entra's OAuth error body, its code as the fault's code.
    assert oauth.value.fault.code == "unsupported_grant_type" and oauth.value.fault.http_status == 400
    assert oauth.value.fault.message.startswith("AADSTS70003")


def test_oauth_error_body_and_secret_free_activity(
    sim: Any, make_policy: Callable[..., HttpPolicy], activity: ActivityLog
) -> None:
    policy = make_policy()
    secret = "Wr0ng~secret.value-123"
    with pytest.raises(ServiceError) as raised:
        policy.request(
            "sign-in",
            "POST",
            f"{sim.authority}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": sim.confidential_client_id,
                "client_secret": secret,
                "scope": BAP_SCOPE,
            },
        )
    assert raised.value.fault.code == "invalid_client"
    assert secret not in repr(activity.entries()) and secret not in str(raised.value)


def test_msal_style_calls_are_logged_without_secrets(
    sim: Any, make_policy: Callable[..., HttpPolicy], activity: ActivityLog
) -> None:
    policy = make_policy()
    client = policy.client
    discovery = client.get(f"{sim.authority}/v2.0/.well-known/openid-configuration", params=None, headers={})
    discovery.raise_for_status()
    token_endpoint = discovery.json()["token_endpoint"]
    response = client.post(
        token_endpoint,
        params={"client-request-id": "abc"},
        data={
            "grant_type": "client_credentials",
            "client_id": sim.confidential_client_id,
            "client_secret": sim.client_secret,
            "scope": BAP_SCOPE,
        },
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert response.json()["token_type"] == "Bearer"
    access_token = response.json()["access_token"]
    entries = activity.entries()
    assert [(entry.method, entry.status, entry.service) for entry in entries] == [
        ("GET", 200, "sign-in"),
        ("POST", 200, "sign-in"),
    ]
    # Measured, not defaulted: each call took some time and far less than the client's timeout.
    assert all(entry.duration_ms is not None and 0 < entry.duration_ms < 30_000 for entry in entries)
    logged = repr(entries)
    assert sim.client_secret not in logged and access_token not in logged and "Bearer" not in logged


def test_every_request_is_logged_with_redacted_url(
    sim: Any, make_policy: Callable[..., HttpPolicy], activity: ActivityLog
) -> None:
    token = bap_token(sim)
    make_policy().get_json("BAP admin API", bap_url(sim), token=token, params={**API, "sig": "s1gnature"})
    (entry,) = activity.entries()
    assert entry.kind == "http" and entry.method == "GET" and entry.status == 200
    assert entry.service == "BAP admin API"
    assert entry.url.endswith("?api-version=2020-10-01&sig=***")
    assert "s1gnature" not in repr(entry) and token not in repr(entry)


# -- pure pieces ----------------------------------------------------------------------------------


def test_parse_retry_after() -> None:
    now = time.time()
    assert parse_retry_after("10") == 10.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    date = email.utils.formatdate(now + 30, usegmt=True)
    parsed = parse_retry_after(date, now=now)
    assert parsed is not None and 29.0 <= parsed <= 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({"error": {"code": "0x80048d0b", "message": "not integrated"}}, 400, "0x80048d0b", "not integrated"),
        ({"error": "invalid_client", "error_description": "AADSTS7000215"}, 401, "invalid_client",
         "AADSTS7000215"),
        ({"IsSuccess": False, "ErrorMessage": "Maximum allowed API operations are 3"}, 200, "",
         "Maximum allowed API operations are 3"),
        ({"IsSuccess": False, "ErrorMessage": "throttled"}, 429, "HTTP 429", "throttled"),
        ({"code": "DW9003", "message": "Failed to connect to CRM"}, 500, "DW9003",
         "Failed to connect to CRM"),
        ({"Message": "An error has occurred."}, 500, "HTTP 500", "An error has occurred."),
    ],
)
def test_service_fault_shapes(body: dict[str, Any], status: int, code: str, message: str) -> None:
    fault = service_fault("svc", body, status, "https://h/x")
    assert fault is not None and fault.code == code and fault.message == message
    assert fault.http_status == status


def test_service_fault_none_for_other_bodies() -> None:
    assert service_fault("svc", {"value": []}, 200, "") is None
    assert service_fault("svc", ["x"], 500, "") is None
    assert service_fault("svc", None, 500, "") is None


def test_service_fault_redacts_echoed_secrets() -> None:
    body = {"error": "invalid_grant", "error_description": "bad client_secret=abc123xyz"}
    fault = service_fault("sign-in", body, 400, "")
    assert fault is not None and "abc123xyz" not in fault.message


def test_close_is_idempotent(activity: ActivityLog) -> None:
    policy = HttpPolicy(ca_bundle=None, activity=activity)
    policy.close()
    policy.close()
    assert policy.client.is_closed
    with pytest.raises(RuntimeError):
        policy.client.get("https://127.0.0.1:1/")


def test_close_interrupts_a_retry_wait(sim_factory: Any) -> None:
    """Quitting during a long Retry-After must not sit the wait out."""
    import threading
    import time as clock

    from dwtui.services.activity import ActivityLog
    from dwtui.services.errors import ServiceError
    from dwtui.services.http import HttpPolicy

    sim = sim_factory("happy")
    sim.add_fault(path_prefix="/lcs", kind="429", count=5, retry_after=100)
    policy = HttpPolicy(ca_bundle=str(sim.ca_file), activity=ActivityLog(), max_wait=100.0)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            policy.request("LCS API", "GET", f"{sim.base_url}/lcs/environmentinfo/v1/detail/project/1/")
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=call)
    started = clock.monotonic()
    worker.start()
    deadline = clock.monotonic() + 10
    while not any(e.kind == "wait" for e in policy.activity.entries()) and clock.monotonic() < deadline:
        clock.sleep(0.01)
    policy.close()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert clock.monotonic() - started < 10
    assert isinstance(outcome[0], ServiceError)
    assert outcome[0].fault.code == "cancelled"
