"""BAP admin API: Power Platform environments with their Dataverse org and F&O link."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dwtui.sim import ids
from dwtui.sim.guard import nested_error, request_base, require_api_version, require_token
from dwtui.sim.world import PowerPlatformRecord, World

PREFIX = "/bap/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments"
_CREATED = "2025-11-03T08:15:27.4412391Z"


def environment_json(world: World, record: PowerPlatformRecord) -> dict[str, Any]:
    instance_url = world.instance_url(record)
    properties: dict[str, Any] = {
        "tenantId": world.tenant_id,
        "azureRegion": record.region,
        "displayName": record.display_name,
        "createdTime": _CREATED,
        "createdBy": {"id": world.user_object_id, "displayName": world.user_display_name, "type": "User"},
        "lastModifiedTime": _CREATED,
        "provisioningState": "Succeeded",
        "creationType": "User",
        "environmentSku": record.sku,
        "isDefault": record.sku == "Default",
        "databaseType": "CommonDataService",
        "clientUris": {
            "admin": f"https://admin.powerplatform.microsoft.com/environments/environment/{record.bap_id}/hub",
            "maker": f"https://make.powerapps.com/environments/{record.bap_id}/home",
        },
        "runtimeEndpoints": {
            "microsoft.PowerApps": "https://api.powerapps.com",
            "microsoft.BusinessAppPlatform": "https://api.bap.microsoft.com",
        },
        "linkedEnvironmentMetadata": {
            "type": "Dynamics365Instance",
            "resourceId": record.organization_id,
            "friendlyName": record.display_name,
            "uniqueName": record.unique_name,
            "domainName": record.unique_name,
            "version": record.version,
            "instanceUrl": instance_url,
            "instanceApiUrl": instance_url.rstrip("/"),
            "baseLanguage": 1033,
            "instanceState": "Ready",
            "createdTime": _CREATED,
            "backgroundOperationsState": "Enabled",
            "scaleGroup": "NAMCRMLIVESG644",
            "platformSku": "Standard",
            "schemaType": "Standard",
        },
        "states": {"management": {"id": "Ready"}, "runtime": {"id": "Enabled"}},
        "governanceConfiguration": {"protectionLevel": "Basic"},
    }
    if record.linked_lcs_id:
        lcs = world.lcs_by_id(record.linked_lcs_id)
        properties["linkedAppMetadata"] = {
            "type": "Linked",
            "id": record.linked_lcs_id,
            "url": lcs.fo_url if lcs else "",
        }
    return {
        "id": f"/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/{record.bap_id}",
        "type": "Microsoft.BusinessAppPlatform/scopes/environments",
        "location": "unitedstates",
        "name": record.bap_id,
        "properties": properties,
    }


def routes(world: World) -> list[Route]:
    def check(request: Request) -> None:
        audiences = [
            "https://service.powerapps.com",
            f"{request_base(request)}/bap",
            f"{world.base_url}/bap",
            ids.POWER_APPS_SERVICE_APP_ID,
        ]
        require_token(request, world, audiences, nested_error)
        require_api_version(request, nested_error)

    async def list_environments(request: Request) -> Response:
        check(request)
        with world.lock:
            items = [environment_json(world, record) for record in world.power_platform.values()]
        return JSONResponse({"value": items})

    async def get_environment(request: Request) -> Response:
        check(request)
        wanted = request.path_params["environment_id"]
        with world.lock:
            record = world.power_platform.get(wanted.lower())
            if record is None:
                return JSONResponse(
                    nested_error(
                        "EnvironmentNotFound",
                        f"The environment '{wanted}' could not be found in the tenant '{world.tenant_id}'.",
                    ),
                    status_code=404,
                )
            return JSONResponse(environment_json(world, record))

    return [
        Route(PREFIX, list_environments, methods=["GET"]),
        Route(PREFIX + "/{environment_id}", get_environment, methods=["GET"]),
    ]
