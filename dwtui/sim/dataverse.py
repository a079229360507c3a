"""Dataverse Web API per org: RetrieveFinanceAndOperationsIntegrationDetails and WhoAmI."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dwtui.sim import ids
from dwtui.sim.guard import Reply, nested_error, request_base, require_token
from dwtui.sim.world import PowerPlatformRecord, World

NOT_INTEGRATED = ("0x80048d0b", "Dataverse instance isn't integrated with finance and operations.")
_VERSIONS = ("v9.0", "v9.1", "v9.2")


def _org(world: World, request: Request) -> PowerPlatformRecord:
    unique_name = request.path_params["org"]
    version = request.path_params["version"]
    with world.lock:
        org = world.org_by_unique_name(unique_name)
    if org is None:
        raise Reply(
            JSONResponse(
                nested_error("0x80040217", f"Organization '{unique_name}' does not exist."), status_code=404
            )
        )
    instance_path = f"/dataverse/{org.unique_name}"
    require_token(
        request,
        world,
        [f"{request_base(request)}{instance_path}", f"{world.base_url}{instance_path}"],
        nested_error,
    )
    if version not in _VERSIONS:
        raise Reply(
            JSONResponse(
                nested_error("0x8006088a", f"Resource not found for the segment '{version}'."),
                status_code=404,
            )
        )
    return org


def routes(world: World) -> list[Route]:
    async def call(request: Request) -> Response:
        org = _org(world, request)
        name = request.path_params["function"].removesuffix("()")
        context = f"{world.instance_url(org)}api/data/{request.path_params['version']}/$metadata"
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
                    "TenantId": world.tenant_id,
                    "Id": fo.environment_id,
                }
            )
        if name == "WhoAmI":
            return JSONResponse(
                {
                    "@odata.context": f"{context}#Microsoft.Dynamics.CRM.WhoAmIResponse",
                    "BusinessUnitId": ids.derived_guid("root-business-unit", org.unique_name),
                    "UserId": ids.derived_guid("systemuser", org.unique_name, world.user_object_id),
                    "OrganizationId": org.organization_id,
                }
            )
        return JSONResponse(
            nested_error("0x8006088a", f"Resource not found for the segment '{name}'."), status_code=404
        )

    return [Route("/dataverse/{org}/api/data/{version}/{function}", call, methods=["GET"])]
