"""LCS API: the project's environments (`environmentinfo/v1/detail`), as LcsEnvironment.

LCS answers HTTP 200 even when a call fails and says so in its envelope (`IsSuccess`), so every
answer is checked; paging follows `ResultHasMorePages`. Only delegated (user) tokens work.

LCS allows 6 calls per project per minute and answers 429 with Retry-After beyond that
(reference-environment-metadata.md, "6 calls for each project per minute"). With a limiter every
call takes its place in the project's window; a paced client (`paced()`, the fleet's) also waits
for room instead of being refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from dwtui.domain.models import Fault, LcsEnvironment
from dwtui.services.errors import ServiceError
from dwtui.services.http import HttpPolicy, Pace
from dwtui.services.rate_limit import SlidingWindowLimiter
from dwtui.services.shapes import expect_dict, expect_list, malformed, service_fault, text

SERVICE = "LCS API"
API_VERSION = "2017-09-15"
HEADERS = {"x-ms-version": API_VERSION, "Accept": "application/json", "Content-Type": "application/json"}
# A server that always says "more pages" must not keep us paging for ever.
MAX_PAGES = 200
# reference-environment-metadata.md: "6 calls for each project per minute", 429 with retry-after beyond.
CALLS_PER_PROJECT = 6
WINDOW_SECONDS = 60.0


def _same_id(a: str, b: str) -> bool:
    return bool(a) and a.replace("-", "").lower() == b.replace("-", "").lower()


def project_key(project_id: str) -> str:
    """The limiter's key for a project: LCS project ids are numbers, written as digits."""
    return str(project_id).strip()


class LcsClient:
    def __init__(
        self,
        base_url: str,
        http: HttpPolicy,
        token: Callable[[], str],
        *,
        limiter: SlidingWindowLimiter | None = None,
        cancel: threading.Event | None = None,
        paced: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.token = token
        self.limiter = limiter
        self.cancel = cancel
        self.is_paced = paced and limiter is not None

    def paced(self, cancel: threading.Event | None = None) -> LcsClient:
        """The same client, waiting for room in the project's window before each call.

        A set `cancel` (with the limiter woken) ends a wait with a `cancelled` fault.
        """
        return LcsClient(
            self.base_url, self.http, self.token, limiter=self.limiter, cancel=cancel, paced=True
        )

    def _pace(self, project_id: str) -> Pace | None:
        limiter = self.limiter
        if limiter is None:
            return None
        key = project_key(project_id)
        if self.is_paced:
            return lambda: limiter.slot(key, self.cancel)
        return lambda: limiter.counted(key)

    def _detail_url(self, project_id: str) -> str:
        return f"{self.base_url}/environmentinfo/v1/detail/project/{quote(str(project_id), safe='')}/"

    def _get(self, project_id: str, params: Mapping[str, str]) -> tuple[list[LcsEnvironment], bool]:
        url = self._detail_url(project_id)
        body = self.http.get_json(
            SERVICE, url, token=self.token(), params=params, headers=HEADERS, pace=self._pace(project_id)
        )
        return parse_page(body, url)

    def environments(self, project_id: str) -> list[LcsEnvironment]:
        """Every environment of the project, across all pages."""
        return [environment for page in self.pages(project_id) for environment in page]

    def pages(self, project_id: str) -> Iterator[list[LcsEnvironment]]:
        """The project's environments a page at a time, each as soon as LCS has answered it."""
        for page in range(1, MAX_PAGES + 1):
            environments, more = self._get(project_id, {"page": str(page)})
            yield environments
            if not more or not environments:
                return
        raise malformed(
            SERVICE, f"LCS kept reporting more pages after {MAX_PAGES} pages", self._detail_url(project_id)
        )

    def environment(self, project_id: str, environment_id: str) -> LcsEnvironment:
        environments, _ = self._get(project_id, {"environmentId": environment_id})
        for environment in environments:
            if _same_id(environment.environment_id, environment_id):
                return environment
        raise ServiceError(
            Fault(
                SERVICE,
                f"LCS project {project_id} has no environment {environment_id} that you can see "
                "(check environment_id in the profile, and that you are a Project Owner or "
                "Environment Administrator there)",
                code="not_found",
                url=self._detail_url(project_id),
            )
        )

    def environment_by_name(self, project_id: str, name: str) -> LcsEnvironment:
        environments, _ = self._get(project_id, {"environmentName": name})
        for environment in environments:
            if environment.name.strip().lower() == name.strip().lower():
                return environment
        raise ServiceError(
            Fault(
                SERVICE,
                f"LCS project {project_id} has no environment named {name!r}",
                code="not_found",
                url=self._detail_url(project_id),
            )
        )


def parse_page(body: Any, url: str = "") -> tuple[list[LcsEnvironment], bool]:
    """One page of the environment metadata answer: its `Data` items and whether more pages follow.

    reference-environment-metadata.md: {ResultPageCurrent, ResultHasMorePages, Data[], IsSuccess,
    OperationActivityId, ErrorMessage, VersionEOL}; an answer with IsSuccess false is a failure.
    """
    envelope = expect_dict(SERVICE, body, "the LCS answer", url)
    if envelope.get("IsSuccess") is False:
        fault = service_fault(SERVICE, envelope, None, url)
        raise ServiceError(fault or Fault(SERVICE, "LCS reported the call as failed", url=url))
    data = envelope.get("Data")
    items = [] if data is None else expect_list(SERVICE, data, "Data", url)
    return [parse_environment(item, url) for item in items], envelope.get("ResultHasMorePages") is True


def parse_environment(item: Any, url: str = "") -> LcsEnvironment:
    """One `Data[]` item; only EnvironmentId is required, a missing optional field becomes ""."""
    raw = expect_dict(SERVICE, item, "an item of Data", url)

    def field(name: str) -> str:
        return text(SERVICE, raw.get(name), name, url).strip()

    environment_id = field("EnvironmentId")
    if not environment_id:
        raise malformed(SERVICE, "expected every item of Data to have an EnvironmentId", url)
    return LcsEnvironment(
        environment_id=environment_id,
        name=field("EnvironmentName"),
        project_id=field("ProjectId"),
        environment_type=field("EnvironmentType"),
        fo_url=field("EnvironmentEndpointBaseUrl"),
        deployment_state=field("DeploymentState"),
        deployment_status=field("DeploymentStatusDisplay"),
        infrastructure=field("EnvironmentInfrastructure"),
        group=field("EnvironmentGroup"),
        product=field("EnvironmentProduct"),
        topology=field("TopologyDisplayName"),
        application_version=field("CurrentApplicationBuildVersion"),
        application_release=field("CurrentApplicationReleaseName"),
        platform_release=field("CurrentPlatformReleaseName"),
        platform_version=field("CurrentPlatformVersion"),
        deployed_on_utc=field("DeployedOnUTC"),
        storage_location=field("CloudStorageLocation"),
        disaster_recovery_location=field("DisasterRecoveryLocation"),
    )
