"""BAP admin API: Power Platform environments with their Dataverse org and F&O link, and adding Dataverse.

Shapes: the terraform provider for Power Platform's captured environments (microsoft/terraform-
provider-power-platform @57ba091, internal/services/application/tests/resource/Validate_Install/
get_environment_*.json, and Validate_No_Dataverse/ for `linkedEnvironmentMetadata: null`); its dto.go
for `linkedAppMetadata` {id, type, url} (no captured body shows one). Adding Dataverse is its
AddDataverseToEnvironment (internal/services/environment/api_environment.go): POST provisionInstance,
202 with a Location to a lifecycle operation whose GET answers an environment with its
provisioningState (its mock get_lifecycle_new_dataverse.json).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dwtui.sim import catalogue, ids
from dwtui.sim.guard import Reply, nested_error, request_base, require_api_version, require_token
from dwtui.sim.world import Operation, PowerPlatformRecord, World, iso_time

ROOT = "/bap/providers/Microsoft.BusinessAppPlatform"
PREFIX = ROOT + "/scopes/admin/environments"
_CREATED = "2025-11-03T08:15:27.4412391Z"
# 2020-10-01: the list-environments reference; 2023-06-01: the terraform provider and d365bap.tools
# (the callers that read linkedAppMetadata); 2021-04-01: the provider's provisionInstance; 2018-01-01:
# New-AdminPowerAppCdsDatabase (Microsoft.PowerApps.Administration.PowerShell).
API_VERSIONS = ("2020-10-01", "2023-06-01", "2021-04-01", "2018-01-01")
KIND = "add-dataverse"
# The template IDs the Power Platform templates article lists (unified-environment-types-and-
# templates.md) and what each installs of dual-write: both the core and the Application Core.
TEMPLATES = ("D365_FinOps_Finance", "D365_FinOps_SCM", "D365_FinOps_ProjOps", "D365_FinOps_Commerce")


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
        "linkedEnvironmentMetadata": None
        if not record.has_dataverse
        else {
            "resourceId": record.organization_id,
            "friendlyName": record.display_name,
            "uniqueName": record.unique_name,
            "domainName": record.unique_name,
            "version": record.version,
            "instanceUrl": instance_url,
            "instanceApiUrl": instance_url.rstrip("/"),
            "baseLanguage": 1033,
            "instanceState": record.instance_state,
            "createdTime": _CREATED,
            "backgroundOperationsState": "Enabled",
            "scaleGroup": "NAMCRMLIVESG644",
            "platformSku": "Standard",
            "schemaType": "Standard",
        },
        "states": {"management": {"id": "Ready"}, "runtime": {"id": "Enabled"}},
        "cluster": {
            "category": "Prod",
            "number": record.cluster.split(".")[0].rsplit("il", 1)[-1],
            "uriSuffix": record.cluster,
            "geoShortName": "US",
            "environment": "Prod",
        },
        "governanceConfiguration": {"protectionLevel": "Basic"},
    }
    provisioning = _provisioning(world, record)
    if provisioning:
        properties["provisioningState"] = provisioning
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
        require_api_version(request, nested_error, allowed=API_VERSIONS)
        if world.bap_admin_denied and request.url.path.startswith(PREFIX):
            # [I] No source shows what the admin scope answers a person who is not an administrator.
            raise Reply(
                JSONResponse(
                    nested_error(
                        "Forbidden",
                        "The caller does not have permission to use the admin scope of this tenant.",
                    ),
                    status_code=403,
                )
            )

    async def list_environments(request: Request) -> Response:
        check(request)
        with world.lock:
            settle(world)
            items = [environment_json(world, record) for record in world.power_platform.values()]
        return JSONResponse({"value": items})

    async def get_environment(request: Request) -> Response:
        check(request)
        wanted = request.path_params["environment_id"]
        with world.lock:
            settle(world)
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

    async def provision_instance(request: Request) -> Response:
        check(request)
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse(nested_error("InvalidRequestContent", "The body must be a JSON object."), 400)
        with world.lock:
            record = world.power_platform.get(request.path_params["environment_id"].lower())
            if record is None:
                return JSONResponse(
                    nested_error("EnvironmentNotFound", "The environment was not found."), 404
                )
            refusal = _provision_refusal(world, record, body)
            if refusal is not None:
                return refusal
            operation_id = ids.derived_guid("lifecycle", str(world.next_number("lifecycle")))
            world.operations[operation_id] = Operation(
                operation_id=operation_id,
                kind=KIND,
                started=world.now(),
                duration=world.scaled(world.add_dataverse_seconds),
                outcome="Failed" if world.add_dataverse_failure else "Succeeded",
                detail={"bap_id": record.bap_id, "templates": list(body.get("templates") or [])},
            )
        # TF's mock: "Location: https://europe.api.bap.microsoft.com/.../lifecycleOperations/{id}?
        # api-version=2023-06-01"; Retry-After tells how long to wait between polls.
        location = f"{world.base_url}{ROOT}/lifecycleOperations/{operation_id}?api-version=2023-06-01"
        retry = max(1, round(world.scaled(10.0)))
        return Response(status_code=202, headers={"Location": location, "Retry-After": str(retry)})

    async def lifecycle_operation(request: Request) -> Response:
        check(request)
        with world.lock:
            operation = world.operations.get(request.path_params["operation_id"].lower())
            if operation is None or operation.kind != KIND:
                return JSONResponse(nested_error("OperationNotFound", "The operation was not found."), 404)
            settle(world)
            if operation.detail.get("settled") and operation.outcome == "Failed":
                return JSONResponse(_failed_lifecycle(world, operation))
            record = world.power_platform.get(str(operation.detail["bap_id"]))
            if record is None:
                return JSONResponse(
                    nested_error("EnvironmentNotFound", "The environment was not found."), 404
                )
            answer = environment_json(world, record)
        return JSONResponse(answer)

    return [
        Route(PREFIX, list_environments, methods=["GET"]),
        Route(PREFIX + "/{environment_id}", get_environment, methods=["GET"]),
        # TF's AddDataverseToEnvironment: not under /scopes/admin.
        Route(
            ROOT + "/environments/{environment_id}/provisionInstance", provision_instance, methods=["POST"]
        ),
        Route(ROOT + "/lifecycleOperations/{operation_id}", lifecycle_operation, methods=["GET"]),
    ]


def _failed_lifecycle(world: World, operation: Operation) -> dict[str, Any]:
    """[I] A failed add answers in the generic lifecycle-operation shape, as TF's fixture of a failed
    lifecycle operation (internal/services/environment/tests/resource/Validate_Create_Lifecycle_Failed/
    get_lifecycle.json): state.id Failed, the failed stage among its stages. Whether the real service
    answers this or an environment here is not established (tests/contracts/bap-lifecycle-*.json)."""
    # Operation times are monotonic: the wall clock now, less how long ago the operation started.
    ago = world.now() - operation.started
    started = iso_time(world.wall() - ago)
    ended = iso_time(world.wall() - ago + operation.duration)
    path = f"{ROOT}/lifecycleOperations/{operation.operation_id}"

    def stage(name: str, state: str) -> dict[str, Any]:
        return {
            "id": name,
            "name": name,
            "state": {"id": state},
            "firstActionDateTime": started,
            "lastActionDateTime": ended,
        }

    return {
        "id": operation.operation_id,
        "links": {"self": {"path": path}, "environment": {"path": ""}},
        "type": {"id": "Create"},
        "typeDisplayName": "Create",
        "state": {"id": "Failed"},
        "createdDateTime": started,
        "lastActionDateTime": ended,
        "requestedBy": {"id": world.user_object_id, "displayName": world.user_name, "type": "User"},
        "stages": [stage("Validate", "Succeeded"), stage("Prepare", "Succeeded"), stage("Run", "Failed")],
    }


def _provision_refusal(world: World, record: PowerPlatformRecord, body: dict[str, Any]) -> Response | None:
    """[I] The service's refusals are not documented; these are the simulator's (call under lock)."""
    if record.has_dataverse:
        return JSONResponse(
            nested_error(
                "EnvironmentAlreadyHasDatabase", "The environment already has a Dataverse database."
            ),
            409,
        )
    if any(
        op.kind == KIND and op.detail.get("bap_id") == record.bap_id and not op.detail.get("settled")
        for op in world.operations.values()
    ):
        return JSONResponse(nested_error("OperationInProgress", "Dataverse is already being added."), 409)
    currency = body.get("currency")
    if (
        not isinstance(body.get("baseLanguage"), int | str)
        or not isinstance(currency, dict)
        or not currency.get("code")
    ):
        return JSONResponse(
            nested_error("InvalidRequestContent", "baseLanguage and currency.code are required."), 400
        )
    templates = body.get("templates") or []
    unknown = [t for t in templates if t not in TEMPLATES]
    if unknown:
        return JSONResponse(
            nested_error("InvalidTemplate", f"Unknown template(s): {', '.join(unknown)}."), 400
        )
    return None


def _provisioning(world: World, record: PowerPlatformRecord) -> str:
    """properties.provisioningState while Dataverse is being added, "" otherwise (call under lock)."""
    for operation in world.operations.values():
        if operation.kind != KIND or operation.detail.get("bap_id") != record.bap_id:
            continue
        if not operation.detail.get("settled"):
            return "LinkedDatabaseProvisioning"
        if operation.outcome == "Failed":
            return "LinkedDatabaseProvisioningFailed"  # [I] TF only knows "not Succeeded" as failure
    return ""


def settle(world: World) -> None:
    """Give the environments whose Dataverse was added their org and template packages (under lock)."""
    now = world.now()
    for operation in world.operations.values():
        if operation.kind != KIND or operation.detail.get("settled") or not operation.done(now):
            continue
        operation.detail["settled"] = True
        record = world.power_platform.get(str(operation.detail["bap_id"]))
        if record is None or operation.outcome != "Succeeded":
            continue
        record.has_dataverse = True
        # The templates article: D365_FinOps_* install DualWriteCoreAnchor and msdyn_DualWriteAppCoreAnchor.
        record.packages = catalogue.package_records((*catalogue.STANDARD_TEMPLATE, catalogue.APP_CORE))
