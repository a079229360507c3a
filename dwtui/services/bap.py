"""BAP admin API: Power Platform environments with their Dataverse org and F&O link, and adding Dataverse.

`properties.linkedEnvironmentMetadata` is the Dataverse org (null when the environment has none);
`properties.linkedAppMetadata` {id, type, url} names the F&O environment Power Platform Integration
links (read as the terraform provider for Power Platform and d365bap.tools read it, both with
api-version 2023-06-01: microsoft/terraform-provider-power-platform, internal/constants/constants.go
BAP_API_VERSION and internal/services/environment/dto.go LinkedAppMetadataDto; d365collaborative/
d365bap.tools, functions/Get-BapEnvironment.ps1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from dwtui.domain.assessment import same_url
from dwtui.domain.models import DataverseEnvironment, Fault, LcsEnvironment
from dwtui.domain.operations import OperationState, OperationStatus
from dwtui.services.errors import ServiceError
from dwtui.services.http import HttpPolicy, parse_retry_after
from dwtui.services.shapes import (
    expect_dict,
    malformed,
    odata_values,
    optional_dict,
    text,
    within_service,
)

SERVICE = "BAP admin API"
API_VERSION = "2023-06-01"
# The terraform provider's AddDataverseToEnvironment calls provisionInstance with BAP_2021_API_VERSION.
PROVISION_API_VERSION = "2021-04-01"
HEADERS = {"Accept": "application/json"}
MAX_PAGES = 100


@dataclass(frozen=True, slots=True)
class DataverseRequest:
    """The body of provisionInstance: base language (an LCID), currency code and templates.

    As New-AdminPowerAppCdsDatabase (Microsoft.PowerApps.Administration.PowerShell) and the
    terraform provider's createLinkEnvironmentMetadataDto send it.
    """

    language: int = 1033
    currency: str = "USD"
    templates: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        return {
            "baseLanguage": self.language,
            "currency": {"code": self.currency},
            "templates": list(self.templates),
        }


@dataclass(frozen=True, slots=True)
class LifecycleStarted:
    location: str  # the lifecycle operation to poll
    retry_after: float | None


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

    def add_dataverse(self, bap_id: str, request: DataverseRequest) -> LifecycleStarted:
        """POST …/environments/{id}/provisionInstance; 202 with a Location to follow. Never retried.

        Source: TF internal/services/environment/api_environment.go AddDataverseToEnvironment (202
        only, the Location header, Retry-After) and New-AdminPowerAppCdsDatabase (200 or 202).
        The path is not under /scopes/admin.
        """
        url = (
            f"{self.base_url}/providers/Microsoft.BusinessAppPlatform/environments/"
            f"{quote(bap_id, safe='')}/provisionInstance"
        )
        response = self.http.request(
            SERVICE,
            "POST",
            url,
            token=self.token(),
            json=request.body(),
            params={"api-version": PROVISION_API_VERSION},
            headers=HEADERS,
            idempotent=False,
        )
        return parse_provision_accepted(response.headers, url, self.base_url)

    def lifecycle(self, location: str, *, timeout: float | None = None) -> OperationState:
        """GET the lifecycle operation: an environment while it is added (TF), or an operation {state}.

        TF reads `properties.provisioningState`: LinkedDatabaseProvisioning goes on, Succeeded is
        done, anything else failed; its generic lifecycle poll (internal/api/lifecycle.go) reads
        `state.id` instead. Both are understood; 409 means "ask again" in both.
        """
        if not within_service(location, self.base_url, regional=True):
            raise ServiceError(
                Fault(SERVICE, "refusing to follow a Location on another host", "foreign_location")
            )
        params = None if "api-version=" in urlsplit(location).query else {"api-version": API_VERSION}
        response = self.http.request(
            SERVICE,
            "GET",
            location,
            token=self.token(),
            params=params,
            headers=HEADERS,
            idempotent=False,
            timeout=timeout,
        )
        if response.status_code == 202 and not response.content.strip():
            return OperationState(OperationStatus.RUNNING, "Accepted", "adding Dataverse")
        body = expect_dict(
            SERVICE, response.json() if response.content.strip() else None, "the operation", location
        )
        return parse_lifecycle(body, location)

    def for_fo_environment(self, env: LcsEnvironment) -> DataverseEnvironment | None:
        """The Power Platform environment Power Platform Integration links to `env`, if any.

        Matched on linkedAppMetadata.id (the LCS environment id) first, then on its URL.
        """
        return match_fo_environment(self.environments(), env)


def match_fo_environment(
    environments: Sequence[DataverseEnvironment], env: LcsEnvironment
) -> DataverseEnvironment | None:
    """Of the tenant's Power Platform environments, the one linked to `env` (its id first, then its URL).

    The list is the whole tenant's: the fleet reads it once for all its environments.
    """
    wanted = _normal_id(env.environment_id)
    for candidate in environments:
        if wanted and _normal_id(candidate.linked_fo_environment_id) == wanted:
            return candidate
    for candidate in environments:
        if same_url(candidate.linked_fo_url, env.fo_url):
            return candidate
    return None


def parse_provision_accepted(headers: Mapping[str, str], url: str, base: str) -> LifecycleStarted:
    """The 202 to provisionInstance: the lifecycle operation in `Location`, and `Retry-After`.

    TF's mock puts the operation on a regional host (europe.api.bap.microsoft.com): a host under
    the BAP host is followed; any other is not given our token.
    """
    location = (headers.get("Location") or "").strip()
    if not location:
        raise malformed(SERVICE, "adding Dataverse was accepted but names no Location to follow", url)
    if not within_service(location, base, regional=True):
        raise ServiceError(
            Fault(
                SERVICE,
                "adding Dataverse was accepted, but its progress is on another host; follow it in the "
                "Power Platform admin center",
                "foreign_location",
                url=url,
            )
        )
    return LifecycleStarted(location, parse_retry_after(headers.get("Retry-After")))


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

    cluster = optional_dict(SERVICE, properties.get("cluster"), "cluster", url)
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
        cluster_uri_suffix=field(cluster, "uriSuffix"),
        provisioning_state=field(properties, "provisioningState"),
    )


_LIFECYCLE_RUNNING = {"linkeddatabaseprovisioning", "notstarted", "running", "accepted", "provisioning"}


def parse_lifecycle(body: Mapping[str, Any], url: str = "") -> OperationState:
    properties = optional_dict(SERVICE, body.get("properties"), "properties", url)
    state = text(SERVICE, properties.get("provisioningState"), "provisioningState", url).strip()
    if not state:
        state = text(
            SERVICE, optional_dict(SERVICE, body.get("state"), "state", url).get("id"), "state.id", url
        )
        state = state.strip()
    if not state:
        raise malformed(SERVICE, "the operation says neither provisioningState nor state.id", url)
    if state.lower() == "succeeded":
        return OperationState(OperationStatus.SUCCEEDED, state, "Dataverse added")
    if state.lower() in _LIFECYCLE_RUNNING:
        return OperationState(OperationStatus.RUNNING, state, "adding Dataverse")
    error = optional_dict(SERVICE, body.get("error"), "error", url)
    message = text(SERVICE, error.get("message"), "error.message", url).strip()
    if not message:
        failed = _failed_stages(body, url)
        message = f"the {failed} stage failed" if failed else f"provisioning state {state}"
    return OperationState(
        OperationStatus.FAILED,
        state,
        "adding Dataverse failed",
        error_code=text(SERVICE, error.get("code"), "error.code", url).strip() or state,
        error_message=message,
    )


def _failed_stages(body: Mapping[str, Any], url: str) -> str:
    """The stages of a lifecycle operation whose state.id is Failed (TF lifecycle.go's stages[]), by name."""
    stages = body.get("stages")
    if not isinstance(stages, list):
        return ""
    names = []
    for item in stages:
        stage = optional_dict(SERVICE, item, "a stage", url)
        state = optional_dict(SERVICE, stage.get("state"), "stage state", url)
        if text(SERVICE, state.get("id"), "stage state.id", url) == "Failed":
            names.append(text(SERVICE, stage.get("name") or stage.get("id"), "stage name", url).strip())
    return ", ".join(filter(None, names))
