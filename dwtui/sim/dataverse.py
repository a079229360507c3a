"""Dataverse Web API per org: integration details, WhoAmI, and the application-user entity sets.

Entity sets: businessunits, roles and systemusers (GET with a small $filter/$select/$expand
subset), POST systemusers, DELETE systemusers(id), and POST systemusers(id)/
systemuserroles_association/$ref. An app-only token is refused with 403 0x80072560 "The user is not
a member of the organization." unless its app has an active (not soft-deleted) application user in
the org (dual-write-troubleshooting-live-sync.md). That user passes WhoAmI with no role at all; its
first privileged call (the entity sets here) is refused with "RetrievePrivilegeForUser: The user with
id ... has not been assigned any roles. They need a role with the ... privilege."
(microsoft/coe-starter-kit#678), as 403 0x80040220 [I: no source gives that message's status or
code; 0x80040220 (-2147220960) is Dataverse's documented code for a missing privilege].
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dwtui.sim import ids
from dwtui.sim.directory import (
    NOT_DELETED,
    SOFT_DELETED,
    BusinessUnitRecord,
    OrgDirectory,
    RoleRecord,
    SystemUserRecord,
    new_directory,
)
from dwtui.sim.guard import Reply, nested_error, request_base, require_token
from dwtui.sim.tokens import Caller
from dwtui.sim.world import PowerPlatformRecord, World

NOT_INTEGRATED = ("0x80048d0b", "Dataverse instance isn't integrated with finance and operations.")
NOT_MEMBER = ("0x80072560", "The user is not a member of the organization.")
NO_ROLES = "0x80040220"  # [I] the status and code of the "no roles" message are not documented
DOES_NOT_EXIST = "0x80040217"
DUPLICATE = "0x80040237"
INVALID_ARGUMENT = "0x80040203"
BAD_QUERY = "0x80060888"
_VERSIONS = ("v9.0", "v9.1", "v9.2")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def directory_for(world: World, org: PowerPlatformRecord) -> OrgDirectory:
    """The org's business units, roles and users, made on first use."""
    with world.lock:
        key = org.unique_name.lower()
        directory = world.dataverse_directories.get(key)
        if directory is None:
            directory = new_directory(org.unique_name, world.user_object_id, world.user_display_name)
            world.dataverse_directories[key] = directory
        return directory


def _fail(status: int, code: str, message: str) -> Reply:
    return Reply(JSONResponse(nested_error(code, message), status_code=status))


def _org(world: World, request: Request) -> tuple[PowerPlatformRecord, Caller]:
    unique_name = request.path_params["org"]
    version = request.path_params["version"]
    with world.lock:
        org = world.org_by_unique_name(unique_name)
    if org is None or not org.has_dataverse:
        raise _fail(404, DOES_NOT_EXIST, f"Organization '{unique_name}' does not exist.")
    instance_path = f"/dataverse/{org.unique_name}"
    caller = require_token(
        request,
        world,
        [f"{request_base(request)}{instance_path}", f"{world.base_url}{instance_path}"],
        nested_error,
    )
    if version not in _VERSIONS:
        raise _fail(404, "0x8006088a", f"Resource not found for the segment '{version}'.")
    if caller.kind == "app":
        directory = directory_for(world, org)
        with world.lock:
            member = directory.is_member_app(caller.subject)
        if not member:
            raise _fail(403, *NOT_MEMBER)
    return org, caller


# The privilege each entity-set call needs. prvReadUser and prvReadBusinessUnit are the names the
# coe-starter-kit issues quote (#678, #9503); the others follow the same pattern [I].
_PRIVILEGES = {
    ("GET", "systemusers"): "prvReadUser",
    ("GET", "businessunits"): "prvReadBusinessUnit",
    ("GET", "roles"): "prvReadRole",
    ("POST", "systemusers"): "prvCreateUser",
    ("DELETE", "systemusers"): "prvDeleteUser",
    ("POST", "systemuserroles_association"): "prvAssignRole",
}


def _require_roles(world: World, org: PowerPlatformRecord, caller: Caller, method: str, entity: str) -> None:
    """An application user without a role passes WhoAmI but no privileged call."""
    privilege = _PRIVILEGES.get((method, entity))
    if caller.kind != "app" or privilege is None:
        return  # the signed-in person is System Administrator in every simulated org
    directory = directory_for(world, org)
    with world.lock:
        user = directory.application_user(caller.subject)
        if user is None or user.role_ids:
            return
        user_id = user.systemuser_id
    raise _fail(
        403,
        NO_ROLES,
        f"RetrievePrivilegeForUser: The user with id {user_id} has not been assigned any roles. "
        f"They need a role with the {privilege} privilege.",
    )


# -- OData, the small part the clients use --------------------------------------------------------

_CLAUSE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s+eq\s+('(?:[^']|'')*'|null|[0-9A-Fa-f-]+)\s*")


def parse_filter(text: str) -> list[tuple[str, str | None]]:
    """`a eq 'x' and b eq null and c eq <guid>` as [(field, value or None)]; anything else is 400."""
    clauses: list[tuple[str, str | None]] = []
    if not text.strip():
        return clauses
    for part in re.split(r"\s+and\s+", text.strip()):
        match = _CLAUSE.fullmatch(part)
        if match is None:
            raise _fail(400, BAD_QUERY, f"The query parameter $filter '{text}' is not supported here.")
        field, raw = match.group(1), match.group(2)
        value = None if raw == "null" else raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
        clauses.append((field, value))
    return clauses


def _matches(row: dict[str, Any], clauses: list[tuple[str, str | None]], entity: str) -> bool:
    for field, value in clauses:
        if field not in row:
            raise _fail(
                400,
                BAD_QUERY,
                f"Could not find a property named '{field}' on type 'Microsoft.Dynamics.CRM.{entity}'.",
            )
        actual = row[field]
        if value is None:
            if actual is not None:
                return False
        elif actual is None or str(actual).lower() != value.lower():
            return False
    return True


def _select(row: dict[str, Any], select: str, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    if not select.strip():
        return row
    wanted = {name.strip() for name in select.split(",") if name.strip()} | set(keep)
    return {key: value for key, value in row.items() if key in wanted}


def _unit_json(unit: BusinessUnitRecord) -> dict[str, Any]:
    return {
        "businessunitid": unit.business_unit_id,
        "name": unit.name,
        "_parentbusinessunitid_value": unit.parent_id,
    }


def _role_json(role: RoleRecord) -> dict[str, Any]:
    return {"roleid": role.role_id, "name": role.name, "_businessunitid_value": role.business_unit_id}


def _user_json(user: SystemUserRecord) -> dict[str, Any]:
    return {
        "systemuserid": user.systemuser_id,
        "fullname": user.full_name,
        "applicationid": user.application_id,
        "azureactivedirectoryobjectid": user.azure_object_id or None,
        "_businessunitid_value": user.business_unit_id,
        "accessmode": user.access_mode,
        "isdisabled": user.is_disabled,
        "deletedstate": user.deleted_state,
    }


_EXPAND_ROLES = re.compile(r"systemuserroles_association(?:\(\$select=([^)]*)\))?")


def _list(world: World, org: PowerPlatformRecord, entity: str, request: Request) -> Response:
    directory = directory_for(world, org)
    query = request.query_params
    clauses = parse_filter(query.get("$filter", ""))
    select = query.get("$select", "")
    expand = query.get("$expand", "").strip()
    with world.lock:
        if entity == "businessunits":
            rows = [_unit_json(unit) for unit in directory.business_units.values()]
            type_name = "businessunit"
        elif entity == "roles":
            rows = [_role_json(role) for role in directory.roles.values()]
            type_name = "role"
        else:
            type_name = "systemuser"
            rows = []
            for user in directory.users.values():
                row = _user_json(user)
                if _matches(row, clauses, type_name):
                    rows.append(_with_roles(directory, user, row, expand))
            clauses = []
        kept = [row for row in rows if _matches(row, clauses, type_name)]
    key = f"{type_name}id"
    value = [_select(row, select, (key, "systemuserroles_association")) for row in kept]
    context = f"{world.instance_url(org)}api/data/{request.path_params['version']}/$metadata#{entity}"
    return JSONResponse({"@odata.context": context, "value": value})


def _one_user(world: World, org: PowerPlatformRecord, entity: str, request: Request) -> Response:
    """GET systemusers(id), its roles expanded as terraform-provider-power-platform asks for them
    (internal/services/authorization/api_user.go GetDataverseUserBySystemUserId)."""
    user_id = _bound_id(entity, "systemusers")
    directory = directory_for(world, org)
    query = request.query_params
    with world.lock:
        user = directory.users.get(user_id)
        if user is None:
            raise _fail(404, DOES_NOT_EXIST, f"systemuser With Ids = {user_id} Do Not Exist")
        row = _with_roles(directory, user, _user_json(user), query.get("$expand", "").strip())
    version = request.path_params["version"]
    context = f"{world.instance_url(org)}api/data/{version}/$metadata#systemusers/$entity"
    kept = _select(row, query.get("$select", ""), ("systemuserid", "systemuserroles_association"))
    return JSONResponse({"@odata.context": context, **kept})


def _with_roles(
    directory: OrgDirectory, user: SystemUserRecord, row: dict[str, Any], expand: str
) -> dict[str, Any]:
    if not expand:
        return row
    match = _EXPAND_ROLES.fullmatch(expand)
    if match is None:
        raise _fail(400, BAD_QUERY, f"The query parameter $expand '{expand}' is not supported here.")
    roles = [
        _select(_role_json(directory.roles[rid]), match.group(1) or "", ("roleid",))
        for rid in user.role_ids
        if rid in directory.roles
    ]
    return {**row, "systemuserroles_association": roles}


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise _fail(400, INVALID_ARGUMENT, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _fail(400, INVALID_ARGUMENT, "The request body must be a JSON object.")
    return body


def _bound_id(value: Any, entity: str) -> str:
    """The GUID of an @odata.bind / @odata.id reference such as /businessunits(GUID) or a full URL."""
    match = re.search(rf"{entity}\(([^)]*)\)\s*$", str(value or ""))
    if match is None or not _GUID.fullmatch(match.group(1)):
        raise _fail(400, INVALID_ARGUMENT, f"'{value}' is not a reference to {entity}(<guid>).")
    return match.group(1).lower()


def _delete_user(world: World, org: PowerPlatformRecord, entity: str) -> Response:
    """DELETE systemusers(id): an active user becomes soft deleted, a soft-deleted one goes for good [I].

    terraform-provider-power-platform's PermanentlyDeleteSystemUser sends this DELETE twice and takes
    404 as gone (api_application.go); what each DELETE does in Dataverse is not documented there.
    """
    user_id = _bound_id(entity, "systemusers")
    directory = directory_for(world, org)
    with world.lock:
        user = directory.users.get(user_id)
        if user is None:
            raise _fail(404, DOES_NOT_EXIST, f"systemuser With Ids = {user_id} Do Not Exist")
        if user.deleted_state == NOT_DELETED:
            user.deleted_state = SOFT_DELETED
            user.is_disabled = True
        else:
            del directory.users[user_id]
    return Response(status_code=204)


async def _create_user(world: World, org: PowerPlatformRecord, request: Request) -> Response:
    body = await _json_body(request)
    directory = directory_for(world, org)
    application_id = str(body.get("applicationid") or "")
    if not _GUID.fullmatch(application_id):
        raise _fail(
            400,
            INVALID_ARGUMENT,
            f"Error identified in Payload provided by the user for Entity :'systemusers': applicationid "
            f"'{application_id}' is not a GUID.",
        )
    unit_id = _bound_id(body.get("businessunitid@odata.bind"), "businessunits")
    with world.lock:
        if unit_id not in directory.business_units:
            raise _fail(404, DOES_NOT_EXIST, f"businessunit With Ids = {unit_id} Do Not Exist")
        if directory.application_users(application_id):
            # A soft-deleted user of the app blocks a new one too [I]: terraform-provider-power-platform
            # purges them when a create fails and retries (api_application.go), and mocks this 412 body.
            raise _fail(412, DUPLICATE, "A record with matching key values already exists.")
        user = SystemUserRecord(
            systemuser_id=ids.derived_guid("systemuser", org.unique_name, application_id.lower()),
            full_name=f"# {application_id.lower()}",
            business_unit_id=unit_id,
            application_id=application_id.lower(),
            access_mode=int(body.get("accessmode", 0) or 0),
            is_disabled=bool(body.get("isdisabled", False)),
        )
        directory.users[user.systemuser_id] = user
        row = _user_json(user)
    api = f"{world.instance_url(org)}api/data/{request.path_params['version']}"
    entity_url = f"{api}/systemusers({user.systemuser_id})"
    if "return=representation" in request.headers.get("prefer", ""):
        return JSONResponse(row, status_code=201, headers={"OData-EntityId": entity_url})
    return Response(status_code=204, headers={"OData-EntityId": entity_url})


def routes(world: World) -> list[Route]:
    async def call(request: Request) -> Response:
        org, caller = _org(world, request)
        name = request.path_params["function"].removesuffix("()")
        context = f"{world.instance_url(org)}api/data/{request.path_params['version']}/$metadata"
        entity_set = name.partition("(")[0]
        _require_roles(world, org, caller, request.method, entity_set)
        if request.method == "DELETE":
            if entity_set == "systemusers" and name != entity_set:
                return _delete_user(world, org, name)
            raise _fail(405, "0x80060888", f"DELETE is not supported on '{name}'.")
        if request.method == "POST":
            if name == "systemusers":
                return await _create_user(world, org, request)
            raise _fail(405, "0x80060888", f"POST is not supported on '{name}'.")
        if name == "RetrieveFinanceAndOperationsIntegrationDetails":
            with world.lock:
                fo = world.lcs_by_id(org.linked_lcs_id) if org.linked_lcs_id else None
            if fo is None:
                return JSONResponse(nested_error(*NOT_INTEGRATED), status_code=400)
            return JSONResponse(
                {
                    "@odata.context": f"{context}#Microsoft.Dynamics.CRM."
                    "RetrieveFinanceAndOperationsIntegrationDetailsResponse",
                    "Url": fo.fo_url.rstrip("/"),
                    "TenantId": org.tenant_id or world.tenant_id,
                    "Id": fo.environment_id,
                }
            )
        if name == "WhoAmI":
            return JSONResponse(
                {
                    "@odata.context": f"{context}#Microsoft.Dynamics.CRM.WhoAmIResponse",
                    **_who(world, org, caller),
                }
            )
        if name in ("businessunits", "roles", "systemusers"):
            return _list(world, org, name, request)
        if entity_set == "systemusers":
            return _one_user(world, org, name, request)
        return JSONResponse(
            nested_error("0x8006088a", f"Resource not found for the segment '{name}'."), status_code=404
        )

    async def associate(request: Request) -> Response:
        org, caller = _org(world, request)
        _require_roles(world, org, caller, "POST", "systemuserroles_association")
        user_id = _bound_id(request.path_params["entity"], "systemusers")
        body = await _json_body(request)
        role_id = _bound_id(body.get("@odata.id"), "roles")
        directory = directory_for(world, org)
        with world.lock:
            user = directory.users.get(user_id)
            if user is None:
                raise _fail(404, DOES_NOT_EXIST, f"systemuser With Ids = {user_id} Do Not Exist")
            role = directory.roles.get(role_id)
            if role is None:
                raise _fail(404, DOES_NOT_EXIST, f"role With Ids = {role_id} Do Not Exist")
            if role.business_unit_id != user.business_unit_id:
                raise _fail(400, INVALID_ARGUMENT, "The role belongs to another business unit than the user.")
            if role_id not in user.role_ids:
                user.role_ids.append(role_id)
        return Response(status_code=204)

    return [
        Route(
            "/dataverse/{org}/api/data/{version}/{entity}/systemuserroles_association/$ref",
            associate,
            methods=["POST"],
        ),
        Route("/dataverse/{org}/api/data/{version}/{function}", call, methods=["GET", "POST", "DELETE"]),
    ]


def _who(world: World, org: PowerPlatformRecord, caller: Caller) -> dict[str, str]:
    directory = directory_for(world, org)
    with world.lock:
        if caller.kind == "app":
            user = directory.application_user(caller.subject)
            assert user is not None  # _org has refused apps without an application user
            return {
                "BusinessUnitId": user.business_unit_id,
                "UserId": user.systemuser_id,
                "OrganizationId": org.organization_id,
            }
        return {
            "BusinessUnitId": directory.root.business_unit_id,
            "UserId": ids.derived_guid("systemuser", org.unique_name, world.user_object_id),
            "OrganizationId": org.organization_id,
        }
