"""`--trace FILE`: every request and answer of a run as JSON lines, with every secret taken out.

The file is evidence from a real tenant: what the unverified calls really answer, in a form that
`dwtui sim --replay FILE` serves back and that becomes a contract fixture. It must be safe to
attach to an issue, so redaction is stricter than shape-keeping: the Activity log's URL and text
redaction, plus secret-named fields of JSON and form bodies replaced by a fixed marker, secret
headers left out, and every secret value seen anywhere in the run scrubbed from later records.

Format (version 1), one JSON object a line (README "Tracing a run"):

    {"v": 1, "kind": "profile", "name", "tenant_id", "client_id", "lcs_project_id",
     "environment_id", "auth", "authority_url", "lcs_api_url", "bap_api_url",
     "power_platform_api_url", "dualwrite_gateway_url"}
    {"v": 1, "kind": "exchange", "seq", "at", "service", "method", "url",
     "request": {"headers": {...}, "json" | "form" | "text" | "omitted_bytes"?},
     "response": {"status", "headers": {...}, "json" | "text" | "omitted_bytes"?} | null,
     "error": "..."?, "duration_ms"}

Bodies appear under one key only: `json` (parsed), `form` (an urlencoded body as an object),
`text` (any other text) or `omitted_bytes` (binary or unread: only its size). `response` is null
and `error` says why when no answer came (timeout, connection or TLS failure).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from dwtui.domain.profile import Profile
from dwtui.services.activity import MASK, SECRET_KEYS, redact_text, redact_url

TRACE_VERSION = 1

# Field names (lower case, without '_' and '-') whose values are secrets wherever they appear in a
# JSON or form body. "code" is not among them: in JSON it is an error code, which a contract
# fixture needs; an OAuth authorization code only travels in forms and queries (FORM_SECRET_KEYS).
BODY_SECRET_KEYS = frozenset(
    {
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "clientsecret",
        "password",
        "passphrase",
        "pwd",
        "assertion",
        "clientassertion",
        "devicecode",
        "usercode",  # short-lived, but with the device code it signs a person in
        "token",
        "secret",
        "apikey",
        "sig",
        "signature",
        "sastoken",
        "sharedaccesssignature",
        "privatekey",
        "accountkey",
        "connectionstring",
        "authorization",
        "cookie",
    }
)
FORM_SECRET_KEYS = BODY_SECRET_KEYS | {_key.replace("_", "").replace("-", "") for _key in SECRET_KEYS}
# Headers left out of the file altogether (besides any whose name holds one of _SECRET_HEADER_WORDS).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_SECRET_HEADER_WORDS = ("token", "secret", "key", "cookie", "signature", "password", "credential")
# A secret value shorter than this is not searched for in other strings: too many false hits.
_MIN_SCRUB = 6
# `sig%3D...` inside a percent-encoded URL (a SAS URL passed as a query value) slips past the
# Activity log's `sig=` rule.
_ENCODED_PAIR_KEYS = "|".join(
    re.escape(k) for k in sorted(SECRET_KEYS | {"signature"}, key=len, reverse=True)
)
_ENCODED_PAIR = re.compile(
    rf"(?i)(?:(?<=%26)|(?<=%3F)|(?<![A-Za-z0-9_%]))({_ENCODED_PAIR_KEYS})(%3D)((?:(?!%26|%23)[^&#\s\"'<>])*)"
)
_BEARER_VALUE = re.compile(r"(?i)^\s*(?:bearer|basic|pop)\s+(\S+)")


def _normal(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


class Redactor:
    """Redacts bodies, headers and URLs, remembering every secret value it takes out of one.

    A secret seen once (a device code, a refresh token, a user code) is then masked wherever it
    turns up again: in a later request's form, or in the text of a message that repeats it.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()

    # -- what was seen ----------------------------------------------------------------------------

    def remember(self, value: str) -> None:
        value = value.strip()
        if len(value) >= _MIN_SCRUB and value != MASK:
            self._seen.add(value)

    def _collect(self, value: Any, secret: bool = False) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                self._collect(item, secret or _normal(str(key)) in BODY_SECRET_KEYS)
        elif isinstance(value, list):
            for item in value:
                self._collect(item, secret)
        elif secret and isinstance(value, str | int | float) and not isinstance(value, bool):
            self.remember(str(value))

    # -- redaction --------------------------------------------------------------------------------

    def text(self, value: str) -> str:
        """Free text: the Activity log's rules, encoded `sig%3D` pairs, then every seen secret."""
        if not value:
            return value
        for secret in sorted(self._seen, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, MASK)
        value = _ENCODED_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", value)
        return redact_text(value)

    def url(self, value: str) -> str:
        return self.text(redact_url(value))

    def json(self, value: Any) -> Any:
        """A JSON document with its shape kept: secret-named fields become the marker."""
        self._collect(value)
        return self._json(value)

    def _json(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                str(key): MASK if _is_secret_field(str(key), item) else self._json(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self._json(item) for item in value]
        if isinstance(value, str):
            return self.url(value) if "://" in value else self.text(value)
        return value

    def form(self, pairs: list[tuple[str, str]]) -> dict[str, str]:
        for key, value in pairs:
            if _normal(key) in FORM_SECRET_KEYS:
                self.remember(value)
        return {key: MASK if _normal(key) in FORM_SECRET_KEYS else self.text(value) for key, value in pairs}

    def headers(self, headers: httpx.Headers) -> dict[str, str]:
        kept: dict[str, str] = {}
        for raw_name, raw_value in headers.raw:  # raw: the names as sent, not lower-cased
            name, value = raw_name.decode(headers.encoding), raw_value.decode(headers.encoding)
            lowered = name.lower()
            if lowered in SECRET_HEADERS or any(word in lowered for word in _SECRET_HEADER_WORDS):
                # A "-key" header may be a mere id (Idempotency-Key): left out, but not hunted for.
                if lowered in SECRET_HEADERS or any(w in lowered for w in _SECRET_HEADER_WORDS if w != "key"):
                    bearer = _BEARER_VALUE.match(value)
                    self.remember(bearer.group(1) if bearer else value)
                continue
            shown = self.url(value) if "://" in value else self.text(value)
            kept[name] = f"{kept[name]}, {shown}" if name in kept else shown
        return kept

    def body(self, content: bytes | None, content_type: str) -> dict[str, Any]:
        """The body under one key: json, form, text or omitted_bytes (nothing when it is empty)."""
        if content is None:
            return {"omitted_bytes": None}
        if not content:
            return {}
        kind = content_type.lower()
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            return {"omitted_bytes": len(content)}
        if "x-www-form-urlencoded" in kind:
            return {"form": self.form(parse_qsl(text, keep_blank_values=True))}
        if "json" in kind or text.lstrip()[:1] in ("{", "["):
            try:
                document = json.loads(text)
            except ValueError:
                pass
            else:
                return {"json": self.json(document)}
        if "\x00" in text:
            return {"omitted_bytes": len(content)}
        return {"text": self.text(text)}


def _is_secret_field(key: str, item: Any) -> bool:
    """A secret-named field holding something to hide (null and "" keep their shape)."""
    return _normal(key) in BODY_SECRET_KEYS and item is not None and item != ""


def _request_content(request: httpx.Request) -> bytes | None:
    try:
        return request.content
    except httpx.RequestNotRead:
        return None


def _response_content(response: httpx.Response) -> bytes | None:
    try:
        return response.content
    except httpx.ResponseNotRead:
        return None


# Every trace starts with its profile line (`{"v": 1, "kind": "profile", ...}`, written compactly
# or not): what an existing file must start with to be overwritten.
_TRACE_START = b'{"v": 1, "kind"'


def _is_trace(head: bytes) -> bool:
    return head.replace(b" ", b"").startswith(_TRACE_START.replace(b" ", b""))


class TraceFile:
    """The open trace: thread-safe, one flushed line a record, created 0600 (never widened)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Reentrant: a record is made and written under one hold, so lines keep the order of `seq`.
        self._lock = threading.RLock()
        self._redactor = Redactor()
        self._seq = 0
        self._profiles: set[str] = set()
        self.failure: str | None = None  # set once if a line could not be written
        # O_NONBLOCK: a FIFO named by mistake fails at once (no reader) instead of blocking the run.
        # No O_TRUNC: a file that exists is emptied only once it is known to be an earlier trace, so
        # `--trace` given the wrong path (as root, /etc/passwd) destroys nothing.
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o600)
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(errno.EINVAL, "not a regular file", str(path))
            if info.st_size and not _is_trace(os.pread(descriptor, len(_TRACE_START), 0)):
                raise OSError(
                    errno.EEXIST, "exists and is not a dwtui trace; name a new file or delete it", str(path)
                )
            os.set_blocking(descriptor, True)
            os.ftruncate(descriptor, 0)
            os.fchmod(descriptor, 0o600)  # O_CREAT's mode does not apply to a file that exists
        except OSError:
            os.close(descriptor)
            raise
        self._handle = os.fdopen(descriptor, "w", encoding="utf-8")

    def profile(self, profile: Profile) -> None:
        """The profile's ids and base URLs, once: what the replay needs to serve the calls again."""
        with self._lock:
            if profile.name in self._profiles:
                return
            self._profiles.add(profile.name)
            self._write(
                {
                    "v": TRACE_VERSION,
                    "kind": "profile",
                    "name": profile.name,
                    "tenant_id": profile.tenant_id,
                    "client_id": profile.client_id,
                    "lcs_project_id": profile.lcs_project_id,
                    "environment_id": profile.environment_id,
                    "auth": profile.auth,
                    "authority_url": profile.authority_url,
                    "lcs_api_url": profile.lcs_api_url,
                    "bap_api_url": profile.bap_api_url,
                    "power_platform_api_url": profile.power_platform_api_url,
                    "dualwrite_gateway_url": profile.dualwrite_gateway_url,
                }
            )

    def exchange(
        self,
        service: str,
        request: httpx.Request,
        response: httpx.Response | None,
        error: BaseException | None,
        duration_ms: float | None,
    ) -> None:
        with self._lock:
            try:
                record = self._record(service, request, response, error, duration_ms)
            except Exception as problem:  # a trace must never break the call it records
                self.failure = redact_text(
                    f"could not record {request.method} {redact_url(str(request.url))}: {problem!r}"
                )
                return
            self._write(record)

    def _record(
        self,
        service: str,
        request: httpx.Request,
        response: httpx.Response | None,
        error: BaseException | None,
        duration_ms: float | None,
    ) -> dict[str, Any]:
        with self._lock:
            redactor = self._redactor
            # The request first: a secret it sends (a refresh token) is then scrubbed from the answer.
            sent = {
                "headers": redactor.headers(request.headers),
                **redactor.body(_request_content(request), request.headers.get("Content-Type", "")),
            }
            answer: dict[str, Any] | None = None
            if response is not None:
                answer = {
                    "status": response.status_code,
                    "headers": redactor.headers(response.headers),
                    **redactor.body(_response_content(response), response.headers.get("Content-Type", "")),
                }
            self._seq += 1
            record: dict[str, Any] = {
                "v": TRACE_VERSION,
                "kind": "exchange",
                "seq": self._seq,
                "at": round(time.time(), 3),
                "service": service,
                "method": request.method,
                "url": redactor.url(str(request.url)),
                "request": sent,
                "response": answer,
                "duration_ms": round(duration_ms, 1) if duration_ms is not None else None,
            }
            if response is None:
                record["error"] = redactor.text(f"{type(error).__name__}: {error}" if error else "no answer")
        return record

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            if self._handle.closed:
                return
            try:
                self._handle.write(line)
                # Flushed a line at a time: a run that crashes still leaves its evidence.
                self._handle.flush()
            except OSError as error:
                # Tracing must never stop the work; the front end says once that the file is short.
                self.failure = f"cannot write the trace {self.path}: {error.strerror or error}"
                with contextlib.suppress(OSError):
                    self._handle.close()

    def close(self) -> None:
        with self._lock:
            if not self._handle.closed:
                with contextlib.suppress(OSError):
                    self._handle.close()
