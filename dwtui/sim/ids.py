"""Fixed identifiers of the simulated tenant: the same on every run, so screens and tests are stable."""

from __future__ import annotations

import uuid

TENANT_ID = "7c3e9f12-4b8a-4d6e-9a15-2f0c8d7e6b41"
TENANT_DOMAIN = "contoso.onmicrosoft.com"

# dwtui's own (public client) app registration, used for device-code sign-in.
CLIENT_ID = "4f7d2c1a-9e3b-4a8d-b6c5-1e0f2a3b4c5d"
CLIENT_NAME = "dwtui"  # its display name, as Entra's error descriptions quote it
# A confidential app registration for client-secret and certificate sign-in.
CONFIDENTIAL_CLIENT_ID = "a9b8c7d6-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
CONFIDENTIAL_APP_OBJECT_ID = "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9"
# Fixed so a test or a printed profile can name it; only ever valid against this simulator.
CLIENT_SECRET = "sim~7Qx.contoso-confidential-secret-2Hk9"

USER_OBJECT_ID = "b2c4e6f8-0a1c-4e3d-9f5b-7a9c1e3d5f7b"
USER_NAME = "admin@contoso.onmicrosoft.com"
USER_DISPLAY_NAME = "Dana Admin"

LCS_PROJECT_ID = "1234567"

# First-party resources whose app ids a token's aud may carry instead of the URL.
LCS_APP_ID = "913c6de4-2a4a-4a61-a9ce-945d2b2ce2e0"
POWER_APPS_SERVICE_APP_ID = "475226c6-020e-4fb2-8a90-7a972cbfc1d4"
POWER_PLATFORM_API_APP_ID = "8578e004-a5c6-46e7-913e-12f58912df43"
DUALWRITE_RESOURCE = "https://IntegratorApp.com"

_NAMESPACE = uuid.UUID("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0ff")


def derived_guid(*parts: str) -> str:
    """A stable GUID for a derived object (an org's user id, an operation id) without randomness."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))

# The app registered for the contoso-dev one-box VM (its application user is issue 5's subject).
ONEBOX_CLIENT_ID = "3c5e7a9b-1d2f-4e6a-8b0c-2d4f6a8c0e1b"
ONEBOX_CLIENT_SECRET = "sim~4Rt.contoso-dev-onebox-secret-8Jq2"
