"""The one ASGI app: every service's routes, plus the fault injector and request log around them."""

from __future__ import annotations

import asyncio
import math
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dwtui.sim import bap, control, dataverse, devicelogin, gateway, idp, lcs, ppapi
from dwtui.sim.guard import Reply
from dwtui.sim.tokens import TokenRejected, verify
from dwtui.sim.world import FaultRule, World

_SECRET_QUERY_KEYS = frozenset(
    {
        "code",
        "client_secret",
        "password",
        "access_token",
        "refresh_token",
        "assertion",
        "client_assertion",
        "device_code",
        "sig",
        "token",
    }
)
_SERVICES = {
    "lcs": "lcs",
    "bap": "bap",
    "ppapi": "ppapi",
    "dataverse": "dataverse",
    "gateway": "gateway",
    "devicelogin": "idp",
    "termsblob": "terms",
}


class SimulatedReset(Exception):
    """Raised mid-response so the server drops the connection (fault kind "reset")."""


def build_app(world: World) -> ASGIApp:
    async def reply(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Reply)
        return exc.response

    routes = [
        *control.routes(world),
        *lcs.routes(world),
        *bap.routes(world),
        *ppapi.routes(world),
        *dataverse.routes(world),
        *gateway.routes(world),
        *devicelogin.routes(world),
        # Last: its /{tenant}/... patterns would otherwise shadow nothing, but keep the order obvious.
        *idp.routes(world),
    ]
    app = Starlette(routes=routes, exception_handlers={Reply: reply})
    return FaultsAndLog(app, world)


def _service(path: str) -> str:
    first = path.strip("/").split("/", 1)[0]
    return _SERVICES.get(first, "idp")


def _auth_kind(world: World, scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() != "bearer":
                return "invalid"
            try:
                return str(verify(token.strip(), world.wall()).get("idtyp", "user"))
            except TokenRejected:
                return "invalid"
    return "none"


def _redacted_query(raw: bytes) -> str:
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "***" if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs])


class FaultsAndLog:
    """Logs every service request (never headers or bodies) and serves the faults tests ask for."""

    def __init__(self, app: ASGIApp, world: World) -> None:
        self.app = app
        self.world = world

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(control.CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        entry: dict[str, Any] = {
            "at": self.world.wall(),
            "method": scope["method"],
            "path": scope["path"],
            "query": _redacted_query(scope.get("query_string", b"")),
            "service": _service(scope["path"]),
            "auth": _auth_kind(self.world, scope),
            "status": None,
            "fault": None,
        }

        logged = False

        def log_once() -> None:
            nonlocal logged
            if not logged:
                logged = True
                self.world.log_request(entry)

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Logged before the last byte leaves, so a client that has its answer can read the log.
                log_once()
            await send(message)

        rule = self.world.take_fault(scope["method"], scope["path"])
        try:
            if rule is None:
                await self.app(scope, receive, logged_send)
            elif rule.kind == "slow":
                entry["fault"] = rule.kind
                await asyncio.sleep(rule.delay)
                await self.app(scope, receive, logged_send)
            elif rule.kind == "late" or rule.kind.startswith("acted-"):
                entry["fault"] = rule.kind
                held: list[Message] = []

                async def hold(message: Message) -> None:
                    held.append(message)

                await self.app(scope, receive, hold)  # the service acts on the request
                if rule.kind == "late":
                    await asyncio.sleep(rule.delay)
                    for message in held:
                        await logged_send(message)
                else:
                    await self._fault(rule, scope, logged_send)
            else:
                entry["fault"] = rule.kind
                if rule.kind in ("reset", "timeout"):
                    log_once()  # the client gives up (or is cut off) before any status is sent
                    await self._fault(rule, scope, send)
                else:
                    await self._fault(rule, scope, logged_send)
        finally:
            log_once()

    async def _fault(self, rule: FaultRule, scope: Scope, send: Send) -> None:
        headers: dict[str, str] = {}
        if rule.retry_after is not None:
            headers["Retry-After"] = str(max(0, math.ceil(rule.retry_after)))
        if rule.kind == "reset":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"val', "more_body": True})
            raise SimulatedReset(f"fault {rule.fault_id}: connection reset")
        response: Response
        if rule.kind == "timeout":
            await asyncio.sleep(rule.delay)
            response = JSONResponse({"message": "simulated gateway timeout"}, status_code=504)
        elif rule.kind == "malformed":
            response = Response(b'{"value": [{"truncated', status_code=200, media_type="application/json")
        elif rule.kind == "429":
            headers.setdefault("Retry-After", "1")
            response = JSONResponse(
                {"message": "simulated throttling: too many requests"}, status_code=429, headers=headers
            )
        else:
            status = int(rule.kind.removeprefix("acted-"))
            response = JSONResponse(
                {"message": f"simulated HTTP {status}"}, status_code=status, headers=headers
            )
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
