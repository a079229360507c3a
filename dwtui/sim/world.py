"""The simulated world: one tenant, one LCS project, Power Platform environments, dual-write links.

Handlers (on the server's event-loop thread) and SimServer's Python methods (on a test's thread)
both touch the world, so every mutation happens under `World.lock`.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dwtui.sim import ids
from dwtui.sim.chaos import Chaos
from dwtui.sim.directory import OrgDirectory
from dwtui.sim.tls import ClientCertificate, make_client_certificate

REQUEST_LOG_LIMIT = 10_000


def iso_time(moment: float) -> str:
    """A moment as the services write times: 2023-10-11T07:45:25.376133Z."""
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class LcsEnvironmentRecord:
    short: str  # uat | prod | dev: how tests and profiles name it
    environment_id: str
    name: str
    environment_type: str
    fo_url: str
    topology: str
    deployed_on_utc: str
    application_version: str = "10.0.2015.54"
    application_release: str = "10.0.41"
    platform_release: str = "Update65"
    platform_version: str = "7.0.7367.49"
    deployment_state: str = "Finished"
    deployment_status: str = "Deployed"
    project_id: str = ""  # the LCS project that holds it; "" is the world's own (World.project_id)

    @property
    def fo_host(self) -> str:
        return self.fo_url.split("://", 1)[-1].split("/", 1)[0].lower()


@dataclass
class PackageRecord:
    unique_name: str
    application_name: str
    version: str
    package_id: str
    application_id: str
    state: str = "None"  # None | Installed | InstallFailed
    error: dict[str, Any] | None = None  # errorDetails, as the list shows it after a failure
    localized_name: str = ""


@dataclass
class PowerPlatformRecord:
    """A Power Platform environment with a Dataverse org, as BAP lists it."""

    bap_id: str
    display_name: str
    unique_name: str
    organization_id: str
    sku: str
    region: str = "westus"
    version: str = "9.2.24101.00190"
    linked_lcs_id: str = ""  # linkedAppMetadata.id: set when Power Platform Integration links it
    packages: dict[str, PackageRecord] = field(default_factory=dict)
    # LCS gives every environment a Power Platform environment, at first without Dataverse
    # (enable-power-platform-integration.md); BAP then lists no linkedEnvironmentMetadata.
    has_dataverse: bool = True
    cluster: str = "us-il103.gateway.prod.island"  # properties.cluster.uriSuffix
    instance_state: str = "Ready"  # linkedEnvironmentMetadata.instanceState
    tenant_id: str = ""  # the TenantId its integration details give; "" = the world's tenant


@dataclass
class ConnectionSetRecord:
    """A dual-write link between one F&O environment and one Dataverse."""

    cid: str
    cname: str
    lcs_id: str
    bap_id: str
    legal_entities: tuple[str, ...] = ("usmf", "demf")
    # Table maps by name -> DWHelper's MapStatus code ("1" Stopped, "4" Running, "6" NotRunning, ...).
    maps: dict[str, str] = field(default_factory=dict)
    # [I] The link request that made this connection set (an Operation id), "" for a set a scenario
    # seeds: the set exists from the request's acceptance and lists the request until replaced.
    link_request: str = ""


@dataclass
class DeviceCodeRecord:
    device_code: str
    user_code: str
    client_id: str
    scope: str
    created: float  # monotonic
    expires_at: float  # monotonic
    polls: int = 0
    approved: bool = False
    declined: bool = False


@dataclass
class FaultRule:
    """A failure the next matching requests get; set by tests through /_sim/faults or add_fault()."""

    fault_id: int
    path_prefix: str
    kind: str  # one of FAULT_KINDS
    count: int  # requests left; a negative count never runs out
    retry_after: float | None = None
    delay: float = 35.0  # for kind "timeout": longer than a client's default 30 s
    method: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.fault_id,
            "path_prefix": self.path_prefix,
            "kind": self.kind,
            "count": self.count,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "method": self.method,
        }


# "slow" answers normally after `delay` seconds (a slow service, not a timeout).
# "late" lets the service act, then holds its answer `delay` seconds (a client may give up or be
# stopped meanwhile); "acted-500" and "acted-503" let it act, then answer 500 / 503 instead of its
# answer: the request did take effect, which the client cannot tell from the answer.
FAULT_KINDS = ("500", "503", "429", "timeout", "malformed", "reset", "slow", "late", "acted-500", "acted-503")


@dataclass
class Operation:
    """Something that takes (simulated) time: later issues add installs and links on top of this."""

    operation_id: str
    kind: str
    started: float  # monotonic
    duration: float  # real seconds, already divided by speed
    outcome: str = "Succeeded"
    detail: dict[str, Any] = field(default_factory=dict)

    def fraction(self, now: float) -> float:
        if self.duration <= 0:
            return 1.0
        return min(1.0, max(0.0, (now - self.started) / self.duration))

    def done(self, now: float) -> bool:
        return now >= self.started + self.duration


class LcsThrottle:
    """LCS's documented limit: N calls per project in a sliding window; over it → 429 + Retry-After."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.calls: dict[str, deque[float]] = {}

    def prefill(self, project_id: str, times: list[float]) -> None:
        self.calls[project_id] = deque(sorted(times))

    def admit(self, project_id: str, now: float) -> float | None:
        """Record a call and return None, or return the seconds to wait (unrounded)."""
        calls = self.calls.setdefault(project_id, deque())
        while calls and calls[0] <= now - self.window:
            calls.popleft()
        if len(calls) >= self.limit:
            return calls[0] + self.window - now
        calls.append(now)
        return None


class World:
    def __init__(
        self, scenario: str, speed: float = 1.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if speed <= 0 or not math.isfinite(speed):
            raise ValueError(f"speed must be a positive number, not {speed}")
        self.scenario = scenario
        self.speed = speed
        self.clock = clock
        self.wall = time.time
        self.lock = threading.RLock()
        self.base_url = ""  # set by the server once its port is known

        self.tenant_id = ids.TENANT_ID
        self.tenant_domain = ids.TENANT_DOMAIN
        self.client_id = ids.CLIENT_ID
        self.confidential_client_id = ids.CONFIDENTIAL_CLIENT_ID
        self.client_secret = ids.CLIENT_SECRET
        self.onebox_client_id = ids.ONEBOX_CLIENT_ID  # the one-box VM's app registration
        self.onebox_client_secret = ids.ONEBOX_CLIENT_SECRET
        self.user_name = ids.USER_NAME
        self.user_display_name = ids.USER_DISPLAY_NAME
        self.user_object_id = ids.USER_OBJECT_ID
        self.project_id = ids.LCS_PROJECT_ID

        self.device_approve_after = 3.0 / speed
        self.device_code_lifetime = 900.0 / speed
        self.device_poll_interval = 1
        self.token_lifetime = 3600.0
        self.refresh_token_lifetime = 90 * 86400.0
        self.lcs_page_size = 2

        self.lcs_environments: dict[str, LcsEnvironmentRecord] = {}
        self.power_platform: dict[str, PowerPlatformRecord] = {}
        self.connection_sets: dict[str, ConnectionSetRecord] = {}
        self.lcs_throttle: LcsThrottle | None = None
        # Linking (issue 4): how long a link takes, in simulated seconds, and which side refuses
        # it ("CRM" or "AX" for the two documented DW9003 messages; "" links fine).
        self.link_seconds = 240.0
        self.link_failure = ""
        self.link_failure_message = ""  # instead of the documented DW9003 text (hostile-names)
        # Installing: simulated seconds one package's install takes, and the packages (unique name,
        # lower case) whose install fails, with the error the operation then carries.
        self.install_seconds = 30 * 60.0
        self.install_failures: dict[str, dict[str, Any]] = {}
        # How the install POST answers: "200" with a body (the Power Platform API tutorial) or
        # "202" with an empty body and an Operation-Location header (the terraform provider).
        self.install_answer = "200"
        # [I] Undocumented service behaviour, off unless a scenario asks for it: a list state
        # "Installing" during an install, a percentComplete in the operation, terms on list items.
        self.list_installing_state = False
        self.report_percent = False
        self.list_terms = False
        # Adding Dataverse (BAP provisionInstance): simulated seconds it takes, and whether it fails.
        self.add_dataverse_seconds = 5 * 60.0
        self.add_dataverse_failure = ""
        self.chaos: Chaos | None = None  # random faults (the flaky scenario)
        # Resources (a token's audience, e.g. https://api.powerplatform.com) for which no admin has
        # consented to dwtui's app: a person's token requests for them answer AADSTS65001.
        self.consent_withheld: set[str] = set()
        # No consent for Dataverse ("Dynamics CRM"): a person's token for any org answers AADSTS65001.
        self.consent_withheld_dataverse = False
        # [I] Refusals whose real answers no source shows: LCS hides the project from the signed-in
        # person (its failure envelope), the BAP admin scope refuses a non-administrator (403).
        self.lcs_denied = False
        self.bap_admin_denied = False
        # Whether the profile SimServer writes names the gateway (a real profile may not know it).
        self.gateway_in_profile = True
        self.device_codes: dict[str, DeviceCodeRecord] = {}
        self.operations: dict[str, Operation] = {}
        # Dataverse orgs' business units, roles and users, made on first use (sim.directory).
        self.dataverse_directories: dict[str, OrgDirectory] = {}
        self.faults: list[FaultRule] = []
        # The most recent requests (tests and benchmarks read them); bounded, so a demo left open all
        # day does not grow with every poll.
        self.request_log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)
        self._counters: dict[str, int] = {}
        self._client_certificate: ClientCertificate | None = None

    # -- time -------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock()

    def scaled(self, seconds: float) -> float:
        """A simulated duration in real seconds: `speed` divides every one."""
        return seconds / self.speed

    def next_number(self, counter: str) -> int:
        with self.lock:
            value = self._counters.get(counter, 0) + 1
            self._counters[counter] = value
            return value

    # -- credentials ------------------------------------------------------------------------

    @property
    def client_certificate(self) -> ClientCertificate:
        # Made on first use: RSA key generation costs tens of milliseconds the demo does not need.
        with self.lock:
            if self._client_certificate is None:
                self._client_certificate = make_client_certificate("dwtui simulator confidential app")
            return self._client_certificate

    def knows_tenant(self, tenant: str) -> bool:
        return tenant.lower() in {self.tenant_id, self.tenant_domain, "organizations", "common"}

    # -- lookups ----------------------------------------------------------------------------

    def lcs_by_short(self, short: str) -> LcsEnvironmentRecord:
        for record in self.lcs_environments.values():
            if record.short == short:
                return record
        known = ", ".join(r.short for r in self.lcs_environments.values())
        raise KeyError(f"no environment '{short}' in this world; known: {known}")

    def lcs_projects(self) -> list[str]:
        """Every LCS project of the world: its own first, then those its environments name."""
        projects = [self.project_id]
        for record in self.lcs_environments.values():
            if record.project_id and record.project_id not in projects:
                projects.append(record.project_id)
        return projects

    def lcs_in_project(self, project_id: str) -> list[LcsEnvironmentRecord]:
        return [r for r in self.lcs_environments.values() if (r.project_id or self.project_id) == project_id]

    def lcs_by_id(self, environment_id: str) -> LcsEnvironmentRecord | None:
        wanted = environment_id.replace("-", "").lower()
        for record in self.lcs_environments.values():
            if record.environment_id.replace("-", "").lower() == wanted:
                return record
        return None

    def lcs_by_host(self, host: str) -> LcsEnvironmentRecord | None:
        for record in self.lcs_environments.values():
            if record.fo_host == host.lower().rstrip("/"):
                return record
        return None

    def org_by_unique_name(self, unique_name: str) -> PowerPlatformRecord | None:
        for record in self.power_platform.values():
            if record.unique_name.lower() == unique_name.lower():
                return record
        return None

    def connection_set_for(self, lcs_id: str) -> ConnectionSetRecord | None:
        for record in self.connection_sets.values():
            if record.lcs_id == lcs_id:
                return record
        return None

    def instance_url(self, record: PowerPlatformRecord) -> str:
        return f"{self.base_url}/dataverse/{record.unique_name}/"

    # -- faults and the request log -----------------------------------------------------------

    def add_fault(
        self,
        path_prefix: str,
        kind: str,
        count: int = 1,
        retry_after: float | None = None,
        delay: float = 35.0,
        method: str = "",
    ) -> FaultRule:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind '{kind}'; use one of {', '.join(FAULT_KINDS)}")
        if not path_prefix.startswith("/"):
            raise ValueError("path_prefix must start with '/', e.g. /lcs")
        with self.lock:
            rule = FaultRule(
                self.next_number("fault"), path_prefix, kind, count, retry_after, delay, method.upper()
            )
            self.faults.append(rule)
            return rule

    def take_fault(self, method: str, path: str) -> FaultRule | None:
        with self.lock:
            for rule in self.faults:
                if rule.count == 0 or not path.startswith(rule.path_prefix):
                    continue
                if rule.method and rule.method != method.upper():
                    continue
                if rule.count > 0:
                    rule.count -= 1
                return rule
            chaos = self.chaos
            kind = chaos.draw(path) if chaos is not None else None
            if chaos is None or kind is None:
                return None
            return FaultRule(self.next_number("fault"), path, kind, 0, None, chaos.slow_delay, method.upper())

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.request_log.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(entry) for entry in self.request_log]

    def reset_log(self) -> None:
        with self.lock:
            self.request_log.clear()

    # -- device codes -----------------------------------------------------------------------

    def find_user_code(self, user_code: str) -> DeviceCodeRecord | None:
        wanted = user_code.strip().upper().replace("-", "")
        for record in self.device_codes.values():
            if record.user_code == wanted:
                return record
        return None

    def approve_device_code(self, user_code: str, approve: bool = True) -> bool:
        with self.lock:
            record = self.find_user_code(user_code)
            if record is None:
                return False
            record.approved = approve
            record.declined = not approve
            return True
