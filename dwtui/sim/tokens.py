"""Tokens the simulated identity provider issues and every simulated service checks.

Access and refresh tokens are HS256 JWTs under one fixed key, so a token stays valid across
simulator restarts (the demo's keyring cache survives a restart, as a real tenant's would). The
id_token is `alg: none`, which MSAL accepts because it never checks id_token signatures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

_KEY = hashlib.sha256(b"dwtui simulator token key: not a secret, never a real tenant").digest()

RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
GRAPH_RESOURCE = "00000003-0000-0000-c000-000000000000"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json_part(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


def sign(claims: dict[str, Any]) -> str:
    head = _json_part({"alg": "HS256", "typ": "JWT"}) + "." + _json_part(claims)
    mac = hmac.new(_KEY, head.encode("ascii"), hashlib.sha256).digest()
    return f"{head}.{b64url(mac)}"


def unsigned(claims: dict[str, Any]) -> str:
    return _json_part({"alg": "none", "typ": "JWT"}) + "." + _json_part(claims) + "."


def split_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes] | None:
    """(header, claims, signing input, signature), or None when it is not a JWT at all."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


class TokenRejected(Exception):
    """Why a bearer token is refused; the message goes into the 401 body."""


def verify(token: str, now: float) -> dict[str, Any]:
    parsed = split_jwt(token)
    if parsed is None:
        raise TokenRejected("The access token is malformed.")
    header, claims, signing_input, signature = parsed
    expected = hmac.new(_KEY, signing_input, hashlib.sha256).digest()
    if header.get("alg") != "HS256" or not hmac.compare_digest(expected, signature):
        raise TokenRejected("The access token signature is invalid.")
    if float(claims.get("exp", 0)) <= now:
        raise TokenRejected("The access token has expired.")
    if float(claims.get("nbf", 0)) > now + 300:
        raise TokenRejected("The access token is not yet valid.")
    return claims


def resource_of(scope: str) -> str:
    """The audience a token for `scope` carries: the scope minus its last segment, no trailing slash.

    `https://lcsapi.lcs.dynamics.com//.default` -> `https://lcsapi.lcs.dynamics.com`;
    `https://api.powerplatform.com/AppManagement.ApplicationPackages.Read` -> `https://api.powerplatform.com`.
    """
    for item in scope.split():
        if item in RESERVED_SCOPES:
            continue
        head, _, _ = item.rpartition("/")
        return (head or item).rstrip("/")
    return GRAPH_RESOURCE


def resource_scopes(scope: str) -> str:
    """The non-reserved part of a scope string, as Entra echoes it in `scope` (never null)."""
    kept = [item for item in scope.split() if item not in RESERVED_SCOPES]
    return " ".join(kept) if kept else scope.strip()


def same_audience(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a checked token belongs to, as the request log records it."""

    kind: str  # user | app
    subject: str  # preferred_username or the app id
    audience: str
