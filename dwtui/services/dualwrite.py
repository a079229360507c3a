"""The dual-write management gateway (undocumented; as Microsoft's Dual-write automations use it).

The link state comes from `Environments?targetType=AX&identifier={F&O host}`: an item with a
`cid` means linked. The connection set it names holds the Dataverse dual-write writes to.

[I] A link in progress: dwtui assumes the gateway makes the connection set as soon as it accepts a
link request and lists that request in the set's `dualWriteDetail.solutionAwareRequests` (the list
DWHelper's DualWriteDetail struct has, of {requestId, action, createdOn, modifiedOn, state, result})
until it ends; a set whose newest link request runs is "linking", one whose request failed is not
linked. So a client that lost a request's id finds it again. No source shows any of this.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from dwtui.domain.linking import LinkStarted
from dwtui.domain.models import (
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    LcsEnvironment,
    LegalEntityMapping,
    LinkRequest,
)
from dwtui.domain.operations import OperationState, OperationStatus
from dwtui.services.errors import ServiceError
from dwtui.services.http import HttpPolicy
from dwtui.services.shapes import expect_dict, expect_list, malformed, optional_dict, text

SERVICE = "dual-write gateway"
HEADERS = {"Accept": "application/json"}
# DWHelper sends this Origin on every POST (dualwrite-gateway-dwhelper.md 1.3).
POST_HEADERS = {**HEADERS, "Origin": "https://dataintegrator.trafficmanager.net/"}
# [I] No documented or DWHelper-known call creates a link: these two paths are inferred, named here only.
LINK_PATH = "api/ConnectionSet"
LINK_STATUS_PATH = "api/DualWriteManagement/1.0/SolutionAware/{cid}/Status/{request_id}"
# [I] The `action` of a link request in `solutionAwareRequests` (DWHelper knows only "2", Apply).
LINK_ACTION = "Link"
# DWHelper's MapStatus: 0 None, 1 Stopped, 2 InitialSync, 3 CatchUp, 4 Running, 5 Paused, 6 NotRunning.
# reset.md wants every map stopped, so a map in any of these states needs Force Reset.
RUNNING_MAP_STATES = frozenset({"2", "3", "4", "5"})
# DWHelper's RequestStatus: 1 Waiting, 2 Completed, 3 Error.
_REQUEST_STATES = {"1": OperationStatus.RUNNING, "2": OperationStatus.SUCCEEDED, "3": OperationStatus.FAILED}
# Reset is synchronous; DWHelper allows it 300 s.
RESET_TIMEOUT = 300.0


def fo_identifier(fo_url: str) -> str:
    """The F&O host alone, as the gateway wants it: no scheme, no port, no slash."""
    value = fo_url.strip()
    if not value:
        return ""
    try:
        host = urlsplit(value if "://" in value else f"https://{value}").hostname or ""
    except ValueError:
        return ""
    return host.lower()


def _is_dataverse(target_type: str) -> bool:
    kind = target_type.strip().upper()
    return kind == "CRM" or "CDS" in kind


class DualWriteGateway:
    def __init__(self, base_url: str, http: HttpPolicy, token: Callable[[], str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.token = token

    def link(self, fo_url: str) -> DualWriteLink:
        identifier = fo_identifier(fo_url)
        if not identifier:
            raise ServiceError(
                Fault(
                    SERVICE,
                    f"cannot ask for the link state: {fo_url!r} is not a finance and operations URL",
                    code="no_fo_url",
                )
            )
        url = f"{self.base_url}/api/DualWriteManagement/1.0/Environments"
        body = self.http.get_json(
            SERVICE,
            url,
            token=self.token(),
            params={"targetType": "AX", "identifier": identifier},
            headers=HEADERS,
        )
        listed = parse_environments(body, url)
        if listed is None:
            return DualWriteLink(linked=False)
        cid, cname, power_apps = listed
        set_url = f"{self.base_url}/api/ConnectionSet/{quote(cname, safe='')}"
        answer = self.http.get_json(SERVICE, set_url, token=self.token(), headers=HEADERS)
        return parse_connection_set(answer, cid, cname, power_apps, set_url)

    # -- changes (issue 4) -------------------------------------------------------------------------

    def connection_set(self, cname: str) -> Mapping[str, Any]:
        """The raw connection set: a reset sends most of it back (DWHelper call #2)."""
        url = f"{self.base_url}/api/ConnectionSet/{quote(cname, safe='')}"
        body = self.http.get_json(SERVICE, url, token=self.token(), headers=HEADERS)
        return expect_dict(SERVICE, body, "the connection set", url)

    def start_link(
        self,
        environment: LcsEnvironment,
        dataverse: DataverseEnvironment,
        legal_entities: Sequence[str] = (),
    ) -> LinkStarted:
        """Ask the gateway to link `environment` to `dataverse`. [I] inferred call; never retried."""
        url = f"{self.base_url}/{LINK_PATH}"
        payload = link_payload(environment, dataverse, legal_entities)
        body = self.http.post_json(
            SERVICE,
            url,
            token=self.token(),
            params={"targetType": "AX"},
            json=payload,
            headers=POST_HEADERS,
            idempotent=False,
        )
        return parse_link_started(body, url)

    def link_status(self, cid: str, request_id: str, *, timeout: float | None = None) -> OperationState:
        """One poll of a link request, in the shape of DWHelper's solution-aware request status."""
        path = LINK_STATUS_PATH.format(cid=quote(cid, safe=""), request_id=quote(request_id, safe=""))
        url = f"{self.base_url}/{path}"
        body = self.http.get_json(SERVICE, url, token=self.token(), headers=HEADERS, timeout=timeout)
        return parse_link_status(body, url)

    def running_maps(self, cid: str) -> tuple[str, ...]:
        """Names of the table maps that are not stopped (DWHelper call #4): a reset needs force then."""
        url = f"{self.base_url}/api/DualWriteManagement/1.0/Entities"
        body = self.http.get_json(
            SERVICE, url, token=self.token(), params={"targetType": "AX", "cid": cid}, headers=HEADERS
        )
        return parse_running_maps(body, url)

    def reset(self, cid: str, payload: Mapping[str, Any], *, force: bool) -> None:
        """Reset link (DWHelper call #3). Not idempotent: it wipes maps, so it is never retried."""
        url = f"{self.base_url}/api/ConnectionSet/{quote(cid, safe='')}/Reset"
        self.http.post_json(
            SERVICE,
            url,
            token=self.token(),
            params={"targetType": "AX", "forceReset": "True" if force else "False"},
            json=dict(payload),
            headers=POST_HEADERS,
            idempotent=False,
            timeout=RESET_TIMEOUT,
        )


def link_payload(
    environment: LcsEnvironment, dataverse: DataverseEnvironment, legal_entities: Sequence[str] = ()
) -> dict[str, Any]:
    """[I] The link request body: the Reset payload's structure (DWHelper 2.2), CE entry first."""
    host = fo_identifier(environment.fo_url)
    return {
        "powerAppsEnvironmentName": dataverse.bap_environment_id,
        "environments": [
            {
                "targetType": "CRM",
                "name": dataverse.unique_name or fo_identifier(dataverse.instance_url),
                "displayName": dataverse.display_name,
                "id": dataverse.bap_environment_id,
                "isDevInstance": False,
                "directUrl": dataverse.instance_url,
            },
            {
                "targetType": "AX",
                "name": host,
                "displayName": environment.name,
                "id": dataverse.bap_environment_id,
                "isDevInstance": environment.is_onebox,
                "directUrl": environment.fo_url,
            },
        ],
        "legalEntities": list(dict.fromkeys(legal_entities)),
    }


def reset_payload(connection_set: Mapping[str, Any], target: DataverseEnvironment | None) -> dict[str, Any]:
    """The Reset body as DWHelper builds it from the current connection set (2.2).

    With a `target` (the Dataverse Power Platform Integration names) the Dataverse entry names it
    instead of the current one, which is what reset.md's recommended option does; without one the
    connection set is sent back as-is (cloud-hosted).
    """
    environments = connection_set.get("environments")
    members = list(environments.values()) if isinstance(environments, Mapping) else environments or []
    dataverse: Mapping[str, Any] = {}
    fo: Mapping[str, Any] = {}
    for member in members:
        if not isinstance(member, Mapping):
            continue
        kind = str(member.get("targetType", ""))
        if _is_dataverse(kind) and not dataverse:
            dataverse = member
        elif kind.strip().upper() == "AX" and not fo:
            fo = member

    def entry(source: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "targetType": str(source.get("targetType", "")),
            "name": str(source.get("name", "")),
            "displayName": str(source.get("environmentDisplayName") or source.get("displayName") or ""),
            "id": str(source.get("powerAppsEnvironment", "")),
            "isDevInstance": bool(source.get("isDevInstance", False)),
            "directUrl": str(source.get("directUrl", "")),
        }

    crm, ax = entry(dataverse), entry(fo)
    if target is not None:
        crm.update(
            name=target.unique_name or fo_identifier(target.instance_url),
            displayName=target.display_name,
            id=target.bap_environment_id,
            directUrl=target.instance_url,
        )
        ax["id"] = target.bap_environment_id
    detail = connection_set.get("dualWriteDetail")
    mappings = detail.get("legalEntityMappings") if isinstance(detail, Mapping) else None
    items = mappings.get("mappings") if isinstance(mappings, Mapping) else None
    companies = [
        str(item["left"]["name"])
        for item in items or []
        if isinstance(item, Mapping) and isinstance(item.get("left"), Mapping) and item["left"].get("name")
    ]
    return {
        "powerAppsEnvironmentName": crm["id"],
        "environments": [crm, ax],
        "legalEntities": list(dict.fromkeys(companies)),
    }


def parse_link_started(body: Any, url: str = "") -> LinkStarted:
    """[I] The link request's answer: {requestId, cid, cname}. No source shows it; requestId is what
    DWHelper's other solution-aware requests answer (dualwrite-gateway-dwhelper.md #7, #13)."""
    answer = expect_dict(SERVICE, body, "the link answer", url)
    request_id = text(SERVICE, answer.get("requestId"), "requestId", url).strip()
    cid = text(SERVICE, answer.get("cid"), "cid", url).strip()
    if not request_id or not cid:
        raise malformed(SERVICE, "the link answer has no requestId or cid", url)
    return LinkStarted(request_id, cid, text(SERVICE, answer.get("cname"), "cname", url).strip())


def parse_link_status(body: Any, url: str = "") -> OperationState:
    """A solution-aware request status (DWLibary DWSolutionEngine.cs: {requestId, action, createdOn,
    modifiedOn, state, result:{message, status}, rootActivityId}); state "2" done, "3" error.
    [I] result.code is read when the gateway sends one; no source shows it."""
    status_body = expect_dict(SERVICE, body, "the request status", url)
    raw = text(SERVICE, status_body.get("state"), "state", url).strip()
    result = optional_dict(SERVICE, status_body.get("result"), "result", url)
    message = text(SERVICE, result.get("message"), "result.message", url).strip()
    status = _REQUEST_STATES.get(raw, OperationStatus.UNKNOWN)
    failed = status is OperationStatus.FAILED
    code = text(SERVICE, result.get("code"), "result.code", url).strip()
    return OperationState(
        status=status,
        raw_status=raw,
        message=message,
        error_code=(code or "link_failed") if failed else "",
        error_message=message if failed else "",
    )


def parse_running_maps(body: Any, url: str = "") -> tuple[str, ...]:
    """Names of the maps of `Entities?targetType=AX&cid=` (DWLibary Struct/DWMaps.cs) whose
    `detail.state` (DWEnums.MapStatus) is not a stopped one."""
    names = []
    for item in expect_list(SERVICE, body, "the table maps", url):
        entry = expect_dict(SERVICE, item, "a table map", url)
        detail = optional_dict(SERVICE, entry.get("detail"), "detail", url)
        if text(SERVICE, detail.get("state"), "detail.state", url).strip() in RUNNING_MAP_STATES:
            names.append(text(SERVICE, detail.get("tName"), "detail.tName", url).strip())
    return tuple(names)


def parse_environments(body: Any, url: str = "") -> tuple[str, str, str] | None:
    """The `Environments?targetType=AX&identifier=` answer: (cid, cname, powerAppsEnvironment) of its
    first item, as DWLibary/DWEnvCalls.cs reads `[0]`; None when nothing is linked."""
    items = expect_list(SERVICE, body, "the Environments answer", url)
    if not items:
        return None
    first = expect_dict(SERVICE, items[0], "an item of the Environments answer", url)
    cid = text(SERVICE, first.get("cid"), "cid", url).strip()
    if not cid:
        return None
    cname = text(SERVICE, first.get("cname"), "cname", url).strip() or cid
    return cid, cname, text(SERVICE, first.get("powerAppsEnvironment"), "powerAppsEnvironment", url).strip()


def parse_connection_set(
    answer: Any, cid: str, cname: str, listed_power_apps: str = "", url: str = ""
) -> DualWriteLink:
    """`ConnectionSet/{cname}` (DWLibary/Struct/DWConnectionSet.cs): the CRM/CDS and AX members of
    `environments` (a dictionary there; a list is read too) and the legal entity mappings."""
    body = expect_dict(SERVICE, answer, "the connection set", url)
    environments = body.get("environments")
    if environments is None:
        members: list[Any] = []
    elif isinstance(environments, Mapping):
        members = list(environments.values())
    else:
        members = expect_list(SERVICE, environments, "environments", url)
    dataverse: Mapping[str, Any] = {}
    fo: Mapping[str, Any] = {}
    for member in members:
        environment = expect_dict(SERVICE, member, "an item of environments", url)
        target = text(SERVICE, environment.get("targetType"), "targetType", url)
        if _is_dataverse(target) and not dataverse:
            dataverse = environment
        elif target.strip().upper() == "AX" and not fo:
            fo = environment

    def field(source: Mapping[str, Any], key: str) -> str:
        return text(SERVICE, source.get(key), key, url).strip()

    request = _link_request(body, url)
    settled = request is None or not (request.running or request.failed)
    return DualWriteLink(
        linked=settled,
        linking=request is not None and request.running,
        request=request,
        connection_set_id=cid,
        connection_set_name=cname,
        dataverse_url=field(dataverse, "directUrl"),
        dataverse_name=field(dataverse, "environmentDisplayName"),
        power_apps_environment_id=field(dataverse, "powerAppsEnvironment") or listed_power_apps,
        fo_url=field(fo, "directUrl"),
        legal_entities=_legal_entities(body, url),
    )


def _link_request(body: Mapping[str, Any], url: str) -> LinkRequest | None:
    """[I] The newest link request `dualWriteDetail.solutionAwareRequests` lists, if any."""
    detail = optional_dict(SERVICE, body.get("dualWriteDetail"), "dualWriteDetail", url)
    raw = detail.get("solutionAwareRequests")
    items = [] if raw is None else expect_list(SERVICE, raw, "solutionAwareRequests", url)
    found: list[LinkRequest] = []
    for item in items:
        entry = expect_dict(SERVICE, item, "a solution-aware request", url)
        if text(SERVICE, entry.get("action"), "action", url).strip() != LINK_ACTION:
            continue
        result = optional_dict(SERVICE, entry.get("result"), "result", url)
        found.append(
            LinkRequest(
                request_id=text(SERVICE, entry.get("requestId"), "requestId", url).strip(),
                state=text(SERVICE, entry.get("state"), "state", url).strip(),
                message=text(SERVICE, result.get("message"), "result.message", url).strip(),
                code=text(SERVICE, result.get("code"), "result.code", url).strip(),
                created_on=text(SERVICE, entry.get("createdOn"), "createdOn", url).strip(),
            )
        )
    # ISO 8601 times of one service sort as text; the list's own order breaks ties.
    return max(reversed(found), key=lambda r: r.created_on, default=None)


def link_request_state(request: LinkRequest) -> OperationState:
    """A listed link request as a poll of its status would read it."""
    status = _REQUEST_STATES.get(request.state, OperationStatus.UNKNOWN)
    failed = status is OperationStatus.FAILED
    return OperationState(
        status=status,
        raw_status=request.state,
        message=request.message,
        error_code=(request.code or "link_failed") if failed else "",
        error_message=request.message if failed else "",
    )


def _legal_entities(body: Mapping[str, Any], url: str) -> tuple[LegalEntityMapping, ...]:
    detail = optional_dict(SERVICE, body.get("dualWriteDetail"), "dualWriteDetail", url)
    mappings = optional_dict(SERVICE, detail.get("legalEntityMappings"), "legalEntityMappings", url)
    raw = mappings.get("mappings")
    items = [] if raw is None else expect_list(SERVICE, raw, "legalEntityMappings.mappings", url)
    result = []
    for item in items:
        mapping = expect_dict(SERVICE, item, "a legal entity mapping", url)
        left = optional_dict(SERVICE, mapping.get("left"), "left", url)
        right = optional_dict(SERVICE, mapping.get("right"), "right", url)
        result.append(
            LegalEntityMapping(
                fo_company=text(SERVICE, left.get("name"), "left.name", url).strip(),
                dataverse_company=text(SERVICE, right.get("name"), "right.name", url).strip(),
            )
        )
    return tuple(result)
