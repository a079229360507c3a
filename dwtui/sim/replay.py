"""`dwtui sim --replay FILE`: a recorded run served back over the simulator's TLS.

Every recorded answer is served at the place UrlMap gives its URL, in recorded order for
identical requests. Sign-in cannot be replayed (the trace holds no token), so the simulator's own
identity provider and device-login page answer it, for the recorded tenant and client ids: a real
MSAL client signs in as against the simulator, then gets the recorded answers. A request the trace
does not hold gets a 404 naming it. A recorded failure without an answer (a timeout, a dropped
connection) is played back as a dropped connection.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from dwtui.sim import devicelogin, idp
from dwtui.sim.app import SimulatedReset
from dwtui.sim.guard import Reply
from dwtui.sim.recording import SERVICE_PREFIXES, Recording, Trace, UrlMap, load_trace
from dwtui.sim.server import SimServer

REPLAY_PROFILE = "replay"
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Headers the server sets itself for the body it sends, or that belong to the recorded connection.
_NOT_REPLAYED = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive", "date", "server"}
)


class _Replayer:
    """The ASGI endpoint behind every path the identity provider does not answer."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = str(scope["method"])
        path = str(scope["path"])
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        exchange = self.recording.answer(method, path, query)
        if exchange is None:
            response: Response = self._not_recorded(method, path, query)
        elif exchange.response is None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            raise SimulatedReset(f"recorded exchange {exchange.seq} had no answer")
        else:
            response = self._replayed(exchange.response)
        await response(scope, receive, send)

    def _replayed(self, recorded: dict[str, Any]) -> Response:
        urls = self.recording.urls
        headers = {
            str(name): urls.rewrite(str(value))
            for name, value in (recorded.get("headers") or {}).items()
            if str(name).lower() not in _NOT_REPLAYED
        }
        if "json" in recorded:
            body = json.dumps(urls.rewrite_json(recorded["json"]), ensure_ascii=False).encode("utf-8")
            if not any(name.lower() == "content-type" for name in headers):
                headers["content-type"] = "application/json"
        elif "text" in recorded:
            body = urls.rewrite(str(recorded["text"])).encode("utf-8")
        else:  # an empty body, or one the trace kept only the size of
            body = b""
        return Response(body, status_code=int(recorded["status"]), headers=headers)

    def _not_recorded(self, method: str, path: str, query: str) -> JSONResponse:
        asked = f"{method} {path}{'?' + query if query else ''}"
        instead = self.recording.recorded_for(path)
        message = f"the trace {self.recording.trace.path.name} recorded no answer for {asked}"
        message += f"; recorded on this path: {', '.join(instead)}" if instead else "; nothing on this path"
        return JSONResponse(
            {
                # The nested shape BAP, the Power Platform API and Dataverse use: dwtui shows its message.
                "error": {"code": "NotRecorded", "message": message},
                "request": asked,
                "recorded_on_this_path": instead,
            },
            status_code=404,
        )


def build_replay_app(server: SimServer, recording: Recording) -> ASGIApp:
    async def reply(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Reply)
        return exc.response

    routes = [
        *devicelogin.routes(server.world),
        *idp.routes(server.world),
        Route("/{path:path}", _Replayer(recording)),
    ]
    return Starlette(routes=routes, exception_handlers={Reply: reply})


class ReplayServer(SimServer):
    """A trace served over TLS on loopback; sign-in by the simulator's identity provider."""

    def __init__(
        self,
        trace: Trace | Path,
        speed: float = 1.0,
        port: int = 0,
        device_approve_after: float | None = None,
    ) -> None:
        super().__init__("happy", speed, port, device_approve_after)
        self.trace = trace if isinstance(trace, Trace) else load_trace(trace)
        self.recording: Recording | None = None
        recorded = self.trace.profile
        tenant = str(recorded.get("tenant_id") or "")
        # The recorded ids, so the profile that points here names the same tenant and app.
        if _GUID.fullmatch(tenant):
            self.world.tenant_id = tenant.lower()
        elif tenant:
            self.world.tenant_domain = tenant.lower()
        client = str(recorded.get("client_id") or "")
        if _GUID.fullmatch(client):
            self.world.client_id = client.lower()
        self._tenant = tenant.lower() or self.world.tenant_id

    def _build_app(self) -> Any:
        self.recording = Recording(self.trace, UrlMap(self.trace, self.base_url))
        return build_replay_app(self, self.recording)

    def profile_table(self, environment: str = "") -> dict[str, object]:
        """A profile with the recorded ids and every base URL pointing here (device-code sign-in)."""
        del environment  # the recorded profile's environment is the one its calls name
        recorded = self.trace.profile
        table: dict[str, object] = {
            "tenant_id": self._tenant,
            "client_id": self.world.client_id,
            "lcs_project_id": str(recorded.get("lcs_project_id") or self.world.project_id),
            "environment_id": str(recorded.get("environment_id") or ""),
            "auth": "device-code",
            "authority_url": self.base_url,
        }
        for name, prefix in SERVICE_PREFIXES:
            recorded_url = str(recorded.get(name) or "")
            # Without a recorded gateway URL the recorded run read no link state; neither does this one.
            served = bool(recorded_url) or name != "dualwrite_gateway_url"
            table[name] = f"{self.base_url}{prefix}" if served else ""
        table["ca_bundle"] = str(self.ca_file)
        table["allow_production_changes"] = False
        if not table["environment_id"]:
            del table["environment_id"]
        return table

    def write_config(self, path: Path, environment: str = "", *, profile_name: str = REPLAY_PROFILE) -> None:
        super().write_config(path, environment, profile_name=profile_name)


def run_replay(
    trace_path: Path,
    speed: float,
    port: int,
    write_config: Path | None,
    out: TextIO | None = None,
    *,
    stop: threading.Event | None = None,
) -> int:
    """Serve a trace until Ctrl-C (or until `stop` is set). Raises TraceFormatError for a bad file."""
    out = out or sys.stdout
    finished = stop or threading.Event()
    trace = load_trace(trace_path)
    replay = ReplayServer(trace, speed=speed, port=port)
    replay.start()
    try:
        assert replay.recording is not None
        print(
            f"dwtui replay: {trace_path} ({len(replay.recording)} answers to "
            f"{replay.recording.requests} distinct requests)",
            file=out,
        )
        print(f"  base URL  {replay.base_url}", file=out)
        print(f"  CA file   {replay.ca_file}", file=out)
        print(
            f"  sign in   device code (the simulator's, the trace holds no token); approve at "
            f"{replay.base_url}/devicelogin (or wait: codes approve themselves)",
            file=out,
        )
        if write_config is not None:
            replay.write_config(write_config)
            print(f"  config    {write_config} (profile '{REPLAY_PROFILE}')", file=out)
            print(f"\n  dwtui --config {write_config} --profile {REPLAY_PROFILE} status", file=out)
        else:
            print("  (pass --write-config PATH to write a profile that points at it)", file=out)
        print("\nPress Ctrl-C to stop.", file=out, flush=True)
        try:
            while not finished.wait(3600):
                pass
        except KeyboardInterrupt:
            print("stopping the replay", file=out, flush=True)
    finally:
        replay.stop()
    return 0
