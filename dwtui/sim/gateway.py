"""The dual-write management gateway: link state by F&O host, and the connection set behind a link."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dwtui.sim import ids, linking
from dwtui.sim.guard import Reply, flat_error, request_base, require_token
from dwtui.sim.world import ConnectionSetRecord, World

_CREATED = "2026-02-11T10:21:43.1180000Z"


def _check(world: World, request: Request) -> None:
    audiences = [ids.DUALWRITE_RESOURCE, f"{request_base(request)}/gateway", f"{world.base_url}/gateway"]
    require_token(request, world, audiences, flat_error)


def _environment_entry(
    world: World,
    link: ConnectionSetRecord,
    *,
    name: str,
    target: str,
    display: str,
    direct_url: str,
    metadata_url: str,
    dev: bool,
) -> dict[str, Any]:
    return {
        "name": name,
        "connectionSetName": link.cname,
        "targetType": target,
        "schemas": [],
        "sharedEnums": [],
        "connectionDisplayName": display,
        "environmentDisplayName": display,
        "metadataUrl": metadata_url,
        "environmentInfo": None,
        "powerAppsEnvironment": link.bap_id,
        "directUrl": direct_url,
        "isDevInstance": dev,
        "bypassApiHubConnector": False,
        "needsIntegrationKey": False,
        "excludeHardCodedIntegrationKeys": False,
    }


def connection_set_json(world: World, link: ConnectionSetRecord) -> dict[str, Any]:
    fo = world.lcs_by_id(link.lcs_id)
    org = world.power_platform.get(link.bap_id)
    assert fo is not None and org is not None, link
    instance_url = world.instance_url(org)
    mappings = [
        {
            "left": {"name": le, "id": le},
            "right": {"name": le, "id": ids.derived_guid("company", org.unique_name, le)},
        }
        for le in link.legal_entities
    ]
    return {
        "name": link.cname,
        "displayName": f"{fo.name} - {org.display_name}",
        "id": link.cid,
        "owner": world.user_object_id,
        "createdDateTime": _CREATED,
        "tags": None,
        "tenant": world.tenant_id,
        "forDualWrite": True,
        "bypassApiHubConnector": False,
        "targetTypeList": ["AX", "CRM"],
        "environments": {
            fo.fo_host: _environment_entry(
                world,
                link,
                name=fo.fo_host,
                target="AX",
                display=fo.name,
                direct_url=fo.fo_url,
                metadata_url=f"{fo.fo_url}data/$metadata",
                dev=fo.environment_type == "DevTestDev",
            ),
            org.unique_name: _environment_entry(
                world,
                link,
                name=org.unique_name,
                target="CRM",
                display=org.display_name,
                direct_url=instance_url,
                metadata_url=f"{instance_url}api/data/v9.2/$metadata",
                dev=False,
            ),
        },
        "dataPartitionMappings": [
            {
                "firstPartitionEnvName": fo.fo_host,
                "firstPartition": "initial",
                "secondPartitionEnvName": org.unique_name,
                "secondPartition": "default",
            }
        ],
        "dualWriteDetail": {
            "trialExpiresOn": None,
            "isTrialEnvironment": False,
            "isOnFirstPartyAuth": True,
            "isSolutionAware": True,
            "legalEntityMappings": {
                "leftEnvironment": fo.fo_host,
                "rightEnvironment": org.unique_name,
                "mappings": mappings,
            },
            "conflictResolution": {"option": 0, "master": "AX"},
            "alertSettings": [],
            "autoPauseThresholdSettings": None,
            "solutionAwareRequests": linking.solution_aware_requests(world, link),
            "actionDetails": None,
            "errorTableNames": [],
            "dualWriteScheduleLogicAppRunId": None,
            "scheduledRequests": [],
            "errorTableUpdateInProgress": False,
            "catchupCleanupTriggerName": None,
        },
    }


def routes(world: World) -> list[Route]:
    async def environments(request: Request) -> Response:
        _check(world, request)
        target = request.query_params.get("targetType", "")
        identifier = request.query_params.get("identifier", "")
        if target != "AX" or not identifier:
            raise Reply(
                JSONResponse(
                    flat_error("BadRequest", "targetType=AX and identifier are required."), status_code=400
                )
            )
        if "://" in identifier:
            # What the real gateway does with a URL instead of a host (DWHelper issue #14).
            raise Reply(
                JSONResponse(
                    flat_error(
                        "BadRequest",
                        f"The identifier '{identifier}' is not a valid environment host name.",
                    ),
                    status_code=400,
                )
            )
        with world.lock:
            linking.settle(world)
            fo = world.lcs_by_host(identifier)
            link = world.connection_set_for(fo.environment_id) if fo else None
            if fo is None or link is None:
                return JSONResponse([])
            return JSONResponse(
                [
                    {
                        "cid": link.cid,
                        "cname": link.cname,
                        "targetType": "AX",
                        "displayName": fo.name,
                        "detail": {"isSolutionAware": True},
                        "powerAppsEnvironment": link.bap_id,
                    }
                ]
            )

    async def connection_set(request: Request) -> Response:
        _check(world, request)
        name = request.path_params["name"]
        with world.lock:
            linking.settle(world)
            link = world.connection_sets.get(name.lower())
            if link is None:
                return JSONResponse(
                    flat_error("NotFound", f"Connection set '{name}' was not found."), status_code=404
                )
            return JSONResponse(connection_set_json(world, link))

    return [
        Route("/gateway/api/DualWriteManagement/1.0/Environments", environments, methods=["GET"]),
        Route("/gateway/api/ConnectionSet/{name}", connection_set, methods=["GET"]),
        *linking.routes(world),
    ]
