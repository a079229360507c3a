"""What every simulated service shares: its error body shape and the bearer-token check."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dwtui.sim.tokens import Caller, TokenRejected, same_audience, verify
from dwtui.sim.world import World


class Reply(Exception):
    """Raised by a handler to answer at once with `response` (a refusal, usually)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


ErrorBody = Callable[[str, str], dict[str, Any]]  # (code, message) -> JSON body


def nested_error(code: str, message: str) -> dict[str, Any]:
    """BAP, Power Platform API and Dataverse: {"error": {"code", "message"}}."""
    return {"error": {"code": code, "message": message}}


def flat_error(code: str, message: str) -> dict[str, Any]:
    """The dual-write gateway: a flat object with code and message."""
    return {"code": code, "message": message}


def lcs_envelope(code: str, message: str) -> dict[str, Any]:
    """LCS answers every failure in its own envelope; it carries no code, only ErrorMessage."""
    del code
    return {
        "IsSuccess": False,
        "OperationActivityId": str(uuid.UUID(int=0)),
        "ErrorMessage": message,
        "VersionEOL": "9999-12-31T23:59:59.9999999",
    }


def request_base(request: Request) -> str:
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"https://{host}"


def require_token(
    request: Request,
    world: World,
    audiences: Iterable[str],
    error_body: ErrorBody,
    *,
    users_only: str = "",
) -> Caller:
    """The caller of a bearer token for one of `audiences`, or a 401 in the service's own shape.

    `users_only`, when set, is the message an app-only token gets (LCS refuses service principals).
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Reply(
            _unauthorized(
                world,
                error_body,
                "MissingAuthenticationToken",
                "The request did not contain a bearer token.",
                "invalid_request",
            )
        )
    try:
        claims = verify(token.strip(), world.wall())
    except TokenRejected as rejected:
        raise Reply(_unauthorized(world, error_body, "InvalidAuthenticationToken", str(rejected))) from None
    audience = str(claims.get("aud", ""))
    wanted = list(audiences)
    if not any(same_audience(audience, item) for item in wanted):
        raise Reply(
            _unauthorized(
                world,
                error_body,
                "InvalidAuthenticationTokenAudience",
                f"The access token has audience '{audience}'; this service accepts '{wanted[0]}'.",
            )
        )
    kind = str(claims.get("idtyp", "user"))
    if users_only and kind != "user":
        raise Reply(_unauthorized(world, error_body, "ServicePrincipalNotSupported", users_only))
    subject = str(claims.get("preferred_username") or claims.get("appid") or "")
    return Caller(kind=kind, subject=subject, audience=audience)


def _unauthorized(
    world: World, error_body: ErrorBody, code: str, message: str, oauth_error: str = "invalid_token"
) -> JSONResponse:
    challenge = (
        f'Bearer authorization_uri="{world.base_url}/{world.tenant_id}/oauth2/authorize", '
        f'error="{oauth_error}", error_description="{message}"'
    )
    return JSONResponse(error_body(code, message), status_code=401, headers={"WWW-Authenticate": challenge})


def require_api_version(request: Request, error_body: ErrorBody, allowed: tuple[str, ...] = ()) -> str:
    """The api-version of the request; a 400 when it is missing, or not one of `allowed` (if given).

    [I] The refusal's code and words follow Azure Resource Manager's (InvalidApiVersionParameter);
    the Power Platform services' own answer to an unknown version is not documented.
    """
    version = request.query_params.get("api-version", "")
    if version and allowed and version not in allowed:
        raise Reply(
            JSONResponse(
                error_body(
                    "InvalidApiVersionParameter",
                    f"The api-version '{version}' is invalid. The supported versions are "
                    f"'{', '.join(allowed)}'.",
                ),
                status_code=400,
            )
        )
    if not version:
        raise Reply(
            JSONResponse(
                error_body(
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                ),
                status_code=400,
            )
        )
    return version
