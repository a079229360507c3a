"""What the Environment details page reads: the environment (LCS), its Power Platform Integration
(BAP, Dataverse, the Power Platform API, the gateway) and the project's environments for the picker.

Each read is a thread worker that reports back only with a message. The services are imported by
the Session, which the App opened; nothing here loads the HTTP stack. `generation` ties an answer to
the load that asked for it, so the answer to a superseded request is dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.message import Message
from textual.worker import Worker, WorkerState

from dwtui.domain.assessment import Assessment
from dwtui.domain.models import Fault, LcsEnvironment, PowerPlatformSnapshot
from dwtui.domain.profile import ProfileError, validate_environment_id
from dwtui.services.errors import SignInRequired
from dwtui.tui.flow import Flow
from dwtui.tui.formatting import fault_of
from dwtui.tui.messages import SignInLost
from dwtui.tui.workers import LatestWorkers, service_worker

if TYPE_CHECKING:
    from dwtui.services.session import Session


class EnvironmentRead(Message):
    """LCS answered for the environment being shown."""

    def __init__(self, environment: LcsEnvironment, generation: int) -> None:
        super().__init__()
        self.environment = environment
        self.generation = generation


class PowerPlatformRead(Message):
    def __init__(
        self,
        environment: LcsEnvironment,
        snapshot: PowerPlatformSnapshot,
        assessment: Assessment,
        generation: int,
    ) -> None:
        super().__init__()
        self.environment = environment
        self.snapshot = snapshot
        self.assessment = assessment
        self.generation = generation


class EnvironmentsListed(Message):
    """A project's environments, for the picker."""

    def __init__(self, project_id: str, environments: list[LcsEnvironment]) -> None:
        super().__init__()
        self.project_id = project_id
        self.environments = environments


class ReadFailed(Message):
    """A read failed; `name` is the read's worker: environment, power-platform or environments."""

    def __init__(self, name: str, fault: Fault) -> None:
        super().__init__()
        self.name = name
        self.fault = fault


class EnvironmentReader(Flow):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.generation = 0
        self._latest = LatestWorkers()

    def new_generation(self) -> int:
        self.generation += 1
        return self.generation

    def running(self, name: str) -> bool:
        return self._latest.running(name)

    # -- starters (UI thread) ------------------------------------------------------------------

    def read_environment(self, session: Session, reference: str, project_id: str = "") -> None:
        """`project_id`: the LCS project that holds it ("" is the profile's; the fleet opens others)."""
        self._latest.track(self._read_environment(session, reference, project_id, self.new_generation()))

    def read_power_platform(self, session: Session, environment: LcsEnvironment) -> None:
        self._latest.track(self._read_power_platform(session, environment, self.generation))

    def list_environments(self, session: Session, project_id: str) -> None:
        self._latest.track(self._list_environments(session, project_id))

    # -- workers (threads) ---------------------------------------------------------------------

    @service_worker("environment", "Reading the environment from LCS")
    def _read_environment(self, session: Session, reference: str, project_id: str, generation: int) -> None:
        try:
            environment_id = validate_environment_id(reference)
        except ProfileError:
            environment_id = ""  # not an id: a name, as `dwtui --environment contoso-uat` allows
        if environment_id:
            environment = session.environment(environment_id, project_id)
        else:
            project = project_id or session.profile.lcs_project_id
            environment = session.lcs.environment_by_name(project, reference)
        self.post_message(EnvironmentRead(environment, generation))

    @service_worker("power-platform", "Reading Power Platform Integration")
    def _read_power_platform(self, session: Session, environment: LcsEnvironment, generation: int) -> None:
        snapshot = session.power_platform(environment)
        assessment = session.assess(environment, snapshot)
        self.post_message(PowerPlatformRead(environment, snapshot, assessment, generation))

    @service_worker("environments", "Listing the project's environments")
    def _list_environments(self, session: Session, project_id: str) -> None:
        self.post_message(EnvironmentsListed(project_id, session.environments(project_id)))

    @on(Worker.StateChanged)
    def _read_failed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR or not self._latest.is_current(worker):
            return
        if isinstance(worker.error, SignInRequired):
            self.post_message(SignInLost())
        self.post_message(ReadFailed(worker.name, fault_of(worker.error)))
