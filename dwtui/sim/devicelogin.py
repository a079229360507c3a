"""The page a person opens to enter a device code, and the approve/decline endpoints behind it."""

from __future__ import annotations

import html
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from dwtui.sim.world import World

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>dwtui simulator: device sign-in</title></head>
<body>
<h1>Sign in to the dwtui simulator</h1>
<p>Signing in as {user} ({tenant}). Enter the code your terminal shows.</p>
<form method="post" action="/devicelogin/approve">
  <input name="user_code" autofocus placeholder="code" value="{code}">
  <button type="submit">Approve</button>
  <button type="submit" formaction="/devicelogin/decline">Decline</button>
</form>
{note}
</body></html>
"""


def _page(world: World, code: str = "", note: str = "") -> str:
    return _PAGE.format(
        user=html.escape(world.user_name),
        tenant=html.escape(world.tenant_domain),
        code=html.escape(code),
        note=f"<p>{html.escape(note)}</p>" if note else "",
    )


def routes(world: World) -> list[Route]:
    async def page(request: Request) -> Response:
        return HTMLResponse(_page(world, request.query_params.get("user_code", "")))

    async def decide(request: Request, approve: bool) -> Response:
        code = request.query_params.get("user_code", "")
        if not code:
            body = (await request.body()).decode("utf-8", errors="replace")
            code = dict(parse_qsl(body)).get("user_code", "")
        known = world.approve_device_code(code, approve)
        if "text/html" in request.headers.get("accept", ""):
            note = (
                ("Approved: return to your terminal." if approve else "Declined.")
                if known
                else (f"No pending sign-in has the code '{code}'.")
            )
            return HTMLResponse(_page(world, note=note), status_code=200 if known else 404)
        if not known:
            return JSONResponse({"error": "unknown_user_code", "user_code": code}, status_code=404)
        return JSONResponse({"user_code": code, "approved": approve})

    async def approve(request: Request) -> Response:
        return await decide(request, True)

    async def decline(request: Request) -> Response:
        return await decide(request, False)

    return [
        Route("/devicelogin", page, methods=["GET"]),
        Route("/devicelogin/approve", approve, methods=["POST"]),
        Route("/devicelogin/decline", decline, methods=["POST"]),
    ]
