"""Messages the app's thread workers post back to the UI thread.

Workers never touch widgets or reactives; each result, prompt or log entry crosses the thread
boundary as one of these (post_message is thread-safe). `generation` ties a result to the load
request that asked for it, so an answer to a superseded request is dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from dwtui.domain.assessment import Assessment
from dwtui.domain.models import DeviceCodePrompt, LcsEnvironment, PowerPlatformSnapshot, SignedIn

if TYPE_CHECKING:
    from dwtui.services.activity import ActivityEntry
    from dwtui.services.session import Session


class SessionReady(Message):
    """`connect` returned: the Session exists (no sign-in yet)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session


class DeviceCodeIssued(Message):
    """An interactive device-code sign-in started: show the code to the person."""

    def __init__(self, prompt: DeviceCodePrompt) -> None:
        super().__init__()
        self.prompt = prompt


class SignInFinished(Message):
    def __init__(self, signed_in: SignedIn) -> None:
        super().__init__()
        self.signed_in = signed_in


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
    """The project's environments, for the picker."""

    def __init__(self, environments: list[LcsEnvironment]) -> None:
        super().__init__()
        self.environments = environments


class ActivityRecorded(Message):
    """One ActivityLog entry; posted from whichever thread made the call."""

    def __init__(self, entry: ActivityEntry) -> None:
        super().__init__()
        self.entry = entry
