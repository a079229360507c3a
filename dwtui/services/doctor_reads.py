"""The doctor's reads: each service call made once however many checks need its answer, and no more
at a time than each service allows.

Checks run in threads of their own and ask for what they need; the first to ask makes the call, the
others wait for its answer. LCS allows 6 calls per project per minute (reference-environment-
metadata.md), so its calls go one at a time, and the doctor makes one for the environment; every
other service gets a few calls at a time. Which call a check is waiting for is kept, so a check that
runs out of time says what it was waiting for.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from dwtui.domain.appuser import AppUserLookup, SecurityRole
from dwtui.domain.flight import FlightCheck, FlightPlan
from dwtui.domain.models import (
    ApplicationPackage,
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    IntegrationDetails,
    LcsEnvironment,
)
from dwtui.domain.onebox import OneboxFacts
from dwtui.services.activity import ActivityEntry, ActivityLog
from dwtui.services.appuser import ApplicationUsers, parse_role
from dwtui.services.dataverse import HEADERS
from dwtui.services.dataverse import SERVICE as DATAVERSE
from dwtui.services.errors import ServiceError
from dwtui.services.http import HttpPolicy
from dwtui.services.session import Session
from dwtui.services.shapes import expect_dict, expect_list
from dwtui.services.verify import VerifyResult, verify_onebox

T = TypeVar("T")

SIGN_IN = "sign-in"
# Calls at a time per service. LCS: one (its limit is per project per minute); the identity provider
# and the others: a few, well under Dataverse's documented 52 concurrent requests per user.
LIMITS = {"LCS API": 1, SIGN_IN: 2, "AXDB": 1}
DEFAULT_LIMIT = 4
AUDIT_TAIL_BYTES = 4 * 1024 * 1024  # the end of activity.jsonl is enough to find the last restart


class ReadFailed(ServiceError):
    """A read's fault, with what was being read (the check that needed it says so)."""

    def __init__(self, what: str, fault: Fault) -> None:
        super().__init__(fault)
        self.what = what


@dataclass(frozen=True, slots=True)
class DoctorInputs:
    environment_id: str = ""  # "" = the profile's
    # The LCS environment when the caller has already read it (the main screen, the fleet): then the
    # doctor makes no LCS call at all, which keeps many runs within LCS's limit per project.
    environment: LcsEnvironment | None = None
    onebox_app_id: str = ""  # the one-box's app registration; the demo's when "" in the demo
    axdb_connection_string: str = ""  # the one-box's AXDB; the demo's when "" in the demo


_current = threading.local()


@contextmanager
def running_check(check_id: str) -> Iterator[None]:
    """Mark the calling thread as running `check_id` (so its waits can be named)."""
    _current.check_id = check_id
    try:
        yield
    finally:
        _current.check_id = ""


def attempt(read: Callable[[], T]) -> T | Fault:
    try:
        return read()
    except ServiceError as error:
        return error.fault


class Reads:
    def __init__(self, session: Session, inputs: DoctorInputs) -> None:
        self.session = session
        self.inputs = inputs
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Any]] = {}
        self._limits: dict[str, threading.BoundedSemaphore] = {}
        self._waiting: dict[str, str] = {}

    # -- the machinery ------------------------------------------------------------------------------

    def waiting_for(self, check_id: str) -> str:
        with self._lock:
            return self._waiting.get(check_id, "")

    def _limit(self, service: str) -> threading.BoundedSemaphore:
        with self._lock:
            semaphore = self._limits.get(service)
            if semaphore is None:
                semaphore = threading.BoundedSemaphore(LIMITS.get(service, DEFAULT_LIMIT))
                self._limits[service] = semaphore
            return semaphore

    def _once(self, key: str, service: str, what: str, read: Callable[[], T]) -> T:
        """`read()`'s value, computed by the first caller; a ServiceError becomes ReadFailed(what)."""
        check_id = getattr(_current, "check_id", "")
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = Future()
                self._futures[key] = future
            if check_id:
                self._waiting[check_id] = f"{service}: {what}"
        if owner:
            try:
                with self._limit(service):
                    value = read()
            except ServiceError as error:
                future.set_exception(ReadFailed(what, error.fault))
            except BaseException as error:  # a bug in a read: every check that needs it says so
                future.set_exception(error)
            else:
                future.set_result(value)
        try:
            result: T = future.result()
        finally:
            if check_id:
                with self._lock:
                    self._waiting.pop(check_id, None)
        return result

    def done(self, key: str) -> Any:
        """A read's value if it has already succeeded, else None (never waits)."""
        with self._lock:
            future = self._futures.get(key)
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()

    # -- sign-in ------------------------------------------------------------------------------------

    def token(self, scope: str) -> None:
        """A token for `scope` (the value is never kept here: only whether one was issued)."""
        getter = self.session.auth.token_getter(scope)
        self._once(f"token {scope}", SIGN_IN, f"a token for {scope}", lambda: bool(getter()))

    # -- LCS and the Power Platform -------------------------------------------------------------------

    def environment(self) -> LcsEnvironment:
        known, wanted = self.inputs.environment, self.inputs.environment_id
        return self._once(
            "environment",
            "LCS API",
            "the environment (environmentinfo/v1/detail)",
            lambda: known if known is not None else self.session.selected_environment(wanted),
        )

    def dataverse(self) -> DataverseEnvironment | None:
        """The Power Platform environment Power Platform Integration links to this environment."""
        environment = self.environment()
        return self._once(
            "bap",
            "BAP admin API",
            "the Power Platform environments (scopes/admin/environments)",
            lambda: self.session.bap.for_fo_environment(environment),
        )

    def instance_url(self) -> str:
        dataverse = self.dataverse()
        return dataverse.instance_url if dataverse is not None else ""

    def integration(self) -> IntegrationDetails:
        url = self.instance_url()
        return self._once(
            "integration",
            "Dataverse",
            "RetrieveFinanceAndOperationsIntegrationDetails",
            lambda: self.session.dataverse(url).integration_details(),
        )

    def my_roles(self) -> tuple[str, tuple[SecurityRole, ...]]:
        """WhoAmI, then that systemuser's directly assigned roles: (UserId, roles)."""
        url = self.instance_url()

        def read() -> tuple[str, tuple[SecurityRole, ...]]:
            client = self.session.dataverse(url)
            me = client.who_am_i()
            return me.user_id, person_roles(client.api_url, client.http, client.token, me.user_id)

        return self._once("my roles", "Dataverse", "WhoAmI and your roles", read)

    def packages(self) -> tuple[ApplicationPackage, ...]:
        dataverse = self.dataverse()
        assert dataverse is not None
        return self._once(
            "packages",
            "Power Platform API",
            "the application packages",
            lambda: self.session.ppapi.packages(dataverse.bap_environment_id),
        )

    # -- the dual-write gateway --------------------------------------------------------------------------

    def link(self) -> DualWriteLink | None:
        """None when the profile names no gateway."""
        gateway = self.session.gateway
        if gateway is None:
            return None
        environment = self.environment()
        return self._once(
            "link",
            "dual-write gateway",
            "the link (Environments, ConnectionSet)",
            lambda: gateway.link(environment.fo_url),
        )

    def running_maps(self) -> tuple[str, ...]:
        link = self.link()
        gateway = self.session.gateway
        assert link is not None and gateway is not None
        return self._once(
            "maps",
            "dual-write gateway",
            "the table maps (Entities)",
            lambda: gateway.running_maps(link.connection_set_id),
        )

    def link_integration(self) -> IntegrationDetails | Fault | None:
        """What the Dataverse dual-write is linked to says of its own integration, as Session.power_platform
        reads it to explain a mismatch: only when that Dataverse is not the one BAP names."""
        link = self.link()
        if link is None or not link.linked or not link.dataverse_url:
            return None
        dataverse = attempt(self.dataverse)
        if isinstance(dataverse, DataverseEnvironment) and dataverse.instance_url == link.dataverse_url:
            return None
        url = link.dataverse_url
        return attempt(
            lambda: self._once(
                "link integration",
                "Dataverse",
                "the linked Dataverse's RetrieveFinanceAndOperationsIntegrationDetails",
                lambda: self.session.dataverse(url).integration_details(),
            )
        )

    # -- the one-box -------------------------------------------------------------------------------------

    def onebox_app_id(self) -> tuple[str, str]:
        """(app id, where it came from); "" when none is known."""
        if self.inputs.onebox_app_id:
            return self.inputs.onebox_app_id, "given with --app-id"
        demo = self.session.demo
        if demo is not None and demo.onebox_application_id:
            return demo.onebox_application_id, "the demo's simulated one-box app"
        return "", ""

    def axdb_connection(self) -> str:
        if self.inputs.axdb_connection_string:
            return self.inputs.axdb_connection_string
        demo = self.session.demo
        return demo.axdb_connection_string if demo is not None else ""

    def app_user(self, application_id: str) -> AppUserLookup:
        url = self.instance_url()
        return self._once(
            "app user",
            "Dataverse",
            "the one-box app's application user (systemusers)",
            lambda: ApplicationUsers(self.session.dataverse(url), clock=self.session.clock).lookup(
                application_id
            ),
        )

    def flight(self) -> FlightCheck:
        from dwtui.services.axdb import read_flight

        connection = self.axdb_connection()
        return self._once(
            "flight",
            "AXDB",
            "the flight's rows (SYSFLIGHTING, PARTITIONS)",
            lambda: read_flight(
                connection, FlightPlan(), activity=self.session.activity, clock=self.session.clock
            ),
        )

    def verify(self, application_id: str, facts: OneboxFacts) -> VerifyResult:
        url = self.instance_url()
        return self._once(
            "verify",
            "Dataverse",
            "WhoAmI as the one-box app",
            lambda: verify_onebox(self.session, url, application_id, facts=facts),
        )

    def activity_records(self) -> list[ActivityEntry]:
        return activity_records(self.session.activity)


def person_roles(
    api_url: str, http: HttpPolicy, token: Callable[[], str], systemuser_id: str
) -> tuple[SecurityRole, ...]:
    """The roles assigned to one systemuser directly, as terraform-provider-power-platform reads them
    (internal/services/authorization/api_user.go GetDataverseUserBySystemUserId: `systemusers({id})`
    with `$expand=systemuserroles_association($select=roleid,name,ismanaged,_businessunitid_value)`)."""
    user = systemuser_id.strip().lower()
    url = f"{api_url}/systemusers({user})"
    body = http.get_json(
        DATAVERSE,
        url,
        token=token(),
        params={
            "$select": "systemuserid",
            "$expand": "systemuserroles_association($select=roleid,name,_businessunitid_value)",
        },
        headers=HEADERS,
    )
    return parse_user_roles(body, url)


def parse_user_roles(body: Any, url: str = "") -> tuple[SecurityRole, ...]:
    """One `systemusers({id})` row's expanded `systemuserroles_association` (TF's userDto)."""
    row = expect_dict(DATAVERSE, body, "the systemuser", url)
    roles = expect_list(DATAVERSE, row.get("systemuserroles_association") or [], "its roles", url)
    return tuple(parse_role(expect_dict(DATAVERSE, item, "a role", url)) for item in roles)


def activity_records(activity: ActivityLog) -> list[ActivityEntry]:
    """This run's Activity entries and, for a real profile, the end of its audit trail on disk."""
    records = list(activity.entries())
    path = activity.path
    if path is not None:
        records.extend(_audit_tail(path))
    return records


def _audit_tail(path: Path) -> list[ActivityEntry]:
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - AUDIT_TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []  # no trail yet, or unreadable: the check says it has no record
    entries = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            raw = json.loads(line)
        except ValueError:
            continue  # the first line of a tail is usually cut
        if not isinstance(raw, dict):
            continue
        try:
            entries.append(
                ActivityEntry(
                    at=float(raw.get("at") or 0.0),
                    kind=str(raw.get("kind") or ""),
                    summary=str(raw.get("summary") or ""),
                    service=str(raw.get("service") or ""),
                    status=raw.get("status") if isinstance(raw.get("status"), int) else None,
                )
            )
        except (TypeError, ValueError):
            continue
    return entries
