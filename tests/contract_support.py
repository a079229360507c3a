"""Contract fixtures (tests/contracts/*.json): loading them, and finding out which fields dwtui reads.

A fixture is one answer of one call as a public source shows it (docs example, a public tool's
published test fixture), with the source named. Each names the reader: the pure function of
dwtui.services that turns that answer into what dwtui shows. The reader runs on a recording copy of
the answer, which notes every key looked up (present or not) and every header asked for; those are
"the fields the client reads". Three rules keep client, simulator and sources in step:

- a field the reader looks up must be in the fixture, or be listed in its `inferred_reads` with why
  (an optional field no source shows, such as a paging link);
- the reader's result on the fixture must carry the values the fixture's `expect` names;
- the simulator's answers to the same call must have every read field that the fixture has, with the
  same JSON type (test_contracts_simulator.py). A fixture the simulator never answers with says why in
  `not_simulated`.

Paths: `a/b` keys (keys may hold dots: `@odata.nextLink`), `[]` any item of a list, `*` any value of
an object used as a map (read through .values() or .items()), `header:name` a response header (lower
case). `status` may list several codes (an error shape shared by every call of a service): the first
is the fixture's own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dwtui.domain.operations import readable_terms
from dwtui.domain.profile import parse_profile
from dwtui.domain.token_refusals import consent_fault, is_missing_consent
from dwtui.services import appuser, bap, dataverse, doctor_reads, dualwrite, lcs, ppapi
from dwtui.services.shapes import odata_values, service_fault

CONTRACTS = Path(__file__).parent / "contracts"
ITEM = "[]"
ANY_KEY = "*"
Path_ = tuple[str, ...]

# The real hosts the fixtures come from: the readers that check an origin compare against these.
PPAPI_BASE = "https://api.powerplatform.com"
BAP_BASE = "https://api.bap.microsoft.com"
FIXTURE_URL = "https://contract.invalid/fixture"


def show(path: Path_) -> str:
    return "/".join(path)


def parse_path(text: str) -> Path_:
    if text.startswith("header:"):
        return (text.lower(),)
    return tuple(part for part in text.split("/") if part)


# -- recording copies -----------------------------------------------------------------------------


class _Log:
    def __init__(self) -> None:
        self.reads: set[Path_] = set()


def _wrap(value: Any, path: Path_, log: _Log) -> Any:
    if isinstance(value, dict):
        return _RecordingDict(value, path, log)
    if isinstance(value, list):
        return _RecordingList(value, path, log)
    return value


class _RecordingDict(dict[str, Any]):
    """A dict that notes every key asked of it; values come back as recording copies."""

    def __init__(self, data: Mapping[str, Any], path: Path_, log: _Log) -> None:
        super().__init__(data)
        self._path = path
        self._log = log

    def _child(self, key: str) -> Any:
        return _wrap(dict.__getitem__(self, key), (*self._path, key), self._log)

    def __getitem__(self, key: str) -> Any:
        self._log.reads.add((*self._path, key))
        return self._child(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._log.reads.add((*self._path, key))
        return self._child(key) if dict.__contains__(self, key) else default

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self._log.reads.add((*self._path, key))
        return dict.__contains__(self, key)

    def values(self) -> Any:
        self._log.reads.add((*self._path, ANY_KEY))
        return [_wrap(v, (*self._path, ANY_KEY), self._log) for v in dict.values(self)]

    def items(self) -> Any:
        self._log.reads.add((*self._path, ANY_KEY))
        return [(k, _wrap(v, (*self._path, ANY_KEY), self._log)) for k, v in dict.items(self)]


class _RecordingList(list[Any]):
    def __init__(self, data: list[Any], path: Path_, log: _Log) -> None:
        super().__init__(data)
        self._path = path
        self._log = log

    def __getitem__(self, index: Any) -> Any:
        self._log.reads.add((*self._path, ITEM))
        value = list.__getitem__(self, index)
        if isinstance(index, slice):
            return [_wrap(v, (*self._path, ITEM), self._log) for v in value]
        return _wrap(value, (*self._path, ITEM), self._log)

    def __iter__(self) -> Iterator[Any]:
        self._log.reads.add((*self._path, ITEM))
        for value in list.__iter__(self):
            yield _wrap(value, (*self._path, ITEM), self._log)


class _RecordingHeaders(Mapping[str, str]):
    """Response headers, case-insensitive as HTTP's are, noting every name asked for."""

    def __init__(self, headers: Mapping[str, str], log: _Log) -> None:
        self._headers = {k.lower(): v for k, v in headers.items()}
        self._log = log

    def __getitem__(self, key: str) -> str:
        self._log.reads.add((f"header:{key.lower()}",))
        return self._headers[key.lower()]

    def get(self, key: str, default: Any = None) -> Any:
        self._log.reads.add((f"header:{key.lower()}",))
        return self._headers.get(key.lower(), default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None
    text: str = ""  # a text body (terms documents)


# -- the readers: dwtui's own code, one per kind of answer ------------------------------------------

_PROFILE = parse_profile(
    "contract",
    {
        "tenant_id": "contoso.onmicrosoft.com",
        "client_id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "lcs_project_id": "1234567",
        "environment_id": "6f4a1c2e9b3d4e8fa7c05d1b2e3f4a5b",
    },
)


def _values(service: str, answer: Answer, what: str) -> list[Any]:
    """Items of an OData/ARM list through the clients' own pager, given this one page."""
    return [
        item
        for item, _ in odata_values(
            service,
            FIXTURE_URL,
            lambda url, params: answer.body,
            params={},
            origin=FIXTURE_URL,
            what=what,
            max_pages=1,
        )
    ]


def _dataverse_rows(answer: Answer, parse: Callable[[Mapping[str, Any]], Any]) -> list[Any]:
    return [parse(row) for row in appuser.parse_rows(answer.body, "the rows", FIXTURE_URL)]


def _connection_set(answer: Answer) -> Any:
    # The status pane reads it; a reset sends most of it back (reset_payload reads it too).
    link = dualwrite.parse_connection_set(answer.body, "cid", "cname", "", FIXTURE_URL)
    return {"link": link, "reset": dualwrite.reset_payload(answer.body, None)}


def _token_error(answer: Answer) -> Any:
    missing = is_missing_consent(answer.body)
    scope = "https://api.powerplatform.com/.default"
    fault = consent_fault(_PROFILE, scope, answer.body) if missing else None
    return {"missing_consent": missing, "fault": fault}


READERS: dict[str, Callable[[Answer], Any]] = {
    "lcs.page": lambda a: lcs.parse_page(a.body, FIXTURE_URL),
    "bap.environment_list": lambda a: [
        bap.parse_environment(item, FIXTURE_URL) for item in _values(bap.SERVICE, a, "the environment list")
    ],
    "bap.environment": lambda a: bap.parse_environment(a.body, FIXTURE_URL),
    "bap.provision_accepted": lambda a: bap.parse_provision_accepted(a.headers, FIXTURE_URL, BAP_BASE),
    "bap.lifecycle": lambda a: bap.parse_lifecycle(a.body, FIXTURE_URL),
    "bap.error": lambda a: service_fault(bap.SERVICE, a.body, a.status, FIXTURE_URL),
    "ppapi.listings": lambda a: [
        ppapi.parse_listing(item, FIXTURE_URL) for item in _values(ppapi.SERVICE, a, "the package list")
    ],
    "ppapi.install": lambda a: ppapi.parse_install(
        a.body,
        FIXTURE_URL,
        operation_location=a.headers.get("Operation-Location") or "",
        base=PPAPI_BASE,
    ),
    "ppapi.operation": lambda a: ppapi.parse_operation(a.body, FIXTURE_URL),
    "ppapi.terms": lambda a: readable_terms(a.text, a.headers.get("Content-Type") or ""),
    "dataverse.integration_details": lambda a: dataverse.parse_integration_details(a.body, FIXTURE_URL),
    "dataverse.who_am_i": lambda a: dataverse.parse_who_am_i(a.body, FIXTURE_URL),
    "dataverse.business_units": lambda a: _dataverse_rows(a, appuser.parse_business_unit),
    "dataverse.roles": lambda a: _dataverse_rows(a, appuser.parse_role),
    "dataverse.application_users": lambda a: _dataverse_rows(
        a, lambda row: appuser.parse_application_user("app", row)
    ),
    "dataverse.user_roles": lambda a: doctor_reads.parse_user_roles(a.body, FIXTURE_URL),
    "dataverse.created_user": lambda a: appuser.parse_created_user_id(a.body, a.headers, FIXTURE_URL),
    "dataverse.error": lambda a: service_fault(dataverse.SERVICE, a.body, a.status, FIXTURE_URL),
    "gateway.environments": lambda a: dualwrite.parse_environments(a.body, FIXTURE_URL),
    "gateway.connection_set": _connection_set,
    "gateway.maps": lambda a: dualwrite.parse_running_maps(a.body, FIXTURE_URL),
    "gateway.link_started": lambda a: dualwrite.parse_link_started(a.body, FIXTURE_URL),
    "gateway.link_status": lambda a: dualwrite.parse_link_status(a.body, FIXTURE_URL),
    "signin.token_error": _token_error,
    # Answers dwtui only checks for success (2xx): it reads nothing from them.
    "nothing": lambda a: None,
}


def read(reader: str, answer: Answer) -> tuple[Any, set[Path_]]:
    """What `reader` makes of `answer`, and every path it looked up."""
    log = _Log()
    recorded = Answer(
        answer.status,
        _RecordingHeaders(answer.headers, log),
        _wrap(answer.body, (), log),
        answer.text,
    )
    return READERS[reader](recorded), log.reads


# -- fixtures ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    name: str
    call: str
    service: str
    method: str
    path: re.Pattern[str]
    status: tuple[int, ...]
    reader: str
    source: str
    verbatim: bool
    answer: Answer
    inferred_reads: dict[str, str]
    expect: dict[str, Any]
    not_simulated: str  # why the simulator never gives this answer ("" = it does)
    raw: dict[str, Any] = field(repr=False)

    def matches(self, service: str, method: str, url_path: str, status: int) -> bool:
        return (
            service == self.service
            and self.method in ("*", method)
            and self.path.search(url_path) is not None
            and status in self.status
        )


REQUIRED = ("call", "service", "method", "path", "status", "reader", "source", "verbatim", "notes")


def load(path: Path) -> Contract:
    raw = json.loads(path.read_text(encoding="utf-8"))
    missing = [key for key in REQUIRED if key not in raw]
    if missing:
        raise ValueError(f"{path.name}: missing {', '.join(missing)}")
    if ("body" in raw) + ("text" in raw) > 1:
        raise ValueError(f"{path.name}: a body or a text, not both")
    statuses = raw["status"] if isinstance(raw["status"], list) else [raw["status"]]
    return Contract(
        name=path.stem,
        call=raw["call"],
        service=raw["service"],
        method=raw["method"],
        path=re.compile(raw["path"]),
        status=tuple(int(s) for s in statuses),
        reader=raw["reader"],
        source=raw["source"],
        verbatim=bool(raw["verbatim"]),
        answer=Answer(
            statuses[0], raw.get("headers", {}), raw.get("body"), raw.get("text", "")
        ),
        inferred_reads=dict(raw.get("inferred_reads", {})),
        expect=dict(raw.get("expect", {})),
        not_simulated=str(raw.get("not_simulated", "")),
        raw=raw,
    )


def contracts() -> list[Contract]:
    return [load(path) for path in sorted(CONTRACTS.glob("*.json"))]


# -- paths in answers -------------------------------------------------------------------------------


def values_at(answer_body: Any, headers: Mapping[str, str], path: Path_) -> list[Any]:
    """Every value at `path` (a wildcard matches each item); empty when the path is absent."""
    if path and path[0].startswith("header:"):
        wanted = path[0].removeprefix("header:")
        return [v for k, v in headers.items() if k.lower() == wanted]
    found = [answer_body]
    for part in path:
        nxt: list[Any] = []
        for value in found:
            if part == ITEM and isinstance(value, list):
                nxt.extend(value)
            elif part == ANY_KEY and isinstance(value, dict):
                nxt.extend(value.values())
            elif isinstance(value, dict) and part in value:
                nxt.append(value[part])
        found = nxt
    return found


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def attribute(result: Any, dotted: str) -> Any:
    """`0.instance_url` of a reader's result: list indexes, mapping keys and attributes."""
    value = result
    for part in dotted.split(".") if dotted else []:
        if isinstance(value, list | tuple) and re.fullmatch(r"-?\d+", part):
            value = value[int(part)]
        elif isinstance(value, Mapping):
            value = value[part]
        else:
            value = getattr(value, part)
    return value


def plain(value: Any) -> Any:
    """Enums as their value, tuples as lists: what a JSON `expect` can name."""
    if hasattr(value, "value") and type(value).__module__.startswith("dwtui"):
        return value.value
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value
