"""Power Platform API: installing an application package, its operation, and the terms documents.

The shapes follow the public sources: the install answers 200 with `lastOperation.operationId`
(the Power Platform API tutorial, programmability-tutorial-install-application-environment.md) or,
when the world asks for it, 202 with an empty body and an Operation-Location header (what the
terraform provider for Power Platform expects: internal/services/application/api_application.go);
the operation's `error` is {errorName, errorCode, message, type, statusCode, source} (its dto.go);
a list item's `errorDetails` is {errorCode, errorName, message, source, statusCode, type} (its
captured catalogue). The package list knows only None, Installed and InstallFailed (d365bap.tools
Get-BapEnvironmentD365App). What no source shows is inferred [I] and marked so: the stage
messages, when an install is refused, the failure's error values, and the World's switches for an
"Installing" list state, a percentComplete and terms URIs on list items.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from dwtui.sim import ids
from dwtui.sim.catalogue import missing_dependencies
from dwtui.sim.guard import Reply, nested_error
from dwtui.sim.world import Operation, PackageRecord, PowerPlatformRecord, World, iso_time

KIND = "install"
FAILS_AT = 0.35  # where in the run a failing install fails, as a fraction of the duration

# [I] A failure as the operation reports it: the shape is TF's dto; these values are made up.
DEFAULT_FAILURE: dict[str, Any] = {
    "errorName": "SolutionImportFailed",
    "errorCode": -2147188707,
    "message": "The import of solution msdyn_DualWriteAppCoreMaps failed: a component it depends on "
    "is missing from the environment.",
    "type": "PackageDeploymentException",
    "statusCode": 500,
    "source": "Dataverse",
}

# (until fraction, statusMessage, reports a percent when the world asks for it) [I]: the tutorial
# shows statusMessage null before the start; the rest is the simulator's own.
STAGES: tuple[tuple[float, str | None, bool], ...] = (
    (0.02, None, False),  # NotStarted
    (0.12, "Validating the package", False),
    (0.80, "Importing solutions", True),
    (0.95, "Updating solution components", False),
    (1.0, "Finalizing", True),
)
TERMS_PREFIX = "/termsblob"
TERMS_FILES = ("dual-write-license-terms.html", "dual-write-privacy-notice.txt")

_TERMS_HTML = """<!DOCTYPE html>
<html><head><title>Dual-write license terms</title><style>p { margin: 0 }</style></head>
<body>
<h1>MICROSOFT SOFTWARE LICENSE TERMS (simulated)</h1>
<h2>Dual-write core solution for Dynamics 365</h2>
<p>These terms are an agreement between you and the simulated Contoso tenant's software publisher.
They apply to the dual-write core solution and the application core maps that this package installs
into your Dataverse environment.</p>
<ul><li>The package installs solutions into the Dataverse environment linked through Power Platform
Integration.</li><li>Data flows between finance and operations and Dataverse once you link the
environments and run table maps.</li><li>Uninstalling requires removing the solutions in the
documented order.</li></ul>
<p>This document is served by the dwtui simulator; it is not a real licence.</p>
</body></html>
"""
_TERMS_TEXT = """Dual-write privacy notice (simulated)

Dual-write copies the data of the tables you map between finance and operations and Dataverse,
in near real time. Review which tables you map and who can read them in each application.

This document is served by the dwtui simulator; it is not a real privacy statement.
"""


def terms_uris(world: World, package: PackageRecord) -> list[str]:
    # Pre-signed storage links, as a real blob URI would be (the "sig" value is redacted in logs).
    base = f"{world.base_url}{TERMS_PREFIX}/{package.unique_name.lower()}"
    return [f"{base}/{name}?sv=2024-05-04&sr=b&sig=simulated-signature" for name in TERMS_FILES]


def list_extras(world: World, package: PackageRecord) -> dict[str, Any]:
    """Fields a list item carries beyond the documented ones (call under world.lock)."""
    # [I] Documented list items carry no terms URIs (only the install answer does, PP-TUT): only a
    # world that asks for it lists them, so that a terms document can be read before Configure.
    return {"termsOfServiceBlobUris": terms_uris(world, package)} if world.list_terms else {}


def _install_operation(world: World, bap_id: str) -> Operation | None:
    """The install running in this environment, whichever package (call under world.lock)."""
    for operation in world.operations.values():
        detail = operation.detail
        if operation.kind == KIND and detail.get("bap_id") == bap_id and not detail.get("settled"):
            return operation
    return None


def _ended(operation: Operation, now: float) -> bool:
    # A failing install stops where its check fails, not at the end of the full duration.
    failed_early = operation.outcome == "Failed" and operation.fraction(now) >= FAILS_AT
    return operation.done(now) or failed_early


def _list_error(error: dict[str, Any]) -> dict[str, Any]:
    """An operation error as a list item's errorDetails (errorCode is text there, in TF's catalogue)."""
    return {
        "errorCode": str(error.get("errorCode", "")),
        "errorName": error.get("errorName", ""),
        "message": error.get("message", ""),
        "source": error.get("source", ""),
        "statusCode": error.get("statusCode", 0),
        "type": error.get("type", ""),
    }


def settle(world: World) -> None:
    """Move finished installs' packages to Installed / InstallFailed (call under world.lock)."""
    now = world.now()
    for operation in world.operations.values():
        if operation.kind != KIND or operation.detail.get("settled") or not _ended(operation, now):
            continue
        operation.detail["settled"] = True
        org = world.power_platform.get(str(operation.detail["bap_id"]))
        package = org.packages.get(str(operation.detail["package"])) if org else None
        if package is None:
            continue
        if operation.outcome == "Succeeded":
            package.state, package.error = "Installed", None
        else:
            package.state = "InstallFailed"
            package.error = _list_error(operation.detail["error"])


def _find_package(org: PowerPlatformRecord, segment: str) -> PackageRecord | None:
    # d365bap.tools has used both the unique name and the package id as this path segment.
    wanted = segment.lower()
    for package in org.packages.values():
        if wanted in (package.unique_name.lower(), package.package_id.lower()):
            return package
    return None


def _refuse(status: int, code: str, message: str) -> Reply:
    return Reply(JSONResponse(nested_error(code, message), status_code=status))


async def read_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}  # the terraform provider sends no body at all
    try:
        body = json.loads(raw)
    except ValueError:
        raise _refuse(400, "InvalidRequestContent", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _refuse(400, "InvalidRequestContent", "The request body must be the package object.")
    return body


def operation_location(world: World, org: PowerPlatformRecord, operation_id: str) -> str:
    return (
        f"{world.base_url}/ppapi/appmanagement/environments/{org.bap_id}/operations/{operation_id}"
        "?api-version=2022-03-01-preview"
    )


def start(
    world: World, org: PowerPlatformRecord, segment: str, body: dict[str, Any]
) -> tuple[dict[str, Any] | None, str]:
    """Accept an install (call under world.lock): (the body, the Operation-Location or "")."""
    settle(world)
    package = _find_package(org, segment)
    if package is None:
        raise _refuse(
            404, "ApplicationPackageNotFound", f"The application package '{segment}' was not found."
        )
    named = str(body.get("uniqueName") or package.unique_name)
    if named.lower() != package.unique_name.lower():
        raise _refuse(400, "PackageMismatch", f"The body names '{named}', the path '{segment}'.")
    # [I] How the real service refuses a second install, or one whose dependencies are missing, is
    # undocumented ("You must first install any dependencies": separated-solutions transition guide).
    # A second install while one runs in the environment, of this package or another, is refused
    # with 409 and nothing is started (Dataverse itself imports one solution at a time: "Cannot
    # start another [Import] because there is a previous [Import] running", as a failed operation,
    # microsoft/coe-starter-kit#8757); dwtui follows the install that runs by its package state.
    if _install_operation(world, org.bap_id) is not None:
        raise _refuse(409, "InstallInProgress", "An application package install is already running.")
    if package.state == "Installed":
        raise _refuse(409, "PackageAlreadyInstalled", f"'{package.unique_name}' is already installed.")
    missing = missing_dependencies(org.packages, package.unique_name)
    if missing:
        raise _refuse(
            400,
            "DependencyNotInstalled",
            f"'{package.unique_name}' needs {', '.join(missing)} installed first.",
        )
    operation_id = ids.derived_guid("install-operation", str(world.next_number("install-operation")))
    failure = world.install_failures.get(package.unique_name.lower())
    operation = Operation(
        operation_id=operation_id,
        kind=KIND,
        started=world.now(),
        duration=world.scaled(world.install_seconds),
        outcome="Failed" if failure is not None else "Succeeded",
        detail={
            "bap_id": org.bap_id,
            "package": package.unique_name,
            "created": world.wall(),
            "error": failure or {},
        },
    )
    world.operations[operation_id] = operation
    package.error = None
    if world.list_installing_state:
        package.state = "Installing"
    elif package.state == "InstallFailed":
        package.state = "None"
    if world.install_answer == "202":
        return None, operation_location(world, org, operation_id)
    created = iso_time(world.wall())
    answer = {
        "id": ids.derived_guid("instance-package", package.unique_name, operation_id),
        "packageId": package.package_id,
        "applicationId": package.application_id,
        "applicationName": package.application_name,
        "applicationDescription": "",
        "singlePageApplicationUrl": "",
        "publisherName": "Microsoft Dynamics 365",
        "publisherId": "7ea093b9-252b-4557-a8ae-ad4c1932a412",
        "packageUniqueName": package.unique_name,
        "packageVersion": package.version,
        "localizedDescription": package.localized_name,
        "localizedName": package.localized_name,
        "learnMoreUrl": "http://go.microsoft.com/fwlink/?LinkID=773454",
        "termsOfServiceBlobUris": terms_uris(world, package),
        "applicationVisibility": "All",
        "lastOperation": {
            "state": "InstallRequested",
            "createdOn": created,
            "modifiedOn": None,
            "errorDetails": None,
            "statusMessage": None,
            "instancePackageId": ids.derived_guid("instance-package", package.unique_name),
            "operationId": operation_id,
        },
        "customHandleUpgrade": False,
    }
    return answer, ""


def operation_json(world: World, operation: Operation) -> dict[str, Any]:
    """GET operations/{id}: the documented fields; percentComplete only when the world asks [I]."""
    now = world.now()
    fraction = operation.fraction(now)
    failed = operation.outcome == "Failed"
    error: dict[str, Any] | None = None
    percent: int | None = None
    if failed and fraction >= FAILS_AT:
        status, message = "Failed", ""
        error = dict(operation.detail["error"])
    elif not failed and operation.done(now):
        status, message = "Succeeded", ""
    else:
        stage = next((s for s in STAGES if fraction < s[0]), STAGES[-1])
        status = "NotStarted" if stage[1] is None else "Running"
        message = stage[1] or ""
        percent = int(fraction * 100) if stage[2] and world.report_percent else None
    started = float(operation.detail["created"])
    body: dict[str, Any] = {
        "operationId": operation.operation_id,
        "status": status,
        "createdDateTime": iso_time(started),
        "lastActionDateTime": None if status == "NotStarted" else iso_time(world.wall()),
        "error": error,
        "statusMessage": message or None,
    }
    if percent is not None:
        body["percentComplete"] = percent
    return body


def status(world: World, bap_id: str, operation_id: str) -> dict[str, Any]:
    """The operation's state (call under world.lock); 404 when unknown."""
    operation = world.operations.get(operation_id.lower())
    if operation is None or operation.kind != KIND or operation.detail.get("bap_id") != bap_id:
        raise _refuse(404, "OperationNotFound", f"The operation '{operation_id}' was not found.")
    body = operation_json(world, operation)
    settle(world)
    return body


def terms_routes(world: World) -> list[Route]:
    async def document(request: Request) -> Response:
        name = request.path_params["name"]
        with world.lock:
            known = {
                p.unique_name.lower() for org in world.power_platform.values() for p in org.packages.values()
            }
        if request.path_params["package"].lower() not in known or name not in TERMS_FILES:
            return PlainTextResponse("BlobNotFound", status_code=404)
        if name.endswith(".html"):
            return HTMLResponse(_TERMS_HTML)
        return PlainTextResponse(_TERMS_TEXT)

    return [Route(TERMS_PREFIX + "/{package}/{name}", document, methods=["GET"])]
