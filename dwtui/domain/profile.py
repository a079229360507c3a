"""Profiles: one per tenant / LCS project / environment, with every base URL settable.

Parsing and validation are pure (a dict in, a Profile or a ProfileError out), so the file reader,
the CLI and the simulator's config writer all share one definition of what a valid profile is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit

AUTH_METHODS = ("device-code", "client-secret", "certificate")

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_LCS_API = "https://lcsapi.lcs.dynamics.com"
DEFAULT_BAP_API = "https://api.bap.microsoft.com"
DEFAULT_POWER_PLATFORM_API = "https://api.powerplatform.com"
# The dual-write gateway is regional and is discovered by the portal at run time; there is no
# documented way to compute it, so a profile names it (see dualwrite-gateway-dwhelper.md 1.1).
DEFAULT_DUALWRITE_GATEWAY = ""

# Every pattern is used with fullmatch: `$` alone would also accept a trailing newline.
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"(?=.{4,253}\Z)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}")
_PROJECT = re.compile(r"[0-9]{1,12}")
_ENVIRONMENT_ID = re.compile(r"[0-9a-fA-F]{32}|" + _GUID.pattern)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_IPV6 = re.compile(r"[0-9A-Fa-f:.]{2,45}")
# Setting names that can only hold a secret: those live in the OS keyring, never in this file.
_SECRET_WORDS = (
    "secret",
    "password",
    "passphrase",
    "token",
    "credential",
    "apikey",
    "api_key",
    "private_key",
)

# Environment variables that override a profile, following the Azure SDK names where they exist.
ENV_OVERRIDES: dict[str, str] = {
    "AZURE_TENANT_ID": "tenant_id",
    "AZURE_CLIENT_ID": "client_id",
    "AZURE_AUTHORITY_HOST": "authority_url",
    "AZURE_CLIENT_CERTIFICATE_PATH": "certificate_path",
    "DWTUI_LCS_PROJECT_ID": "lcs_project_id",
    "DWTUI_ENVIRONMENT_ID": "environment_id",
    "DWTUI_AUTH": "auth",
    "DWTUI_LCS_API_URL": "lcs_api_url",
    "DWTUI_BAP_API_URL": "bap_api_url",
    "DWTUI_POWER_PLATFORM_API_URL": "power_platform_api_url",
    "DWTUI_DUALWRITE_GATEWAY_URL": "dualwrite_gateway_url",
    "DWTUI_CA_BUNDLE": "ca_bundle",
}


class ProfileError(ValueError):
    """One clear line: which field is wrong and how to fix it."""

    def __init__(self, field_name: str, problem: str, fix: str, profile: str = "") -> None:
        self.field_name = field_name
        self.problem = problem
        self.fix = fix
        self.profile = profile
        where = f"profile '{profile}': " if profile else ""
        super().__init__(f"{where}{field_name}: {problem}; {fix}")


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    tenant_id: str
    client_id: str
    lcs_project_id: str
    environment_id: str = ""  # the LCS environment to open; empty opens the environment picker
    auth: str = "device-code"
    certificate_path: str = ""  # PEM with the private key and the certificate, for auth = certificate
    authority_url: str = DEFAULT_AUTHORITY
    lcs_api_url: str = DEFAULT_LCS_API
    bap_api_url: str = DEFAULT_BAP_API
    power_platform_api_url: str = DEFAULT_POWER_PLATFORM_API
    dualwrite_gateway_url: str = DEFAULT_DUALWRITE_GATEWAY
    ca_bundle: str = ""  # a PEM file of CAs to trust instead of the system's; never an off switch
    allow_production_changes: bool = False
    # More LCS projects for the fleet view (F, dwtui fleet), after lcs_project_id.
    fleet_project_ids: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def authority(self) -> str:
        return f"{self.authority_url.rstrip('/')}/{self.tenant_id}"

    @property
    def lcs_scope(self) -> str:
        # LCS documents the double slash: https://lcsapi.lcs.dynamics.com//.default
        return f"{self.lcs_api_url.rstrip('/')}//.default"

    @property
    def is_confidential(self) -> bool:
        return self.auth in ("client-secret", "certificate")

    def secret_key(self, kind: str) -> str:
        """The keyring user name under which this profile's secret of `kind` is kept."""
        return f"{self.name}:{self.tenant_id}:{self.client_id}:{kind}"


BAP_SCOPE = "https://service.powerapps.com//.default"
POWER_PLATFORM_SCOPE = "https://api.powerplatform.com/.default"
DUALWRITE_SCOPE = "https://IntegratorApp.com/.default"


def dataverse_scope(instance_url: str) -> str:
    return f"{instance_url.rstrip('/')}/.default"


def _show(value: str, limit: int = 80) -> str:
    """A value as it may appear inside a one-line message: printable, and not too long."""
    shown = "".join(c if c.isprintable() else "?" for c in value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _is_host(host: str) -> bool:
    if ":" in host:  # urlsplit has already taken the brackets off an IPv6 literal
        return bool(_IPV6.fullmatch(host))
    labels = host.split(".")
    return len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def _is_https_url(value: str) -> bool:
    # urlsplit silently drops tabs and newlines, so any whitespace or control character is refused first.
    if any(c.isspace() or not c.isprintable() for c in value):
        return False
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a malformed port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and _is_host(parts.hostname or "")
        and port != 0
        and not parts.username
        and not parts.password
        and not parts.query
        and not parts.fragment
        and "?" not in value
        and "#" not in value
    )


def _text(raw: Mapping[str, Any], key: str, profile: str) -> str:
    value = raw.get(key, "")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ProfileError(key, f"expected text, got {type(value).__name__}", "quote the value", profile)
    return str(value).strip()


def validate_guid(value: str, field_name: str, profile: str = "") -> str:
    if not _GUID.fullmatch(value):
        raise ProfileError(
            field_name,
            f"'{_show(value)}' is not a GUID" if value else "is missing",
            "use the form 00000000-0000-0000-0000-000000000000",
            profile,
        )
    return value.lower()


def validate_tenant(value: str, profile: str = "") -> str:
    if _GUID.fullmatch(value):
        return value.lower()
    if _DOMAIN.fullmatch(value):
        return value.lower()
    raise ProfileError(
        "tenant_id",
        f"'{_show(value)}' is neither a tenant GUID nor a domain" if value else "is missing",
        "use the directory (tenant) id GUID or a domain such as contoso.onmicrosoft.com",
        profile,
    )


def validate_url(value: str, field_name: str, profile: str = "", required: bool = True) -> str:
    if not value and not required:
        return ""
    if not _is_https_url(value):
        raise ProfileError(
            field_name,
            f"'{_show(value)}' is not an https URL" if value else "is missing",
            "use https://host[:port][/path] with no query or fragment; dwtui only talks TLS",
            profile,
        )
    return value.rstrip("/")


def validate_project_id(value: str, profile: str = "") -> str:
    if not _PROJECT.fullmatch(value):
        raise ProfileError(
            "lcs_project_id",
            f"'{_show(value)}' is not an LCS project id" if value else "is missing",
            "use the number in the LCS project URL, e.g. 1234567",
            profile,
        )
    return value


def validate_project_ids(value: object, profile: str = "") -> tuple[str, ...]:
    """fleet_project_ids: an array of LCS project ids (a string of ids split by commas or spaces also
    does), each once."""
    field_name = "fleet_project_ids"
    if isinstance(value, str):
        items: list[object] = [item for item in re.split(r"[\s,]+", value) if item]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ProfileError(
            field_name,
            f"expected an array, got {type(value).__name__}",
            'write ["2345678", "3456789"]',
            profile,
        )
    found: list[str] = []
    for item in items:
        text = str(item).strip() if isinstance(item, str | int) and not isinstance(item, bool) else ""
        if not _PROJECT.fullmatch(text):
            raise ProfileError(
                field_name,
                f"'{_show(str(item))}' is not an LCS project id",
                "use the numbers in the LCS project URLs, e.g. [\"2345678\", \"3456789\"]",
                profile,
            )
        if text not in found:
            found.append(text)
    return tuple(found)


def validate_environment_id(value: str, profile: str = "") -> str:
    if value and not _ENVIRONMENT_ID.fullmatch(value):
        raise ProfileError(
            "environment_id",
            f"'{_show(value)}' is not an LCS environment id",
            "use the 32-hex or GUID id shown in LCS Environment details, or leave it empty to pick",
            profile,
        )
    return value


def validate_name(value: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ProfileError(
            "name",
            f"'{_show(str(value))}' is not a usable profile name",
            "use letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return value


def validate_auth(value: str, profile: str = "") -> str:
    """A sign-in method; empty is the default, device-code."""
    auth = value or "device-code"
    if auth not in AUTH_METHODS:
        methods = ", ".join(AUTH_METHODS)
        raise ProfileError(
            "auth", f"'{_show(auth)}' is not a sign-in method", f"use one of {methods}", profile
        )
    return auth


def validate_certificate_path(value: str, auth: str, profile: str = "") -> str:
    if auth == "certificate" and not value:
        raise ProfileError(
            "certificate_path",
            "is missing",
            "name the PEM file holding the private key and certificate",
            profile,
        )
    return value


_KNOWN = {f.name for f in fields(Profile)} - {"name", "extra"}
_DEFAULT_URLS = {
    "authority_url": DEFAULT_AUTHORITY,
    "lcs_api_url": DEFAULT_LCS_API,
    "bap_api_url": DEFAULT_BAP_API,
    "power_platform_api_url": DEFAULT_POWER_PLATFORM_API,
    "dualwrite_gateway_url": DEFAULT_DUALWRITE_GATEWAY,
}


def validate_setting(field_name: str, value: str, profile: str = "") -> str:
    """One text setting as a person typed it (a flag, an answer), by the rules parse_profile applies.

    Empty means "not set" where the setting has a default or may be empty; the value returned is
    the one the file should hold (a GUID in lower case, a URL without its trailing slash). Rules
    between settings (certificate_path for auth = certificate) are parse_profile's.
    """
    value = value.strip()
    if field_name in _DEFAULT_URLS:
        required = bool(_DEFAULT_URLS[field_name])
        return validate_url(value, field_name, profile, required=required) if value else ""
    if field_name in _SETTING_RULES:
        return _SETTING_RULES[field_name](value, profile)
    if field_name in ("certificate_path", "ca_bundle"):
        return value  # a path: whether it is a readable file is checked where it is used
    raise ProfileError(
        field_name, "is not a text setting of a profile", f"use one of {', '.join(sorted(_KNOWN))}", profile
    )


_SETTING_RULES: dict[str, Callable[[str, str], str]] = {
    "name": lambda value, _profile: validate_name(value),
    "tenant_id": validate_tenant,
    "client_id": lambda value, profile: validate_guid(value, "client_id", profile),
    "lcs_project_id": validate_project_id,
    "environment_id": validate_environment_id,
    "auth": validate_auth,
}


def parse_profile(name: str, raw: Mapping[str, Any]) -> Profile:
    """Validate one `[profiles.NAME]` table. Raises ProfileError naming the first bad field."""
    validate_name(name)
    if not isinstance(raw, Mapping):
        raise ProfileError(
            name, "is not a table of settings", f"write it as [profiles.{name}] with key = value"
        )
    secret = sorted(key for key in raw if is_secret_setting(key))
    if secret:
        raise ProfileError(
            secret[0],
            "secrets are never kept in the config file",
            "remove it and store it in the OS keyring instead (dwtui secret set)",
            name,
        )
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise ProfileError(
            unknown[0],
            "is not a profile setting",
            f"remove it; known settings: {', '.join(sorted(_KNOWN))}",
            name,
        )
    auth = validate_auth(_text(raw, "auth", name), name)
    allow = raw.get("allow_production_changes", False)
    if not isinstance(allow, bool):
        raise ProfileError(
            "allow_production_changes",
            f"'{_show(str(allow))}' is not true or false",
            "write true or false",
            name,
        )
    certificate_path = validate_certificate_path(_text(raw, "certificate_path", name), auth, name)

    def url(key: str) -> str:
        default = _DEFAULT_URLS[key]
        return validate_url(_text(raw, key, name) or default, key, name, required=bool(default))

    return Profile(
        name=name,
        tenant_id=validate_tenant(_text(raw, "tenant_id", name), name),
        client_id=validate_guid(_text(raw, "client_id", name), "client_id", name),
        lcs_project_id=validate_project_id(_text(raw, "lcs_project_id", name), name),
        environment_id=validate_environment_id(_text(raw, "environment_id", name), name),
        auth=auth,
        certificate_path=certificate_path,
        authority_url=url("authority_url"),
        lcs_api_url=url("lcs_api_url"),
        bap_api_url=url("bap_api_url"),
        power_platform_api_url=url("power_platform_api_url"),
        dualwrite_gateway_url=url("dualwrite_gateway_url"),
        ca_bundle=_text(raw, "ca_bundle", name),
        allow_production_changes=allow,
        fleet_project_ids=validate_project_ids(raw.get("fleet_project_ids", ()), name),
    )


def apply_overrides(raw: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """The profile table with environment variables laid over it (they win)."""
    merged = dict(raw)
    for variable, key in ENV_OVERRIDES.items():
        value = environ.get(variable)
        if value:
            merged[key] = value
    allow = environ.get("DWTUI_ALLOW_PRODUCTION_CHANGES")
    if allow:
        word = allow.strip().lower()
        # Anything else stays text, so parse_profile names the field instead of guessing "no".
        merged["allow_production_changes"] = _BOOLEANS.get(word, allow)
    return merged


_BOOLEANS = {word: True for word in ("1", "true", "yes", "on")} | {
    word: False for word in ("0", "false", "no", "off")
}


def is_secret_setting(key: object) -> bool:
    """True for a setting name that could only hold a secret (client_secret, sql_password, ...)."""
    lowered = str(key).lower().replace("-", "_")
    return any(word in lowered for word in _SECRET_WORDS)


def profile_to_toml_table(profile: Profile) -> dict[str, Any]:
    """The settings that differ from the defaults, ready to write as `[profiles.NAME]`."""
    defaults = Profile(name=profile.name, tenant_id="", client_id="", lcs_project_id="")
    table: dict[str, Any] = {}
    for f in fields(Profile):
        if f.name in ("name", "extra"):
            continue
        value = getattr(profile, f.name)
        if f.name in ("tenant_id", "client_id", "lcs_project_id") or value != getattr(defaults, f.name):
            table[f.name] = list(value) if isinstance(value, tuple) else value
    return table


def with_environment(profile: Profile, environment_id: str) -> Profile:
    return replace(profile, environment_id=validate_environment_id(environment_id, profile.name))
