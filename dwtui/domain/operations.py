"""Long-running cloud operations (the dual-write application install; later the link), as pure data.

What a person waiting on an install needs: the operation's status in the service's words, when to
ask again (adaptive polling), how far along it probably is, and the log of every state change.
Every function here is a function of elapsed seconds, so tests need no clock and no network.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any

from dwtui.domain.models import ApplicationPackage

# The LCS page says the dual-write application install "can take up to 30 minutes".
TYPICAL_INSTALL_SECONDS = 30 * 60.0


class OperationKind(StrEnum):
    INSTALL = "install"  # a dual-write package (one per record; `plan` names the others)
    LINK = "link"
    ADD_DATAVERSE = "add-dataverse"  # BAP provisionInstance on a Power Platform environment


# Each operation under the name of the LCS page's button that starts it.
OPERATION_TITLES: dict[OperationKind, str] = {
    OperationKind.INSTALL: "Dual-write application",
    OperationKind.LINK: "Link to Power Platform environment",
    OperationKind.ADD_DATAVERSE: "Add Dataverse",
}
# [I] No source gives a typical duration for adding Dataverse; New-AdminPowerAppCdsDatabase waits
# up to 300 s by default (Microsoft.PowerApps.Administration.PowerShell), so minutes, not an hour.
TYPICAL_ADD_DATAVERSE_SECONDS = 10 * 60.0


class OperationStatus(StrEnum):
    """Power Platform API `operations/{id}` `status` (Canceled and Cancelled both occur)."""

    NOT_STARTED = "NotStarted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"
    UNKNOWN = "Unknown"  # a value this version does not know: keep watching, show it as is

    @property
    def terminal(self) -> bool:
        return self in (OperationStatus.SUCCEEDED, OperationStatus.FAILED, OperationStatus.CANCELED)


_STATUS_WORDS = {
    "notstarted": OperationStatus.NOT_STARTED,
    "running": OperationStatus.RUNNING,
    "inprogress": OperationStatus.RUNNING,
    "succeeded": OperationStatus.SUCCEEDED,
    "failed": OperationStatus.FAILED,
    "canceled": OperationStatus.CANCELED,
    # A third-party OpenAPI of the same API spells it this way.
    "cancelled": OperationStatus.CANCELED,
}


def parse_status(value: str) -> OperationStatus:
    word = value.strip().replace("_", "").replace(" ", "").lower()
    return _STATUS_WORDS.get(word, OperationStatus.UNKNOWN)


# -- what the services answer ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PackageListing:
    """A package as listed, with what the install step needs beyond ApplicationPackage.

    `body` is the list item as the service sent it: the install call's documented body.
    """

    package: ApplicationPackage
    terms_uris: tuple[str, ...] = ()  # termsOfServiceBlobUris, when the list carries them
    learn_more_url: str = ""  # learnMoreUrl
    body: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class InstallStarted:
    """The answer to POST …/applicationPackages/{uniqueName}/install: 200 with a body (the Power
    Platform API tutorial) or 202 with an Operation-Location header (the terraform provider)."""

    operation_id: str  # lastOperation.operationId, or the last segment of Operation-Location
    terms_uris: tuple[str, ...]  # termsOfServiceBlobUris
    state: str  # lastOperation.state, e.g. InstallRequested
    operation_url: str = ""  # Operation-Location, when the service gave one on its own origin


@dataclass(frozen=True, slots=True)
class OperationState:
    """The answer to GET …/operations/{operationId}."""

    status: OperationStatus
    raw_status: str = ""  # as the service spelled it
    message: str = ""  # statusMessage
    percent: float | None = None  # only when the service gives one
    error_code: str = ""
    error_message: str = ""
    # A claim followed without an operation id (its POST's answer was lost) learns it from a poll
    # that found the operation in the service's own state: the watcher keeps it from then on.
    operation_id: str = ""


@dataclass(frozen=True, slots=True)
class TermsDocument:
    uri: str
    text: str = ""  # readable text (HTML reduced to its words)
    error: str = ""  # why it could not be read; the front end then shows the URI to open


# -- the operation as dwtui remembers it --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageEntry:
    at: float  # time.time()
    status: OperationStatus
    message: str


@dataclass(frozen=True, slots=True)
class OperationRecord:
    """One operation dwtui started (or is starting), as persisted between runs. Nothing secret.

    `operation_id` is "" from the moment the slot is claimed until the service's answer to the
    POST arrives: a record in that state whose claimant has gone is a *stale claim*, and only the
    package state can tell whether the POST reached the service.
    """

    kind: OperationKind
    profile: str
    lcs_environment_id: str
    bap_environment_id: str
    package: str  # the package unique name
    started_at: float
    claim_id: str = ""
    operation_id: str = ""
    status: OperationStatus = OperationStatus.NOT_STARTED
    message: str = ""
    percent: float | None = None
    finished_at: float | None = None
    error_code: str = ""
    error_message: str = ""
    last_polled_at: float | None = None
    claimant_pid: int = 0
    claimant_host: str = ""
    log: tuple[StageEntry, ...] = ()
    operation_url: str = ""  # where to poll, when the service named it (Operation-Location, Location)
    plan: tuple[str, ...] = ()  # installs: every package of the plan, in order, this one included
    # False from the claim until just before the request leaves: a claim whose claimant died
    # while this is False certainly sent nothing. True for records of older files (unknown).
    request_sent: bool = True

    @property
    def starting(self) -> bool:
        return not self.operation_id and self.finished_at is None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def rest_of_plan(self) -> tuple[str, ...]:
        """The packages of the plan after this one."""
        names = [name.lower() for name in self.plan]
        if self.package.lower() not in names:
            return ()
        return self.plan[names.index(self.package.lower()) + 1 :]

    def observed(
        self, at: float, status: OperationStatus, message: str, percent: float | None
    ) -> OperationRecord:
        """This record after one poll: the log grows only when the status or message changed."""
        return replace(
            self,
            status=status,
            message=message,
            percent=percent,
            last_polled_at=at,
            log=with_stage(self.log, at, status, message),
        )


def with_stage(
    log: tuple[StageEntry, ...], at: float, status: OperationStatus, message: str
) -> tuple[StageEntry, ...]:
    if log and log[-1].status is status and log[-1].message == message:
        return log
    return (*log, StageEntry(at, status, message))


def record_to_json(record: OperationRecord) -> dict[str, Any]:
    return {
        "kind": record.kind.value,
        "profile": record.profile,
        "lcs_environment_id": record.lcs_environment_id,
        "bap_environment_id": record.bap_environment_id,
        "package": record.package,
        "started_at": record.started_at,
        "claim_id": record.claim_id,
        "operation_id": record.operation_id,
        "status": record.status.value,
        "message": record.message,
        "percent": record.percent,
        "finished_at": record.finished_at,
        "error_code": record.error_code,
        "error_message": record.error_message,
        "last_polled_at": record.last_polled_at,
        "claimant_pid": record.claimant_pid,
        "claimant_host": record.claimant_host,
        "log": [{"at": e.at, "status": e.status.value, "message": e.message} for e in record.log],
        "operation_url": record.operation_url,
        "plan": list(record.plan),
        "request_sent": record.request_sent,
    }


def record_from_json(data: Any) -> OperationRecord | None:
    """A record read back from the store; None for anything that is not one (a damaged entry)."""
    if not isinstance(data, dict):
        return None
    try:
        kind = OperationKind(str(data["kind"]))
        percent = data.get("percent")
        finished = data.get("finished_at")
        polled = data.get("last_polled_at")
        return OperationRecord(
            kind=kind,
            profile=str(data.get("profile", "")),
            lcs_environment_id=str(data["lcs_environment_id"]),
            bap_environment_id=str(data.get("bap_environment_id", "")),
            package=str(data.get("package", "")),
            started_at=float(data["started_at"]),
            claim_id=str(data.get("claim_id", "")),
            operation_id=str(data.get("operation_id", "")),
            status=parse_status(str(data.get("status", ""))),
            message=str(data.get("message", "")),
            percent=float(percent) if percent is not None else None,
            finished_at=float(finished) if finished is not None else None,
            error_code=str(data.get("error_code", "")),
            error_message=str(data.get("error_message", "")),
            last_polled_at=float(polled) if polled is not None else None,
            claimant_pid=int(data.get("claimant_pid", 0)),
            claimant_host=str(data.get("claimant_host", "")),
            log=tuple(
                StageEntry(float(e["at"]), parse_status(str(e["status"])), str(e.get("message", "")))
                for e in data.get("log", [])
                if isinstance(e, dict)
            ),
            operation_url=str(data.get("operation_url", "")),
            plan=tuple(str(name) for name in data.get("plan", ()) if isinstance(name, str)),
            request_sent=data.get("request_sent", True) is not False,
        )
    except (KeyError, TypeError, ValueError):
        return None


# -- when to ask again ------------------------------------------------------------------------

FIRST_PHASE_SECONDS = 30.0
FIRST_PHASE_INTERVAL = 2.0
GROWTH_PER_SECOND = 0.2  # after the first phase the interval grows by 0.2 s per second waited
MAX_INTERVAL = 60.0
NEAR_END_FACTOR = 0.2  # near the expected end, wait a fifth of the time still expected...
NEAR_END_INTERVAL = 8.0  # ...but not less than this, so completion is seen within ~8 s
OVERDUE_GRACE = 0.25  # keep the near-end rate until 1.25x the expected duration
OVERDUE_GROWTH = 0.05


def expected_duration(
    elapsed: float, percent: float | None, typical: float = TYPICAL_INSTALL_SECONDS
) -> float:
    """How long the whole operation should take: from the service's percent when it gives a usable one."""
    if percent is not None and 5.0 <= percent <= 100.0 and elapsed > 0:
        return min(max(elapsed * 100.0 / percent, elapsed), 4 * typical)
    return typical


def poll_delay(
    elapsed: float,
    *,
    typical: float = TYPICAL_INSTALL_SECONDS,
    percent: float | None = None,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait before the next poll, `elapsed` seconds into the operation.

    Often at first (quick failures show at once), then rarer, then often again as the expected end
    nears (that is when completion is most likely), and slowly rarer once well overdue. The
    service's Retry-After always wins.
    """
    if retry_after is not None and math.isfinite(retry_after):
        return max(0.0, retry_after)
    elapsed = max(0.0, elapsed)
    if elapsed < FIRST_PHASE_SECONDS:
        return FIRST_PHASE_INTERVAL
    growing = min(MAX_INTERVAL, FIRST_PHASE_INTERVAL + (elapsed - FIRST_PHASE_SECONDS) * GROWTH_PER_SECOND)
    expected = expected_duration(elapsed, percent, typical)
    remaining = expected - elapsed
    if remaining > 0:
        closing = max(NEAR_END_INTERVAL, remaining * NEAR_END_FACTOR)
    else:
        overdue = max(0.0, -remaining - OVERDUE_GRACE * expected)
        closing = NEAR_END_INTERVAL + overdue * OVERDUE_GROWTH
    return max(FIRST_PHASE_INTERVAL, min(growing, closing, MAX_INTERVAL))


def fault_delay(
    elapsed: float, streak: int, *, typical: float = TYPICAL_INSTALL_SECONDS, retry_after: float | None = None
) -> float:
    """After `streak` failed polls in a row: the schedule's wait, backed off, Retry-After first."""
    if retry_after is not None and math.isfinite(retry_after):
        return max(0.0, retry_after)
    backoff = min(MAX_INTERVAL, 2.0 ** max(0, streak))
    return max(poll_delay(elapsed, typical=typical), backoff)


# -- how far along -----------------------------------------------------------------------------

ESTIMATE_CAP = 0.95  # without the service's percent, never claim more than this


@dataclass(frozen=True, slots=True)
class ProgressEstimate:
    fraction: float  # 0..1 for a progress bar
    from_service: bool  # the service gave the percent
    eta_seconds: float | None  # None when unknown (or overdue)
    overdue: bool  # past the typical duration without finishing
    summary: str  # e.g. "about 12 min left", "taking longer than usual (typically 30 min)"


def estimate_progress(
    elapsed: float,
    percent: float | None,
    status: OperationStatus = OperationStatus.RUNNING,
    *,
    typical: float = TYPICAL_INSTALL_SECONDS,
) -> ProgressEstimate:
    elapsed = max(0.0, elapsed)
    if status is OperationStatus.SUCCEEDED:
        return ProgressEstimate(1.0, percent is not None, 0.0, False, "done")
    if status.terminal:
        fraction = (
            min(1.0, max(0.0, (percent or 0.0) / 100.0))
            if percent is not None
            else min(ESTIMATE_CAP, elapsed / typical if typical > 0 else 0.0)
        )
        return ProgressEstimate(fraction, percent is not None, None, False, status.value.lower())
    if percent is not None:
        fraction = min(1.0, max(0.0, percent / 100.0))
        eta = elapsed * (1.0 - fraction) / fraction if fraction > 0 else None
        summary = f"{percent:.0f}%" + (f", about {format_duration(eta)} left" if eta is not None else "")
        return ProgressEstimate(fraction, True, eta, False, summary)
    if typical <= 0 or elapsed >= typical:
        return ProgressEstimate(
            ESTIMATE_CAP,
            False,
            None,
            True,
            f"taking longer than usual (typically about {format_duration(typical)})",
        )
    fraction = min(ESTIMATE_CAP, elapsed / typical)
    eta = typical - elapsed
    return ProgressEstimate(fraction, False, eta, False, f"about {format_duration(eta)} left (estimate)")


def at_speed(seconds: float, speed: float) -> str:
    """What a documented duration becomes in the demo, after the sentence that gives it:
    " (about 15 s at --speed 20)" for 5 minutes; "" for real services (speed 1)."""
    if speed == 1.0 or speed <= 0:
        return ""
    scaled = seconds / speed
    shown = "under 1 s" if scaled < 0.5 else f"about {format_duration(scaled)}"
    return f" ({shown} at --speed {speed:g})"


def format_duration(seconds: float) -> str:
    """12 s, 4 min 05 s, 1 h 02 min: short and stable in width for the progress pane."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


# -- terms documents ---------------------------------------------------------------------------

NO_TERMS_NOTICE = (
    "The service did not list the terms of this package before the install. By installing it you "
    "accept the terms Microsoft publishes for it"
)


def no_terms_notice(learn_more_url: str) -> str:
    return NO_TERMS_NOTICE + (f": {learn_more_url}" if learn_more_url else ".")


class _TextOfHtml(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section"})
    _SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._preformatted = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS or tag == "pre":
            self.parts.append("\n")
        if tag == "pre":
            self._preformatted += 1
        if tag == "li":
            self.parts.append("• ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCKS or tag == "pre":
            self.parts.append("\n")
        if tag == "pre" and self._preformatted:
            self._preformatted -= 1

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        # As a browser shows it: a line break in the source is a space, only blocks break lines (so
        # the text wraps at the dialog's width, not where the author's editor did).
        self.parts.append(data if self._preformatted else re.sub(r"\s+", " ", data))


# Plain text is taken as hard-wrapped when its longest line is at least this long; then a line that
# reaches most of that width runs on into the next (a short line ends its paragraph).
_WRAPPED_WIDTH = 60
_RUNS_ON = 0.6
_LIST_ITEM = re.compile(r"\s|[-*•]\s|\d+[.)]\s")


def _reflowed(text: str) -> str:
    """Hard-wrapped paragraphs of a plain-text document joined into one line each; lists, indented
    lines and short lines kept as they are."""
    lines = text.splitlines()
    width = max((len(line) for line in lines), default=0)
    if width < _WRAPPED_WIDTH:
        return text
    joined: list[str] = []
    runs_on = False
    for line in lines:
        if runs_on and line.strip() and not _LIST_ITEM.match(line):
            joined[-1] = f"{joined[-1].rstrip()} {line.strip()}"
        else:
            joined.append(line)
        runs_on = bool(line.strip()) and len(line) >= width * _RUNS_ON
    return "\n".join(joined)


def readable_terms(content: str, content_type: str = "") -> str:
    """A terms document as plain text: HTML reduced to its words and paragraphs, hard-wrapped plain
    text reflowed, so it wraps evenly at whatever width shows it."""
    start = content.lstrip()[:15].lower()
    looks_html = "html" in content_type.lower() or start.startswith(("<!doctype", "<html"))
    if not looks_html:
        return _reflowed(content.strip())
    parser = _TextOfHtml()
    parser.feed(content)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    paragraphs: list[str] = []
    for line in lines:
        if line:
            paragraphs.append(line)
        elif paragraphs and paragraphs[-1]:
            paragraphs.append("")
    return "\n".join(paragraphs).strip()
