"""`dwtui profiles add`: flags or questions, every value checked, live checks against the simulator
over TLS, and a config file that keeps its text and comments."""

from __future__ import annotations

import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import dwtui.cli.profiles_add as profiles_add
from dwtui.cli.runtime import EXIT_CONFIG, EXIT_INTERRUPTED, EXIT_OK
from dwtui.domain.profile import parse_profile
from dwtui.domain.profile_checks import app_answered
from dwtui.services.config import load_config
from dwtui.sim.server import SimServer
from tests.cli_support import clear_overrides, run_cli

TENANT = "contoso.onmicrosoft.com"
APP = "11111111-2222-3333-4444-555555555555"
PROJECT = "1234567"
UNKNOWN_APP = "99999999-8888-7777-6666-555555555555"


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "dwtui" / "config.toml"


@pytest.fixture
def at_sim(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> SimServer:
    """The identity provider is the simulator's, trusted through its own CA (as a profile would)."""
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", sim.base_url)
    monkeypatch.setenv("DWTUI_CA_BUNDLE", str(sim.ca_file))
    sim.reset_log()
    return sim


@pytest.fixture
def in_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profiles_add, "is_interactive", lambda: True)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: a connection to it is refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def _add(config: Path, *args: str) -> list[str]:
    return ["--config", str(config), "profiles", "add", *args]


def _flags(name: str = "work", tenant: str = TENANT, app: str = APP, project: str = PROJECT) -> list[str]:
    return [name, "--tenant-id", tenant, "--client-id", app, "--lcs-project-id", project]


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("dwtui: ") and "Traceback" not in err
    return lines[0]


# -- the flag form ---------------------------------------------------------------------------------


def test_the_flag_form_writes_a_private_loadable_profile_and_the_first_is_the_default(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        _add(config, *_flags(), "--environment-id", "0123456789ABCDEF0123456789ABCDEF", "--no-check"), capsys
    )
    assert code == EXIT_OK, err
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    loaded = load_config(config)
    assert loaded.default_profile == "work"
    assert loaded.profiles["work"] == parse_profile(
        "work",
        {
            "tenant_id": TENANT,
            "client_id": APP,
            "lcs_project_id": PROJECT,
            "environment_id": "0123456789ABCDEF0123456789ABCDEF",
        },
    )
    assert "Added profile 'work'" in out
    assert f"Next: dwtui --config {config} doctor --profile work" in out
    assert "Checking" not in out  # --no-check


EXISTING = """\
# My dwtui profiles
# (kept by hand)

default_profile = "work"   # the one I use most

# The production tenant
[profiles.work]
tenant_id = "contoso.onmicrosoft.com"  # tenant
client_id = "11111111-2222-3333-4444-555555555555"
lcs_project_id = "1234567"
"""


def test_an_existing_files_text_and_comments_are_kept(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.parent.mkdir(parents=True)
    config.write_text(EXISTING)
    config.chmod(0o644)
    code, _, err = run_cli(_add(config, *_flags("home"), "--no-check"), capsys)
    assert code == EXIT_OK, err
    text = config.read_text()
    assert text.startswith(EXISTING)  # appended, nothing else touched
    assert "[profiles.home]" in text
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert load_config(config).default_profile == "work"  # not the first profile: the default stays

    code, _, err = run_cli(_add(config, *_flags("third"), "--default", "--no-check"), capsys)
    assert code == EXIT_OK, err
    text = config.read_text()
    assert 'default_profile = "third"   # the one I use most\n' in text  # changed in place, comment kept
    assert text.replace('"third"   #', '"work"   #', 1).startswith(EXISTING)
    loaded = load_config(config)
    assert loaded.default_profile == "third" and set(loaded.profiles) == {"work", "home", "third"}


def test_default_goes_above_the_comments_of_the_first_table(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.parent.mkdir(parents=True)
    without_default = EXISTING.replace('default_profile = "work"   # the one I use most\n\n', "")
    config.write_text(without_default)
    code, _, err = run_cli(_add(config, *_flags("home"), "--default", "--no-check"), capsys)
    assert code == EXIT_OK, err
    text = config.read_text()
    assert '# (kept by hand)\n\ndefault_profile = "home"\n\n# The production tenant\n[profiles.work]' in text
    assert load_config(config).default_profile == "home"


def test_a_linked_file_stays_linked_and_windows_line_ends_stay(
    config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "dotfiles" / "dwtui.toml"
    target.parent.mkdir()
    target.write_bytes(EXISTING.replace("\n", "\r\n").encode())
    config.parent.mkdir(parents=True)
    config.symlink_to(target)
    code, _, err = run_cli(_add(config, *_flags("home"), "--default", "--no-check"), capsys)
    assert code == EXIT_OK, err
    assert config.is_symlink()
    data = target.read_bytes()
    assert b"[profiles.home]\r\n" in data and b'default_profile = "home"   # the one I use most\r\n' in data
    assert data.count(b"\n") == data.count(b"\r\n")
    assert set(load_config(config).profiles) == {"work", "home"}


def test_an_existing_name_is_refused_and_the_file_left_alone(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.parent.mkdir(parents=True)
    config.write_text(EXISTING)
    code, out, err = run_cli(_add(config, *_flags("work"), "--no-check"), capsys)
    assert code == EXIT_CONFIG
    line = _one_line(err)
    assert "'work' is already a profile in" in line and str(config) in line
    assert config.read_text() == EXISTING and out == ""


@pytest.mark.parametrize(
    ("flag", "value", "field"),
    [
        ("NAME", "no spaces", "name"),
        ("--tenant-id", "contoso", "tenant_id"),
        ("--client-id", "not-a-guid", "client_id"),
        ("--lcs-project-id", "12ab", "lcs_project_id"),
        ("--environment-id", "uat", "environment_id"),
        ("--auth", "password", "auth"),
        ("--lcs-api-url", "http://lcsapi.lcs.dynamics.com", "lcs_api_url"),
        ("--dualwrite-gateway-url", "https://gateway.example/?x=1", "dualwrite_gateway_url"),
    ],
)
def test_each_bad_value_is_refused_naming_its_field(
    config: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, field: str
) -> None:
    flags = _flags(name=value) if flag == "NAME" else [*_flags(), flag, value]
    code, out, err = run_cli(_add(config, *flags, "--no-check"), capsys)
    assert code == EXIT_CONFIG
    line = _one_line(err)
    assert f"{field} ({flag})" in line and "; " in line  # the field, then the fix
    assert out == "" and not config.exists()


def test_certificate_auth_needs_its_file(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(_add(config, *_flags(), "--auth", "certificate", "--no-check"), capsys, stdin="")
    assert code == EXIT_CONFIG
    assert "missing --certificate-path" in _one_line(err)


def test_without_a_terminal_the_missing_flags_are_named(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(_add(config, "--client-id", APP, "--no-check"), capsys, stdin="work\n")
    assert code == EXIT_CONFIG
    line = _one_line(err)
    assert "missing NAME, --tenant-id, --lcs-project-id:" in line and "--client-id" not in line
    assert out == "" and not config.exists()


def test_demo_is_refused_with_its_own_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["--demo", "profiles", "add", *_flags(), "--no-check"], capsys)
    assert code == EXIT_CONFIG
    assert "--demo has no config file to add a profile to" in _one_line(err)


def test_profiles_without_a_command_still_lists(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.parent.mkdir(parents=True)
    config.write_text(EXISTING)
    code, out, err = run_cli(["--config", str(config), "profiles"], capsys)
    assert code == EXIT_OK, err
    assert "*  work" in out
    code, _, err = run_cli(["--config", str(config), "profiles", "--json", "add", *_flags("x")], capsys)
    assert code == EXIT_CONFIG and "takes no --json" in _one_line(err)


# -- the questions ---------------------------------------------------------------------------------


def test_the_questions_ask_again_after_a_bad_answer(
    config: Path, capsys: pytest.CaptureFixture[str], in_a_terminal: None
) -> None:
    answers = [
        "work",
        "contoso",  # not a tenant: asked again
        TENANT,
        "not-a-guid",  # asked again
        APP,
        PROJECT,
        "",  # environment: pick later
        "password",  # not a sign-in method: asked again
        "",  # auth: device-code
        "",  # no gateway
    ]
    code, out, err = run_cli(_add(config, "--no-check"), capsys, stdin="\n".join(answers) + "\n")
    assert code == EXIT_OK, err
    assert "Error: tenant_id: 'contoso' is neither a tenant GUID nor a domain" in err
    assert "Error: client_id: 'not-a-guid' is not a GUID" in err
    assert "Error: auth: 'password' is not a sign-in method" in err
    assert "Certificate" not in err  # not asked for device-code
    profile = load_config(config).profiles["work"]
    assert (profile.tenant_id, profile.client_id, profile.lcs_project_id) == (TENANT, APP, PROJECT)
    assert (profile.environment_id, profile.auth) == ("", "device-code")
    assert "Added profile 'work'" in out


def test_only_what_the_flags_leave_out_is_asked(
    config: Path, capsys: pytest.CaptureFixture[str], in_a_terminal: None
) -> None:
    config.parent.mkdir(parents=True)
    config.write_text(EXISTING)
    answers = ["work", "home", "", "certificate", "cert.pem", "https://gateway.example"]  # work is taken
    code, _, err = run_cli(
        _add(config, "--tenant-id", TENANT, "--client-id", APP, "--lcs-project-id", PROJECT, "--no-check"),
        capsys,
        stdin="\n".join(answers) + "\n",
    )
    assert code == EXIT_OK, err
    assert "Error: name: 'work' is already a profile in" in err
    assert "Tenant" not in err and "App id" not in err
    profile = load_config(config).profiles["home"]
    assert profile.auth == "certificate" and Path(profile.certificate_path).is_absolute()
    assert profile.dualwrite_gateway_url == "https://gateway.example"


def test_questions_that_end_without_answers_stop_as_interrupted(
    config: Path, capsys: pytest.CaptureFixture[str], in_a_terminal: None
) -> None:
    code, _, err = run_cli(_add(config, "--no-check"), capsys, stdin="work\n")
    assert code == EXIT_INTERRUPTED
    assert "interrupted" in err
    assert not config.exists()


# -- live checks against the simulator -------------------------------------------------------------


def test_the_simulators_tenant_and_app_pass_both_checks(
    config: Path, capsys: pytest.CaptureFixture[str], at_sim: SimServer
) -> None:
    flags = _flags(tenant=at_sim.tenant_domain, app=at_sim.client_id, project=at_sim.project_id)
    code, out, err = run_cli(_add(config, *flags), capsys)
    assert code == EXIT_OK, err
    assert f"Checking the tenant and app id at {at_sim.base_url} (no sign-in):" in out
    assert f"tenant {at_sim.tenant_domain}: ok" in out and f"tenant id {at_sim.tenant_id}" in out
    assert f"app id {at_sim.client_id}: ok" in out
    paths = [(entry["method"], entry["path"]) for entry in at_sim.requests()]
    assert ("GET", f"/{at_sim.tenant_domain}/v2.0/.well-known/openid-configuration") in paths
    # The device-code endpoint is the one the OpenID configuration names (the tenant by its GUID).
    assert ("POST", f"/{at_sim.tenant_id}/oauth2/v2.0/devicecode") in paths
    # The environment only pointed the checks at the simulator: the file holds what was typed.
    assert "authority_url" not in config.read_text() and "ca_bundle" not in config.read_text()


def test_an_app_the_tenant_does_not_have_is_a_problem_and_nothing_is_written(
    config: Path, capsys: pytest.CaptureFixture[str], at_sim: SimServer
) -> None:
    code, out, err = run_cli(_add(config, *_flags(tenant=at_sim.tenant_id, app=UNKNOWN_APP)), capsys)
    assert code == EXIT_CONFIG
    assert f"tenant {at_sim.tenant_id}: ok" in out
    assert f"app id {UNKNOWN_APP}: problem: the tenant has no app with this id (AADSTS700016); fix: " in out
    assert "was not added" in _one_line(err) and "--no-check" in err
    assert not config.exists()


def test_a_problem_can_be_confirmed_in_a_terminal(
    config: Path, capsys: pytest.CaptureFixture[str], at_sim: SimServer, in_a_terminal: None
) -> None:
    # Every value given: the only question is whether to add it anyway.
    flags = [*_flags(tenant=at_sim.tenant_id, app=UNKNOWN_APP), "--environment-id", "", "--auth", ""]
    flags += ["--dualwrite-gateway-url", ""]
    code, _, _ = run_cli(_add(config, *flags), capsys, stdin="n\n")
    assert code == EXIT_CONFIG and not config.exists()
    code, out, err = run_cli(_add(config, *flags), capsys, stdin="y\n")
    assert code == EXIT_OK, err
    assert "problem:" in out and "Add the profile anyway?" in err
    assert load_config(config).profiles["work"].client_id == UNKNOWN_APP


def test_an_unknown_tenant_is_a_problem(
    config: Path, capsys: pytest.CaptureFixture[str], at_sim: SimServer
) -> None:
    flags = _flags(tenant="fabrikam.onmicrosoft.com", app=at_sim.client_id)
    code, out, _ = run_cli(_add(config, *flags), capsys)
    assert code == EXIT_CONFIG
    assert "tenant fabrikam.onmicrosoft.com: problem: the identity provider knows no such tenant" in out
    assert "(AADSTS90002); fix: use the Tenant ID" in out
    assert f"app id {at_sim.client_id}: could not check:" in out
    assert not config.exists()


def test_an_unreachable_identity_provider_could_not_be_checked_and_the_profile_is_added(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", f"https://127.0.0.1:{closed_port}")
    code, out, err = run_cli(_add(config, *_flags()), capsys)
    assert code == EXIT_OK, err
    assert f"tenant {TENANT}: could not check: could not reach the service" in out
    assert f"app id {APP}: could not check:" in out and "problem" not in out
    assert "work" in load_config(config).profiles


def test_a_certificate_the_simulator_is_not_signed_by_is_could_not_check(
    config: Path, capsys: pytest.CaptureFixture[str], at_sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DWTUI_CA_BUNDLE")  # TLS stays verified: the system's CAs do not know the simulator
    code, out, err = run_cli(_add(config, *_flags(tenant=at_sim.tenant_id, app=at_sim.client_id)), capsys)
    assert code == EXIT_OK, err
    assert f"tenant {at_sim.tenant_id}: could not check: the server's TLS certificate could not" in out
    assert at_sim.requests() == []


def test_no_check_makes_no_call(config: Path, capsys: pytest.CaptureFixture[str], at_sim: SimServer) -> None:
    flags = _flags(tenant=at_sim.tenant_id, app=at_sim.client_id)
    code, _, err = run_cli(_add(config, *flags, "--no-check"), capsys)
    assert code == EXIT_OK, err
    assert at_sim.requests() == []
    flags = _flags("checked", tenant=at_sim.tenant_id, app=at_sim.client_id)
    code, _, err = run_cli(_add(config, *flags), capsys)
    assert code == EXIT_OK, err
    assert at_sim.requests()  # the same without --no-check calls the identity provider


def test_the_trace_records_the_checks(
    config: Path, capsys: pytest.CaptureFixture[str], at_sim: SimServer, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.jsonl"
    flags = _flags(tenant=at_sim.tenant_id, app=at_sim.client_id)
    code, _, err = run_cli(_add(config, *flags, "--trace", str(trace)), capsys)
    assert code == EXIT_OK, err
    assert "openid-configuration" in trace.read_text() and "devicecode" in trace.read_text()


def test_service_text_in_a_check_line_is_one_inert_line() -> None:
    answer = {"error": "x\x1b[2J", "error_description": "AADSTS1: bad\x1b]52;c;aGk=\x07\nmore"}
    line = app_answered(APP, answer).line()
    assert "\x1b" not in line and "\x07" not in line and "\n" not in line
    said = "the identity provider answered x\\x1b[2J: AADSTS1: bad\\x1b]52;c;aGk=\\x07"
    assert line == f"app id {APP}: could not check: {said}"
