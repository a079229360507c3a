"""Power Platform API: the application packages of an environment, their install, and its operation.

Sources: the Power Platform API tutorial "Install an application package in an environment"
(MicrosoftDocs/power-platform, power-platform/admin/programmability-tutorial-install-application-
environment.md; PP-TUT below), the REST reference (learn.microsoft.com/rest/api/power-platform/
appmanagement/applications/install-application-package: answers 200 or 202), and the terraform
provider (microsoft/terraform-provider-power-platform @57ba091, internal/services/application/
api_application.go and dto.go; TF below), which expects 202 and follows Operation-Location.

The install POST is never retried (it is not idempotent: a retry could start a second install),
and an operation poll is tried once: the watcher (services/watch.py) owns the polling rhythm, so
a transient fault there becomes a visible note and the next scheduled poll, not a hidden backoff.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from dwtui.domain.models import ApplicationPackage, Fault, PackageState
from dwtui.domain.operations import (
    InstallStarted,
    OperationState,
    PackageListing,
    parse_status,
    readable_terms,
)
from dwtui.services.activity import redact_url
from dwtui.services.errors import ServiceError
from dwtui.services.http import HttpPolicy
from dwtui.services.shapes import (
    expect_dict,
    expect_list,
    malformed,
    odata_values,
    optional_dict,
    text,
    within_service,
)

SERVICE = "Power Platform API"
API_VERSION = "2022-03-01-preview"  # PP-TUT, TF and d365bap.tools all call this version
HEADERS = {"Accept": "application/json"}
MAX_PAGES = 100
MAX_TERMS_BYTES = 512 * 1024

_STATES = {
    "none": PackageState.NOT_INSTALLED,
    "notinstalled": PackageState.NOT_INSTALLED,
    "installed": PackageState.INSTALLED,
    "installfailed": PackageState.INSTALL_FAILED,
    "installing": PackageState.INSTALLING,
    "installrequested": PackageState.INSTALLING,
}


class PowerPlatformClient:
    def __init__(self, base_url: str, http: HttpPolicy, token: Callable[[], str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.token = token

    def _environment_url(self, bap_environment_id: str) -> str:
        return f"{self.base_url}/appmanagement/environments/{quote(bap_environment_id, safe='')}"

    def packages(self, bap_environment_id: str) -> tuple[ApplicationPackage, ...]:
        return tuple(listing.package for listing in self.listings(bap_environment_id))

    def listings(self, bap_environment_id: str) -> tuple[PackageListing, ...]:
        """The packages with their terms URIs, learn-more link and the item itself (the install body)."""
        pages = odata_values(
            SERVICE,
            f"{self._environment_url(bap_environment_id)}/applicationPackages",
            lambda url, params: self.http.get_json(
                SERVICE, url, token=self.token(), params=params, headers=HEADERS
            ),
            params={"api-version": API_VERSION},
            origin=self.base_url,
            what="the package list",
            max_pages=MAX_PAGES,
        )
        return tuple(parse_listing(item, url) for item, url in pages)

    def install(
        self, bap_environment_id: str, package: PackageListing | ApplicationPackage
    ) -> InstallStarted:
        """POST …/applicationPackages/{uniqueName}/install. Never retried.

        The body is the list item, as PP-TUT sends it (TF sends none; the reference also allows a
        `payloadValue`). The answer is 200 with `lastOperation.operationId` (PP-TUT) or 202 with an
        empty body and an `Operation-Location` header (TF): both are followed.
        """
        listing = package if isinstance(package, PackageListing) else PackageListing(package)
        unique_name = listing.package.unique_name
        url = (
            f"{self._environment_url(bap_environment_id)}/applicationPackages/"
            f"{quote(unique_name, safe='')}/install"
        )
        response = self.http.request(
            SERVICE,
            "POST",
            url,
            token=self.token(),
            json=listing.body or _minimal_body(listing.package),
            params={"api-version": API_VERSION},
            headers=HEADERS,
            idempotent=False,
        )
        body = _json_of(response, "the install answer") if response.content.strip() else None
        return parse_install(
            body, url, operation_location=response.headers.get("Operation-Location", ""), base=self.base_url
        )

    def operation(
        self,
        bap_environment_id: str,
        operation_id: str,
        *,
        timeout: float | None = None,
        operation_url: str = "",
    ) -> OperationState:
        """GET the operation, tried once (the caller decides when to ask again).

        At `operation_url` when the install answer named one on this service (TF polls the
        Operation-Location it was given, with its own query); otherwise at the documented
        …/operations/{operationId} (PP-TUT).
        """
        params: dict[str, str] | None = {"api-version": API_VERSION}
        if operation_url and within_service(operation_url, self.base_url):
            url = operation_url
            if "api-version=" in urlsplit(operation_url).query:
                params = None
        else:
            url = f"{self._environment_url(bap_environment_id)}/operations/{quote(operation_id, safe='')}"
        response = self.http.request(
            SERVICE,
            "GET",
            url,
            token=self.token(),
            params=params,
            headers=HEADERS,
            idempotent=False,
            timeout=timeout,
        )
        return parse_operation(_json_of(response, "the operation status"), url)

    def terms(self, uri: str) -> str:
        """A terms document as readable text.

        Fetched without our token: the URIs are storage links (pre-signed), usually on another host,
        and a bearer token must never travel to a host that did not ask for it.
        """
        if not uri.lower().startswith("https://"):
            raise ServiceError(
                Fault(
                    SERVICE,
                    f"refusing to fetch terms over a non-HTTPS link ({redact_url(uri)})",
                    "insecure_link",
                    url=redact_url(uri),
                )
            )
        response = self.http.request(SERVICE, "GET", uri, headers={"Accept": "text/html, text/plain"})
        content = response.content[:MAX_TERMS_BYTES].decode(response.encoding or "utf-8", errors="replace")
        return readable_terms(content, response.headers.get("Content-Type", ""))


def _json_of(response: httpx.Response, what: str) -> Any:
    url = redact_url(str(response.request.url))
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as error:
        raise malformed(SERVICE, f"{what} was not valid JSON", url) from error


def _minimal_body(package: ApplicationPackage) -> dict[str, Any]:
    # Only when no listed item is at hand; the documented body is the whole list item.
    body: dict[str, Any] = {"uniqueName": package.unique_name, "version": package.version}
    if package.package_id:
        body["id"] = package.package_id
    if package.application_name:
        body["applicationName"] = package.application_name
    return body


def _uris(value: Any, url: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = expect_list(SERVICE, value, "termsOfServiceBlobUris", url)
    return tuple(u for u in (text(SERVICE, item, "a terms URI", url).strip() for item in items) if u)


def parse_listing(item: Any, url: str = "") -> PackageListing:
    raw = expect_dict(SERVICE, item, "a package", url)
    return PackageListing(
        package=parse_package(raw, url),
        terms_uris=_uris(raw.get("termsOfServiceBlobUris"), url),
        learn_more_url=text(SERVICE, raw.get("learnMoreUrl"), "learnMoreUrl", url).strip(),
        body=dict(raw),
    )


def parse_install(
    answer: Any, url: str = "", *, operation_location: str = "", base: str = ""
) -> InstallStarted:
    """The install answer: `lastOperation.operationId` in the body, or an Operation-Location header.

    An Operation-Location on another host than the Power Platform API is never followed (our token
    would travel with it): its operation id is kept, and the documented operations/{id} path polled.
    """
    body = optional_dict(SERVICE, answer, "the install answer", url)
    last = optional_dict(SERVICE, body.get("lastOperation"), "lastOperation", url)
    operation_id = text(SERVICE, last.get("operationId"), "lastOperation.operationId", url).strip()
    location = operation_location.strip()
    followable = bool(location) and bool(base) and within_service(location, base)
    if not operation_id and location:
        # TF's mock: …/environments/{env}/operations/{operationId}?api-version=…
        segments = [part for part in urlsplit(location).path.split("/") if part]
        if len(segments) >= 2 and segments[-2].lower() == "operations":
            operation_id = segments[-1]
    if not operation_id and not followable:
        if location:
            raise malformed(
                SERVICE,
                f"the install answer points to another host to follow it ({redact_url(location)}); "
                "dwtui does not send its token there",
                url,
            )
        raise malformed(
            SERVICE, "the install answer has neither lastOperation.operationId nor Operation-Location", url
        )
    return InstallStarted(
        operation_id=operation_id or location,
        terms_uris=_uris(body.get("termsOfServiceBlobUris"), url),
        state=text(SERVICE, last.get("state"), "lastOperation.state", url).strip(),
        operation_url=location if followable else "",
    )


def _percent(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return min(100.0, max(0.0, number)) if number == number else None


def parse_operation(answer: Any, url: str = "") -> OperationState:
    """GET operations/{id}: `status` (PP-TUT: NotStarted, Running, Succeeded, Failed, Canceled) and,
    on failure, `error` as TF's dto declares it: {errorName, errorCode (int), message, type,
    statusCode, source}. The code shown is errorName, with errorCode beside it."""
    body = expect_dict(SERVICE, answer, "the operation status", url)
    raw_status = text(SERVICE, body.get("status"), "status", url).strip()
    if not raw_status:
        raise malformed(SERVICE, "the operation status has no status", url)
    error = body.get("error")
    code = message = ""
    if isinstance(error, Mapping):
        name = text(SERVICE, error.get("errorName"), "error.errorName", url).strip()
        number = text(SERVICE, error.get("errorCode"), "error.errorCode", url).strip()
        # [I] {code, message} is the Power Platform API's general error shape, not shown for operations.
        legacy = text(SERVICE, error.get("code"), "error.code", url).strip()
        code = name or number or legacy
        message = text(SERVICE, error.get("message"), "error.message", url).strip()
        if name and number:
            message = f"{message} (error code {number})".strip()
    elif error not in (None, ""):
        message = _flatten_error(error)
    # [I] No source documents a percent; percentComplete is read when a service sends one.
    percent = _percent(body.get("percentComplete"))
    return OperationState(
        status=parse_status(raw_status),
        raw_status=raw_status,
        message=text(SERVICE, body.get("statusMessage"), "statusMessage", url).strip(),
        percent=percent,
        error_code=code,
        error_message=message,
    )


def parse_state(value: str) -> PackageState:
    return _STATES.get(value.strip().lower(), PackageState.UNKNOWN)


def _flatten_error(value: Any) -> str:
    """`errorDetails` of a list item, {errorCode, errorName, message, source, statusCode, type} in the
    TF catalogue fixture (tenant_application_packages/Validate_Read/get_tenant_applications.json)."""
    if value is None or value == "":
        return ""
    if isinstance(value, Mapping):
        code = str(value.get("errorName") or value.get("errorCode") or value.get("code") or "").strip()
        message = str(value.get("message") or value.get("errorMessage") or "").strip()
        if code or message:
            return f"{code}: {message}" if code and message else code or message
        return ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list):
        return "; ".join(filter(None, (_flatten_error(item) for item in value)))
    return str(value).strip()


def parse_package(item: Any, url: str = "") -> ApplicationPackage:
    raw = expect_dict(SERVICE, item, "a package", url)

    def field(key: str) -> str:
        return text(SERVICE, raw.get(key), key, url).strip()

    return ApplicationPackage(
        unique_name=field("uniqueName"),
        application_name=field("applicationName") or field("localizedName"),
        version=field("version"),
        state=parse_state(field("state")),
        package_id=field("id"),
        error=_flatten_error(raw.get("errorDetails")),
    )
