"""One HTTP policy for every service: TLS always verified, timeouts, retries, Retry-After, logging.

Every request goes through one httpx.Client (MSAL uses the same one as its http_client), which
records method, redacted URL, status and duration of each exchange in the ActivityLog. Headers
and bodies are never logged: token requests carry secrets in their bodies. Only `--trace FILE`
keeps them, through services/trace.py, which takes every secret out first.
"""

from __future__ import annotations

import contextlib
import email.utils
import json as jsonlib
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from dwtui.domain.models import Fault
from dwtui.services.activity import ActivityEntry, ActivityLog, redact_text, redact_url
from dwtui.services.errors import ServiceError
from dwtui.services.files import MIB, check_regular_file
from dwtui.services.shapes import malformed, service_fault

if TYPE_CHECKING:
    from dwtui.services.trace import TraceFile

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
CA_BUNDLE_LIMIT = 16 * MIB  # a bundle of every public CA is about 0.3 MiB
# Wraps each attempt of a request: a rate limit that waits for room and counts the call (rate_limit.py).
Pace = Callable[[], AbstractContextManager[object]]
# Calls made directly on .client (MSAL's token and discovery requests) have no service tag.
DIRECT_SERVICE = "sign-in"
_SERVICE_KEY = "dwtui_service"
_START_KEY = "dwtui_started"
_BACKOFF_BASE = 1.0
_SNIPPET = 200
# The longest wait dwtui sits out for one answer (README "Waits"): a longer Retry-After ends the
# call with an error saying when to try again, rather than a silent sleep of minutes or hours.
MAX_RETRY_AFTER = 120.0


def _seconds(wait: float) -> str:
    if wait >= 3600:
        return f"{wait / 3600:.1f} h"
    return f"{round(wait)} s" if wait >= 1 else f"{wait:.1f} s"


def clock_after(seconds: float, now: float | None = None) -> str:
    """The UTC wall-clock time `seconds` from now, as a person reads it: "10:42:17 UTC"."""
    moment = (time.time() if now is None else now) + seconds
    day = "" if seconds < 12 * 3600 else time.strftime("%Y-%m-%d ", time.gmtime(moment))
    return f"{day}{time.strftime('%H:%M:%S', time.gmtime(moment))} UTC"


def beyond_cap_fault(
    service: str, why: str, wait: float, cap: float, *, status: int | None = None, url: str = ""
) -> Fault:
    """A Retry-After longer than dwtui waits: what was asked, the cap, and when to try again."""
    until = clock_after(wait)
    return Fault(
        service,
        f"{why}: the service asked to wait {_seconds(wait)} (Retry-After), longer than dwtui waits "
        f"({_seconds(cap)})",
        f"HTTP {status}" if status is not None else "throttled",
        status,
        wait,
        url,
        remedy=f"Try again after {until}, when the service said it will take requests again.",
    )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None when absent or garbled."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment is None:
            return None
        seconds = moment.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _is_tls_failure(error: BaseException) -> bool:
    """A certificate/handshake problem, as opposed to a connection cut in the middle of TLS."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError) and not isinstance(
            current, ssl.SSLEOFError | ssl.SSLZeroReturnError | ssl.SSLSyscallError
        ):
            return True
        current = current.__cause__ or current.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(error)


class _RecordingClient(httpx.Client):
    """An httpx.Client that records each exchange once it is complete (body read) or has failed.

    The request event hook stamps the start; recording here rather than in a response hook means
    a connection cut while the body is read is logged as the failure it is, not as a 200.
    """

    def __init__(
        self,
        *,
        on_done: Callable[[httpx.Request, httpx.Response | None, BaseException | None], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._on_done = on_done

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        try:
            response = super().send(request, **kwargs)
        except httpx.HTTPError as error:
            self._on_done(request, None, error)
            raise
        self._on_done(request, response, None)
        return response


class HttpPolicy:
    def __init__(
        self,
        *,
        ca_bundle: str | None,
        activity: ActivityLog,
        timeout: float = 30.0,
        max_attempts: int = 4,
        max_wait: float = MAX_RETRY_AFTER,
        sleep: Callable[[float], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        trace: TraceFile | None = None,
    ) -> None:
        self.ca_bundle = ca_bundle or None
        self.activity = activity
        self.trace = trace
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.max_wait = max(0.0, max_wait)
        # Waits end early when the policy is closed, so quitting never sits out a Retry-After.
        self._closing = threading.Event()
        self._sleep = sleep or self._closing.wait
        self._random = random.Random()
        self._lock = threading.Lock()
        self._closed = False
        self.client: httpx.Client = _RecordingClient(
            on_done=self._record_exchange,
            verify=self._ssl_context(),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
            event_hooks={"request": [self._on_request]},
        )

    def _ssl_context(self) -> ssl.SSLContext:
        if self.ca_bundle is None:
            # httpx's default: certifi, or SSL_CERT_FILE/SSL_CERT_DIR when the user set them.
            return httpx.create_ssl_context(verify=True)
        try:
            # A FIFO or a device would block or be read without end: only a bounded regular file.
            check_regular_file(Path(self.ca_bundle), limit=CA_BUNDLE_LIMIT)
            # With a cafile, the default context loads only that file: environment variables such
            # as SSL_CERT_FILE or REQUESTS_CA_BUNDLE cannot widen or replace it.
            return ssl.create_default_context(cafile=self.ca_bundle)
        except (OSError, ssl.SSLError) as error:
            raise ServiceError(
                Fault(
                    service="TLS",
                    message=f"cannot use the CA bundle {self.ca_bundle}: "
                    f"{getattr(error, 'strerror', None) or error}"
                    "; fix ca_bundle in the profile (a PEM file of CA certificates)",
                    code="tls",
                )
            ) from error

    # -- activity -------------------------------------------------------------------------------

    def _on_request(self, request: httpx.Request) -> None:
        request.extensions[_START_KEY] = time.perf_counter()

    def _duration_ms(self, request: httpx.Request) -> float | None:
        started = request.extensions.get(_START_KEY)
        if not isinstance(started, float):
            return None
        return (time.perf_counter() - started) * 1000.0

    def _record_exchange(
        self, request: httpx.Request, response: httpx.Response | None, error: BaseException | None
    ) -> None:
        url = redact_url(str(request.url))
        service = str(request.extensions.get(_SERVICE_KEY, DIRECT_SERVICE))
        duration_ms = self._duration_ms(request)
        if self.trace is not None:
            self.trace.exchange(service, request, response, error, duration_ms)
        if response is not None:
            summary = f"{request.method} {url} {response.status_code}"
            detail = ""
        else:
            summary = f"{request.method} {url} failed: {self._reason(error)}"
            detail = redact_text(f"{type(error).__name__}: {error}")
        self.activity.record(
            ActivityEntry(
                at=time.time(),
                kind="http",
                summary=summary,
                service=service,
                method=request.method,
                url=url,
                status=response.status_code if response is not None else None,
                duration_ms=duration_ms,
                detail=detail,
            )
        )

    @staticmethod
    def _reason(error: BaseException | None) -> str:
        if error is None:
            return "unknown error"
        if isinstance(error, httpx.TimeoutException):
            return "timed out"
        if _is_tls_failure(error):
            return "TLS verification failed"
        return "connection failed"

    def _record_wait(self, service: str, method: str, url: str, status: int | None, why: str,
                     wait: float, attempt: int) -> None:
        # Recorded before the wait starts: the screen and a terminal's stderr say what is waited
        # for and until when (the wait's length is the entry's duration).
        self.activity.record(
            ActivityEntry(
                at=time.time(),
                kind="wait",
                summary=f"{service} {why}, retrying in {_seconds(wait)} (until {clock_after(wait)})",
                service=service,
                method=method,
                url=url,
                status=status,
                duration_ms=wait * 1000.0,
                detail=f"attempt {attempt} of {self.max_attempts} failed; waiting {wait:.2f} s",
            )
        )

    # -- requests -------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        base: float = _BACKOFF_BASE * 2.0 ** (attempt - 1)
        # Full jitter on top of the exponential base, so clients retrying together spread out.
        return min(self.max_wait, base + self._random.uniform(0, base))

    def request(
        self,
        service: str,
        method: str,
        url: str,
        *,
        token: str | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: float | None = None,
        pace: Pace | None = None,
    ) -> httpx.Response:
        method = method.upper()
        retryable = idempotent if idempotent is not None else method in IDEMPOTENT_METHODS
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        shown_url = redact_url(str(httpx.URL(url, params=params))) if params else redact_url(url)
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.max_attempts or not retryable
            try:
                with pace() if pace is not None else contextlib.nullcontext():
                    response = self.client.request(
                        method,
                        url,
                        params=params,
                        json=json,
                        data=data,
                        headers=all_headers,
                        timeout=httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                        extensions={_SERVICE_KEY: service},
                    )
            except httpx.TimeoutException as error:
                if last:
                    raise ServiceError(
                        Fault(service, f"no answer within {self._timeout_of(timeout):g} s", "timeout",
                              url=shown_url)
                    ) from error
                self._wait(service, method, shown_url, None, "timed out", self._backoff(attempt), attempt)
                continue
            except httpx.HTTPError as error:
                if _is_tls_failure(error):
                    raise ServiceError(
                        Fault(
                            service,
                            "the server's TLS certificate could not be verified"
                            + (f" with the CA bundle {self.ca_bundle}" if self.ca_bundle else "")
                            + f" ({redact_text(str(error)) or type(error).__name__})",
                            "tls",
                            url=shown_url,
                        )
                    ) from error
                network = isinstance(error, httpx.NetworkError | httpx.RemoteProtocolError)
                if last or not network:
                    raise ServiceError(
                        Fault(
                            service,
                            f"could not reach the service: {redact_text(str(error)) or type(error).__name__}",
                            "network",
                            url=shown_url,
                        )
                    ) from error
                self._wait(service, method, shown_url, None, "unreachable", self._backoff(attempt), attempt)
                continue
            status = response.status_code
            if status in RETRY_STATUSES:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                why = "throttled" if status == 429 else f"unavailable (HTTP {status})"
                if retry_after is not None and retry_after > self.max_wait:
                    response.close()
                    cap = self.max_wait
                    raise ServiceError(
                        beyond_cap_fault(service, why, retry_after, cap, status=status, url=shown_url)
                    )
                if not last:
                    wait = retry_after if retry_after is not None else self._backoff(attempt)
                    response.close()
                    self._wait(service, method, shown_url, status, why, wait, attempt)
                    continue
            if status >= 400:
                raise ServiceError(self._http_fault(service, response, shown_url))
            return response

    def wait_out_throttling(self, service: str, response: httpx.Response, attempt: int, why: str) -> None:
        """After a 429 to a call made directly on .client (MSAL's): wait as asked, then send again.

        Raises instead when Retry-After is beyond the cap or `attempt` was the last one.
        """
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        url = redact_url(str(response.request.url))
        method = response.request.method
        response.close()
        if retry_after is not None and retry_after > self.max_wait:
            cap = self.max_wait
            raise ServiceError(beyond_cap_fault(service, why, retry_after, cap, status=status, url=url))
        if attempt >= self.max_attempts:
            later = clock_after(retry_after or 60.0)
            raise ServiceError(
                Fault(
                    service,
                    f"{why} (HTTP {status}), still after {attempt} tries",
                    f"HTTP {status}",
                    status,
                    retry_after,
                    url,
                    remedy=f"Try again after {later}.",
                )
            )
        self._wait(service, method, url, status, why, retry_after or self._backoff(attempt), attempt)

    def _timeout_of(self, timeout: float | None) -> float:
        return self.timeout if timeout is None else timeout

    def _wait(self, service: str, method: str, url: str, status: int | None, why: str, wait: float,
              attempt: int) -> None:
        self._record_wait(service, method, url, status, why, wait, attempt)
        self._sleep(wait)
        if self._closing.is_set():
            raise ServiceError(Fault(service=service, message="stopped: dwtui is closing", code="cancelled"))

    def _http_fault(self, service: str, response: httpx.Response, url: str) -> Fault:
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        try:
            body: Any = response.json()
        except (ValueError, UnicodeDecodeError):
            body = None
        own = service_fault(service, body, status, url)
        if own is not None:
            return Fault(own.service, own.message, own.code, status, retry_after, url)
        reason = response.reason_phrase or "error"
        snippet = " ".join(response.text.split())[:_SNIPPET] if _looks_textual(response) else ""
        message = f"HTTP {status} {reason}" + (f": {redact_text(snippet)}" if snippet else "")
        return Fault(service, message, f"HTTP {status}", status, retry_after, url)

    # -- JSON -----------------------------------------------------------------------------------

    def get_json(
        self,
        service: str,
        url: str,
        *,
        token: str | None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        pace: Pace | None = None,
    ) -> Any:
        response = self.request(
            service, "GET", url, token=token, params=params, headers=headers, timeout=timeout, pace=pace
        )
        return self._json(service, response, allow_empty=False)

    def post_json(
        self,
        service: str,
        url: str,
        *,
        token: str | None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: float | None = None,
    ) -> Any:
        response = self.request(
            service, "POST", url, token=token, json=json, params=params, headers=headers,
            idempotent=idempotent, timeout=timeout,
        )
        return self._json(service, response, allow_empty=True)

    def _json(self, service: str, response: httpx.Response, *, allow_empty: bool) -> Any:
        url = redact_url(str(response.request.url))
        if not response.content.strip():
            if allow_empty:
                return None
            raise malformed(
                service, f"expected a JSON answer, got an empty body (HTTP {response.status_code})", url
            )
        try:
            return jsonlib.loads(response.content)
        except (ValueError, UnicodeDecodeError) as error:
            snippet = " ".join(response.text.split())[:80] if _looks_textual(response) else ""
            raise malformed(
                service,
                "the answer was not valid JSON" + (f": {redact_text(snippet)}" if snippet else ""),
                url,
            ) from error

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._closing.set()
        self.client.close()


def _looks_textual(response: httpx.Response) -> bool:
    kind = response.headers.get("Content-Type", "").lower()
    return not kind or "json" in kind or kind.startswith("text/plain")
