"""The facade both front ends use: one profile, signed in, with a client per service.

Every method blocks on I/O: call them from a worker thread (TUI) or directly (CLI). Building a
Session does no I/O, so a front end can paint before anything is known.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from dwtui.domain.assessment import Assessment, assess
from dwtui.domain.gateway import how_to_find, is_loopback
from dwtui.domain.models import (
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    LcsEnvironment,
    PowerPlatformSnapshot,
    SignedIn,
)
from dwtui.domain.profile import (
    BAP_SCOPE,
    DUALWRITE_SCOPE,
    POWER_PLATFORM_SCOPE,
    Profile,
    dataverse_scope,
)
from dwtui.domain.token_refusals import lcs_refusal
from dwtui.services.activity import ActivityEntry, ActivityLog
from dwtui.services.auth import Authenticator
from dwtui.services.bap import BapClient, match_fo_environment
from dwtui.services.dataverse import DataverseClient
from dwtui.services.dualwrite import DualWriteGateway
from dwtui.services.errors import ServiceError
from dwtui.services.http import HttpPolicy, clock_after
from dwtui.services.lcs import CALLS_PER_PROJECT, WINDOW_SECONDS, LcsClient
from dwtui.services.operations import OperationStore
from dwtui.services.ppapi import PowerPlatformClient
from dwtui.services.rate_limit import SlidingWindowLimiter
from dwtui.services.secrets import SecretStore
from dwtui.services.trace import TraceFile

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True, slots=True)
class StatusReport:
    """What `dwtui status` prints and the main screen shows, in one value."""

    environment: LcsEnvironment
    snapshot: PowerPlatformSnapshot
    assessment: Assessment
    signed_in: SignedIn | None


@dataclass(frozen=True, slots=True)
class DemoWorld:
    """Set by `--demo`: the simulated one-box's AXDB (a local database file) and how fast time runs."""

    axdb_connection_string: str = ""
    speed: float = 1.0
    onebox_application_id: str = ""  # the app registered for the simulated one-box


class Session:
    @property
    def speed(self) -> float:
        """How much faster than real time the services run: the demo's --speed, else 1."""
        return self.demo.speed if self.demo is not None else 1.0

    def __init__(
        self,
        profile: Profile,
        *,
        secrets: SecretStore,
        activity: ActivityLog,
        http: HttpPolicy | None = None,
        clock: Callable[[], float] = time.time,
        demo: DemoWorld | None = None,
        operations: OperationStore | None = None,
        trace: TraceFile | None = None,
        lcs_limiter: SlidingWindowLimiter | None = None,
    ) -> None:
        self.profile = profile
        self.demo = demo
        # Where started installs and links are remembered, so they are watched again after a restart
        # and never started twice (shared by every dwtui process on this machine).
        self.operations = operations or OperationStore()
        self.secrets = secrets
        self.activity = activity
        self.clock = clock
        if trace is not None:
            trace.profile(profile)
        self.http = http or HttpPolicy(ca_bundle=profile.ca_bundle or None, activity=activity, trace=trace)
        self.auth = Authenticator(profile, self.http, secrets)
        # LCS's limit is per project (6 calls a minute): every LCS call of this session takes its
        # place in the project's window; the demo's minute is as short as its --speed makes it.
        self.lcs_limiter = lcs_limiter or SlidingWindowLimiter(
            CALLS_PER_PROJECT,
            WINDOW_SECONDS / (demo.speed if demo is not None else 1.0),
            on_wait=self._lcs_wait,
            service="LCS API",
        )
        self.lcs = LcsClient(
            profile.lcs_api_url, self.http, self._lcs_token(), limiter=self.lcs_limiter
        )
        self.bap = BapClient(profile.bap_api_url, self.http, self.auth.token_getter(BAP_SCOPE))
        self.ppapi = PowerPlatformClient(
            profile.power_platform_api_url, self.http, self.auth.token_getter(POWER_PLATFORM_SCOPE)
        )
        self.gateway = (
            DualWriteGateway(
                profile.dualwrite_gateway_url, self.http, self.auth.token_getter(DUALWRITE_SCOPE)
            )
            if profile.dualwrite_gateway_url
            else None
        )

    @property
    def gateway_is_simulator(self) -> bool:
        """The simulator's gateway (the demo, or a profile on loopback): its link calls are its own."""
        return self.demo is not None or is_loopback(self.profile.dualwrite_gateway_url)

    def _lcs_token(self) -> Callable[[], str]:
        """The LCS API's token; an application profile gets the refusal instead, before any call."""
        refusal = lcs_refusal(self.profile)
        if refusal is None:
            return self.auth.token_getter(self.profile.lcs_scope)

        def refuse() -> str:
            # LCS documents delegated tokens only (lcs-aad-app-reg.md): no token is asked for and the
            # client sends nothing.
            raise ServiceError(refusal)

        return refuse

    def _lcs_wait(self, project_id: str, seconds: float) -> None:
        # Said before the wait, as the HTTP policy says its Retry-After waits (Activity, stderr).
        shown = f"{seconds:.1f} s" if seconds < 10 else f"{round(seconds)} s"
        self.activity.record(
            ActivityEntry(
                at=time.time(),
                kind="wait",
                summary=f"LCS API: {CALLS_PER_PROJECT} calls for project {project_id} within a minute, "
                f"the documented limit; next call in {shown} (until {clock_after(seconds)})",
                service="LCS API",
                duration_ms=seconds * 1000.0,
            )
        )

    # -- reading -------------------------------------------------------------------------------

    def environments(self, project_id: str = "") -> list[LcsEnvironment]:
        """The environments of `project_id` (the fleet opens other projects'), else of the profile's."""
        return self.lcs.environments(project_id or self.profile.lcs_project_id)

    def environment(self, environment_id: str, project_id: str = "") -> LcsEnvironment:
        """One environment of `project_id` (the fleet opens other projects'), else of the profile's."""
        return self.lcs.environment(project_id or self.profile.lcs_project_id, environment_id)

    def signed_in_tenant(self) -> str:
        """The tenant you signed in to, as a GUID: the account's, else the profile's when it is one; ""
        when neither is a GUID. Reads the token cache, never the network."""
        signed_in = self.auth.signed_in()
        for candidate in (signed_in.tenant_id if signed_in else "", self.profile.tenant_id):
            if _GUID.fullmatch(candidate.strip()):
                return candidate.strip().lower()
        return ""

    def dataverse(self, instance_url: str) -> DataverseClient:
        return DataverseClient(instance_url, self.http, self.auth.token_getter(dataverse_scope(instance_url)))

    def power_platform(
        self,
        environment: LcsEnvironment,
        *,
        bap_environments: Sequence[DataverseEnvironment] | Fault | None = None,
    ) -> PowerPlatformSnapshot:
        """Read every source of the Power Platform Integration pane; a failing source becomes a Fault.

        `bap_environments`, the tenant's Power Platform environments read once for many environments
        (the fleet), or the fault that read ended in, spares each environment its own BAP list.
        """
        dataverse: DataverseEnvironment | Fault | None
        if bap_environments is None:
            dataverse = _attempt(lambda: self.bap.for_fo_environment(environment))
        elif isinstance(bap_environments, Fault):
            dataverse = bap_environments
        else:
            dataverse = match_fo_environment(bap_environments, environment)
        integration = None
        packages = None
        # A Power Platform environment without Dataverse (no instanceUrl) has nothing to ask.
        if isinstance(dataverse, DataverseEnvironment) and dataverse.instance_url:
            integration = _attempt(lambda: self.dataverse(dataverse.instance_url).integration_details())
            packages = _attempt(lambda: self.ppapi.packages(dataverse.bap_environment_id))
        link: DualWriteLink | Fault | None
        if self.gateway is None:
            cluster = dataverse.cluster_uri_suffix if isinstance(dataverse, DataverseEnvironment) else ""
            link = Fault(
                service="dual-write gateway",
                message=how_to_find(environment.fo_url, cluster),
                code="not_configured",
            )
        else:
            gateway = self.gateway
            link = _attempt(lambda: gateway.link(environment.fo_url))
        link_integration = None
        if isinstance(link, DualWriteLink) and link.linked and link.dataverse_url:
            linked_url = link.dataverse_url
            same = isinstance(dataverse, DataverseEnvironment) and dataverse.instance_url == linked_url
            if not same:
                link_integration = _attempt(lambda: self.dataverse(linked_url).integration_details())
        return PowerPlatformSnapshot(
            dataverse=dataverse,
            integration=integration,
            packages=packages,
            link=link,
            link_dataverse_integration=link_integration,
            read_at=self.clock(),
        )

    def assess(self, environment: LcsEnvironment, snapshot: PowerPlatformSnapshot) -> Assessment:
        read_only = environment.is_production and not self.profile.allow_production_changes
        return assess(environment, snapshot, read_only=read_only)

    def status(self, environment_id: str = "") -> StatusReport:
        return self.status_of(self.selected_environment(environment_id))

    def selected_environment(self, environment_id: str = "") -> LcsEnvironment:
        """The LCS environment asked for, else the profile's, else the project's only one."""
        wanted = environment_id or self.profile.environment_id
        return self.environment(wanted) if wanted else self._only_environment()

    def status_of(self, environment: LcsEnvironment) -> StatusReport:
        snapshot = self.power_platform(environment)
        return StatusReport(environment, snapshot, self.assess(environment, snapshot), self.auth.signed_in())

    def _only_environment(self) -> LcsEnvironment:
        environments = self.environments()
        if len(environments) == 1:
            return environments[0]
        names = ", ".join(f"{e.name} ({e.environment_id})" for e in environments)
        raise ServiceError(
            Fault(
                service="LCS API",
                message=f"the project has {len(environments)} environments; choose one with "
                f"--environment or environment_id in the profile: {names}",
                code="choose_environment",
            )
        )

    def close(self) -> None:
        self.lcs_limiter.close()
        self.http.close()


T = TypeVar("T")


def _attempt(call: Callable[[], T]) -> T | Fault:
    try:
        return call()
    except ServiceError as error:
        return error.fault
