"""`--trace` redaction on crafted bodies: secrets never reach the file, ids and shapes do."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from dwtui.domain.profile import parse_profile
from dwtui.services.trace import MASK, Redactor, TraceFile

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl"
OPAQUE_REFRESH = "0.AAAAvd3-opaque-refresh-Token_value"
ENV_ID = "6f4a1c2e-9b3d-4e8f-a7c0-5d1b2e3f4a5b"
SAS = "https://crmprodnam.blob.core.windows.net/tos/terms_1?sv=2018-03-28&sr=c&sig=v5iBtDum0N6A0sqyIkP%3D&se=2022-03-23&sp=r"


def test_a_token_answer_keeps_its_shape_and_loses_its_tokens() -> None:
    body = {
        "token_type": "Bearer",
        "scope": "https://lcsapi.lcs.dynamics.com//.default",
        "expires_in": 3599,
        "access_token": JWT,
        "refresh_token": OPAQUE_REFRESH,
        "id_token": JWT,
        "foci": "1",
    }
    redacted = Redactor().json(body)
    assert set(redacted) == set(body)
    assert redacted["access_token"] == redacted["refresh_token"] == redacted["id_token"] == MASK
    assert redacted["token_type"] == "Bearer"
    assert redacted["expires_in"] == 3599
    assert redacted["scope"] == body["scope"]


def test_error_codes_ids_and_nulls_are_kept() -> None:
    body = {
        "error": {"code": "0x80048d0b", "message": "The organization is not integrated."},
        "id": ENV_ID,
        "properties": {"clientSecret": None, "password": "", "displayName": "Contoso UAT"},
    }
    assert Redactor().json(body) == body


def test_secret_fields_are_masked_at_any_depth_and_in_any_spelling() -> None:
    body = {
        "value": [
            {"name": "app", "properties": {"clientSecret": "s3cr3t-value-1", "Client-Assertion": JWT}},
            {"credentials": {"PASSWORD": "hunter2-long", "apiKey": "k-123456789"}},
        ]
    }
    text = json.dumps(Redactor().json(body))
    for secret in ("s3cr3t-value-1", "hunter2-long", "k-123456789", "eyJ"):
        assert secret not in text
    assert '"name": "app"' in text


def test_sas_signatures_are_masked_in_strings_and_in_encoded_urls() -> None:
    redactor = Redactor()
    body = {
        "termsOfServiceBlobUris": [SAS],
        "next": "https://host/x?redirect="
        + SAS.replace(":", "%3A")
        .replace("/", "%2F")
        .replace("?", "%3F")
        .replace("=", "%3D")
        .replace("&", "%26"),
    }
    text = json.dumps(redactor.json(body))
    assert "v5iBtDum0N6A0sqyIkP" not in text
    assert "sv=2018-03-28" in text and "crmprodnam.blob.core.windows.net/tos/terms_1" in text


def test_a_jwt_under_any_name_is_masked() -> None:
    assert Redactor().json({"note": f"token was {JWT} here"}) == {"note": f"token was {MASK} here"}


def test_a_device_code_answer_loses_its_codes_even_inside_the_message() -> None:
    body = {
        "user_code": "GLTQJ8YNV",
        "device_code": "DAQABAAEAAAD--long-device-code",
        "verification_uri": "https://microsoft.com/devicelogin",
        "expires_in": 900,
        "interval": 5,
        "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin "
        "and enter the code GLTQJ8YNV to authenticate.",
    }
    redacted = Redactor().json(body)
    assert "GLTQJ8YNV" not in json.dumps(redacted)
    assert redacted["verification_uri"] == "https://microsoft.com/devicelogin"
    assert redacted["interval"] == 5


def test_a_form_loses_every_credential_and_keeps_what_identifies_the_call() -> None:
    form = [
        ("client_id", "4f7d2c1a-9e3b-4a8d-b6c5-1e0f2a3b4c5d"),
        ("grant_type", "refresh_token"),
        ("scope", "https://service.powerapps.com//.default offline_access"),
        ("refresh_token", OPAQUE_REFRESH),
        ("client_secret", "abc~defghijklmnop"),
        ("client_assertion", JWT),
        ("code", "0.AUoA-auth-code"),
        ("password", "P@ssw0rd!"),
    ]
    redacted = Redactor().form(form)
    assert redacted["client_id"] == form[0][1]
    assert redacted["grant_type"] == "refresh_token"
    assert redacted["scope"] == form[2][1]
    for key in ("refresh_token", "client_secret", "client_assertion", "code", "password"):
        assert redacted[key] == MASK


def test_secret_headers_are_left_out_and_others_redacted() -> None:
    headers = httpx.Headers(
        [
            ("Authorization", f"Bearer {JWT}"),
            ("Cookie", "esctx=AQABAAAAAAD-cookie-value"),
            ("Set-Cookie", "fpc=AtDlE-cookie; path=/; secure"),
            ("Ocp-Apim-Subscription-Key", "0123456789abcdef"),
            ("x-ms-request-id", ENV_ID),
            ("Location", SAS),
            ("Retry-After", "10"),
        ]
    )
    kept = Redactor().headers(headers)
    assert {name.lower() for name in kept} == {"x-ms-request-id", "location", "retry-after"}
    assert kept["x-ms-request-id"] == ENV_ID
    assert "v5iBtDum0N6A0sqyIkP" not in kept["Location"]
    assert kept["Retry-After"] == "10"


def test_a_secret_seen_once_is_scrubbed_wherever_it_turns_up_again() -> None:
    redactor = Redactor()
    redactor.form([("refresh_token", OPAQUE_REFRESH)])
    redactor.headers(httpx.Headers({"Authorization": "Bearer opaque-access-value-123"}))
    echoed = redactor.text(f"bad grant {OPAQUE_REFRESH}; token opaque-access-value-123 refused")
    assert OPAQUE_REFRESH not in echoed and "opaque-access-value-123" not in echoed


def _json_trees(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    names = st.sampled_from(["id", "name", "properties", "value", "state", "code", "message", "items"])
    return st.recursive(
        leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3)
    )


SECRET_NAMES = ["access_token", "refreshToken", "client_secret", "password", "device_code", "sig", "Secret"]
secret_values = st.text(
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.~", min_size=12, max_size=40
)


@settings(max_examples=150, deadline=None)
@given(
    tree=_json_trees(st.none() | st.integers() | st.text(max_size=10)),
    secrets=st.lists(st.tuples(st.sampled_from(SECRET_NAMES), secret_values), min_size=1, max_size=4),
    path=st.lists(st.integers(min_value=0, max_value=5), max_size=4),
)
def test_no_secret_field_survives_wherever_it_is_put(
    tree: Any, secrets: list[tuple[str, str]], path: list[int]
) -> None:
    """Secret-named fields dropped into any JSON document never leave their values in the output."""
    holder: dict[str, Any] = {"value": tree}
    node: Any = holder
    for step in path:  # walk into the tree as far as it goes, then put the secrets there
        children = [
            child
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not children:
            break
        node = children[step % len(children)]
    target = node if isinstance(node, dict) else {}
    if isinstance(node, list):
        node.append(target)
    for name, value in secrets:
        target[name] = value
    text = json.dumps(Redactor().json(holder))
    for _, value in secrets:
        assert value not in text


def _exchange(trace: TraceFile) -> None:
    request = httpx.Request(
        "POST",
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
        data={"client_id": "app", "grant_type": "client_credentials", "client_secret": "very-secret-value"},
    )
    response = httpx.Response(
        200,
        json={"token_type": "Bearer", "expires_in": 3599, "access_token": JWT},
        headers={"Set-Cookie": "x-ms-gateway-slice=estsfd; secure"},
        request=request,
    )
    trace.exchange("sign-in", request, response, None, 12.5)


def test_the_trace_file_is_private_and_holds_one_object_a_line(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    # An earlier trace anyone could read: replaced, and private from then on.
    path.write_text('{"v":1,"kind":"profile","name":"old"}\n')
    os.chmod(path, 0o644)
    trace = TraceFile(path)
    profile = parse_profile(
        "work",
        {
            "tenant_id": "contoso.onmicrosoft.com",
            "client_id": "4f7d2c1a-9e3b-4a8d-b6c5-1e0f2a3b4c5d",
            "lcs_project_id": "1234567",
        },
    )
    trace.profile(profile)
    trace.profile(profile)  # once per profile
    _exchange(trace)
    failed = httpx.Request(
        "GET", "https://lcsapi.lcs.dynamics.com/environmentinfo/v1/detail/project/1234567/"
    )
    trace.exchange("LCS API", failed, None, httpx.ConnectTimeout("timed out"), 30000.0)
    trace.close()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "older file" not in text  # a new run starts a new trace
    assert "very-secret-value" not in text and "eyJ" not in text and "estsfd" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["kind"] for line in lines] == ["profile", "exchange", "exchange"]
    assert all(line["v"] == 1 for line in lines)
    assert lines[0]["lcs_api_url"] == "https://lcsapi.lcs.dynamics.com"
    token = lines[1]
    assert token["request"]["form"] == {
        "client_id": "app",
        "grant_type": "client_credentials",
        "client_secret": MASK,
    }
    assert token["response"]["status"] == 200
    assert token["response"]["json"] == {"token_type": "Bearer", "expires_in": 3599, "access_token": MASK}
    assert token["duration_ms"] == 12.5
    assert lines[2]["response"] is None
    assert lines[2]["error"] == "ConnectTimeout: timed out"
