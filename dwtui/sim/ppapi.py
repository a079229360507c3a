"""Power Platform API: the application packages of an environment (the dual-write application among them)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dwtui.sim import ids
from dwtui.sim.guard import nested_error, request_base, require_api_version, require_token
from dwtui.sim.world import PackageRecord, World


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
        "errorDetails": {"message": package.error} if package.error else None,
        "startDateUtc": None,
        "endDateUtc": None,
        "supportedCountries": [],
    }


def routes(world: World) -> list[Route]:
    async def packages(request: Request) -> Response:
        audiences = [
            "https://api.powerplatform.com",
            f"{request_base(request)}/ppapi",
            f"{world.base_url}/ppapi",
            ids.POWER_PLATFORM_API_APP_ID,
        ]
        require_token(request, world, audiences, nested_error)
        require_api_version(request, nested_error)
        wanted = request.path_params["environment_id"]
        with world.lock:
            record = world.power_platform.get(wanted.lower())
            if record is None:
                return JSONResponse(
                    nested_error("EnvironmentNotFound", f"The environment '{wanted}' could not be found."),
                    status_code=404,
                )
            items = [package_json(p) for p in record.packages.values()]
        return JSONResponse({"value": items})

    return [
        Route(
            "/ppapi/appmanagement/environments/{environment_id}/applicationPackages",
            packages,
            methods=["GET"],
        )
    ]
