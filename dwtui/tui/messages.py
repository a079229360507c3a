"""Messages that cross components: from the App's workers, and between the page and its flows.

Workers never touch widgets or reactives; each result crosses the thread boundary as a message
(post_message is thread-safe). A flow's own messages live in its module; these are the ones more
than one component knows: a flow tells the page what to show or read, and the page tells the App
when a sign-in is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message

# Types only: the App's first frame must not wait for the domain's data types to load.
if TYPE_CHECKING:
    from dwtui.domain.models import DeviceCodePrompt, Fault, SignedIn
    from dwtui.domain.operations import OperationKind, OperationRecord
    from dwtui.services.activity import ActivityEntry
    from dwtui.services.session import Session

# -- the App's workers ------------------------------------------------------------------------------


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


class ActivityRecorded(Message):
    """One ActivityLog entry; posted from whichever thread made the call."""

    def __init__(self, entry: ActivityEntry) -> None:
        super().__init__()
        self.entry = entry


# -- to the App ---------------------------------------------------------------------------------------


class SignInNeeded(Message):
    """A call needs a new sign-in to go on: the App starts one unless one is under way."""


class SignInLost(Message):
    """A call said the sign-in is no longer valid: nobody is signed in until the person signs in again."""


# -- from a flow to its page ------------------------------------------------------------------------


class OperationStarted(Message):
    """An install or link was claimed and posted (or was found already under way): watch it."""

    def __init__(self, record: OperationRecord, note: str = "") -> None:
        super().__init__()
        self.record = record
        self.note = note


class ProgressNote(Message):
    """A sentence for the Progress pane while nothing is watched (what is being prepared or done)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ReadAgain(Message):
    """Read Power Platform Integration again: a change may have moved the buttons or the warning."""


class WatchStarted(Message):
    """An install or link is now watched: the page shows it as under way at once."""

    def __init__(self, kind: OperationKind) -> None:
        super().__init__()
        self.kind = kind


class OperationFinished(Message):
    """A watched install or link ended, and the Progress pane shows how; its flow tells the person."""

    def __init__(
        self,
        kind: OperationKind,
        succeeded: bool,
        text: str,
        details: str = "",
        record: OperationRecord | None = None,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.succeeded = succeeded
        self.record = record  # the operation as it ended
        self.text = text  # one line: what happened
        self.details = details  # the failure's code, meaning and remedy

    def notify_person(self, notify: Callable[..., None]) -> None:
        """The notification that says how it ended (a flow's `notify`)."""
        from dwtui.domain.operations import OPERATION_TITLES

        title = OPERATION_TITLES[self.kind]
        if self.succeeded:
            notify(self.text, title=title, timeout=10)
        else:
            notify(f"{self.text}\n{self.details}".strip(), title=title, severity="error", timeout=15)


class FlowFailed(Message):
    """A flow's worker failed: the page shows the fault (code, meaning, remedy)."""

    def __init__(self, title: str, fault: Fault, *, read_again: bool) -> None:
        super().__init__()
        self.title = title
        self.fault = fault
        self.read_again = read_again
