"""Bad configuration ends in one line naming the field and the fix, exit code 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from dwtui.cli import EXIT_CONFIG, run

GOOD: dict[str, Any] = {
    "tenant_id": "contoso.onmicrosoft.com",
    "client_id": "11111111-2222-3333-4444-555555555555",
    "lcs_project_id": "1234567",
    "environment_id": "0123456789abcdef0123456789abcdef",
    "auth": "device-code",
}


def write_config(path: Path, profiles: dict[str, dict[str, Any]], default: str | None = None) -> Path:
    document: dict[str, Any] = {"profiles": profiles}
    if default:
        document["default_profile"] = default
    path.write_bytes(tomli_w.dumps(document).encode())
    return path


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("dwtui: ")
    return lines[0]


@pytest.fixture(autouse=True)
def _no_profile_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite must not depend on the caller's Azure or dwtui environment variables.
    for name in list(os.environ):
        if name.startswith(("AZURE_", "DWTUI_")):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("setting", "value", "field"),
    [
        ("client_id", "not-a-guid", "client_id"),
        ("client_id", "11111111-2222-3333-4444-55555555555", "client_id"),
        ("tenant_id", "contoso", "tenant_id"),
        ("lcs_project_id", "12ab", "lcs_project_id"),
        ("environment_id", "uat", "environment_id"),
        ("lcs_api_url", "http://lcsapi.lcs.dynamics.com", "lcs_api_url"),
        ("authority_url", "https://", "authority_url"),
        ("auth", "password", "auth"),
        ("allow_production_changes", "yes", "allow_production_changes"),
        ("colour", "blue", "colour"),
    ],
)
def test_bad_profile_value_names_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, value: str, field: str
) -> None:
    config = write_config(tmp_path / "config.toml", {"work": {**GOOD, setting: value}}, "work")
    code, out, err = run_cli(["--config", str(config), "profiles"], capsys)
    assert code == EXIT_CONFIG
    assert out == ""
    line = assert_one_line(err)
    assert field in line


def test_missing_required_setting_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = {k: v for k, v in GOOD.items() if k != "lcs_project_id"}
    config = write_config(tmp_path / "config.toml", {"work": table})
    code, _, err = run_cli(["--config", str(config), "status"], capsys)
    assert code == EXIT_CONFIG
    assert "lcs_project_id" in assert_one_line(err)


def test_unknown_profile_lists_the_known_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "config.toml", {"work": GOOD, "home": GOOD}, "work")
    code, _, err = run_cli(["--config", str(config), "--profile", "nope", "status"], capsys)
    assert code == EXIT_CONFIG
    line = assert_one_line(err)
    assert "nope" in line
    assert "work" in line
    assert "home" in line


def test_invalid_toml_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[profiles.work\ntenant_id = 'x'\n")
    code, _, err = run_cli(["--config", str(config), "profiles"], capsys)
    assert code == EXIT_CONFIG
    assert str(config) in assert_one_line(err) or "TOML" in err


def test_file_that_is_not_text_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b"\xff\xfe\x00garbage\x80")
    code, _, err = run_cli(["--config", str(config), "profiles"], capsys)
    assert code == EXIT_CONFIG
    assert_one_line(err)


def test_missing_config_file_named_explicitly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere" / "config.toml"
    code, _, err = run_cli(["--config", str(missing), "status"], capsys)
    assert code == EXIT_CONFIG
    assert "config" in assert_one_line(err)


def test_config_path_that_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["--config", str(tmp_path), "profiles"], capsys)
    assert code == EXIT_CONFIG
    assert_one_line(err)


def test_missing_ca_bundle_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = {**GOOD, "ca_bundle": str(tmp_path / "missing-ca.pem")}
    config = write_config(tmp_path / "config.toml", {"work": table}, "work")
    code, _, err = run_cli(["--config", str(config), "status", "--no-interactive"], capsys)
    assert code == EXIT_CONFIG
    assert "ca_bundle" in assert_one_line(err)


def test_environment_variable_override_is_validated_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "config.toml", {"work": GOOD}, "work")
    monkeypatch.setenv("AZURE_CLIENT_ID", "zzz")
    code, _, err = run_cli(["--config", str(config), "profiles"], capsys)
    assert code == EXIT_CONFIG
    assert "client_id" in assert_one_line(err)


def test_profiles_lists_every_profile_and_marks_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = {**GOOD, "environment_id": "", "auth": "client-secret"}
    config = write_config(tmp_path / "config.toml", {"work": GOOD, "home": other}, "home")
    code, out, err = run_cli(["--config", str(config), "profiles"], capsys)
    assert (code, err) == (0, "")
    rows = {
        line.split()[1] if line.startswith("*") else line.split()[0]: line for line in out.splitlines()[1:3]
    }
    assert rows["home"].startswith("*")
    assert "client-secret" in rows["home"]
    assert "(pick)" in rows["home"]
    assert not rows["work"].startswith("*")
    assert "1234567" in rows["work"]


def test_profiles_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    config = write_config(tmp_path / "config.toml", {"work": GOOD}, "work")
    code, out, _ = run_cli(["--config", str(config), "profiles", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["default_profile"] == "work"
    [work] = data["profiles"]
    assert work["name"] == "work"
    assert work["default"] is True
    assert work["tenant_id"] == "contoso.onmicrosoft.com"
    assert work["lcs_api_url"] == "https://lcsapi.lcs.dynamics.com"


def test_installed_command_reports_a_bad_file_in_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", {"work": {**GOOD, "tenant_id": "-bad-"}}, "work")
    dwtui = Path(sys.executable).parent / "dwtui"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "DWTUI_"))}
    done = subprocess.run(
        [str(dwtui), "--config", str(config), "status"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == EXIT_CONFIG
    assert done.stdout == ""
    assert "tenant_id" in assert_one_line(done.stderr)


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["status", "--jsn"], capsys)
    assert code == 2
    assert "--json" in assert_one_line(err)
