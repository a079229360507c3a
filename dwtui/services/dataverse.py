"""Dataverse Web API: who the org says it is integrated with, and who we are there.

`RetrieveFinanceAndOperationsIntegrationDetails` names the F&O environment Power Platform
Integration connected; an org that is not integrated answers 0x80048d0b, which reaches the
caller as ServiceError(code="0x80048d0b") through the HTTP policy's error mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dwtui.domain.models import IntegrationDetails
from dwtui.services.http import HttpPolicy
from dwtui.services.shapes import expect_dict, text

SERVICE = "Dataverse"
HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
    "If-None-Match": "null",
}


@dataclass(frozen=True, slots=True)
class WhoAmI:
    user_id: str  # UserId
    business_unit_id: str  # BusinessUnitId
    organization_id: str  # OrganizationId


class DataverseClient:
    def __init__(self, instance_url: str, http: HttpPolicy, token: Callable[[], str]) -> None:
        self.instance_url = instance_url.rstrip("/")
        self.api_url = f"{self.instance_url}/api/data/v9.2"
        self.http = http
        self.token = token

    def _get(self, name: str, what: str) -> dict[str, object]:
        url = f"{self.api_url}/{name}"
        body = self.http.get_json(SERVICE, url, token=self.token(), headers=HEADERS)
        return dict(expect_dict(SERVICE, body, what, url))

    def integration_details(self) -> IntegrationDetails:
        name = "RetrieveFinanceAndOperationsIntegrationDetails"
        return parse_integration_details(self._get(name, "the integration details"), f"{self.api_url}/{name}")

    def who_am_i(self) -> WhoAmI:
        return parse_who_am_i(self._get("WhoAmI", "the WhoAmI answer"), f"{self.api_url}/WhoAmI")


def parse_integration_details(answer: Any, url: str = "") -> IntegrationDetails:
    """enable-power-platform-integration.md: {Url, TenantId, Id}; 0x80048d0b when not integrated."""
    body = expect_dict(SERVICE, answer, "the integration details", url)
    return IntegrationDetails(
        fo_url=text(SERVICE, body.get("Url"), "Url", url).strip(),
        tenant_id=text(SERVICE, body.get("TenantId"), "TenantId", url).strip(),
        fo_environment_id=text(SERVICE, body.get("Id"), "Id", url).strip(),
    )


def parse_who_am_i(answer: Any, url: str = "") -> WhoAmI:
    """use-web-api-functions.md: WhoAmIResponse {BusinessUnitId, UserId, OrganizationId}."""
    body = expect_dict(SERVICE, answer, "the WhoAmI answer", url)
    return WhoAmI(
        user_id=text(SERVICE, body.get("UserId"), "UserId", url).strip(),
        business_unit_id=text(SERVICE, body.get("BusinessUnitId"), "BusinessUnitId", url).strip(),
        organization_id=text(SERVICE, body.get("OrganizationId"), "OrganizationId", url).strip(),
    )
