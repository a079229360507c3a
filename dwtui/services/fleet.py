"""The fleet: every environment of one or more LCS projects, read concurrently, rows reported as they fill in.

`FleetReader.read()` blocks (call it from a worker thread) and reports each row through `on_row`
whenever it changes: first from the on-disk cache (at once, with the ages of its facts), then as
LCS lists the environment (name, type, state, version; the rest still being read), then complete.
Calls to `on_row` and `on_project` never overlap, but come from the reader's threads: a listener
should hand the row on without waiting (a TUI posts a message) rather than block the readers.

How it spends the services' limits:
- LCS: "6 calls for each project per minute", 429 with retry-after beyond (MicrosoftDocs/dynamics-
  365-unified-operations-public, articles/fin-ops-core/dev-itpro/lifecycle-services/api/v1/
  reference-environment-metadata.md; /work/shared/reference/real-apis.md 1.2). The limit is per
  project, so projects are listed concurrently, each page of a project through the session's
  per-project limiter (services/rate_limit.py), which never lets a seventh call into a window; a
  429 all the same (another tool's calls) is waited out as its Retry-After says (services/http.py).
  Only the listing calls LCS: its pages carry every LCS fact a row shows.
- BAP: the tenant's Power Platform environments are listed once for every row (one call, not one
  per environment); Dataverse, the Power Platform API and the dual-write gateway are asked per
  environment, a few environments at a time, each call honouring Retry-After through the one HTTP
  policy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from dwtui.domain.assessment import Assessment, assess
from dwtui.domain.doctor import fleet as doctor_of_fleet
from dwtui.domain.doctor.fleet import FleetDoctorContext
from dwtui.domain.fleet import NOT_CHECKED, UNKNOWN, Fact, FleetRow, failed_row, listed_row, read_row
from dwtui.domain.models import DataverseEnvironment, Fault, LcsEnvironment, PowerPlatformSnapshot
from dwtui.domain.operations import OperationRecord
from dwtui.services.activity import ActivityEntry
from dwtui.services.errors import ServiceError
from dwtui.services.fleet_cache import FILE_NAME, CachedProject, FleetCache
from dwtui.services.lcs import project_key
from dwtui.services.session import Session
from dwtui.services.status_json import operations_of

# Environments whose Power Platform facts are read at the same time (each read is a few calls in a row).
READERS = 8

# The doctor's hook: the worst finding of the environment's checks, as a fact. Without one, every
# row's doctor fact is NOT_CHECKED; the front ends pass fleet_doctor(session).
DoctorHook = Callable[[LcsEnvironment, PowerPlatformSnapshot, Assessment], Fact]
RowListener = Callable[[FleetRow], None]


@dataclass(frozen=True, slots=True)
class ProjectRead:
    """How a project's listing went: from LCS or the cache, how many environments, or why not."""

    project_id: str
    environments: int = 0
    listed_at: float | None = None
    from_cache: bool = False
    fault: Fault | None = None


ProjectListener = Callable[[ProjectRead], None]


@dataclass(frozen=True, slots=True)
class FleetResult:
    rows: tuple[FleetRow, ...]  # project by project (in the order asked), each in LCS's order
    projects: tuple[ProjectRead, ...]
    cancelled: bool = False

    @property
    def faults(self) -> tuple[Fault, ...]:
        """Every fault once: the projects' listings first, then the rows' facts."""
        seen: list[Fault] = []
        for fault in [p.fault for p in self.projects] + [f for row in self.rows for f in row.faults]:
            if fault is not None and fault not in seen:
                seen.append(fault)
        return tuple(seen)

    @property
    def complete(self) -> bool:
        return not self.cancelled and all(row.complete and not row.from_cache for row in self.rows)


def fleet_doctor(session: Session) -> DoctorHook:
    """The doctor's checks that need no extra read (dwtui.domain.doctor.fleet), on each row's facts.

    No call of its own: the tenant of your sign-in comes from the token cache, once, on first use
    (from a reader thread, so the keyring is never read on a front end's UI thread).
    """
    lock = threading.Lock()
    tenant: list[str] = []

    def judge(environment: LcsEnvironment, snapshot: PowerPlatformSnapshot, _: Assessment) -> Fact:
        with lock:
            if not tenant:
                tenant.append(session.signed_in_tenant())
        context = FleetDoctorContext(
            allow_production_changes=session.profile.allow_production_changes,
            signed_in_tenant=tenant[0],
            gateway_url=session.profile.dualwrite_gateway_url,
            gateway_is_simulator=session.gateway_is_simulator,
        )
        return doctor_of_fleet.judge(environment, snapshot, context)

    return judge


def default_cache(session: Session) -> FleetCache:
    """Beside the operation store: the state directory, or the demo's own folder."""
    return FleetCache(session.operations.path.parent / FILE_NAME)


def cache_scope(session: Session) -> str:
    """Which sign-in and LCS the cached rows belong to: another profile or tenant never sees them."""
    profile = session.profile
    return f"{profile.name}|{profile.tenant_id}|{profile.lcs_api_url}"


class FleetReader:
    def __init__(
        self,
        session: Session,
        *,
        cache: FleetCache | None = None,
        readers: int = READERS,
        clock: Callable[[], float] = time.time,
        doctor: DoctorHook | None = None,
    ) -> None:
        self.session = session
        self.cache = cache if cache is not None else default_cache(session)
        self.readers = max(1, readers)
        self.clock = clock
        self.doctor = doctor
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop the read under way: no new call is made, a wait for LCS's window ends at once, and
        read() returns soon (calls already sent end within their timeout). The next read() starts
        afresh."""
        self._cancel.set()
        self.session.lcs_limiter.wake()

    def read(
        self,
        project_ids: Sequence[str],
        on_row: RowListener | None = None,
        on_project: ProjectListener | None = None,
        *,
        refresh: bool = False,
    ) -> FleetResult:
        """Every environment of the projects; `refresh` lists LCS even when the cache is fresh."""
        self._cancel = threading.Event()
        run = _Run(self, on_row, on_project)
        projects = list(dict.fromkeys(project_key(p) for p in project_ids if project_key(p)))
        cached = {p: self._load(p) for p in projects}
        for project in projects:
            entry = cached[project]
            if entry is not None:
                run.show_cached(project, entry)
        with ThreadPoolExecutor(self.readers, thread_name_prefix="dwtui-fleet") as pool:
            bap: Future[Sequence[DataverseEnvironment] | Fault] = pool.submit(self._bap_environments)
            with ThreadPoolExecutor(max(1, len(projects)), thread_name_prefix="dwtui-fleet-lcs") as listers:
                listings = [
                    listers.submit(run.list_project, p, None if refresh else cached[p], pool, bap)
                    for p in projects
                ]
                wait(listings)
            wait(run.reads)
        result = run.result(projects)
        self._save(run, projects)
        return result

    # -- the parts -------------------------------------------------------------------------------

    def _load(self, project: str) -> CachedProject | None:
        return self.cache.load(cache_scope(self.session), project)

    def _save(self, run: _Run, projects: list[str]) -> None:
        entries = []
        for project in projects:
            listing = run.listings.get(project)
            if listing is None:
                continue  # not listed this time: the cached entry (if any) stays as it was
            listed_at, environments = listing
            rows = tuple(
                row for row in run.rows_of(project) if row.complete and not row.from_cache
            )
            entries.append(CachedProject(project, listed_at, environments, rows))
        if entries:
            try:
                self.cache.save(cache_scope(self.session), entries)
            except OSError as error:  # a cache that cannot be written costs speed, not the read
                self.session.activity.record(
                    ActivityEntry(
                        at=time.time(),
                        kind="change",
                        summary=f"the fleet cache could not be written: {error.strerror or error}",
                    )
                )

    def _bap_environments(self) -> Sequence[DataverseEnvironment] | Fault:
        try:
            return self.session.bap.environments()
        except ServiceError as error:
            return error.fault

    def _records(self) -> list[OperationRecord]:
        try:
            return self.session.operations.records()
        except OSError:
            return []  # the store cannot be read: no operation of this machine shows

    def _read_environment(
        self, row: FleetRow, bap: Sequence[DataverseEnvironment] | Fault, records: list[OperationRecord]
    ) -> FleetRow:
        session = self.session
        environment = row.environment
        snapshot = session.power_platform(environment, bap_environments=bap)
        seen = operations_of(records, environment.environment_id)
        read_only = environment.is_production and not session.profile.allow_production_changes
        assessment = assess(
            environment,
            snapshot,
            read_only=read_only,
            installing=seen.install is not None,
            linking=seen.link is not None,
        )
        running = [r for r in (seen.install, seen.link, seen.add_dataverse) if r is not None]
        doctor = self._doctor(row, snapshot, assessment)
        return read_row(row, snapshot, assessment, running, doctor=doctor, now=self.clock())

    def _doctor(self, row: FleetRow, snapshot: PowerPlatformSnapshot, assessment: Assessment) -> Fact:
        """The doctor's worst finding; a doctor that could not run says why in its own cell only."""
        if self.doctor is None:
            return NOT_CHECKED
        try:
            return self.doctor(row.environment, snapshot, assessment)
        except ServiceError as error:
            return Fact(UNKNOWN, self.clock(), "the doctor could not run", fault=error.fault)


class _Run:
    """One read's shared state: the rows by key, in order, and the listener calls, one at a time."""

    def __init__(self, reader: FleetReader, on_row: RowListener | None, on_project: ProjectListener | None):
        self.reader = reader
        self.on_row = on_row
        self.on_project = on_project
        self.lock = threading.Lock()
        self.rows: dict[tuple[str, str], FleetRow] = {}
        self.order: dict[str, list[tuple[str, str]]] = {}
        self.projects: dict[str, ProjectRead] = {}
        self.listings: dict[str, tuple[float, tuple[LcsEnvironment, ...]]] = {}
        self.reads: list[Future[None]] = []
        self._records: list[OperationRecord] | None = None

    def emit(self, row: FleetRow) -> None:
        with self.lock:
            if self.rows.get(row.key) == row:
                return  # nothing new to show
            self.rows[row.key] = row
            keys = self.order.setdefault(row.project_id, [])
            if row.key not in keys:
                keys.append(row.key)
            if self.on_row is not None:
                self.on_row(row)

    def report(self, project: ProjectRead) -> None:
        with self.lock:
            self.projects[project.project_id] = project
            if self.on_project is not None:
                self.on_project(project)

    def show_cached(self, project: str, entry: CachedProject) -> None:
        by_id = {row.environment_id: row for row in entry.rows}
        for environment in entry.environments:
            self.emit(by_id.get(environment.environment_id) or _cached_listing(environment, entry.listed_at))

    def records(self) -> list[OperationRecord]:
        with self.lock:
            if self._records is None:
                self._records = self.reader._records()
            return self._records

    def list_project(
        self,
        project: str,
        cached: CachedProject | None,
        pool: ThreadPoolExecutor,
        bap: Future[Sequence[DataverseEnvironment] | Fault],
    ) -> None:
        reader = self.reader
        if cached is not None:
            for environment in cached.environments:
                self._start(self._listed(environment, cached.listed_at), pool, bap)
            self.listings[project] = (cached.listed_at, cached.environments)
            self.report(ProjectRead(project, len(cached.environments), cached.listed_at, from_cache=True))
            return
        lcs = reader.session.lcs.paced(reader._cancel)
        listed: list[LcsEnvironment] = []
        started = reader.clock()
        try:
            for page in lcs.pages(project):
                at = reader.clock()
                for environment in page:
                    if reader._cancel.is_set():
                        break
                    listed.append(environment)
                    self._start(self._listed(environment, at), pool, bap)
                if reader._cancel.is_set():
                    break
        except ServiceError as error:
            self.report(ProjectRead(project, len(listed), None, fault=error.fault))
            return
        if reader._cancel.is_set():
            self.report(ProjectRead(project, len(listed), None))
            return
        self.listings[project] = (started, tuple(listed))
        self.report(ProjectRead(project, len(listed), started))

    def _listed(self, environment: LcsEnvironment, at: float) -> FleetRow:
        """A freshly listed row; the cached facts it had stay on show until its own read replaces them."""
        row = listed_row(environment, at)
        with self.lock:
            shown = self.rows.get(row.key)
        if shown is not None and shown.from_cache:
            return replace(shown, environment=environment, lcs_read_at=at)
        return row

    def _start(
        self, row: FleetRow, pool: ThreadPoolExecutor, bap: Future[Sequence[DataverseEnvironment] | Fault]
    ) -> None:
        self.emit(row)
        self.reads.append(pool.submit(self._read, row, bap))

    def _read(self, row: FleetRow, bap: Future[Sequence[DataverseEnvironment] | Fault]) -> None:
        reader = self.reader
        if reader._cancel.is_set():
            return
        try:
            done = reader._read_environment(row, bap.result(), self.records())
        except ServiceError as error:
            done = failed_row(row, error.fault)
        self.emit(done)

    def rows_of(self, project: str) -> list[FleetRow]:
        with self.lock:
            return [self.rows[key] for key in self.order.get(project, [])]

    def result(self, projects: list[str]) -> FleetResult:
        rows: list[FleetRow] = []
        for project in projects:
            listing = self.listings.get(project)
            listed = {e.environment_id for e in listing[1]} if listing is not None else None
            # A fresh listing is the truth: environments it no longer has are left out.
            rows.extend(r for r in self.rows_of(project) if listed is None or r.environment_id in listed)
        reports = tuple(self.projects.get(p, ProjectRead(p)) for p in projects)
        return FleetResult(tuple(rows), reports, self.reader._cancel.is_set())


def _cached_listing(environment: LcsEnvironment, listed_at: float) -> FleetRow:
    return replace(listed_row(environment, listed_at), from_cache=True)
