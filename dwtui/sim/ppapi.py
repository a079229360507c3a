"""Power Platform API: the application packages of an environment, their install and its operation."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dwtui.sim import ids, installing
from dwtui.sim.guard import Reply, nested_error, request_base, require_api_version, require_token
from dwtui.sim.world import PackageRecord, PowerPlatformRecord, World


def _error_details(error: str) -> dict[str, str] | None:
    if not error:
        return None
    code, found, message = error.partition(": ")
    return {"code": code, "message": message} if found and " " not in code else {"message": error}


def package_json(package: PackageRecord) -> dict[str, Any]:
    return {
        "id": package.package_id,
        "uniqueName": package.unique_name,
        "version": package.version,
        "localizedName": package.application_name,
        "localizedDescription": f"{package.application_name} for Dynamics 365.",
        "applicationId": package.application_id,
        "applicationName": package.application_name,
        "applicationDescription": f"{package.application_name} for Dynamics 365.",
        "singlePageApplicationUrl": None,
        "publisherName": "Microsoft Dynamics 365",
        "publisherId": "d2f6a7b1-3c4e-4f5a-8b9c-0d1e2f3a4b5c",
        "learnMoreUrl": "https://go.microsoft.com/fwlink/?linkid=2144013",
        "crmMinversion": "9.2",
        "crmMaxVersion": None,
        "customHandleUpgrade": False,
        "instancePackageId": ids.derived_guid("instance-package", package.unique_name)
        if package.state == "Installed"
        else None,
        "state": package.state,
        "catalogVisibility": "None",
        "applicationVisibility": "All",
        "errorDetails": _error_details(package.error),
        "startDateUtc": None,
        "endDateUtc": None,
        "supportedCountries": [],
    }


def routes(world: World) -> list[Route]:
    def check(request: Request) -> None:
        audiences = [
            "https://api.powerplatform.com",
            f"{request_base(request)}/ppapi",
            f"{world.base_url}/ppapi",
            ids.POWER_PLATFORM_API_APP_ID,
        ]
        require_token(request, world, audiences, nested_error)
        require_api_version(request, nested_error)

    def environment(request: Request) -> PowerPlatformRecord:
        """Call under world.lock."""
        wanted = request.path_params["environment_id"]
        record = world.power_platform.get(wanted.lower())
        if record is None:
            raise Reply(
                JSONResponse(
                    nested_error("EnvironmentNotFound", f"The environment '{wanted}' could not be found."),
                    status_code=404,
                )
            )
        return record

    async def packages(request: Request) -> Response:
        check(request)
        with world.lock:
            record = environment(request)
            installing.settle(world)
            items = [
                {**package_json(p), **installing.list_extras(world, p)} for p in record.packages.values()
            ]
        return JSONResponse({"value": items})

    async def install(request: Request) -> Response:
        check(request)
        body = await installing.read_body(request)
        with world.lock:
            record = environment(request)
            answer = installing.start(world, record, request.path_params["package"], body)
        return JSONResponse(answer)

    async def operation(request: Request) -> Response:
        check(request)
        with world.lock:
            record = environment(request)
            answer = installing.status(world, record.bap_id, request.path_params["operation_id"])
        return JSONResponse(answer)

    base = "/ppapi/appmanagement/environments/{environment_id}"
    return [
        Route(f"{base}/applicationPackages", packages, methods=["GET"]),
        Route(f"{base}/applicationPackages/{{package}}/install", install, methods=["POST"]),
        Route(f"{base}/operations/{{operation_id}}", operation, methods=["GET"]),
        *installing.terms_routes(world),
    ]
