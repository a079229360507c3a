"""The identity provider: OIDC discovery, device code and token endpoints, as MSAL expects them.

Grants: device code (authorization_pending first, then success once approved), refresh token,
client credentials with a client secret or a certificate-signed client assertion. Errors are HTTP
400/401 with {error, error_description, error_codes}, like Entra ID. A person's token for a resource
the world withholds consent for (World.consent_withheld) answers AADSTS65001 instead.
"""

from __future__ import annotations

import hmac
import secrets
import string
from typing import Any
from urllib.parse import parse_qsl

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dwtui.sim import ids
from dwtui.sim.guard import Reply
from dwtui.sim.issuer import app_token_response, issuer_url, user_token_response
from dwtui.sim.tokens import TokenRejected, b64url, resource_of, same_audience, split_jwt, verify
from dwtui.sim.world import DeviceCodeRecord, World

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_USER_CODE_ALPHABET = string.ascii_uppercase.replace("O", "").replace("I", "") + "23456789"


def oauth_error(status: int, error: str, description: str, code: int) -> Reply:
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}",
        "error_codes": [code],
        "timestamp": "2026-01-01 00:00:00Z",
        "trace_id": ids.derived_guid("trace", error),
        "correlation_id": ids.derived_guid("correlation", error),
    }
    return Reply(JSONResponse(body, status_code=status))


# Entra's sample token error body (reference-error-codes.md) has error, error_description (the code,
# the text, then Trace ID, Correlation ID and Timestamp lines), error_codes, timestamp, trace_id,
# correlation_id and error_uri.
_ENTRA_TIMESTAMP = "2026-01-01 00:00:00Z"


def consent_error(world: World, client_id: str) -> Reply:
    """AADSTS65001 (DelegationDoesNotExist): nobody consented to this resource for the app."""
    trace = ids.derived_guid("trace", "consent", client_id)
    correlation = ids.derived_guid("correlation", "consent", client_id)
    name = ids.CLIENT_NAME if client_id == world.client_id else client_id
    body = {
        "error": "invalid_grant",
        "error_description": f"AADSTS65001: The user or administrator has not consented to use the "
        f"application with ID '{client_id}' named '{name}'. Send an interactive authorization request "
        f"for this user and resource.\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\n"
        f"Timestamp: {_ENTRA_TIMESTAMP}",
        "error_codes": [65001],
        "timestamp": _ENTRA_TIMESTAMP,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"{world.base_url}/error?code=65001",
        # Not in any Microsoft sample body: `suberror` beside invalid_grant is the shape commonly
        # seen in third-party test suites for this error (issue9-sources.md 5.1); Entra does put
        # `suberror` at the top level for other errors (e.g. user_password_expired).
        "suberror": "consent_required",
    }
    return Reply(JSONResponse(body, status_code=400))


def _user_token(world: World, client_id: str, scope: str) -> dict[str, Any]:
    """A person's tokens for `scope`, unless the world withholds consent for its resource."""
    resource = resource_of(scope)
    if any(same_audience(resource, withheld) for withheld in world.consent_withheld):
        raise consent_error(world, client_id)
    if world.consent_withheld_dataverse and resource.startswith(f"{world.base_url}/dataverse/"):
        raise consent_error(world, client_id)
    return user_token_response(world, client_id, scope)


async def _form(request: Request) -> dict[str, str]:
    # Parsed by hand: Starlette's form parser needs python-multipart, which the simulator does not.
    body = (await request.body()).decode("utf-8", errors="replace")
    return {key: value for key, value in parse_qsl(body, keep_blank_values=True)}


def _tenant(world: World, request: Request) -> str:
    tenant = str(request.path_params["tenant"])
    if not world.knows_tenant(tenant):
        raise oauth_error(400, "invalid_tenant", f"Tenant '{tenant}' not found.", 90002)
    return tenant


def _user_code(world: World) -> str:
    # Deterministic per world, so the sign-in screen's snapshot is stable.
    number = world.next_number("user_code") * 7919 + 104729
    letters = []
    for _ in range(9):
        number, digit = divmod(number * 31 + 17, len(_USER_CODE_ALPHABET))
        letters.append(_USER_CODE_ALPHABET[digit])
    return "".join(letters)


def routes(world: World) -> list[Route]:
    async def openid_configuration(request: Request) -> Response:
        _tenant(world, request)
        base = f"{world.base_url}/{world.tenant_id}"
        return JSONResponse(
            {
                "issuer": issuer_url(world),
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "tenant_region_scope": "NA",
                "cloud_instance_name": "simulator",
            }
        )

    async def devicecode(request: Request) -> Response:
        _tenant(world, request)
        form = await _form(request)
        client_id = form.get("client_id", "")
        if client_id != world.client_id:
            raise oauth_error(
                400,
                "unauthorized_client",
                f"Application with identifier '{client_id}' was not found in the directory.",
                700016,
            )
        scope = form.get("scope", "").strip()
        if not scope:
            raise oauth_error(400, "invalid_request", "The request body must contain 'scope'.", 900144)
        with world.lock:
            now = world.now()
            record = DeviceCodeRecord(
                device_code=secrets.token_urlsafe(48),
                user_code=_user_code(world),
                client_id=client_id,
                scope=scope,
                created=now,
                expires_at=now + world.device_code_lifetime,
            )
            world.device_codes[record.device_code] = record
        uri = f"{world.base_url}/devicelogin"
        return JSONResponse(
            {
                "user_code": record.user_code,
                "device_code": record.device_code,
                "verification_uri": uri,
                "expires_in": max(1, int(world.device_code_lifetime)),
                "interval": world.device_poll_interval,
                "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
                f"{record.user_code} to authenticate.",
            }
        )

    async def token(request: Request) -> Response:
        _tenant(world, request)
        form = await _form(request)
        grant = form.get("grant_type", "")
        if grant == DEVICE_GRANT:
            return JSONResponse(_device_code_grant(world, form))
        if grant == "refresh_token":
            return JSONResponse(_refresh_grant(world, form))
        if grant == "client_credentials":
            return JSONResponse(_client_credentials_grant(world, form))
        raise oauth_error(400, "unsupported_grant_type", f"The grant type '{grant}' is not supported.", 70003)

    return [
        Route("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
        Route("/{tenant}/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/devicecode", devicecode, methods=["POST"]),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
    ]


def _device_code_grant(world: World, form: dict[str, str]) -> dict[str, Any]:
    with world.lock:
        record = world.device_codes.get(form.get("device_code", ""))
        if record is None or record.client_id != form.get("client_id"):
            raise oauth_error(400, "invalid_grant", "The provided device code is not valid.", 70000)
        record.polls += 1
        now = world.now()
        if now >= record.expires_at:
            del world.device_codes[record.device_code]
            raise oauth_error(400, "expired_token", "The device code has expired.", 70020)
        if record.declined:
            del world.device_codes[record.device_code]
            raise oauth_error(400, "authorization_declined", "The end user declined the sign-in.", 70019)
        auto = now >= record.created + world.device_approve_after
        # The first poll is always pending, as with a person who has not typed the code yet.
        if record.polls == 1 or not (record.approved or auto):
            raise oauth_error(
                400,
                "authorization_pending",
                "The authorization request is still pending; keep polling.",
                70016,
            )
        del world.device_codes[record.device_code]
    return _user_token(world, record.client_id, record.scope)


def _refresh_grant(world: World, form: dict[str, str]) -> dict[str, Any]:
    client_id = form.get("client_id", "")
    try:
        claims = verify(form.get("refresh_token", ""), world.wall())
    except TokenRejected:
        raise oauth_error(
            400, "invalid_grant", "The refresh token is malformed or has expired.", 9002313
        ) from None
    if claims.get("typ") != "refresh" or claims.get("client_id") != client_id:
        raise oauth_error(400, "invalid_grant", "The refresh token was issued to another application.", 70000)
    scope = form.get("scope", "").strip()
    if not scope:
        raise oauth_error(400, "invalid_request", "The request body must contain 'scope'.", 900144)
    return _user_token(world, client_id, scope)


def _client_credentials_grant(world: World, form: dict[str, str]) -> dict[str, Any]:
    client_id = form.get("client_id", "")
    if client_id not in (world.confidential_client_id, world.onebox_client_id):
        raise oauth_error(
            400,
            "unauthorized_client",
            f"Application with identifier '{client_id}' was not found in the directory.",
            700016,
        )
    if "client_secret" in form:
        expected = world.onebox_client_secret if client_id == world.onebox_client_id else world.client_secret
        if not hmac.compare_digest(form["client_secret"].encode(), expected.encode()):
            raise oauth_error(
                401,
                "invalid_client",
                "Invalid client secret provided. Ensure the secret being "
                f"sent in the request is the client secret value for app '{client_id}'.",
                7000215,
            )
    elif form.get("client_assertion_type") == JWT_BEARER:
        _check_assertion(world, form.get("client_assertion", ""), client_id)
    else:
        raise oauth_error(
            401,
            "invalid_client",
            "The request body must contain 'client_assertion' or 'client_secret'.",
            7000218,
        )
    scope = form.get("scope", "").strip()
    if not scope.endswith("/.default"):
        raise oauth_error(
            400,
            "invalid_scope",
            f"The provided value '{scope}' for the scope is not valid. "
            "Client credential flows must have a scope value with /.default.",
            1002012,
        )
    return app_token_response(world, client_id, scope)


def _check_assertion(world: World, assertion: str, client_id: str) -> None:
    parsed = split_jwt(assertion)
    if parsed is None:
        raise oauth_error(401, "invalid_client", "The client assertion is not a valid JWT.", 50027)
    header, claims, signing_input, signature = parsed
    registered = world.client_certificate
    algorithm = header.get("alg")
    if algorithm == "RS256":
        match = str(header.get("x5t", "")).rstrip("=") == b64url(registered.sha1_thumbprint)
        pad: padding.AsymmetricPadding = padding.PKCS1v15()
    elif algorithm == "PS256":
        match = str(header.get("x5t#S256", "")).rstrip("=") == b64url(registered.sha256_thumbprint)
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
    else:
        raise oauth_error(
            401,
            "invalid_client",
            f"The client assertion algorithm '{algorithm}' is not supported; use RS256 or PS256.",
            5002738,
        )
    if not match:
        raise oauth_error(
            401,
            "invalid_client",
            "The certificate with the thumbprint in the assertion is "
            f"not registered for application '{client_id}'.",
            700027,
        )
    try:
        registered.public_key.verify(signature, signing_input, pad, hashes.SHA256())
    except InvalidSignature:
        raise oauth_error(
            401, "invalid_client", "Client assertion contains an invalid signature.", 7000274
        ) from None
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise oauth_error(
            401, "invalid_client", "The client assertion's iss and sub must be the client id.", 700023
        )
    if not str(claims.get("aud", "")).endswith("/oauth2/v2.0/token"):
        raise oauth_error(
            401, "invalid_client", "The client assertion's audience is not this token endpoint.", 700212
        )
    if float(claims.get("exp", 0)) <= world.wall():
        raise oauth_error(401, "invalid_client", "The client assertion has expired.", 700024)
