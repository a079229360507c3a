"""BAP admin API: Power Platform environments with their Dataverse org and F&O link.

`properties.linkedEnvironmentMetadata` is the Dataverse org; `properties.linkedAppMetadata`
(present only when Power Platform Integration is set up) names the F&O environment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from dwtui.domain.assessment import same_url
from dwtui.domain.models import DataverseEnvironment, LcsEnvironment
from dwtui.services.http import HttpPolicy
from dwtui.services.shapes import (
    expect_dict,
    malformed,
    odata_values,
    optional_dict,
    text,
)

SERVICE = "BAP admin API"
API_VERSION = "2020-10-01"
HEADERS = {"Accept": "application/json"}
MAX_PAGES = 100


def _normal_id(value: str) -> str:
    return value.replace("-", "").strip().lower()


class BapClient:
    def __init__(self, base_url: str, http: HttpPolicy, token: Callable[[], str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.token = token

    @property
    def _environments_url(self) -> str:
        return f"{self.base_url}/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments"

    def environments(self) -> list[DataverseEnvironment]:
        pages = odata_values(
            SERVICE,
            self._environments_url,
            lambda url, params: self.http.get_json(
                SERVICE, url, token=self.token(), params=params, headers=HEADERS
            ),
            params={"api-version": API_VERSION},
            origin=self.base_url,
            what="the environment list",
            max_pages=MAX_PAGES,
        )
        return [parse_environment(item, url) for item, url in pages]

    def environment(self, bap_id: str) -> DataverseEnvironment:
        url = f"{self._environments_url}/{quote(bap_id, safe='')}"
        body = self.http.get_json(
            SERVICE, url, token=self.token(), params={"api-version": API_VERSION}, headers=HEADERS
        )
        return parse_environment(body, url)

    def for_fo_environment(self, env: LcsEnvironment) -> DataverseEnvironment | None:
        """The Power Platform environment Power Platform Integration links to `env`, if any.

        Matched on linkedAppMetadata.id (the LCS environment id) first, then on its URL.
        """
        environments = self.environments()
        wanted = _normal_id(env.environment_id)
        for candidate in environments:
            if wanted and _normal_id(candidate.linked_fo_environment_id) == wanted:
                return candidate
        for candidate in environments:
            if same_url(candidate.linked_fo_url, env.fo_url):
                return candidate
        return None


def parse_environment(item: Any, url: str = "") -> DataverseEnvironment:
    raw = expect_dict(SERVICE, item, "an environment", url)
    name = text(SERVICE, raw.get("name"), "name", url).strip()
    if not name:
        raise malformed(SERVICE, "expected every environment to have a name (its id)", url)
    properties = optional_dict(SERVICE, raw.get("properties"), "properties", url)
    org = optional_dict(
        SERVICE, properties.get("linkedEnvironmentMetadata"), "linkedEnvironmentMetadata", url
    )
    app = optional_dict(SERVICE, properties.get("linkedAppMetadata"), "linkedAppMetadata", url)

    def field(source: Any, key: str) -> str:
        return text(SERVICE, source.get(key), key, url).strip()

    return DataverseEnvironment(
        bap_environment_id=name,
        display_name=field(properties, "displayName"),
        instance_url=field(org, "instanceUrl"),
        organization_id=field(org, "resourceId"),
        unique_name=field(org, "uniqueName"),
        instance_state=field(org, "instanceState"),
        version=field(org, "version"),
        region=field(properties, "azureRegion"),
        sku=field(properties, "environmentSku"),
        linked_fo_environment_id=field(app, "id"),
        linked_fo_url=field(app, "url"),
        linked_app_type=field(app, "type"),
    )
