"""Test-only control endpoints under /_sim (no real service has these): faults and the request log."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dwtui.sim.world import World

CONTROL_PREFIX = "/_sim"


def routes(world: World) -> list[Route]:
    async def add_fault(request: Request) -> Response:
        try:
            spec = json.loads(await request.body())
            rule = world.add_fault(
                path_prefix=str(spec["path_prefix"]),
                kind=str(spec["kind"]),
                count=int(spec.get("count", 1)),
                retry_after=float(spec["retry_after"]) if spec.get("retry_after") is not None else None,
                delay=float(spec.get("delay", 35.0)),
                method=str(spec.get("method", "")),
            )
        except (ValueError, KeyError, TypeError) as problem:
            return JSONResponse({"error": f"bad fault: {problem}"}, status_code=400)
        return JSONResponse(rule.as_json(), status_code=201)

    async def list_faults(request: Request) -> Response:
        with world.lock:
            return JSONResponse([rule.as_json() for rule in world.faults])

    async def clear_faults(request: Request) -> Response:
        world.clear_faults()
        return Response(status_code=204)

    async def requests(request: Request) -> Response:
        return JSONResponse(world.requests())

    async def reset_log(request: Request) -> Response:
        world.reset_log()
        return Response(status_code=204)

    async def approve(request: Request) -> Response:
        code = request.query_params.get("user_code", "")
        approved = request.query_params.get("decline", "") == ""
        if not world.approve_device_code(code, approved):
            return JSONResponse({"error": "unknown_user_code"}, status_code=404)
        return JSONResponse({"user_code": code, "approved": approved})

    return [
        Route(f"{CONTROL_PREFIX}/faults", add_fault, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/faults", list_faults, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}/faults", clear_faults, methods=["DELETE"]),
        Route(f"{CONTROL_PREFIX}/requests", requests, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}/reset-log", reset_log, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/device-codes/approve", approve, methods=["POST"]),
    ]
