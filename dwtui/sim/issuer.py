"""Minting the tokens the identity provider hands out (and SimServer.mint_token gives tests)."""

from __future__ import annotations

import json
from typing import Any

from dwtui.sim import ids
from dwtui.sim.tokens import b64url, resource_of, resource_scopes, sign, unsigned
from dwtui.sim.world import World


def issuer_url(world: World) -> str:
    return f"{world.base_url}/{world.tenant_id}/v2.0"


def _times(world: World, lifetime: float) -> dict[str, int]:
    now = int(world.wall())
    return {"iat": now, "nbf": now, "exp": now + max(1, int(lifetime))}


def access_token(world: World, scope: str, kind: str = "user", client_id: str = "") -> str:
    if kind not in ("user", "app"):
        raise ValueError(f"token kind must be 'user' or 'app', not '{kind}'")
    claims: dict[str, Any] = {
        "aud": resource_of(scope),
        "iss": f"https://sts.windows.net/{world.tenant_id}/",
        "tid": world.tenant_id,
        "idtyp": kind,
        "ver": "1.0",
        "uti": b64url(ids.derived_guid("uti", str(world.next_number("token"))).encode())[:22],
        **_times(world, world.token_lifetime),
    }
    if kind == "user":
        claims.update(
            appid=client_id or world.client_id,
            oid=world.user_object_id,
            sub=world.user_object_id,
            preferred_username=world.user_name,
            upn=world.user_name,
            name=world.user_display_name,
            scp="user_impersonation",
        )
    else:
        claims.update(
            appid=client_id or world.confidential_client_id,
            oid=ids.CONFIDENTIAL_APP_OBJECT_ID,
            sub=ids.CONFIDENTIAL_APP_OBJECT_ID,
            roles=[],
        )
    return sign(claims)


def refresh_token(world: World, client_id: str) -> str:
    return sign(
        {
            "typ": "refresh",
            "tid": world.tenant_id,
            "sub": world.user_object_id,
            "client_id": client_id,
            "n": world.next_number("refresh"),
            **_times(world, world.refresh_token_lifetime),
        }
    )


def id_token(world: World, client_id: str) -> str:
    return unsigned(
        {
            "aud": client_id,
            "iss": issuer_url(world),
            "tid": world.tenant_id,
            "oid": world.user_object_id,
            "sub": world.user_object_id,
            "preferred_username": world.user_name,
            "name": world.user_display_name,
            "ver": "2.0",
            **_times(world, world.token_lifetime),
        }
    )


def client_info(world: World) -> str:
    return b64url(json.dumps({"uid": world.user_object_id, "utid": world.tenant_id}).encode())


def user_token_response(world: World, client_id: str, scope: str) -> dict[str, Any]:
    lifetime = max(1, int(world.token_lifetime))
    return {
        "token_type": "Bearer",
        "scope": resource_scopes(scope),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token(world, scope, "user", client_id),
        "refresh_token": refresh_token(world, client_id),
        "id_token": id_token(world, client_id),
        "client_info": client_info(world),
    }


def app_token_response(world: World, client_id: str, scope: str) -> dict[str, Any]:
    lifetime = max(1, int(world.token_lifetime))
    return {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token(world, scope, "app", client_id),
    }
