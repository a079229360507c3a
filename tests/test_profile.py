"""Profile validation: every bad value is a one-line ProfileError naming its field, nothing else."""

from __future__ import annotations

import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dwtui.domain.profile import (
    AUTH_METHODS,
    ProfileError,
    apply_overrides,
    is_secret_setting,
    parse_profile,
    profile_to_toml_table,
    validate_guid,
    validate_setting,
    with_environment,
)
from dwtui.services.config import load_config, write_config

GOOD: dict[str, Any] = {
    "tenant_id": "contoso.onmicrosoft.com",
    "client_id": "11111111-2222-3333-4444-555555555555",
    "lcs_project_id": "1234567",
    "environment_id": "0123456789abcdef0123456789abcdef",
    "auth": "device-code",
    "authority_url": "https://127.0.0.1:8443",
    "lcs_api_url": "https://127.0.0.1:8443/lcs",
}
URL_FIELDS = (
    "authority_url",
    "lcs_api_url",
    "bap_api_url",
    "power_platform_api_url",
    "dualwrite_gateway_url",
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values of the wrong TOML/Python type for a text setting (TOML itself has no null, callers may).
not_text = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.none(),
)
# Characters no identifier, host or number of ours may contain.
foreign = st.sampled_from([*" /\\@?#%&*!$'\"<>{}[]|`~^=+,;:\t\n\r\x00é中", "\u200b"])


# "/" and ":" only move a URL's host boundary, which can leave a valid URL.
host_safe = foreign.filter(lambda c: c not in "/:")


def _injected(valid: str, chars: st.SearchStrategy[str] = foreign) -> st.SearchStrategy[str]:
    """`valid` with one foreign character put somewhere inside it (not at the ends, which are stripped)."""
    where = st.integers(1, max(1, len(valid) - 1))
    return st.tuples(where, chars).map(lambda t: valid[: t[0]] + t[1] + valid[t[0] :])


def _expect_error(raw: dict[str, Any], field: str, name: str = "p") -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        parse_profile(name, raw)
    error = caught.value
    assert error.field_name == field, str(error)
    assert field in str(error)
    assert "\n" not in str(error) and "\r" not in str(error)
    assert error.fix
    return error


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


hex_text = st.text(alphabet="0123456789abcdef", min_size=1, max_size=40)


@FAST
@given(
    st.one_of(
        st.lists(st.text(alphabet=string.ascii_letters, min_size=1, max_size=8), min_size=1, max_size=3),
        st.lists(st.text(alphabet=string.digits, min_size=13, max_size=20), min_size=1, max_size=3),
        _injected("1234567").map(lambda v: ["2345678", v]),
        st.just([True]),
        st.just([""]),
        st.integers(),
        st.just({"a": "1"}),
    )
)
def test_bad_fleet_project_ids(value: Any) -> None:
    _expect_error(_with(fleet_project_ids=value), "fleet_project_ids")


def test_fleet_project_ids_as_an_array_or_a_list_in_text_each_once() -> None:
    assert parse_profile("p", _with(fleet_project_ids=["2345678", 3456789])).fleet_project_ids == (
        "2345678",
        "3456789",
    )
    assert parse_profile("p", _with(fleet_project_ids="2345678, 3456789 2345678")).fleet_project_ids == (
        "2345678",
        "3456789",
    )
    assert parse_profile("p", GOOD).fleet_project_ids == ()


@FAST
@given(
    st.one_of(
        hex_text.filter(lambda v: len(v) != 32),
        _injected("11111111-2222-3333-4444-555555555555"),
        st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=40),
        st.integers(),
        not_text,
    )
)
def test_bad_client_id(value: Any) -> None:
    _expect_error(_with(client_id=value), "client_id")


domain_label = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=10)


@FAST
@given(
    st.one_of(
        domain_label,  # no dot: neither a domain nor a GUID
        domain_label.map(lambda d: f"-{d}.com"),
        domain_label.map(lambda d: f"{d}.c"),  # one-letter top-level domain
        _injected("contoso.onmicrosoft.com"),
        _injected("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
        st.just("a" * 300 + ".com"),
        st.integers(),
        not_text,
    )
)
def test_bad_tenant(value: Any) -> None:
    _expect_error(_with(tenant_id=value), "tenant_id")


host = st.one_of(
    st.just("127.0.0.1"),
    st.just("localhost"),
    st.lists(domain_label, min_size=2, max_size=4).map(".".join),
)
bad_url = st.one_of(
    host.map(lambda h: f"http://{h}"),
    host.map(lambda h: f"ftp://{h}/x"),
    host,  # no scheme at all
    host.map(lambda h: f"https://{h}/path?x=1"),
    host.map(lambda h: f"https://{h}/#frag"),
    host.map(lambda h: f"https://user:pw@{h}"),
    host.map(lambda h: f"https://{h}:99999"),
    host.map(lambda h: f"https://{h}:port"),
    # Inside the host: a path may legally hold many of these characters, a host none.
    host.flatmap(lambda h: _injected(h, host_safe)).map(lambda h: f"https://{h}/lcs"),
    st.just("https://"),
    st.just("https://[::1"),
    st.just("https://-bad-.com"),
    st.integers(),
    not_text,
)


@FAST
@given(st.sampled_from(URL_FIELDS), bad_url)
def test_bad_url(field: str, value: Any) -> None:
    _expect_error(_with(**{field: value}), field)


@FAST
@given(
    st.one_of(
        st.text(alphabet=string.digits, min_size=13, max_size=20),
        _injected("1234567"),
        st.text(alphabet=string.ascii_letters, min_size=1, max_size=8),
        st.integers(max_value=-1),
        st.integers(min_value=10**12),
        st.just(""),
        not_text,
    )
)
def test_bad_project_id(value: Any) -> None:
    _expect_error(_with(lcs_project_id=value), "lcs_project_id")


@FAST
@given(
    st.one_of(
        hex_text.filter(lambda v: len(v) != 32),
        _injected("0123456789abcdef0123456789abcdef"),
        st.text(alphabet="ghijklmnopqrstuvwxyz", min_size=1, max_size=32),
        st.integers(min_value=1),
        not_text,
    )
)
def test_bad_environment_id(value: Any) -> None:
    _expect_error(_with(environment_id=value), "environment_id")


@FAST
@given(
    st.one_of(
        st.just(""),
        st.sampled_from(["-x", ".x", "_x"]),
        st.text(alphabet=string.ascii_letters, min_size=65, max_size=80),
        _injected("profile"),
    )
)
def test_bad_profile_name(name: str) -> None:
    _expect_error(dict(GOOD), "name", name=name)


@FAST
@given(
    st.one_of(
        st.text(min_size=1, max_size=20).filter(lambda v: v.strip() not in AUTH_METHODS and v.strip()),
        st.integers(),
        not_text,
    )
)
def test_bad_auth(value: Any) -> None:
    _expect_error(_with(auth=value), "auth")


@FAST
@given(
    st.one_of(st.integers(), st.text(max_size=8), st.floats(), st.lists(st.booleans(), max_size=2), st.none())
)
def test_bad_boolean(value: Any) -> None:
    _expect_error(_with(allow_production_changes=value), "allow_production_changes")


def test_certificate_auth_needs_a_certificate_path() -> None:
    _expect_error(_with(auth="certificate"), "certificate_path")


@FAST
@given(
    st.sampled_from(["client_secret", "password", "sql_password", "certificate_passphrase", "access_token"]),
    st.text(max_size=10).map(lambda v: f"Zq9-{v}"),
)
def test_secrets_are_refused_before_anything_else(key: str, value: str) -> None:
    # Even next to an unknown setting, the secret is named first: it is the dangerous one.
    error = _expect_error({**GOOD, key: value, "aaa_unknown": 1}, key)
    assert "keyring" in error.fix
    assert "Zq9-" not in str(error)


@FAST
@given(st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12))
def test_unknown_settings_are_named(key: str) -> None:
    if (
        key in GOOD
        or key in URL_FIELDS
        or key in ("certificate_path", "ca_bundle", "allow_production_changes")
    ):
        return
    if is_secret_setting(key):  # named as a secret instead (test above)
        return
    error = _expect_error({**GOOD, key: "x"}, key)
    assert "known settings" in error.fix


def test_a_profile_that_is_not_a_table() -> None:
    _expect_error("not a table", "p")  # type: ignore[arg-type]


def test_trailing_newline_is_not_a_valid_identifier() -> None:
    # `$` in a regular expression matches before a final newline; the validators must not.
    with pytest.raises(ProfileError):
        validate_guid("11111111-2222-3333-4444-555555555555\n", "client_id")
    profile = parse_profile("p", GOOD)
    with pytest.raises(ProfileError):
        with_environment(profile, "0123456789abcdef0123456789abcdef\n")


# -- good input ---------------------------------------------------------------------------------

guid = st.uuids().map(str)
good_tables = st.fixed_dictionaries(
    {
        "tenant_id": st.one_of(
            guid, st.lists(domain_label, min_size=1, max_size=3).map(lambda p: ".".join([*p, "com"]))
        ),
        "client_id": guid,
        "lcs_project_id": st.integers(0, 10**12 - 1).map(str),
        "environment_id": st.one_of(st.just(""), st.uuids().map(lambda u: u.hex), guid),
        "auth": st.sampled_from(["device-code", "client-secret"]),
        "authority_url": host.map(lambda h: f"https://{h}"),
        "lcs_api_url": st.tuples(host, st.integers(1, 65535)).map(lambda t: f"https://{t[0]}:{t[1]}/lcs"),
        "dualwrite_gateway_url": st.one_of(st.just(""), host.map(lambda h: f"https://{h}/gateway")),
        "allow_production_changes": st.booleans(),
        "fleet_project_ids": st.lists(st.integers(0, 10**12 - 1).map(str), max_size=3, unique=True),
    }
)


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_.-]{0,10}", fullmatch=True), good_tables, min_size=1, max_size=3
    )
)
def test_good_profiles_round_trip_through_the_file(tables: dict[str, dict[str, Any]]) -> None:
    default = sorted(tables)[0]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "nested" / "config.toml"
        write_config(path, tables, default)
        config = load_config(path, environ={})
        assert path.stat().st_mode & 0o777 == 0o600
    assert config.default_profile == default
    assert config.profiles == {name: parse_profile(name, table) for name, table in tables.items()}
    for name, table in tables.items():
        profile = config.profiles[name]
        assert profile.client_id == table["client_id"].lower()
        assert profile.lcs_project_id == table["lcs_project_id"]
        assert profile.allow_production_changes is table["allow_production_changes"]
        assert profile.fleet_project_ids == tuple(table["fleet_project_ids"])
        # What the domain writes back is itself a valid profile equal to the original.
        assert parse_profile(name, profile_to_toml_table(profile)) == profile


@settings(max_examples=30, deadline=None)
@given(good_tables, guid, st.integers(0, 10**6).map(str), st.sampled_from(["true", "yes", "1", "on"]))
def test_environment_overrides_win(table: dict[str, Any], tenant: str, project: str, allow: str) -> None:
    environ = {
        "AZURE_TENANT_ID": tenant,
        "DWTUI_LCS_PROJECT_ID": project,
        "DWTUI_ALLOW_PRODUCTION_CHANGES": allow,
        "DWTUI_LCS_API_URL": "https://override.example.com/lcs",
    }
    profile = parse_profile("p", apply_overrides(table, environ))
    assert profile.tenant_id == tenant
    assert profile.lcs_project_id == project
    assert profile.allow_production_changes is True
    assert profile.lcs_api_url == "https://override.example.com/lcs"
    assert profile.client_id == table["client_id"]


def test_a_production_switch_that_is_not_a_boolean_is_named() -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile("p", apply_overrides(GOOD, {"DWTUI_ALLOW_PRODUCTION_CHANGES": "maybe"}))
    assert caught.value.field_name == "allow_production_changes"
    assert (
        parse_profile(
            "p", apply_overrides(GOOD, {"DWTUI_ALLOW_PRODUCTION_CHANGES": "off"})
        ).allow_production_changes
        is False
    )


TEXT_FIELDS = ("tenant_id", "client_id", "lcs_project_id", "environment_id", "auth", *URL_FIELDS)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(TEXT_FIELDS),
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(["", " ", "contoso", "11111111-2222-3333-4444-555555555555", "https://h.example/"]),
        st.sampled_from(["1234567", "0123456789ABCDEF0123456789ABCDEF", "certificate", "http://h.example"]),
    ),
)
def test_one_setting_is_checked_as_the_whole_profile_checks_it(field: str, value: str) -> None:
    """`dwtui profiles add` checks each value as it is typed: by the loader's rules, no others."""
    table = {**GOOD, field: value, "certificate_path": "cert.pem"}
    try:
        whole: object = getattr(parse_profile("work", table), field)
    except ProfileError as error:
        assert error.field_name == field
        whole = error
    try:
        alone: object = validate_setting(field, value)
    except ProfileError as error:
        assert error.field_name == field
        alone = error
    assert isinstance(whole, ProfileError) == isinstance(alone, ProfileError), (field, value)
    if not isinstance(alone, ProfileError) and value.strip():
        assert alone == whole
