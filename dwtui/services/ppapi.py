"""Power Platform API: the application packages of an environment (is dual-write installed?)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from dwtui.domain.models import ApplicationPackage, PackageState
from dwtui.services.http import (
    HttpPolicy,
    expect_dict,
    expect_list,
    malformed,
    next_link,
    text,
)

SERVICE = "Power Platform API"
API_VERSION = "2022-03-01-preview"
HEADERS = {"Accept": "application/json"}
MAX_PAGES = 100

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

    def packages(self, bap_environment_id: str) -> tuple[ApplicationPackage, ...]:
        first = (
            f"{self.base_url}/appmanagement/environments/{quote(bap_environment_id, safe='')}"
            "/applicationPackages"
        )
        url: str | None = first
        params: dict[str, str] | None = {"api-version": API_VERSION}
        result: list[ApplicationPackage] = []
        for _ in range(MAX_PAGES):
            assert url is not None
            body = expect_dict(
                SERVICE,
                self.http.get_json(SERVICE, url, token=self.token(), params=params, headers=HEADERS),
                "the package list",
                url,
            )
            items = expect_list(SERVICE, body.get("value"), "value", url)
            result.extend(parse_package(item, url) for item in items)
            url = next_link(SERVICE, body, self.base_url, url)
            if url is None:
                return tuple(result)
            params = None
        raise malformed(SERVICE, f"the package list kept going after {MAX_PAGES} pages", first)


def parse_state(value: str) -> PackageState:
    return _STATES.get(value.strip().lower(), PackageState.UNKNOWN)


def _flatten_error(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Mapping):
        code = str(value.get("code") or value.get("errorCode") or "").strip()
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
