"""`--trace FILE` and `dwtui sim --replay FILE`: a recorded run holds no secret and plays back the same.

The replay is tested against real parts: runs of dwtui recorded against the simulator over TLS,
served back by the replay server, read by dwtui and by a plain httpx client that trusts only the
replay's CA; sign-in against the replay is real MSAL.
"""

from __future__ import annotations

import io
import json
import re
import ssl
import stat
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from dwtui.sim import ids
from dwtui.sim.recording import MASK, TraceFormatError, load_trace
from dwtui.sim.replay import ReplayServer, run_replay
from dwtui.sim.server import SimServer
from tests.cli_support import MemoryKeyring, clear_overrides, run_cli, use_memory_keyring

TENANT = "fabrikam.onmicrosoft.com"
CLIENT = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
ENV = "6f4a1c2e9b3d4e8fa7c05d1b2e3f4a5b"
PP_ENV = "b50d3f52-c95f-5b49-9644-98ba4d0027ab"
BAP_LIST = (
    "https://api.bap.microsoft.com/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments"
    "?api-version=2023-06-01"
)
DATAVERSE = "https://fabrikam.crm4.dynamics.com/api/data/v9.2/RetrieveFinanceAndOperationsIntegrationDetails"
OPERATION = (
    f"https://api.powerplatform.com/appmanagement/environments/{PP_ENV}/operations/op-1"
    "?api-version=2022-03-01-preview"
)
LCS = f"https://lcsapi.lcs.dynamics.com/environmentinfo/v1/detail/project/1234567/?environmentId={ENV}"
TERMS = "https://crmprodnam.blob.core.windows.net/tos/terms_1?sv=2018-03-28&sr=c&sig=***&se=2022-03-23&sp=r"
# Secret-bearing words that must never be in a trace: a bearer header or a token, wherever it is.
_BEARER = re.compile(r"(?i)bearer\s+[A-Za-z0-9]")
_USER_CODE = re.compile(r"enter the code (\w+)")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_memory_keyring()


@pytest.fixture(autouse=True)
def _no_profile_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


def _records(trace: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]


def _assert_no_secret(trace: Path, *secrets: str) -> None:
    """What every trace must hold true: nothing that signs anyone in, however it is spelt."""
    assert stat.S_IMODE(trace.stat().st_mode) == 0o600
    text = trace.read_text(encoding="utf-8")
    assert "eyJ" not in text  # no JWT: access, refresh and id tokens, client assertions
    assert not _BEARER.search(text)
    for secret in secrets:
        assert secret not in text
    exchanges = [record for record in _records(trace) if record["kind"] == "exchange"]
    assert exchanges
    for record in exchanges:
        for side in (record["request"], record["response"] or {}):
            assert not {name.lower() for name in side["headers"]} & {"authorization", "cookie", "set-cookie"}
            for body in (side.get("json"), side.get("form")):
                if not isinstance(body, dict):
                    continue
                for key in (
                    "access_token",
                    "refresh_token",
                    "id_token",
                    "device_code",
                    "user_code",
                    "client_secret",
                    "client_assertion",
                    "code",
                ):
                    if key in body and not (key == "code" and "json" in side):
                        assert body[key] == MASK, (record["url"], key)


# -- a recorded demo run, replayed ------------------------------------------------------------


def test_a_recorded_demo_run_replays_to_the_same_status(
    tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "demo.jsonl"
    code, out, err = run_cli(["--demo", "--speed", "50", "--trace", str(trace), "status", "--json"], capsys)
    assert code == 0, err
    recorded = json.loads(out)
    user_code = _USER_CODE.search(err)
    assert user_code is not None
    _assert_no_secret(trace, user_code.group(1), ids.CLIENT_SECRET, ids.ONEBOX_CLIENT_SECRET)
    services = {record["service"] for record in _records(trace) if record["kind"] == "exchange"}
    assert {"sign-in", "LCS API", "Dataverse"} <= services

    # Served where the demo's simulator was, so every URL in the output is the same.
    port = urlsplit(load_trace(trace).profile["lcs_api_url"]).port
    assert port is not None
    with ReplayServer(trace, speed=50.0, port=port) as replay:
        config = tmp_path / "replay.toml"
        assert isinstance(replay, ReplayServer)
        replay.write_config(config)
        code, out, err = run_cli(["--config", str(config), "status", "--json"], capsys)
    assert code == 0, err
    replayed = json.loads(out)
    # read_at is when this run read the facts: the one field that is the time of the run.
    assert {**replayed, "read_at": None} == {**recorded, "read_at": None}
    assert replayed["integration"]["state"] == "set up"


def test_a_real_profile_trace_holds_none_of_the_signed_in_tokens(
    sim: SimServer, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    sim.write_config(config)
    trace = tmp_path / "run.jsonl"
    code, _, err = run_cli(["--config", str(config), "--trace", str(trace), "status"], capsys)
    assert code == 0, err
    # Every token the run was issued is in the keyring's token cache now; none may be in the trace.
    from dwtui.services.secrets import SecretStore

    [key] = [user for (_, user) in memory_keyring.values if user.endswith(":token-cache")]
    cached = SecretStore().get(key)  # the keyring keeps it in chunks; the store joins them
    assert cached is not None
    cache = json.loads(cached)
    issued = [
        entry["secret"]
        for kind in ("AccessToken", "RefreshToken", "IdToken")
        for entry in cache.get(kind, {}).values()
    ]
    assert len(issued) >= 3
    _assert_no_secret(trace, *issued)
    forms = [r["request"].get("form", {}) for r in _records(trace) if r["kind"] == "exchange"]
    assert any(form.get("grant_type") == "refresh_token" and form["refresh_token"] == MASK for form in forms)


def test_a_client_secret_never_reaches_the_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Verify signs in as the one-box app with client credentials: the one command that sends a
    # client secret (an application profile makes no LCS call at all, so it records nothing).
    trace = tmp_path / "verify.jsonl"
    code, _, err = run_cli(
        [
            "--demo",
            "--speed",
            "400",
            "--environment",
            "contoso-dev",
            "--trace",
            str(trace),
            "onebox",
            "verify",
            "--app-id",
            ids.ONEBOX_CLIENT_ID,
        ],
        capsys,
    )
    assert code == 0, err
    _assert_no_secret(trace, ids.ONEBOX_CLIENT_SECRET)
    exchanges = [r for r in _records(trace) if r["kind"] == "exchange"]
    token = next(
        r for r in exchanges if r["request"].get("form", {}).get("grant_type") == "client_credentials"
    )
    assert token["request"]["form"]["client_secret"] == MASK
    assert token["response"]["json"]["access_token"] == MASK
    assert any(r["service"] == "Dataverse" and r["url"].endswith("/WhoAmI") for r in exchanges)


def test_the_terms_signature_is_masked_in_answers_and_in_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "setup.jsonl"
    code, _, err = run_cli(
        # [I] only this scenario's list carries terms URIs, so only here are the documents read.
        [
            "--demo",
            "--speed",
            "50",
            "--scenario",
            "progress-reported",
            "--trace",
            str(trace),
            "setup",
            "--yes",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    _assert_no_secret(trace, "simulated-signature")
    text = trace.read_text(encoding="utf-8")
    assert "sig=***" in text
    terms = [r for r in _records(trace) if r["kind"] == "exchange" and "/termsblob/" in r["url"]]
    assert terms and all("sig=***" in r["url"] and r["response"]["status"] == 200 for r in terms)


# -- the replay server, on a crafted trace of a real tenant's hosts -----------------------------


def _line(record: dict[str, Any]) -> str:
    return json.dumps({"v": 1, **record}) + "\n"


def _exchange(
    seq: int, service: str, method: str, url: str, response: dict[str, Any] | None
) -> dict[str, Any]:
    record = {
        "kind": "exchange",
        "seq": seq,
        "at": 0,
        "service": service,
        "method": method,
        "url": url,
        "request": {"headers": {}},
        "response": response,
        "duration_ms": 1.0,
    }
    if response is None:
        record["error"] = "ReadTimeout: timed out"
    return record


def _answer(status: int, body: Any, **headers: str) -> dict[str, Any]:
    kind = "text" if isinstance(body, str) else "json"
    return {
        "status": status,
        "headers": {
            "Content-Type": "text/plain" if kind == "text" else "application/json; charset=utf-8",
            **headers,
        },
        kind: body,
    }


@pytest.fixture
def tenant_trace(tmp_path: Path) -> Path:
    """What a run against a real tenant records: real hosts, a poll sequence, a timeout, a SAS URL."""
    profile = {
        "kind": "profile",
        "name": "work",
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "lcs_project_id": "1234567",
        "environment_id": ENV,
        "auth": "device-code",
        "authority_url": "https://login.microsoftonline.com",
        "lcs_api_url": "https://lcsapi.lcs.dynamics.com",
        "bap_api_url": "https://api.bap.microsoft.com",
        "power_platform_api_url": "https://api.powerplatform.com",
        "dualwrite_gateway_url": "",
    }
    environments = {
        "value": [
            {
                "name": PP_ENV,
                "properties": {
                    "linkedEnvironmentMetadata": {
                        "instanceUrl": "https://fabrikam.crm4.dynamics.com/",
                        "instanceApiUrl": "https://fabrikam.api.crm4.dynamics.com",
                    }
                },
            }
        ]
    }
    exchanges = [
        _exchange(
            1,
            "sign-in",
            "POST",
            f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token",
            _answer(200, {"token_type": "Bearer", "access_token": MASK}),
        ),
        _exchange(2, "LCS API", "GET", LCS, None),
        _exchange(3, "LCS API", "GET", LCS, _answer(200, {"IsSuccess": True, "ResultPageCurrent": 1})),
        _exchange(
            4, "BAP admin API", "GET", BAP_LIST, _answer(200, environments, **{"x-ms-request-id": "r-1"})
        ),
        _exchange(
            5,
            "Dataverse",
            "GET",
            DATAVERSE,
            _answer(200, {"Url": "https://fabrikam.operations.dynamics.com"}),
        ),
        *(
            _exchange(6 + i, "Power Platform API", "GET", OPERATION, _answer(200, {"status": status}))
            for i, status in enumerate(("Running", "Running", "Succeeded"))
        ),
        _exchange(9, "Power Platform API", "GET", TERMS, _answer(200, "the licence terms")),
    ]
    path = tmp_path / "tenant.jsonl"
    path.write_text("".join(_line(record) for record in (profile, *exchanges)), encoding="utf-8")
    return path


@pytest.fixture
def replay(tenant_trace: Path) -> Iterator[ReplayServer]:
    server = ReplayServer(tenant_trace, speed=50.0)
    server.start()
    yield server
    server.stop()


def _client(server: SimServer) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(cafile=str(server.ca_file)), timeout=10.0)


def test_real_hosts_are_served_under_the_simulator_prefixes_and_answers_point_here(
    replay: ReplayServer,
) -> None:
    base = replay.base_url
    with _client(replay) as client:
        answer = client.get(
            f"{base}/bap/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments",
            params={"api-version": "2023-06-01"},
        )
        assert answer.status_code == 200
        assert answer.headers["x-ms-request-id"] == "r-1"
        metadata = answer.json()["value"][0]["properties"]["linkedEnvironmentMetadata"]
        # A host the run called moves here; one it never called stays as recorded.
        assert metadata["instanceUrl"] == f"{base}/host/fabrikam.crm4.dynamics.com/"
        assert metadata["instanceApiUrl"] == "https://fabrikam.api.crm4.dynamics.com"
        dataverse = client.get(
            f"{metadata['instanceUrl']}api/data/v9.2/RetrieveFinanceAndOperationsIntegrationDetails"
        )
        assert dataverse.json() == {"Url": "https://fabrikam.operations.dynamics.com"}
        # The masked signature matches whatever the client sends in its place.
        terms = client.get(
            f"{base}/host/crmprodnam.blob.core.windows.net/tos/terms_1",
            params={"sv": "2018-03-28", "sr": "c", "sig": "anything", "se": "2022-03-23", "sp": "r"},
        )
        assert terms.status_code == 200 and terms.text == "the licence terms"


def test_identical_requests_get_the_recorded_answers_in_order_then_the_last_again(
    replay: ReplayServer,
) -> None:
    url = f"{replay.base_url}/ppapi/appmanagement/environments/{PP_ENV}/operations/op-1"
    with _client(replay) as client:
        states = [
            client.get(url, params={"api-version": "2022-03-01-preview"}).json()["status"] for _ in range(4)
        ]
    assert states == ["Running", "Running", "Succeeded", "Succeeded"]


def test_a_recorded_failure_is_played_back_as_a_dropped_connection(replay: ReplayServer) -> None:
    url = f"{replay.base_url}/lcs/environmentinfo/v1/detail/project/1234567/"
    with _client(replay) as client:
        with pytest.raises(httpx.TransportError):
            client.get(url, params={"environmentId": ENV})
        assert client.get(url, params={"environmentId": ENV}).json()["IsSuccess"] is True


def test_an_unrecorded_request_gets_a_404_naming_it_and_what_was_recorded(replay: ReplayServer) -> None:
    with _client(replay) as client:
        answer = client.get(
            f"{replay.base_url}/lcs/environmentinfo/v1/detail/project/1234567/",
            params={"environmentId": "0" * 32},
        )
        elsewhere = client.delete(f"{replay.base_url}/bap/nothing/here")
    assert answer.status_code == 404
    body = answer.json()
    assert body["error"]["code"] == "NotRecorded"
    assert (
        f"recorded no answer for GET /lcs/environmentinfo/v1/detail/project/1234567/?environmentId={'0' * 32}"
        in (body["error"]["message"])
    )
    assert body["recorded_on_this_path"] == [
        f"GET /lcs/environmentinfo/v1/detail/project/1234567/?environmentId={ENV}"
    ]
    assert elsewhere.status_code == 404
    assert "DELETE /bap/nothing/here" in elsewhere.json()["error"]["message"]
    assert "nothing on this path" in elsewhere.json()["error"]["message"]


def test_msal_signs_in_against_the_replay_for_the_recorded_tenant(replay: ReplayServer) -> None:
    """Recorded tokens are masked: the replay's own identity provider signs the client in."""
    from dwtui.domain.profile import BAP_SCOPE, parse_profile
    from dwtui.services.activity import ActivityLog
    from dwtui.services.secrets import SecretStore
    from dwtui.services.session import Session

    table = replay.profile_table()
    assert table["tenant_id"] == TENANT and table["client_id"] == CLIENT
    assert table["lcs_api_url"] == f"{replay.base_url}/lcs"
    assert table["dualwrite_gateway_url"] == ""  # the recorded run had none
    session = Session(
        parse_profile("replay", table), secrets=SecretStore(memory_only=True), activity=ActivityLog()
    )
    try:
        prompt = session.auth.start_device_flow()
        signed_in = session.auth.finish_device_flow(prompt, lambda: False)
        assert signed_in.username == ids.USER_NAME
        body = session.http.get_json(
            "BAP admin API",
            f"{replay.base_url}/bap/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments",
            token=session.auth.token_getter(BAP_SCOPE)(),
            params={"api-version": "2023-06-01"},
        )
    finally:
        session.close()
    assert body["value"][0]["name"] == PP_ENV


def test_run_replay_prints_how_to_use_it_and_writes_a_profile(tenant_trace: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    stop = threading.Event()
    config = tmp_path / "replay.toml"
    codes: list[int] = []
    runner = threading.Thread(
        target=lambda: codes.append(run_replay(tenant_trace, 50.0, 0, config, out, stop=stop))
    )
    runner.start()
    try:
        for _ in range(500):
            if "Ctrl-C" in out.getvalue():
                break
            stop.wait(0.01)
        text = out.getvalue()
        assert "8 answers to 5 distinct requests" in text
        assert f"dwtui --config {config} --profile replay status" in text
        base = next(line.split()[-1] for line in text.splitlines() if "base URL" in line)
        profile = tomllib.loads(config.read_text())["profiles"]["replay"]
        assert profile["bap_api_url"] == f"{base}/bap"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
    finally:
        stop.set()
        runner.join(30)
    assert codes == [0]


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json\n", "line 1 is not JSON"),
        ('{"v": 2, "kind": "exchange"}\n', "trace version 2"),
        ('{"v": 1, "kind": "exchange", "method": "GET"}\n', "needs a method and an absolute url"),
        ('{"v": 1, "kind": "note"}\n', "kind 'note'"),
    ],
)
def test_a_file_that_is_not_a_trace_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, words: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    with pytest.raises(TraceFormatError):
        load_trace(bad)
    code, _, err = run_cli(["sim", "--replay", str(bad)], capsys)
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("dwtui: ") and words in line


def test_tracing_the_simulator_is_refused_before_the_file_is_touched(
    tenant_trace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tenant_trace.read_text()
    code, _, err = run_cli(["--trace", str(tenant_trace), "sim", "--replay", str(tenant_trace)], capsys)
    assert code == 2
    assert "--trace records dwtui's own calls" in err
    assert tenant_trace.read_text() == before


def test_replay_and_scenario_exclude_each_other(
    tenant_trace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["sim", "--replay", str(tenant_trace), "--scenario", "mismatch"], capsys)
    assert code == 2
    assert "exclude each other" in err


def test_a_trace_that_cannot_be_written_stops_the_run_before_any_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["--demo", "--trace", str(tmp_path / "missing" / "t.jsonl"), "status"], capsys)
    assert code == 2  # the path given is the problem: usage
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("dwtui: --trace ") and "t.jsonl" in line


def test_a_trace_never_overwrites_a_file_that_is_not_a_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = tmp_path / "passwd"
    precious.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    precious.chmod(0o644)
    code, out, err = run_cli(["--demo", "--trace", str(precious), "status"], capsys)
    assert code == 2 and out == ""
    assert "exists and is not a dwtui trace" in err
    assert precious.read_text(encoding="utf-8") == "root:x:0:0:root:/root:/bin/bash\n"
    assert precious.stat().st_mode & 0o777 == 0o644
    # An earlier trace is replaced, as the person expects.
    earlier = tmp_path / "earlier.jsonl"
    assert run_cli(["--demo", "--trace", str(earlier), "status"], capsys)[0] == 0
    first = earlier.read_text(encoding="utf-8")
    assert run_cli(["--demo", "--trace", str(earlier), "status"], capsys)[0] == 0
    again = earlier.read_text(encoding="utf-8")
    assert again.count('"kind":"profile"') == first.count('"kind":"profile"') == 1
