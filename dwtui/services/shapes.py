"""What the service clients share about answers: error bodies, JSON shape checks, paging links.

Every check raises ServiceError with code "malformed" naming what was expected, so a proxy that
rewrites an answer, or an API that changed, gives one clear line instead of a KeyError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from dwtui.domain.models import Fault
from dwtui.services.activity import redact_text, redact_url
from dwtui.services.errors import ServiceError


def service_fault(service: str, body: Any, status: int | None, url: str) -> Fault | None:
    """The service's own error from a JSON body, or None when the body carries none.

    Shapes: Dataverse/BAP/PPAPI {"error": {"code", "message"}}; OAuth {"error", "error_description"};
    LCS {"IsSuccess": false, "ErrorMessage"}; the gateway {"message"/"Message", "code"}.
    """
    if not isinstance(body, Mapping):
        return None
    code = ""
    message = ""
    error = body.get("error")
    if isinstance(error, Mapping):
        code = _str(error.get("code"))
        message = _str(error.get("message"))
    elif isinstance(error, str) and error:
        code = error
        message = _str(body.get("error_description")) or error
    elif body.get("IsSuccess") is False:
        message = _str(body.get("ErrorMessage")) or "LCS reported the call as failed without a message"
    else:
        code = _str(body.get("code") or body.get("Code") or body.get("errorCode"))
        message = _str(body.get("message") or body.get("Message") or body.get("error_description"))
    if not code and not message:
        return None
    if not code:
        code = f"HTTP {status}" if status is not None and status >= 400 else ""
    return Fault(
        service=service,
        message=redact_text(message or code),
        code=code,
        http_status=status,
        url=url,
    )


def _str(value: Any) -> str:
    if value is None or isinstance(value, Mapping | list):
        return ""
    return str(value).strip()


def malformed(service: str, what: str, url: str = "") -> ServiceError:
    return ServiceError(Fault(service=service, message=what, code="malformed", url=redact_url(url)))


def expect_dict(service: str, value: Any, what: str, url: str = "") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise malformed(service, f"expected {what} to be a JSON object, got {_kind(value)}", url)
    return value


def expect_list(service: str, value: Any, what: str, url: str = "") -> list[Any]:
    if not isinstance(value, list):
        raise malformed(service, f"expected {what} to be a JSON array, got {_kind(value)}", url)
    return value


def optional_dict(service: str, value: Any, what: str, url: str = "") -> Mapping[str, Any]:
    """A nested object that may be missing or null (then empty), but not of another type."""
    if value is None:
        return {}
    return expect_dict(service, value, what, url)


def text(service: str, value: Any, what: str, url: str = "") -> str:
    """A scalar as text: missing/null is "", numbers are written out, objects are malformed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise malformed(service, f"expected {what} to be text, got {_kind(value)}", url)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def same_origin(a: str, b: str) -> bool:
    """Whether a paging link stays on the service that gave it (our token must go nowhere else)."""
    try:
        left, right = httpx.URL(a), httpx.URL(b)
    except (httpx.InvalidURL, TypeError):
        return False
    return (left.scheme, left.host, left.port) == (right.scheme, right.host, right.port)


def within_service(url: str, base_url: str, *, regional: bool = False) -> bool:
    """Whether `url` is an address of the service at `base_url`: https, the same host and port (or,
    with `regional`, a host under it such as europe.api.bap.microsoft.com), under its base path.

    A URL a service hands back (Operation-Location, Location) is followed with our bearer token
    only when it passes this check: a token must never travel to another host.
    """
    try:
        target, base = httpx.URL(url), httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError):
        return False
    if target.scheme != "https" or base.scheme != "https" or target.port != base.port:
        return False
    host, base_host = target.host.lower(), base.host.lower()
    if host != base_host and not (regional and host.endswith("." + base_host)):
        return False
    prefix = base.path.rstrip("/")
    return target.path == prefix or target.path.startswith(prefix + "/")


def next_link(service: str, body: Mapping[str, Any], origin: str, url: str = "") -> str | None:
    """An OData/ARM paging link (`nextLink` or `@odata.nextLink`), refused when it leaves the origin."""
    link = body.get("nextLink") or body.get("@odata.nextLink")
    if not link:
        return None
    if not isinstance(link, str):
        raise malformed(service, f"expected nextLink to be text, got {_kind(link)}", url)
    if not same_origin(link, origin):
        raise malformed(service, f"the next page is on another host ({redact_url(link)})", url)
    return link


def odata_values(
    service: str,
    first_url: str,
    fetch: Callable[[str, Mapping[str, str] | None], Any],
    *,
    params: Mapping[str, str],
    origin: str,
    what: str,
    max_pages: int,
) -> list[tuple[Any, str]]:
    """Every `value[]` item of a paged OData/ARM list, with the URL of the page it came from.

    `fetch(url, params)` returns one page's parsed JSON; `params` go with the first page only,
    since a next link carries its own query.
    """
    url: str | None = first_url
    query: Mapping[str, str] | None = params
    items: list[tuple[Any, str]] = []
    for _ in range(max_pages):
        assert url is not None
        body = expect_dict(service, fetch(url, query), what, url)
        items.extend((item, url) for item in expect_list(service, body.get("value"), "value", url))
        url = next_link(service, body, origin, url)
        if url is None:
            return items
        query = None
    raise malformed(service, f"{what} kept going after {max_pages} pages", first_url)
