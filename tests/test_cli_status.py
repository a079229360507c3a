"""`dwtui status` against the simulator: what it prints, its JSON keys, sign-in and exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dwtui.cli import EXIT_CONFIG, EXIT_SERVICE, EXIT_SIGN_IN, cli, run
from dwtui.domain.assessment import MISMATCH_WARNING
from tests.cli_support import MemoryKeyring, sigint_as_at_a_terminal, use_memory_keyring

# The documented `dwtui status --json` keys (README): changing them breaks people's scripts.
TOP_KEYS = {
    "schema",
    "environment",
    "integration",
    "dual_write_application",
    "link",
    "mismatch",
    "faults",
    "actions",
    "signed_in",
    "read_at",
    "operations",
    "admin_link",
}
ENVIRONMENT_KEYS = {
    "id",
    "name",
    "project_id",
    "type",
    "fo_url",
    "deployment_state",
    "deployment_status",
    "application_version",
    "application_release",
    "platform_version",
    "platform_release",
    "is_production",
    "is_onebox",
}
DATAVERSE_KEYS = {"name", "url", "environment_id", "organization_id", "unique_name", "state", "version"}
MISMATCH_KEYS = {"warning", "integration_dataverse_url", "dual_write_dataverse_url", "remedy"}
FAULT_KEYS = {"service", "code", "message", "http_status", "meaning", "remedy", "doc"}


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_memory_keyring()


@pytest.fixture(autouse=True)
def _no_profile_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("AZURE_", "DWTUI_")):
            monkeypatch.delenv(name)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def demo_json(capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code, out, err = run_cli(["--demo", "--speed", "50", *extra, "status", "--json"], capsys)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


PACKAGE_KEYS = {"key", "unique_name", "title", "application", "requires", "state", "version", "error"}


def test_demo_status_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    data = demo_json(capsys)
    assert set(data) == TOP_KEYS
    assert data["schema"] == 1
    assert set(data["environment"]) == ENVIRONMENT_KEYS
    assert data["environment"]["name"] == "contoso-uat"
    assert data["environment"]["type"] == "Sandbox"
    assert data["integration"]["state"] == "set up"
    assert set(data["integration"]["dataverse"]) == DATAVERSE_KEYS
    assert data["integration"]["dataverse"]["url"].startswith("https://127.0.0.1:")
    assert set(data["dual_write_application"]) == {"state", "version", "packages"}
    assert data["dual_write_application"]["state"] == "not installed"
    packages = {p["unique_name"]: p for p in data["dual_write_application"]["packages"]}
    assert set(packages["DualWriteCoreAnchor"]) == PACKAGE_KEYS
    # The core is installed with Power Platform Integration, and has its version; the application
    # core is what the Dual-write application button installs.
    assert (
        packages["DualWriteCoreAnchor"]["state"] == "installed" and packages["DualWriteCoreAnchor"]["version"]
    )
    assert packages["msdyn_DualWriteAppCoreAnchor"]["state"] == "not installed"
    assert packages["msdyn_Dynamics365NotesAnchor"]["requires"] == ["app-core", "finance"]
    assert data["link"]["request_unverified"] is True and data["link"]["gateway_configured"] is True
    assert data["link"]["state"] == "not linked"
    assert data["mismatch"] is None
    assert data["faults"] == []
    assert data["actions"]["setup"] == {"enabled": True, "reason": ""}
    assert data["actions"]["link"]["enabled"] is False
    assert data["actions"]["link"]["reason"]
    assert data["signed_in"]["username"] == "admin@contoso.onmicrosoft.com"


def test_demo_status_prints_the_device_code_on_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["--demo", "--speed", "50", "status", "--json"], capsys)
    assert code == 0
    assert "/devicelogin" in err
    json.loads(out)  # stdout is pure JSON, the sign-in prompt did not leak into it


def test_demo_status_json_mismatch(capsys: pytest.CaptureFixture[str]) -> None:
    data = demo_json(capsys, "--scenario", "mismatch")
    mismatch = data["mismatch"]
    assert set(mismatch) == MISMATCH_KEYS
    assert mismatch["warning"] == MISMATCH_WARNING
    assert mismatch["integration_dataverse_url"] == data["integration"]["dataverse"]["url"]
    assert mismatch["dual_write_dataverse_url"] == data["link"]["dataverse_url"]
    assert mismatch["integration_dataverse_url"] != mismatch["dual_write_dataverse_url"]
    assert "reset" in mismatch["remedy"]
    assert data["link"]["state"] == "linked"
    assert data["actions"]["reset"]["enabled"] is True


def test_demo_status_text_mirrors_the_screen(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["--demo", "--speed", "50", "--scenario", "mismatch", "status"], capsys)
    assert code == 0, err
    for words in (
        "contoso-uat",
        "Power Platform Integration",
        "Dual-write application",
        "Link to Power Platform environment",
        MISMATCH_WARNING,
        "reset the dual-write connection",
    ):
        assert words in out


@pytest.mark.parametrize(
    ("scenario", "integration", "app", "link"),
    [
        ("installed", "set up", "installed", "not linked"),
        ("linked", "set up", "installed", "linked"),
        ("not-integrated", "not set up", "not installed", "not linked"),
    ],
)
def test_demo_status_per_scenario(
    capsys: pytest.CaptureFixture[str], scenario: str, integration: str, app: str, link: str
) -> None:
    data = demo_json(capsys, "--scenario", scenario)
    assert data["integration"]["state"] == integration
    assert data["dual_write_application"]["state"] == app
    assert data["link"]["state"] == link
    assert data["mismatch"] is None


def test_environment_chosen_by_name_is_read_only_in_production(capsys: pytest.CaptureFixture[str]) -> None:
    data = demo_json(capsys, "--environment", "contoso-prod")
    assert data["environment"]["name"] == "contoso-prod"
    assert data["environment"]["is_production"] is True
    assert data["actions"]["setup"]["enabled"] is False
    assert "production" in data["actions"]["setup"]["reason"]


def test_unknown_environment_name_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["--demo", "--speed", "50", "--environment", "nope", "status"], capsys)
    assert code in (EXIT_CONFIG, EXIT_SERVICE)
    assert out == ""
    assert len(err.strip().splitlines()) == 2  # the device-code prompt, then the one error line
    assert err.strip().splitlines()[-1].startswith("dwtui: ")


@pytest.fixture
def sim_config(sim: Any, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    sim.write_config(path)
    return path


def test_second_status_signs_in_silently_from_the_keyring(
    sim_config: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["--config", str(sim_config), "status", "--json"], capsys)
    assert code == 0, err
    assert "/devicelogin" in err
    assert any(user.endswith(":token-cache") for _, user in memory_keyring.values)

    code, out, err = run_cli(["--config", str(sim_config), "status", "--json", "--no-interactive"], capsys)
    assert code == 0, err
    assert "devicelogin" not in err
    assert json.loads(out)["signed_in"]["username"] == "admin@contoso.onmicrosoft.com"


def test_a_real_profile_keeps_its_activity_on_disk_without_secrets(
    sim_config: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    """The audit trail outlives the run: every call, redacted, in the state directory."""
    from dwtui.services.activity import default_activity_path

    code, _, err = run_cli(["--config", str(sim_config), "status", "--json"], capsys)
    assert code == 0, err
    trail = default_activity_path()
    lines = [json.loads(line) for line in trail.read_text(encoding="utf-8").splitlines()]
    assert any(entry["service"] == "LCS API" and entry["kind"] == "http" for entry in lines)
    assert any(entry["kind"] == "auth" for entry in lines)
    text = trail.read_text(encoding="utf-8")
    tokens = [value for _, value in memory_keyring.values.items()]
    assert "eyJ" not in text and "Bearer" not in text and "refresh_token" not in text
    assert all(value not in text for value in tokens if len(value) > 20)


def test_no_interactive_without_a_cached_sign_in_exits_4(
    sim_config: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["--config", str(sim_config), "status", "--no-interactive"], capsys)
    assert code == EXIT_SIGN_IN
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("dwtui: sign-in required")


def test_a_service_fault_exits_3_with_one_line(
    sim: Any, sim_config: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    # Sign in first, so the only failure left is the LCS answer itself.
    assert run_cli(["--config", str(sim_config), "status"], capsys)[0] == 0
    sim.add_fault("/lcs", "malformed", count=5)
    code, out, err = run_cli(["--config", str(sim_config), "status", "--no-interactive"], capsys)
    assert code == EXIT_SERVICE
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("dwtui: LCS API")
    assert "Traceback" not in err


def test_secret_set_stores_in_the_keyring_without_echo(
    sim_config: Path, memory_keyring: MemoryKeyring
) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(sim_config), "secret", "set", "client-secret"], input="s3cr3t-value\n"
    )
    assert result.exit_code == 0, result.output
    assert "s3cr3t-value" not in result.output
    stored = {user: value for (_, user), value in memory_keyring.values.items()}
    assert [value for user, value in stored.items() if user.endswith(":client-secret")] == ["s3cr3t-value"]

    result = CliRunner().invoke(cli, ["--config", str(sim_config), "secret", "delete", "client-secret"])
    assert result.exit_code == 0
    assert not memory_keyring.values


def test_secret_set_refuses_when_no_secure_keyring(
    sim_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import keyring.backends.fail

    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        code, _, err = run_cli(["--config", str(sim_config), "secret", "set", "client-secret"], capsys)
    finally:
        keyring.set_keyring(previous)
    assert code == 1
    assert "nothing was stored" in err


def test_standalone_sim_serves_a_profile_that_status_uses(tmp_path: Path) -> None:
    dwtui = Path(sys.executable).parent / "dwtui"
    config = tmp_path / "sim.toml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "DWTUI_"))}
    # A keyring that cannot keep secrets: the status run must say so once and carry on in memory
    # (OS keyrings only: the kernel keyring of this user is every test's).
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["DWTUI_SECRET_STORE"] = "os"
    server = subprocess.Popen(
        [str(dwtui), "sim", "--scenario", "linked", "--speed", "50", "--write-config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=sigint_as_at_a_terminal,
    )
    try:
        assert server.stdout is not None
        printed = []
        for line in server.stdout:  # ends at EOF if the simulator dies, so this cannot hang
            printed.append(line)
            if "Press Ctrl-C" in line:
                break
        assert any("base URL  https://127.0.0.1:" in line for line in printed), printed
        assert config.is_file()
        done = subprocess.run(
            [str(dwtui), "--config", str(config), "--profile", "sim", "status", "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["link"]["state"] == "linked"
        assert "No secure keyring backend" in done.stderr
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        finally:
            server.kill()
    assert server.returncode == 0


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["status", "--json"],
        ["--environment", "contoso-uat", "status"],
        ["setup", "--yes"],
        ["link", "--yes"],
        ["reset", "--yes"],
        ["onebox", "app-user", "--app-id", "3c5e7a9b-1d2f-4e6a-8b0c-2d4f6a8c0e1b", "--yes"],
    ],
)
@pytest.mark.parametrize("auth", ["client-secret", "certificate"])
def test_an_application_profile_is_told_lcs_takes_only_a_person_before_any_call(
    sim: Any,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    auth: str,
) -> None:
    import tomli_w

    certificate = tmp_path / "app.pem"
    certificate.write_text(sim.client_certificate_pem)
    table = {**sim.profile_table(), "auth": auth, "client_id": sim.confidential_client_id}
    if auth == "certificate":
        table["certificate_path"] = str(certificate)
    config = tmp_path / "app.toml"
    config.write_text(tomli_w.dumps({"default_profile": "app", "profiles": {"app": table}}))
    if auth == "client-secret":
        stored = CliRunner().invoke(
            cli, ["--config", str(config), "secret", "set", "client-secret"], input=sim.client_secret
        )
        assert stored.exit_code == 0, stored.output

    code, out, err = run_cli(["--config", str(config), *command], capsys)
    assert code == EXIT_CONFIG
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("dwtui: LCS API [delegated_only]: profile 'app' signs in as an application")
    assert f"auth = {auth}" in line and 'auth = "device-code"' in line
    assert "onebox flight" in line  # what it can still do
    assert sim.client_secret not in out + err
    # Told before anything is called: no LCS request, and not even a token request.
    assert sim.requests() == []


def test_an_application_profile_without_its_secret_still_hears_about_lcs_first(
    sim: Any, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    import tomli_w

    table = {**sim.profile_table(), "auth": "client-secret", "client_id": sim.confidential_client_id}
    config = tmp_path / "app.toml"
    config.write_text(tomli_w.dumps({"default_profile": "app", "profiles": {"app": table}}))
    code, _, err = run_cli(["--config", str(config), "status"], capsys)
    assert code == EXIT_CONFIG
    [line] = err.strip().splitlines()
    assert line.startswith("dwtui: LCS API [delegated_only]")
    assert sim.requests() == []


def test_status_names_the_api_an_admin_has_not_consented_to_and_exits_3(
    sim_factory: Any, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = sim_factory("no-consent-ppapi", device_approve_after=0.0)
    config = tmp_path / "config.toml"
    sim.write_config(config)
    consent_url = f"{sim.base_url}/{sim.tenant_id}/adminconsent?client_id={sim.client_id}"

    code, out, err = run_cli(["--config", str(config), "status"], capsys)
    assert code == EXIT_SERVICE
    line = err.strip().splitlines()[-1]
    assert line.startswith("dwtui: could not read everything: Power Platform API [consent_required]: ")
    assert "(scope https://api.powerplatform.com/.default)" in line
    assert f"to app {sim.client_id}" in line and "AADSTS65001" in line
    assert consent_url in line and "API permissions" in line and "Grant admin consent" in line
    assert "sign in again" not in err.lower() and "sign-in required" not in err.lower()
    # What could be read is printed: the other APIs answered in the same session.
    assert "contoso-uat" in out and "set up" in out

    # The sign-in itself is fine: a second run signs in silently and reports the same fault.
    code, out, err = run_cli(["--config", str(config), "status", "--json", "--no-interactive"], capsys)
    assert code == EXIT_SERVICE
    data = json.loads(out)
    assert data["signed_in"]["username"] == sim.user_name
    assert data["integration"]["state"] == "set up"
    assert data["dual_write_application"]["state"] == "unknown"
    [fault] = data["faults"]
    assert set(fault) == FAULT_KEYS
    assert (fault["service"], fault["code"]) == ("Power Platform API", "consent_required")
    assert fault["http_status"] is None
    assert "AADSTS65001" in fault["meaning"]
    assert consent_url in fault["remedy"]
    assert fault["doc"] == "https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent"
    ppapi_calls = [r for r in sim.requests() if r["service"] == "ppapi"]
    assert ppapi_calls == []  # no token, so no call


def test_the_readme_lists_every_scenario_with_its_description() -> None:
    from pathlib import Path

    from dwtui.sim.scenarios import SCENARIOS

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for scenario in SCENARIOS.values():
        assert f"| `{scenario.name}` | {scenario.description} |" in readme, scenario.name
