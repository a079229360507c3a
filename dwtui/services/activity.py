"""The Activity log: every call dwtui makes, with secrets redacted before anything keeps it.

Entries are redacted when recorded, so no subscriber, file or screen can ever see a secret even
when a caller forgets to redact.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import unquote_plus

import platformdirs

from dwtui.services.private_files import open_private, private_dir

KINDS = frozenset({"http", "wait", "auth", "sql", "command", "change"})
MAX_ENTRIES = 2000
MASK = "***"

# Query/fragment keys whose values are secrets. Extra names beyond the brief's list are cheap
# insurance: redacting a harmless value costs nothing, leaking a secret costs everything.
SECRET_KEYS = frozenset(
    {
        "code",
        "client_secret",
        "password",
        "access_token",
        "refresh_token",
        "id_token",
        "assertion",
        "client_assertion",
        "device_code",
        "sig",
        "token",
        "secret",
        "passphrase",
        "pwd",
        "api_key",
        "apikey",
        "api-key",
    }
)
# In free text "code: 0x80048d0b" is an error code, not a secret, so `name: value` is redacted
# only for names that are never anything but secrets.
_TEXT_COLON_KEYS = sorted(SECRET_KEYS - {"code", "sig", "token", "secret"}, key=len, reverse=True)
_TEXT_EQUALS_KEYS = sorted(SECRET_KEYS, key=len, reverse=True)

_KEY_ALTERNATION_COLON = "|".join(re.escape(k) for k in _TEXT_COLON_KEYS)
_KEY_ALTERNATION_EQUALS = "|".join(re.escape(k) for k in _TEXT_EQUALS_KEYS)

# `Authorization: Bearer <b64token>` (RFC 6750 token68 alphabet) and other schemes that carry secrets.
_BEARER = re.compile(r"(?i)\b(bearer|basic|pop)(\s+)[A-Za-z0-9\-._~+/=]+")
# A JWT (or a JWT-like fragment) always starts with base64url of '{"', i.e. "eyJ".
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]*){0,4}")
# "client_secret": "va\\"lue" (JSON, Python reprs) and client_secret="value" (log lines).
_QUOTED_COLON = re.compile(
    rf"""(?i)(["']?)\b({_KEY_ALTERNATION_COLON})\1(\s*[:=]\s*)(["'])((?:\\.|(?!\4).)*)\4""", re.DOTALL
)
_QUOTED_EQUALS = re.compile(
    rf"""(?i)(["']?)\b({_KEY_ALTERNATION_EQUALS})\1(\s*=\s*)(["'])((?:\\.|(?!\4).)*)\4""", re.DOTALL
)
# client_secret=value (forms, query strings, log lines); stops at the usual separators.
_EQUALS = re.compile(rf"(?i)\b({_KEY_ALTERNATION_EQUALS})(\s*=\s*)(?![\"'])[^\s&;#,\"'<>)}}\]]*")
# password: value
_COLON = re.compile(rf"(?i)\b({_KEY_ALTERNATION_COLON})(\s*:\s*)(?![\"'])[^\s&;#,\"'<>)}}\]]*")
# https://user:password@host
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://)[^/?#@\s]*@")


def redact_text(text: str) -> str:
    """Mask bearer tokens, JWTs, credentials in URLs and `secret=value`-like pairs in free text."""
    if not text:
        return text
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    for pattern in (_QUOTED_COLON, _QUOTED_EQUALS):
        text = pattern.sub(_mask_quoted, text)
    text = _EQUALS.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _COLON.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _JWT.sub(MASK, text)
    return _redact_encoded_pairs(text)


def _mask_quoted(match: re.Match[str]) -> str:
    quote, key, key_quote_sep, value_quote = match.group(1), match.group(2), match.group(3), match.group(4)
    return f"{quote}{key}{quote}{key_quote_sep}{value_quote}{MASK}{value_quote}"


def _redact_pairs(part: str) -> str:
    """Mask the values of secret keys in an `a=1&b=2` string, keys compared after decoding."""
    # Only '&' separates: a ';' inside a secret value must not leave its tail behind.
    pieces = re.split(r"(&)", part)
    for index in range(0, len(pieces), 2):
        name, sep, _value = pieces[index].partition("=")
        if sep and unquote_plus(name).strip().lower() in SECRET_KEYS:
            pieces[index] = f"{name}={MASK}"
    return "".join(pieces)


def _redact_encoded_pairs(text: str) -> str:
    # Percent-encoded key names (client%5Fsecret=...) slip past the word regexes; catch them here.
    if "%" not in text:
        return text
    return re.sub(r"[^\s?#&]+=[^\s&#]*", lambda m: _redact_pairs(m.group(0)), text)


def redact_url(url: str) -> str:
    """The URL with secret query/fragment values, user info and token-looking path parts masked."""
    if not url:
        return url
    base, hash_mark, fragment = url.partition("#")
    path, question, query = base.partition("?")
    path = _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", path)
    if question:
        query = _redact_pairs(query)
    if hash_mark:
        fragment = _redact_pairs(fragment)
    result = f"{path}{question}{query}{hash_mark}{fragment}"
    # Whatever the structure, nothing token-shaped survives (a JWT in a path, a secret in a
    # malformed query).
    return redact_text(result)


@dataclass(frozen=True)
class ActivityEntry:
    at: float
    kind: str  # http | wait | auth | sql | command | change
    summary: str
    service: str = ""
    method: str = ""
    url: str = ""
    status: int | None = None
    duration_ms: float | None = None
    detail: str = ""

    def redacted(self) -> ActivityEntry:
        return replace(
            self,
            summary=redact_text(self.summary),
            url=redact_url(self.url),
            detail=redact_text(self.detail),
        )


def default_activity_path() -> Path:
    """Where real profiles' activity is kept across runs: the audit trail of every call and change."""
    return platformdirs.user_state_path("dwtui") / "activity.jsonl"


class ActivityLog:
    """Thread-safe, bounded, observable list of ActivityEntry; optionally mirrored to a JSONL file."""

    def __init__(self, path: Path | None = None, max_entries: int = MAX_ENTRIES) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries: deque[ActivityEntry] = deque(maxlen=max_entries)
        self._subscribers: list[Callable[[ActivityEntry], None]] = []
        self.file_error: str | None = None  # set once if the file could not be written

    def record(self, entry: ActivityEntry) -> ActivityEntry:
        safe = entry.redacted()
        with self._lock:
            self._entries.append(safe)
            subscribers = list(self._subscribers)
            if self.path is not None and self.file_error is None:
                self._append_to_file(safe)
        # Outside the lock: a subscriber may record in turn, or post to another thread.
        for callback in subscribers:
            # A broken observer must not break the call being logged.
            with contextlib.suppress(Exception):
                callback(safe)
        return safe

    def _append_to_file(self, entry: ActivityEntry) -> None:
        assert self.path is not None
        try:
            private_dir(self.path.parent)
            # 0600: the trail names users, SQL logins and device-code user codes.
            descriptor = open_private(self.path, os.O_WRONLY | os.O_APPEND)
            with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
        except OSError as error:
            # Logging must never stop the work; remember why, so the front ends say so (the CLI
            # with a warning and exit code 1, the TUI with a notification).
            self.file_error = (
                f"the audit trail could not be written: {self.path}: {error.strerror or error}"
            )

    def subscribe(self, callback: Callable[[ActivityEntry], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def entries(self) -> list[ActivityEntry]:
        with self._lock:
            return list(self._entries)
