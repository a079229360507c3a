"""The readiness doctor: every check of the catalogue run concurrently, each within its own time limit.

Usage (a front end; blocking, so from a worker thread in the TUI):

    doctor = Doctor(session, DoctorInputs(environment_id=...))
    doctor.checks            # the checks that will run, in order: rows to draw before anything is known
    report = doctor.run(on_result=callback)   # callback(CheckResult) as each check finishes
    doctor.cancel()          # from another thread: the checks still running end as unknown

Each check runs in a daemon thread of its own and makes its reads through one shared Reads, which
makes every call once and keeps to each service's limit. A check that has not finished when its time
limit passes is reported as unknown ("timed out after N s", with what it was waiting for) and the
others go on; its thread is left to end on its own (the HTTP policy's timeouts end it) and whatever
it finds later is ignored. A check that cannot run says why (unknown). Callbacks come from the thread
that called run(), one at a time, in the order the checks finish.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dwtui.domain.doctor import CATALOGUE, CheckResult, CheckSpec, CheckState, DoctorReport, Finding
from dwtui.domain.doctor.common import could_not_read, crashed, timed_out
from dwtui.domain.models import LcsEnvironment, SignedIn
from dwtui.services.doctor_checks import JUDGES, Judge
from dwtui.services.doctor_reads import DoctorInputs, ReadFailed, Reads, running_check
from dwtui.services.errors import ServiceError
from dwtui.services.session import Session

__all__ = ["Doctor", "DoctorInputs", "ResultCallback", "run_doctor"]

ResultCallback = Callable[[CheckResult], None]


@dataclass(frozen=True, slots=True)
class _Done:
    check_id: str
    finding: Finding
    duration_s: float


class Doctor:
    def __init__(
        self,
        session: Session,
        inputs: DoctorInputs | None = None,
        *,
        time_limit: float | None = None,
        checks: Sequence[CheckSpec] = CATALOGUE,
        judges: Mapping[str, Judge] = JUDGES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`time_limit`, when given, replaces every check's own limit (seconds)."""
        unknown = [spec.check_id for spec in checks if spec.check_id not in judges]
        if unknown:
            raise ValueError(f"no judge for check(s) {', '.join(unknown)}")
        self.session = session
        self.inputs = inputs or DoctorInputs()
        self.time_limit = time_limit
        self._checks = tuple(checks)
        self._judges = judges
        self._clock = clock
        self._reads = Reads(session, self.inputs)
        self._finished: queue.Queue[_Done | None] = queue.Queue()
        self._cancelled = threading.Event()
        self._ran = False

    @property
    def checks(self) -> tuple[CheckSpec, ...]:
        return self._checks

    def limit_of(self, spec: CheckSpec) -> float:
        return self.time_limit if self.time_limit is not None else spec.time_limit

    def cancel(self) -> None:
        """Stop waiting: the checks still running are reported as unknown (their threads end on their own)."""
        self._cancelled.set()
        self._finished.put(None)

    @property
    def environment(self) -> LcsEnvironment | None:
        """The LCS environment, once a check has read it."""
        found = self._reads.done("environment")
        return found if isinstance(found, LcsEnvironment) else None

    def signed_in(self) -> SignedIn | None:
        return self.session.auth.signed_in()

    # -- running ------------------------------------------------------------------------------------

    def _run_one(self, spec: CheckSpec, judge: Judge) -> None:
        started = self._clock()
        with running_check(spec.check_id):
            try:
                finding = judge(self._reads)
            except ReadFailed as failed:
                finding = could_not_read(failed.what, failed.fault)
            except ServiceError as error:
                finding = could_not_read("what this check needs", error.fault)
            except Exception as error:  # a bug must not take the other checks down, nor show a traceback
                finding = crashed(type(error).__name__, str(error))
        self._finished.put(_Done(spec.check_id, finding, self._clock() - started))

    def run(self, on_result: ResultCallback | None = None) -> DoctorReport:
        """Run every check; `on_result` gets each result as it is known. Runs once per Doctor."""
        if self._ran:
            raise RuntimeError("a Doctor runs once; make another to run the checks again")
        self._ran = True
        started = self._clock()
        specs = {spec.check_id: spec for spec in self._checks}
        deadlines = {spec.check_id: started + self.limit_of(spec) for spec in self._checks}
        results: dict[str, CheckResult] = {}

        def report(result: CheckResult) -> None:
            results[result.check_id] = result
            if on_result is not None:
                on_result(result)

        for spec in self._checks:
            threading.Thread(
                target=self._run_one,
                args=(spec, self._judges[spec.check_id]),
                name=f"dwtui-doctor-{spec.check_id}",
                daemon=True,
            ).start()
        while len(results) < len(specs):
            pending = [check_id for check_id in specs if check_id not in results]
            if self._cancelled.is_set():
                for check_id in pending:
                    spec = specs[check_id]
                    finding = Finding(CheckState.UNKNOWN, "cancelled before it finished")
                    report(CheckResult.of(spec, finding, self._clock() - started))
                break
            wait = max(0.0, min(deadlines[check_id] for check_id in pending) - self._clock())
            try:
                done = self._finished.get(timeout=wait)
            except queue.Empty:
                done = None
            if done is not None and done.check_id not in results:
                report(CheckResult.of(specs[done.check_id], done.finding, done.duration_s))
            now = self._clock()
            for check_id in pending:
                if check_id not in results and deadlines[check_id] <= now:
                    spec = specs[check_id]
                    limit = self.limit_of(spec)
                    finding = timed_out(limit, self._reads.waiting_for(check_id))
                    report(CheckResult.of(spec, finding, limit))
        return DoctorReport(
            environment=self.environment,
            results=tuple(results[spec.check_id] for spec in self._checks),
        )


def run_doctor(
    session: Session,
    inputs: DoctorInputs | None = None,
    *,
    on_result: ResultCallback | None = None,
    time_limit: float | None = None,
) -> DoctorReport:
    return Doctor(session, inputs, time_limit=time_limit).run(on_result)
