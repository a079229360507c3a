"""A recorded run (`dwtui --trace FILE`) read back: its profile, its answers and where to serve them.

The simulator imports nothing else of dwtui, so the trace format (version 1, README "Tracing a
run") is read here on its own: one JSON object a line, `kind` "profile" (the ids and base URLs of
the profile that made the calls) or "exchange" (one request and its answer, redacted).

Serving a real run's calls on loopback means moving every host it called under this server:
the profile's service URLs under the simulator's own prefixes (/lcs, /bap, /ppapi, /gateway),
its authority at the root (where the simulator's identity provider answers), and any other host
(Dataverse, a terms blob) under /host/{host}. The same map rewrites the URLs inside answers, so a
Dataverse URL that BAP answered is called here too.
"""

from __future__ import annotations

import json
import os
import re
import stat
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

TRACE_VERSION = 1
# What the recorder wrote in place of every secret; in a recorded URL it matches any text.
MASK = "***"
# MSAL's discovery and token calls: never served from a trace (their tokens are masked), the
# replay's own identity provider answers them.
SIGN_IN_SERVICE = "sign-in"
SERVICE_PREFIXES = (
    ("lcs_api_url", "/lcs"),
    ("bap_api_url", "/bap"),
    ("power_platform_api_url", "/ppapi"),
    ("dualwrite_gateway_url", "/gateway"),
)
HOST_PREFIX = "/host/"
# Where a URL prefix ends: the next character cannot continue a host name or a path segment.
_BOUNDARY = r"(?=$|[/?#\s\"'<>,;)\]}]|%2[Ff]|%3[Ff])"


class TraceFormatError(ValueError):
    """The file is not a trace this replay can read; the message names the line and what is wrong."""


@dataclass(frozen=True, slots=True)
class Exchange:
    seq: int
    service: str
    method: str
    url: str
    response: dict[str, Any] | None  # None: no answer came (the replay drops the connection)


@dataclass(frozen=True, slots=True)
class Trace:
    path: Path
    profile: dict[str, Any]  # the first profile line, or {} when the trace has none
    exchanges: tuple[Exchange, ...]


# A day of tracing is a few MiB; the limit keeps `--replay /dev/zero` from being read without end.
TRACE_LIMIT = 256 * 1024 * 1024


def _read_bounded(path: Path) -> bytes:
    """A regular file of at most TRACE_LIMIT bytes; a FIFO cannot block the open (O_NONBLOCK)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{path} is not a regular file")
        data = handle.read(TRACE_LIMIT + 1)
    if len(data) > TRACE_LIMIT:
        raise OSError(f"{path} is larger than {TRACE_LIMIT:,} bytes")
    return data


def load_trace(path: Path) -> Trace:
    try:
        text = _read_bounded(path).decode("utf-8")
    except OSError as error:
        raise TraceFormatError(f"cannot read the trace {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise TraceFormatError(f"the trace {path} is not UTF-8 text: {error.reason}") from error
    profile: dict[str, Any] = {}
    exchanges: list[Exchange] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            record = json.loads(line)
        except ValueError as error:
            raise TraceFormatError(f"{where} is not JSON: {error}") from error
        if not isinstance(record, dict):
            raise TraceFormatError(f"{where} is not a JSON object")
        if record.get("v") != TRACE_VERSION:
            raise TraceFormatError(
                f"{where} has trace version {record.get('v')!r}; this dwtui reads version {TRACE_VERSION}"
            )
        kind = record.get("kind")
        if kind == "profile":
            profile = profile or record
        elif kind == "exchange":
            exchanges.append(_exchange(record, where))
        else:
            raise TraceFormatError(f"{where} has kind {kind!r}; expected 'profile' or 'exchange'")
    return Trace(path=path, profile=profile, exchanges=tuple(exchanges))


def _exchange(record: dict[str, Any], where: str) -> Exchange:
    method, url, response = record.get("method"), record.get("url"), record.get("response")
    if not isinstance(method, str) or not method or not isinstance(url, str) or "://" not in url:
        raise TraceFormatError(f"{where}: an exchange needs a method and an absolute url")
    answered = isinstance(response, dict) and isinstance(response.get("status"), int)
    if response is not None and not answered:
        raise TraceFormatError(f"{where}: the response needs a numeric status")
    seq = record.get("seq")
    return Exchange(
        seq=seq if isinstance(seq, int) else 0,
        service=str(record.get("service", "")),
        method=method.upper(),
        url=url,
        response=response,
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class UrlMap:
    """Recorded URL prefixes and where this server serves them; longest prefix first."""

    def __init__(self, trace: Trace, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        pairs: dict[str, str] = {}
        for name, prefix in SERVICE_PREFIXES:
            recorded = str(trace.profile.get(name) or "").rstrip("/")
            if recorded:
                pairs.setdefault(recorded, self.base_url + prefix)
        authority = str(trace.profile.get("authority_url") or "").rstrip("/")
        if authority:
            pairs.setdefault(authority, self.base_url)
        self._pairs: list[tuple[str, str]] = []
        self._set(pairs)
        for exchange in trace.exchanges:
            if self.to_replay(exchange.url) is None:
                origin = _origin(exchange.url)
                pairs.setdefault(origin, f"{self.base_url}{HOST_PREFIX}{urlsplit(origin).netloc}")
                self._set(pairs)

    def _set(self, pairs: dict[str, str]) -> None:
        self._pairs = sorted(pairs.items(), key=lambda pair: len(pair[0]), reverse=True)
        alternation = "|".join(re.escape(recorded) for recorded, _ in self._pairs)
        self._pattern = re.compile(f"(?i)({alternation}){_BOUNDARY}") if self._pairs else None
        self._lookup = {recorded.lower(): served for recorded, served in self._pairs}

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def to_replay(self, url: str) -> str | None:
        """The URL at which this server serves a recorded URL, or None for a host never called."""
        for recorded, served in self._pairs:
            if url.lower().startswith(recorded.lower()) and re.match(_BOUNDARY, url[len(recorded) :]):
                return served + url[len(recorded) :]
        return None

    def rewrite(self, text: str) -> str:
        """Every recorded URL inside `text` moved to where this server serves it."""
        if self._pattern is None or "://" not in text:
            return text
        return self._pattern.sub(lambda m: self._lookup[m.group(1).lower()], text)

    def rewrite_json(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.rewrite_json(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.rewrite_json(item) for item in value]
        if isinstance(value, str):
            return self.rewrite(value)
        return value


def _pattern(recorded: str) -> re.Pattern[str]:
    """A recorded path or value as a pattern: each masked part matches whatever was sent."""
    return re.compile(".*".join(re.escape(part) for part in recorded.split(MASK)), re.DOTALL)


@dataclass
class _Slot:
    """One distinct recorded request and its answers, served in recorded order."""

    method: str
    path: str
    query: list[tuple[str, str]]
    answers: list[Exchange] = field(default_factory=list)
    served: int = 0

    @property
    def masked(self) -> bool:
        return MASK in self.path or any(MASK in value for _, value in self.query)

    def shown(self) -> str:
        query = "&".join(f"{key}={value}" for key, value in self.query)
        return f"{self.method} {self.path}{'?' + query if query else ''}"

    def matches(self, method: str, path: str, query: list[tuple[str, str]]) -> bool:
        if method != self.method or len(query) != len(self.query):
            return False
        if not _pattern(self.path).fullmatch(path):
            return False
        return all(
            key == wanted_key and _pattern(wanted).fullmatch(value)
            for (key, value), (wanted_key, wanted) in zip(query, self.query, strict=True)
        )


def query_pairs(query: str) -> list[tuple[str, str]]:
    """A query as (name, value) pairs sorted by name; a name's values keep their order."""
    return sorted(parse_qsl(query, keep_blank_values=True), key=lambda pair: pair[0])


class Recording:
    """The answers of a trace, found by method, path and query as this server receives them.

    Identical requests get the recorded answers in order, then the last one again, so a poll
    sequence plays back and a client that polls once more still gets the final state.
    """

    def __init__(self, trace: Trace, urls: UrlMap) -> None:
        self.trace = trace
        self.urls = urls
        self._lock = threading.Lock()
        slots: dict[tuple[str, str, tuple[tuple[str, str], ...]], _Slot] = {}
        for exchange in trace.exchanges:
            if exchange.service == SIGN_IN_SERVICE:
                continue
            served = urls.to_replay(exchange.url)
            if served is None:  # cannot happen: UrlMap maps every host the trace called
                continue
            parts = urlsplit(served)
            path = unquote(parts.path)
            query = [(key, urls.rewrite(value)) for key, value in query_pairs(parts.query)]
            key = (exchange.method, path, tuple(query))
            slot = slots.get(key)
            if slot is None:
                slot = slots[key] = _Slot(exchange.method, path, query)
            slot.answers.append(exchange)
        # Requests recorded in full are tried before those with a masked part that matches anything.
        self._slots = sorted(slots.values(), key=lambda slot: slot.masked)

    def __len__(self) -> int:
        return sum(len(slot.answers) for slot in self._slots)

    @property
    def requests(self) -> int:
        return len(self._slots)

    def answer(self, method: str, path: str, query: str) -> Exchange | None:
        pairs = query_pairs(query)
        with self._lock:
            for slot in self._slots:
                if slot.matches(method.upper(), path, pairs):
                    exchange = slot.answers[min(slot.served, len(slot.answers) - 1)]
                    slot.served += 1
                    return exchange
        return None

    def recorded_for(self, path: str) -> list[str]:
        """The recorded requests on this path (any query or method), to say what was there instead."""
        return [slot.shown() for slot in self._slots if _pattern(slot.path).fullmatch(path)]

    def shown(self) -> Iterable[str]:
        return (slot.shown() for slot in self._slots)
