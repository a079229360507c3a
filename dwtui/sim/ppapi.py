"""Power Platform API: the application packages of an environment, their install and its operation.

A list item has the fields of the tutorial's schema (programmability-tutorial-install-application-
environment.md) and of the terraform provider's captured list (internal/services/application/tests/
datasource/environment_application_packages/Validate_Read/get_applications.json).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dwtui.sim import ids, installing
from dwtui.sim.guard import Reply, nested_error, request_base, require_api_version, require_token
from dwtui.sim.world import PackageRecord, PowerPlatformRecord, World


def package_json(package: PackageRecord) -> dict[str, Any]:
    return {
        "id": package.package_id,
        "uniqueName": package.unique_name,
        "version": package.version,
        "localizedDescription": None,
        "localizedName": package.localized_name or package.application_name,
        "applicationId": package.application_id,
        "applicationName": package.application_name,
        "applicationDescription": None,
        "singlePageApplicationUrl": None,
        "publisherName": "Microsoft Dynamics 365",
        "publisherId": "7ea093b9-252b-4557-a8ae-ad4c1932a412",
        "learnMoreUrl": "http://go.microsoft.com/fwlink/?LinkID=773454",
        "crmMinversion": "9.2",
        "crmMaxVersion": None,
        "customHandleUpgrade": False,
        "instancePackageId": ids.derived_guid("instance-package", package.unique_name)
        if package.state == "Installed"
        else None,
        "state": package.state,
        "catalogVisibility": "None",
        "applicationVisibility": "All",
        "errorDetails": package.error,
        "startDateUtc": "2020-01-01T00:00:00Z",
        "endDateUtc": "2050-01-01T00:00:00Z",
        "supportedCountries": ["US", "CA", "GB", "DE"],
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
        # PP-TUT, the terraform provider and d365bap.tools all use this one version.
        require_api_version(request, nested_error, allowed=("2022-03-01-preview",))

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
        if not record.has_dataverse:
            # [I] The tutorial only says the environment must have Dataverse; this refusal is ours.
            raise Reply(
                JSONResponse(
                    nested_error("DataverseNotFound", f"The environment '{wanted}' has no Dataverse."),
                    status_code=400,
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
            answer, location = installing.start(world, record, request.path_params["package"], body)
        if answer is None:
            return Response(status_code=202, headers={"Operation-Location": location})
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
