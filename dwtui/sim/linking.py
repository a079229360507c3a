"""The dual-write gateway's changes: creating a link (an operation that takes minutes), its status,
the table maps of a connection set, and Reset link.

No documented or DWHelper-known call creates a link. The shape here is inferred [I]: a POST of
the Reset payload's structure to the ConnectionSet collection, answered with a request id that is
polled through DWHelper's solution-aware status call (`SolutionAware/{cid}/Status/{requestId}`).

[I] While it runs, and after: the connection set is made as soon as the request is accepted, so
`Environments?identifier=` lists it at once, and the set lists the request in its
`dualWriteDetail.solutionAwareRequests` (DWHelper's DualWriteDetail has that list) with its state:
"1" while it runs (the environment is being linked), "2" once linked, "3" when it failed (the set
stays, unlinked, until a new link request replaces it). A second request while one runs, or once
linked, is refused with 409 and starts nothing.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dwtui.sim import ids
from dwtui.sim.guard import Reply, flat_error, request_base, require_token
from dwtui.sim.world import ConnectionSetRecord, Operation, PowerPlatformRecord, World, iso_time

# [I] The one place the simulator names the inferred link calls (the client has its twin).
LINK_PATH = "/gateway/api/ConnectionSet"
LINK_ACTION = "Link"  # [I] a link request's `action` in solutionAwareRequests
STATUS_PATH = "/gateway/api/DualWriteManagement/1.0/SolutionAware/{cid}/Status/{request_id}"
RESET_PATH = "/gateway/api/ConnectionSet/{cid}/Reset"
ENTITIES_PATH = "/gateway/api/DualWriteManagement/1.0/Entities"

# DWHelper's MapStatus codes: 0 None, 1 Stopped, 2 InitialSync, 3 CatchUp, 4 Running, 5 Paused,
# 6 NotRunning. reset.md asks for every map stopped, so anything mid-flight counts as running.
RUNNING_MAP_STATES = frozenset({"2", "3", "4", "5"})

DW9003 = {
    "CRM": "Failed to connect to CRM. Ensure that the service principal has the correct permissions "
    "to access CRM.",
    "AX": "Failed to connect to AX. Ensure that the service principal has the correct permissions "
    "to access AX.",
}
# Where in the run each side is checked, as a fraction of the link's duration.
_FAILS_AT = {"CRM": 0.5, "AX": 0.75}
_STAGES = (
    (0.25, "Creating the dual-write connection set"),
    (0.5, "Connecting to Dataverse (CRM)"),
    (0.75, "Connecting to finance and operations (AX)"),
    (1.01, "Saving the legal entities and the connection set"),
)
_STAMP = "2026-03-14T09:30:00.0000000Z"


def _error(status: int, code: str, message: str, **extra: Any) -> Reply:
    return Reply(JSONResponse({**flat_error(code, message), **extra}, status_code=status))


def cname_for(world: World, lcs_id: str, org: PowerPlatformRecord) -> str:
    fo = world.lcs_by_id(lcs_id)
    name = fo.name if fo else lcs_id
    return f"{name}-{org.unique_name}".lower()


def link_request(world: World, record: ConnectionSetRecord) -> Operation | None:
    """The link request that made this connection set, if a request did (call under world.lock)."""
    operation = world.operations.get(record.link_request) if record.link_request else None
    return operation if operation is not None and operation.kind == "link" else None


def link_state(world: World, record: ConnectionSetRecord) -> str:
    """"linking", "linked" or "failed" (call under world.lock, after settle)."""
    operation = link_request(world, record)
    if operation is None:
        return "linked"
    if not operation.detail.get("settled"):
        return "linking"
    return "linked" if operation.outcome == "Succeeded" else "failed"


def solution_aware_requests(world: World, record: ConnectionSetRecord) -> list[dict[str, Any]]:
    """[I] The set's `dualWriteDetail.solutionAwareRequests`: its link request, as its status reads."""
    operation = link_request(world, record)
    return [] if operation is None else [_status_json(world, operation)]


def settle(world: World) -> None:
    """Mark finished link requests ended (call under world.lock, before any read)."""
    now = world.now()
    for operation in world.operations.values():
        if operation.kind != "link" or operation.detail.get("settled") or not operation.done(now):
            continue
        operation.detail["settled"] = True
        operation.detail["modified_iso"] = iso_time(world.wall())


def _by_cid(world: World, cid: str) -> ConnectionSetRecord | None:
    for record in world.connection_sets.values():
        if record.cid.lower() == cid.lower():
            return record
    return None


async def _payload(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise _error(400, "BadRequest", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _error(400, "BadRequest", "The request body must be a JSON object.")
    return body


def _members(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The payload's Dataverse (CRM/CDS) and finance and operations (AX) entries."""
    environments = body.get("environments")
    crm: dict[str, Any] = {}
    ax: dict[str, Any] = {}
    if isinstance(environments, list):
        for entry in environments:
            if not isinstance(entry, dict):
                continue
            kind = str(entry.get("targetType", "")).upper()
            if kind == "AX" and not ax:
                ax = entry
            elif (kind == "CRM" or "CDS" in kind) and not crm:
                crm = entry
    if not crm or not ax:
        raise _error(
            400,
            "InvalidConnectionSet",
            "The payload must name one Dataverse (targetType CRM) and one finance and operations "
            "(targetType AX) environment.",
        )
    return crm, ax


def _legal_entities(body: dict[str, Any]) -> tuple[str, ...]:
    raw = body.get("legalEntities") or []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise _error(400, "BadRequest", "legalEntities must be a list of company codes.")
    return tuple(dict.fromkeys(item.lower() for item in raw))


def _status_json(world: World, operation: Operation) -> dict[str, Any]:
    now = world.now()
    detail = operation.detail
    if not operation.done(now):
        fraction = operation.fraction(now) * float(detail.get("ends_at", 1.0))
        message = next(text for limit, text in _STAGES if fraction < limit)
        state, result = "1", {"status": "InProgress", "message": message}
    elif operation.outcome == "Succeeded":
        state, result = "2", {"status": "Succeeded", "message": "The environments are linked for dual-write."}
    else:
        side = str(detail.get("failure", "CRM"))
        # [I] DWHelper's result has message and status only; the code LCS shows rides alongside.
        message = world.link_failure_message or DW9003[side]
        state, result = "3", {"status": "Failed", "code": "DW9003", "message": message}
    return {
        "requestId": operation.operation_id,
        "action": LINK_ACTION,
        "createdOn": detail.get("created_iso", _STAMP),
        "modifiedOn": detail.get("modified_iso", detail.get("created_iso", _STAMP)),
        "state": state,
        "result": result,
        "rootActivityId": ids.derived_guid("activity", operation.operation_id),
    }


def _map_json(record: ConnectionSetRecord, name: str, state: str) -> dict[str, Any]:
    entity = name.split(" ", 1)[0]
    template = ids.derived_guid("template", name)
    return {
        "leftEntity": {"targetType": "AX", "name": entity, "displayName": name},
        "rightEntity": {"targetType": "CRM", "name": entity.lower(), "displayName": name},
        "detail": {
            "tid": template,
            "tName": f"{entity.lower()} - {name}",
            "pid": ids.derived_guid("project", record.cid, name),
            "state": state,
            "isProjectDeleted": False,
            "lastRequests": [],
        },
    }


def check_token(world: World, request: Request) -> None:
    audiences = [ids.DUALWRITE_RESOURCE, f"{request_base(request)}/gateway", f"{world.base_url}/gateway"]
    require_token(request, world, audiences, flat_error)


def routes(world: World) -> list[Route]:
    async def start_link(request: Request) -> Response:
        check_token(world, request)
        if request.query_params.get("targetType", "") != "AX":
            raise _error(400, "BadRequest", "targetType=AX is required.")
        body = await _payload(request)
        crm, ax = _members(body)
        fo_host = (urlsplit(str(ax.get("directUrl", ""))).hostname or str(ax.get("name", ""))).lower()
        with world.lock:
            settle(world)
            fo = world.lcs_by_host(fo_host)
            if fo is None:
                raise _error(404, "EnvironmentNotFound", f"The environment '{fo_host}' is not discoverable.")
            org = world.power_platform.get(str(crm.get("id", "")).lower())
            if org is None:
                wanted = crm.get("id", "")
                raise _error(404, "EnvironmentNotFound", f"The Dataverse environment '{wanted}' is unknown.")
            existing = world.connection_set_for(fo.environment_id)
            if existing is not None:
                state = link_state(world, existing)
                if state == "linking":
                    raise _error(
                        409, "LinkInProgress", f"A link is already being created for '{fo.fo_host}'.",
                        requestId=existing.link_request, cid=existing.cid,
                    )
                if state == "linked":
                    raise _error(409, "AlreadyLinked", f"The environment '{fo.fo_host}' is already linked.")
                del world.connection_sets[existing.cname]  # a failed attempt: this request replaces it
            number = world.next_number("link")
            request_id = ids.derived_guid("link-request", fo.environment_id, str(number))
            cname = cname_for(world, fo.environment_id, org)
            failure = world.link_failure.upper()
            ends_at = _FAILS_AT.get(failure, 1.0)
            legal_entities = _legal_entities(body) or ("usmf", "demf")
            world.operations[request_id] = Operation(
                operation_id=request_id,
                kind="link",
                started=world.now(),
                duration=world.scaled(world.link_seconds) * ends_at,
                outcome="Failed" if failure in DW9003 else "Succeeded",
                detail={
                    "lcs_id": fo.environment_id,
                    "bap_id": org.bap_id,
                    "cid": ids.derived_guid("connectionset", cname),
                    "cname": cname,
                    "legal_entities": list(legal_entities),
                    "failure": failure,
                    "ends_at": ends_at,
                    "created_iso": iso_time(world.wall()),
                },
            )
            cid = str(world.operations[request_id].detail["cid"])
            world.connection_sets[cname] = ConnectionSetRecord(
                cid=cid,
                cname=cname,
                lcs_id=fo.environment_id,
                bap_id=org.bap_id,
                legal_entities=legal_entities,
                link_request=request_id,
            )
            answer = {"requestId": request_id, "cid": cid, "cname": cname}
        return JSONResponse(answer, status_code=202)

    async def link_status(request: Request) -> Response:
        check_token(world, request)
        with world.lock:
            settle(world)
            operation = world.operations.get(request.path_params["request_id"].lower())
            if operation is None or operation.kind != "link" or (
                str(operation.detail.get("cid", "")).lower() != request.path_params["cid"].lower()
            ):
                raise _error(404, "NotFound", "The request was not found.")
            return JSONResponse(_status_json(world, operation))

    async def entities(request: Request) -> Response:
        check_token(world, request)
        with world.lock:
            settle(world)
            record = _by_cid(world, request.query_params.get("cid", ""))
            if record is None:
                raise _error(404, "NotFound", "The connection set was not found.")
            return JSONResponse([_map_json(record, name, state) for name, state in record.maps.items()])

    async def reset(request: Request) -> Response:
        check_token(world, request)
        force_text = request.query_params.get("forceReset", "")
        if request.query_params.get("targetType", "") != "AX" or force_text.lower() not in {"true", "false"}:
            raise _error(400, "BadRequest", "targetType=AX and forceReset=True|False are required.")
        force = force_text.lower() == "true"
        body = await _payload(request)
        _members(body)
        legal_entities = _legal_entities(body)
        with world.lock:
            settle(world)
            record = _by_cid(world, request.path_params["cid"])
            if record is None:
                raise _error(404, "NotFound", f"Connection set '{request.path_params['cid']}' was not found.")
            if link_state(world, record) == "linking":
                raise _error(409, "LinkInProgress", "The environments are still being linked.")
            running = [name for name, state in record.maps.items() if state in RUNNING_MAP_STATES]
            if running and not force:
                # [I] The portal shows a Force Reset checkbox here; this error body is a guess.
                raise _error(
                    409,
                    "DualWriteMapsRunning",
                    f"{len(running)} dual-write maps are running. Stop all dual-write maps before you "
                    "reset the link, or select Force Reset.",
                )
            fo = world.lcs_by_id(record.lcs_id)
            target = next(
                (org for org in world.power_platform.values() if org.linked_lcs_id == record.lcs_id), None
            )
            if target is None and not (fo and fo.environment_type == "DevTestDev"):
                raise _error(
                    400,
                    "PowerPlatformIntegrationNotSetUp",
                    "You must set up a Power Platform link to Dataverse for this environment before "
                    "you reset the link.",
                )
            bap_id = target.bap_id if target else record.bap_id
            org = world.power_platform[bap_id]
            del world.connection_sets[record.cname]
            cname = cname_for(world, record.lcs_id, org)
            world.connection_sets[cname] = ConnectionSetRecord(
                cid=record.cid, cname=cname, lcs_id=record.lcs_id, bap_id=bap_id,
                legal_entities=legal_entities or record.legal_entities,
            )
        return JSONResponse({"cid": record.cid, "cname": cname, "message": "The dual-write link was reset."})

    return [
        Route(LINK_PATH, start_link, methods=["POST"]),
        Route(STATUS_PATH, link_status, methods=["GET"]),
        Route(ENTITIES_PATH, entities, methods=["GET"]),
        Route(RESET_PATH, reset, methods=["POST"]),
    ]
