"""The command line against services that answer with terminal escape sequences (hostile-names).

Each command runs in-process, once with its output captured as a script sees it and once as a
terminal does (click strips nothing there and hyperlinks are made): no raw control character
reaches either, the names show their escapes instead, and the only sequence is our own hyperlink.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from dwtui.cli import run, terminal_text
from dwtui.services.axdb_demo import DEMO_PARTITIONS, create_demo_database, demo_connection_string
from tests.cli_support import clear_overrides, run_cli
from tests.hostile_text import HOSTILE, raw_in_output
from tests.test_cli_config import GOOD, write_config

HOSTILE_DEMO = ["--demo", "--scenario", "hostile-names", "--speed", "400"]
CLIPBOARD = "\\x1b]52;c;ZHd0dWktcHJvYmU=\\x07"  # the scenario's OSC 52, as it must be shown
TITLE = "\\x1b]0;dwtui-probe-title\\x1b\\"
HIDDEN_LINK = "\\x1b\\\\x1b]8;;https://evil.example/\\x1b\\"
UAT_URL = "https://contoso-uat.sandbox.operations.dynamics.com/"
ONEBOX_APP_USER = ["--demo", "--speed", "400", "--environment", "contoso-dev", "onebox", "app-user"]


@pytest.fixture(autouse=True)
def _no_profile_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


class TerminalBuffer(io.StringIO):
    """What a terminal would receive: isatty() says yes, so click strips nothing."""

    encoding = "utf-8"  # type: ignore[assignment]

    def isatty(self) -> bool:
        return True


@pytest.fixture
def at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(terminal_text, "_LINKED", set())
    yield


def run_at_terminal(argv: list[str]) -> tuple[int, str, str]:
    out, err = TerminalBuffer(), TerminalBuffer()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = run(argv)
    finally:
        sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


def assert_inert(*texts: str, links: frozenset[str] = frozenset()) -> None:
    for text in texts:
        assert raw_in_output(text, links) == [], text


def test_status_shows_every_hostile_name_as_its_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*HOSTILE_DEMO, "status"], capsys)
    assert code == 0, err
    assert_inert(out, err)
    assert f"contoso-uat{CLIPBOARD}{TITLE}" in out
    assert f"{UAT_URL}{HIDDEN_LINK}" in out
    assert "\\u202eexe.txt\\u202c\\u2066" in out  # the Dataverse name's bidi override, visible
    assert "\\x9b1m\\x9d52;c;ZHd0dWktcHJvYmU=\\x9c" in out  # C1 CSI and OSC, visible


def test_status_at_a_terminal_shows_the_sequences_click_would_strip(at_a_terminal: None) -> None:
    code, out, err = run_at_terminal([*HOSTILE_DEMO, "status"])
    assert code == 0, err
    assert_inert(out, err)
    # A pipe gets click's own stripping of colour codes; a terminal does not, so the boundary shows them.
    assert "Deployed\\x1b[2J\\x1b[31m\\x9b1m" in out


def test_status_json_is_valid_and_escapes_every_control(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*HOSTILE_DEMO, "status", "--json"], capsys)
    assert code == 0, err
    assert_inert(out, err)
    data = json.loads(out)
    name = "contoso-uat\x1b]52;c;ZHd0dWktcHJvYmU=\x07\x1b]0;dwtui-probe-title\x1b\\"
    assert data["environment"]["name"] == name
    assert "\\u001b]52;c;" in out  # as JSON escapes it


def test_the_admin_hyperlink_is_never_made_from_a_url_that_hides_another(at_a_terminal: None) -> None:
    # contoso-prod is linked; its F&O URL carries ESC \ ESC ]8;;https://evil.example/ ESC \.
    code, out, err = run_at_terminal([*HOSTILE_DEMO, "--environment", "contoso-prod", "status"])
    assert code == 0, err
    assert_inert(out, err)  # no hyperlink at all: not even ours
    assert f"https://contoso-prod.operations.dynamics.com/{HIDDEN_LINK}" in out
    assert "\x1b]8;;" not in out


def test_a_safe_admin_hyperlink_is_still_clickable_at_a_terminal(at_a_terminal: None) -> None:
    code, out, err = run_at_terminal(["--demo", "--speed", "400", "--scenario", "linked", "link", "--yes"])
    assert code == 0, err
    link = f"\x1b]8;;{UAT_URL}\x1b\\{UAT_URL}\x1b]8;;\x1b\\"
    assert f"  {link}\n" in out
    assert_inert(out, err, links=frozenset({UAT_URL}))


def test_a_failing_link_shows_the_dw9003_message_inert(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*HOSTILE_DEMO, "link", "--yes", "--wait"], capsys)
    assert code == 3, err
    assert_inert(out, err)
    assert f"dual-write gateway [DW9003]: Failed to connect to CRM.{CLIPBOARD}{TITLE} Ensure" in out
    [last] = [line for line in err.splitlines() if line.startswith("dwtui: ")]
    assert "the link failed" in last and CLIPBOARD in last


def test_a_failing_install_shows_the_service_error_inert(at_a_terminal: None) -> None:
    code, out, err = run_at_terminal([*HOSTILE_DEMO, "setup", "--package", "finance", "--yes", "--wait"])
    assert code == 3, err
    assert_inert(out, err)
    assert f"msdyn_Dynamics365FinanceExtendedMaps failed.{CLIPBOARD}{TITLE}\\u202eexe.txt" in out
    assert f"contoso-uat{CLIPBOARD}{TITLE}" in out  # the plan names the environment


def test_the_flight_table_shows_hostile_partition_keys_inert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at_a_terminal: None
) -> None:
    monkeypatch.chdir(tmp_path)
    hostile = (5637144579, "x\x1b]52;c;aGk=\x07\u202e", "Hostile\x1b]0;t\x07")
    database = create_demo_database(tmp_path / "AXDB.sqlite", partitions=(*DEMO_PARTITIONS, hostile))
    argv = ["onebox", "flight", "--run", "--yes", "--connection-string", demo_connection_string(database)]
    code, out, err = run_at_terminal(argv)
    assert code == 0, err
    assert_inert(out, err)
    assert "x\\x1b]52;c;aGk=\\x07\\u202e" in out


@pytest.fixture
def config_file(tmp_path: Path) -> str:
    return str(write_config(tmp_path / "config.toml", {"work": GOOD}, "work"))


@pytest.mark.parametrize(
    "argv",
    [
        ["--profile", "p\x1b]52;c;aGk=\x07", "status"],
        ["--demo", "--environment", "contoso\x1b]0;t\x07", "status"],
        ["--demo", "--scenario", "x\x1b]52;c;aGk=\x07", "status"],
        [
            "--demo",
            "--environment",
            "contoso-dev",
            "onebox",
            "app-user",
            "--role",
            "r\x1b]52;c;aGk=\x07\u202e",
            "--yes",
        ],
        [
            "--demo",
            "--environment",
            "contoso-dev",
            "onebox",
            "app-user",
            "--business-unit",
            "b\x1b[2J\x9b",
            "--yes",
        ],
        ["no-such-command\x1b]0;title\x07"],
        ["--config", "/nonexistent/\x1b]52;c;aGk=\x07.toml", "status"],
    ],
)
def test_arguments_echoed_in_error_lines_are_inert(
    argv: list[str], config_file: str, at_a_terminal: None
) -> None:
    # --config with --demo is refused before anything else (it would do nothing): the demo's
    # arguments go without it, so that they reach the line that names them.
    config = [] if "--demo" in argv else ["--config", config_file]
    code, out, err = run_at_terminal([*config, *argv])
    assert code != 0
    assert_inert(out, err)
    assert "\\x1b" in out + err, err  # the argument is named, with its escapes visible


@given(HOSTILE)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_profile_argument_is_echoed_inert(config_file: str, name: str) -> None:
    code, out, err = run_at_terminal(["--config", config_file, "--profile", f"x{name}", "status"])
    assert code != 0
    assert_inert(out, err)


def test_the_doctor_shows_hostile_names_and_messages_inert(at_a_terminal: None) -> None:
    # At a terminal the doctor also prints a progress line per check on stderr.
    code, out, err = run_at_terminal([*HOSTILE_DEMO, "doctor"])
    assert code == 1, err  # contoso-uat's deployment status is not "Deployed" once it carries escapes
    assert_inert(out, err)
    assert f"Doctor: contoso-uat{CLIPBOARD}{TITLE} (Sandbox)" in out
    assert "dwtui: [1/24] " in err


def test_the_doctor_json_escapes_every_control(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*HOSTILE_DEMO, "doctor", "--json"], capsys)
    assert code == 1, err
    assert_inert(out, err)
    data = json.loads(out)
    assert data["environment"]["name"].startswith("contoso-uat\x1b]52;c;")
    assert "\\u001b]52;c;" in out
