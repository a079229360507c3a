"""The profiles file: where it lives, what a broken one says, and that it never holds secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomli_w

from dwtui.domain.profile import ProfileError
from dwtui.services.config import default_config_path, load_config, select_profile, write_config

TABLE: dict[str, Any] = {
    "tenant_id": "contoso.onmicrosoft.com",
    "client_id": "11111111-2222-3333-4444-555555555555",
    "lcs_project_id": "1234567",
    "authority_url": "https://127.0.0.1:8443",
}


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    return path


def _error(path: Path | None, environ: dict[str, str] | None = None) -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        load_config(path, environ={} if environ is None else environ)
    assert "\n" not in str(caught.value)
    return caught.value


def test_default_path_is_in_the_platform_config_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert default_config_path() == tmp_path / "xdg" / "dwtui" / "config.toml"
    # Nothing written yet: an empty configuration, not an error.
    config = load_config(None, environ={})
    assert config.profiles == {} and config.default_profile is None
    assert config.path == default_config_path()


def test_a_missing_explicit_file_names_the_path(tmp_path: Path) -> None:
    error = _error(tmp_path / "nope.toml")
    assert str(tmp_path / "nope.toml") in str(error)
    assert "--config" in error.fix


def test_an_unreadable_file_names_the_path_and_the_os_error(tmp_path: Path) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()
    error = _error(folder)
    assert str(folder) in str(error) and "Is a directory" in str(error)


def test_invalid_toml_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('default_profile = "sim"\n[profiles.sim]\ntenant_id = \n', encoding="utf-8")
    error = _error(path)
    assert "line 3, column" in str(error) and str(path) in str(error)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'default_profile = "\xff"\n')
    assert "UTF-8" in str(_error(path))


def test_a_bad_profile_names_profile_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", {"profiles": {"sim": {**TABLE, "client_id": "nope"}}})
    error = _error(path)
    assert error.field_name == "client_id" and error.profile == "sim"
    assert str(error).startswith("profile 'sim': client_id: 'nope' is not a GUID")


@pytest.mark.parametrize("key", ["client_secret", "password", "sql_password"])
def test_secrets_in_a_profile_point_to_the_keyring(tmp_path: Path, key: str) -> None:
    path = _write(tmp_path / "c.toml", {"profiles": {"sim": {**TABLE, key: "hunter2"}}})
    error = _error(path)
    assert error.field_name == key
    assert "keyring" in str(error) and "hunter2" not in str(error)


def test_secrets_at_top_level_point_to_the_keyring(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", {"client_secret": "hunter2", "profiles": {"sim": TABLE}})
    error = _error(path)
    assert error.field_name == "client_secret" and "keyring" in str(error)


def test_unknown_top_level_settings_and_odd_shapes(tmp_path: Path) -> None:
    assert _error(_write(tmp_path / "a.toml", {"tenant_id": "x"})).field_name == "tenant_id"
    assert _error(_write(tmp_path / "b.toml", {"profiles": "sim"})).field_name == "profiles"
    assert _error(_write(tmp_path / "c.toml", {"profiles": {"sim": 3}})).field_name == "sim"
    assert _error(_write(tmp_path / "d.toml", {"profiles": {"-bad": TABLE}})).field_name == "name"
    assert _error(
        _write(tmp_path / "e.toml", {"default_profile": 3, "profiles": {"sim": TABLE}})
    ).field_name == ("default_profile")


def test_a_default_profile_that_does_not_exist_lists_the_known_ones(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", {"default_profile": "prod", "profiles": {"sim": TABLE, "uat": TABLE}})
    error = _error(path)
    assert error.field_name == "default_profile"
    assert "use one of: sim, uat" in str(error)


def test_select_profile(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", {"default_profile": "uat", "profiles": {"sim": TABLE, "uat": TABLE}})
    config = load_config(path, environ={})
    assert select_profile(config, None).name == "uat"
    assert select_profile(config, "sim").name == "sim"
    with pytest.raises(ProfileError) as caught:
        select_profile(config, "prod")
    assert caught.value.field_name == "profile"
    assert "'prod' is not in" in str(caught.value) and "use one of: sim, uat" in str(caught.value)

    no_default = load_config(
        _write(tmp_path / "d.toml", {"profiles": {"sim": TABLE, "uat": TABLE}}), environ={}
    )
    with pytest.raises(ProfileError, match="--profile"):
        select_profile(no_default, None)
    only = load_config(_write(tmp_path / "e.toml", {"profiles": {"sim": TABLE}}), environ={})
    assert select_profile(only, None).name == "sim"
    empty = load_config(_write(tmp_path / "f.toml", {}), environ={})
    with pytest.raises(ProfileError, match="no profile in"):
        select_profile(empty, None)


def test_environment_overrides_apply_and_bad_ones_name_the_variable(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", {"profiles": {"sim": TABLE}})
    tenant = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    config = load_config(path, environ={"AZURE_TENANT_ID": tenant, "DWTUI_ENVIRONMENT_ID": "ab" * 16})
    assert config.profiles["sim"].tenant_id == tenant
    assert config.profiles["sim"].environment_id == "ab" * 16

    error = _error(path, {"AZURE_CLIENT_ID": "not-a-guid"})
    assert error.field_name == "client_id (from AZURE_CLIENT_ID)"
    assert "unset AZURE_CLIENT_ID" in error.fix
    assert _error(path, {"DWTUI_ALLOW_PRODUCTION_CHANGES": "perhaps"}).field_name == (
        "allow_production_changes (from DWTUI_ALLOW_PRODUCTION_CHANGES)"
    )


def test_paths_are_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    table = {**TABLE, "ca_bundle": "certs/ca.pem", "auth": "certificate", "certificate_path": "~/app.pem"}
    path = _write(tmp_path / "c.toml", {"profiles": {"sim": table}})
    profile = load_config(path, environ={}).profiles["sim"]
    assert profile.ca_bundle == str(tmp_path / "certs" / "ca.pem")
    assert profile.certificate_path == str(tmp_path / "home" / "app.pem")


def test_write_config_is_private_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    write_config(path, {"sim": TABLE}, "sim")
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]  # no temporary file left
    assert load_config(path, environ={}).default_profile == "sim"

    # Overwriting keeps the mode, and an invalid profile is refused before anything is written.
    before = path.read_bytes()
    with pytest.raises(ProfileError) as caught:
        write_config(path, {"sim": {**TABLE, "client_secret": "hunter2"}}, "sim")
    assert caught.value.field_name == "client_secret"
    with pytest.raises(ProfileError):
        write_config(path, {"sim": TABLE}, "other")
    assert path.read_bytes() == before
    write_config(path, {"sim": TABLE, "uat": TABLE}, None)
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(load_config(path, environ={}).profiles) == ["sim", "uat"]


def test_write_config_failure_is_a_profile_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ProfileError) as caught:
        write_config(blocker / "config.toml", {"sim": TABLE}, "sim")
    assert str(blocker) in str(caught.value)
