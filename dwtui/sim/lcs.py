"""LCS `environmentinfo/v1/detail`: paging, by id, by name, the IsSuccess envelope and throttling."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dwtui.sim import ids
from dwtui.sim.guard import Reply, lcs_envelope, request_base, require_token
from dwtui.sim.world import LcsEnvironmentRecord, World

API_VERSION = "2017-09-15"
_VERSION_EOL = "9999-12-31T23:59:59.9999999"
SERVICE_PRINCIPAL_REFUSED = "Service Principal authentication isn't supported. Use a user (delegated) token."


def environment_json(record: LcsEnvironmentRecord, project_id: str) -> dict[str, Any]:
    return {
        "EnvironmentId": record.environment_id,
        "EnvironmentName": record.name,
        # reference-environment-metadata.md: a number ("ProjectId": 112233), as LCS project ids are.
        "ProjectId": int(project_id) if project_id.isdigit() else project_id,
        "EnvironmentInfrastructure": "MicrosoftManaged"
        if record.environment_type != "DevTestDev"
        else "SelfService",
        "EnvironmentType": record.environment_type,
        "EnvironmentGroup": "Primary",
        "EnvironmentProduct": "Finance and Operations",
        "EnvironmentEndpointBaseUrl": record.fo_url,
        "DeploymentState": record.deployment_state,
        "TopologyDisplayName": record.topology,
        "CurrentApplicationBuildVersion": record.application_version,
        "CurrentApplicationReleaseName": record.application_release,
        "CurrentPlatformReleaseName": record.platform_release,
        "CurrentPlatformVersion": record.platform_version,
        "DeployedOnUTC": record.deployed_on_utc,
        "CloudStorageLocation": "East US",
        "DisasterRecoveryLocation": "West US" if record.environment_type == "Production" else "",
        "DeploymentStatusDisplay": record.deployment_status,
        "CanStart": False,
        "CanStop": record.environment_type != "Production",
    }


def _envelope(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "IsSuccess": True,
        "OperationActivityId": ids.derived_guid("lcs-activity", str(world.next_number("lcs-activity"))),
        "ErrorMessage": None,
        "VersionEOL": _VERSION_EOL,
        **fields,
    }


def _failure(world: World, message: str) -> JSONResponse:
    # LCS reports its own failures inside an HTTP 200: only authentication errors change the status.
    return JSONResponse(
        _envelope(
            world,
            IsSuccess=False,
            ErrorMessage=message,
            Data=None,
            ResultPageCurrent=0,
            ResultHasMorePages=False,
        )
    )


def routes(world: World) -> list[Route]:
    async def detail(request: Request) -> Response:
        audiences = [
            f"{request_base(request)}/lcs",
            f"{world.base_url}/lcs",
            "https://lcsapi.lcs.dynamics.com",
            ids.LCS_APP_ID,
        ]
        require_token(request, world, audiences, lcs_envelope, users_only=SERVICE_PRINCIPAL_REFUSED)
        if request.headers.get("x-ms-version", "") != API_VERSION:
            raise Reply(
                JSONResponse(
                    lcs_envelope(
                        "", f"The x-ms-version header is missing or not supported; send {API_VERSION}."
                    ),
                    status_code=400,
                )
            )
        project_id = request.path_params["project_id"]
        _throttle(world, project_id)
        with world.lock:
            known = project_id in world.lcs_projects()
            records = world.lcs_in_project(project_id)
        if not known or world.lcs_denied:
            return _failure(world, f"Project {project_id} was not found or you do not have access to it.")
        params = request.query_params
        if "environmentId" in params:
            wanted = params["environmentId"]
            found = world.lcs_by_id(wanted)
            if found is None or all(found is not record for record in records):
                return _failure(world, f"Environment {wanted} was not found in project {project_id}.")
            return JSONResponse(
                _envelope(
                    world,
                    ResultPageCurrent=1,
                    ResultHasMorePages=False,
                    Data=[environment_json(found, project_id)],
                )
            )
        if "environmentName" in params:
            name = params["environmentName"]
            matches = [r for r in records if r.name.lower() == name.lower()]
            if not matches:
                return _failure(world, f"Environment {name} was not found in project {project_id}.")
            return JSONResponse(
                _envelope(
                    world,
                    ResultPageCurrent=1,
                    ResultHasMorePages=False,
                    Data=[environment_json(r, project_id) for r in matches],
                )
            )
        try:
            page = int(params.get("page", "1"))
        except ValueError:
            return _failure(world, f"The page '{params.get('page')}' is not a number.")
        if page < 1:
            return _failure(world, "The page must be 1 or more.")
        size = world.lcs_page_size
        chunk = records[(page - 1) * size : page * size]
        return JSONResponse(
            _envelope(
                world,
                ResultPageCurrent=page,
                ResultHasMorePages=page * size < len(records),
                Data=[environment_json(r, project_id) for r in chunk],
            )
        )

    return [
        Route("/lcs/environmentinfo/v1/detail/project/{project_id}/", detail, methods=["GET"]),
        Route("/lcs/environmentinfo/v1/detail/project/{project_id}", detail, methods=["GET"]),
    ]


def _throttle(world: World, project_id: str) -> None:
    throttle = world.lcs_throttle
    if throttle is None:
        return
    with world.lock:
        wait = throttle.admit(project_id, world.now())
    if wait is None:
        return
    seconds = max(1, math.ceil(wait))
    raise Reply(
        JSONResponse(
            lcs_envelope(
                "", f"Rate limit is exceeded: 6 calls per minute per project. Try again in {seconds} s."
            ),
            status_code=429,
            headers={"Retry-After": str(seconds)},
        )
    )
