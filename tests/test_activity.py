"""The Activity log and its redaction: secrets never survive, whatever surrounds them."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dwtui.services.activity import ActivityEntry, ActivityLog, redact_text, redact_url

BRIEF_KEYS = (
    "code",
    "client_secret",
    "password",
    "access_token",
    "refresh_token",
    "assertion",
    "client_assertion",
    "device_code",
    "sig",
    "token",
)
# Keys whose `key: value` form (JSON) is always a secret; "code" and "sig" are also error codes there.
JSON_KEYS = tuple(k for k in BRIEF_KEYS if k not in ("code", "sig", "token"))

LOWER = "abcdefghijklmnopqrstuvwxyz"
B64TOKEN = LOWER + LOWER.upper() + "0123456789-._~+/"
SAFE_SECRET = LOWER + LOWER.upper() + "0123456789-._~+/"

hosts = st.from_regex(r"[a-z]{1,10}(\.[a-z]{1,10}){0,3}(:[1-9][0-9]{0,3})?", fullmatch=True)
paths = st.lists(st.text(LOWER + "0123456789-_", min_size=1, max_size=8), max_size=4).map(
    lambda parts: "/" + "/".join(parts)
)
plain_params = st.dictionaries(
    st.text(LOWER, min_size=1, max_size=6).filter(lambda k: k not in BRIEF_KEYS),
    st.text(LOWER + "0123456789", max_size=8),
    max_size=3,
)
secrets = st.text(
    st.characters(blacklist_categories=("Cs",)), min_size=8, max_size=40
).filter(lambda s: s.strip() == s and "***" not in s)
any_case_key = st.sampled_from(BRIEF_KEYS).flatmap(
    lambda key: st.sampled_from([key, key.upper(), key.title()])
)


def forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret)}


def leaked(secret: str, output: str) -> bool:
    return any(form in output for form in forms(secret))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(host=hosts, path=paths, before=plain_params, after=plain_params, key=any_case_key, secret=secrets)
def test_secret_query_values_never_survive(
    host: str, path: str, before: dict[str, str], after: dict[str, str], key: str, secret: str
) -> None:
    query = urlencode([*before.items(), (key, secret), *after.items()])
    url = f"https://{host}{path}?{query}"
    rest = f"https://{host}{path}?{urlencode([*before.items(), (key, ''), *after.items()])}"
    assume(not leaked(secret, rest))
    assert not leaked(secret, redact_url(url))


@settings(max_examples=200)
@given(host=hosts, path=paths, key=st.sampled_from(BRIEF_KEYS), secret=st.text(SAFE_SECRET, min_size=8))
def test_secret_fragment_and_user_info_never_survive(host: str, path: str, key: str, secret: str) -> None:
    assume(not any(secret in part for part in (host, path, key, "state=1", "https://admin:")))
    assert secret not in redact_url(f"https://{host}{path}#{key}={secret}&state=1")
    # A valid URL percent-encodes reserved characters of the password.
    assert not leaked(secret, redact_url(f"https://admin:{quote(secret, safe='')}@{host}{path}"))


@settings(max_examples=200)
@given(host=hosts, key=st.sampled_from(BRIEF_KEYS), secret=st.text(SAFE_SECRET, min_size=8))
def test_percent_encoded_key_names_are_recognised(host: str, key: str, secret: str) -> None:
    encoded_key = "".join(f"%{ord(c):02X}" if c == "_" else c for c in key)
    assume(not leaked(secret, f"https://{host}/p?{encoded_key}="))
    assert secret not in redact_url(f"https://{host}/p?{encoded_key}={quote(secret, safe='')}")


def test_redact_url_keeps_harmless_parts() -> None:
    url = "https://127.0.0.1:8443/lcs/environmentinfo/v1/detail/project/1234567/?page=2&environmentId=abc"
    assert redact_url(url) == url
    assert redact_url("https://h/x?code=abc&state=1") == "https://h/x?code=***&state=1"


prefixes = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=300)
@given(before=prefixes, after=prefixes, token=st.text(B64TOKEN, min_size=8, max_size=60))
def test_bearer_tokens_never_survive(before: str, after: str, token: str) -> None:
    assume(not any(token in part for part in (before, after, "Authorization: Bearer")))
    for scheme in ("Bearer", "bearer"):
        assert token not in redact_text(f"{before} Authorization: {scheme} {token} {after}")


jwt_part = st.text(LOWER + LOWER.upper() + "0123456789-_", min_size=4, max_size=40)


@settings(max_examples=200)
@given(before=prefixes, after=prefixes, payload=jwt_part, signature=st.one_of(st.just(""), jwt_part))
def test_jwt_looking_strings_never_survive(before: str, after: str, payload: str, signature: str) -> None:
    jwt = f"eyJhbGciOiJub25lIn0.{payload}.{signature}"
    assume(not any(payload in part for part in (before, after, "eyJhbGciOiJub25lIn0")))
    out = redact_text(f"{before} {jwt} {after}")
    assert payload not in out
    if len(signature) >= 8 and signature not in before and signature not in after:
        assert signature not in out


@settings(max_examples=300)
@given(before=prefixes, after=prefixes, key=any_case_key, secret=st.text(SAFE_SECRET, min_size=8))
def test_key_equals_value_never_survives(before: str, after: str, key: str, secret: str) -> None:
    assume(not any(secret in part for part in (before, after, key, "&next=1")))
    assert secret not in redact_text(f"{before} {key}={secret}&next=1 {after}")
    assert secret not in redact_text(f"{before} {key} = {secret}")


@settings(max_examples=300)
@given(key=st.sampled_from(JSON_KEYS), secret=secrets, other=st.text(LOWER, max_size=10))
def test_json_and_repr_secret_values_never_survive(key: str, secret: str, other: str) -> None:
    body = {"grant_type": "device_code", key: secret, "note": other}
    assume(not any(secret in part for part in (repr({**body, key: ""}), json.dumps({**body, key: ""}))))
    as_json = json.dumps(body)
    assume(json.dumps(secret)[1:-1] not in json.dumps({**body, key: ""}))
    out = redact_text(as_json)
    assert secret not in out and json.dumps(secret)[1:-1] not in out
    assert secret not in redact_text(repr(body))
    assert secret not in redact_text(json.dumps(body, indent=2, ensure_ascii=False))


def test_error_codes_are_not_mistaken_for_secrets() -> None:
    text = 'Dataverse: {"error": {"code": "0x80048d0b", "message": "not integrated"}} error code: DW9003'
    assert redact_text(text) == text


def test_entries_are_redacted_when_recorded(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "activity.jsonl"
    log = ActivityLog(path)
    seen: list[ActivityEntry] = []
    log.subscribe(seen.append)
    log.record(
        ActivityEntry(
            at=1.0,
            kind="http",
            summary="POST https://idp/token?client_secret=hunter2-secret",
            method="POST",
            url="https://idp/token?client_secret=hunter2-secret&x=1",
            detail="Authorization: Bearer abc.def.ghi",
        )
    )
    stored = log.entries()[0]
    assert stored == seen[0]
    assert "hunter2-secret" not in repr(stored) and "abc.def.ghi" not in repr(stored)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["url"] == "https://idp/token?client_secret=***&x=1"
    assert record["kind"] == "http" and record["status"] is None
    assert "hunter2-secret" not in lines[0]


def test_log_is_bounded_and_keeps_the_newest() -> None:
    log = ActivityLog(max_entries=5)
    for index in range(12):
        log.record(ActivityEntry(at=float(index), kind="command", summary=f"call {index}"))
    assert [entry.summary for entry in log.entries()] == [f"call {index}" for index in range(7, 12)]
    assert len(ActivityLog().entries()) == 0


def test_unsubscribe_and_broken_subscribers() -> None:
    log = ActivityLog()
    seen: list[str] = []

    def broken(entry: ActivityEntry) -> None:
        raise RuntimeError("observer bug")

    log.subscribe(broken)
    unsubscribe = log.subscribe(lambda entry: seen.append(entry.summary))
    log.record(ActivityEntry(at=0.0, kind="auth", summary="one"))
    unsubscribe()
    unsubscribe()  # twice is harmless
    log.record(ActivityEntry(at=0.0, kind="auth", summary="two"))
    assert seen == ["one"]
    assert [entry.summary for entry in log.entries()] == ["one", "two"]


def test_concurrent_records_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "activity.jsonl"
    log = ActivityLog(path, max_entries=10_000)
    counted: list[int] = []
    lock = threading.Lock()

    def count(entry: ActivityEntry) -> None:
        with lock:
            counted.append(1)

    log.subscribe(count)
    start = threading.Barrier(8)

    def worker(number: int) -> None:
        start.wait(timeout=10)
        for index in range(100):
            log.record(ActivityEntry(at=0.0, kind="http", summary=f"{number}-{index}"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(log.entries()) == 800 and len(counted) == 800
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 800
    expected = {f"{n}-{i}" for n in range(8) for i in range(100)}
    assert {json.loads(line)["summary"] for line in lines} == expected


def test_unwritable_file_does_not_stop_logging(tmp_path: Path) -> None:
    log = ActivityLog(tmp_path)  # a directory: cannot be opened for appending
    log.record(ActivityEntry(at=0.0, kind="http", summary="still kept"))
    assert [entry.summary for entry in log.entries()] == ["still kept"]
    assert log.file_error is not None and str(tmp_path) in log.file_error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://h/a?access_token=x1&b=2", "https://h/a?access_token=***&b=2"),
        ("https://h/a?Device_Code=dc", "https://h/a?Device_Code=***"),
        ("https://user:pw@h/a", "https://***@h/a"),
        ("https://h/a?sig=abc%2Bdef", "https://h/a?sig=***"),
    ],
)
def test_redact_url_examples(text: str, expected: str) -> None:
    assert redact_url(text) == expected
