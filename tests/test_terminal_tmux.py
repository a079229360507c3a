"""The installed `dwtui --demo` in a real terminal (tmux): it paints, loads, shows help and quits; on
a jump box's 80x24 every button it takes to install, reset and enable the one-box flight is seen
before it is pressed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux") or "tmux"  # scripts/test.sh installs tmux; without it the test fails loudly
DWTUI = Path(sys.executable).parent / "dwtui"  # the console script pip installed into the venv
SESSION = "demo"


def _env() -> dict[str, str]:
    """An explicit environment: the process's C-level environment can hold COLUMNS/LINES set by a
    library at run time (not in os.environ), which would pin the app to 80x24 inside the pane. Read
    when the server starts, so dwtui gets the test's private user directories (conftest)."""
    return {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


class Terminal:
    """One tmux server on a private socket, holding one 120x40 window."""

    def __init__(self, socket: str, config: Path) -> None:
        self.socket = socket
        self.config = config

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, "-f", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
            env=_env(),
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", SESSION)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", SESSION, *keys)

    def click(self, screen: str, line: re.Pattern[str], label: str) -> None:
        """Click `label` on the first line of `screen` that matches `line` (the button as seen), with
        the SGR mouse report a terminal sends (1-based column and row)."""
        for row, text in enumerate(screen.splitlines()):
            if line.search(text) and label in text:
                column = text.index(label) + len(label) // 2
                for end in ("M", "m"):  # press, release
                    self.tmux("send-keys", "-t", SESSION, "-l", f"\x1b[<0;{column + 1};{row + 1}{end}")
                return
        pytest.fail(f"no line with {label!r} matching {line.pattern!r} on the screen:\n{screen}")

    def press(self, line: re.Pattern[str], label: str, then: Callable[[str], bool], what: str) -> str:
        """Click the button `label` once it is on the screen, on a line matching `line`, until `then`
        holds (a click that lands while the dialog is still being laid out is lost): only ever while
        the button is still there to be seen."""
        for _attempt in range(3):
            seen = self.wait_for(f"{label} on the screen", lambda text: line.search(text) is not None)
            self.click(seen, line, label)
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:
                text = self.screen()
                if then(text):
                    return text
                time.sleep(0.2)  # a poll interval, not a wait for timing
        pytest.fail(f"pressing {label} did not lead to {what}; the screen was:\n{self.screen()}")

    def wait_for(self, what: str, condition: Callable[[str], bool], timeout: float = 60.0) -> str:
        """Poll the screen until `condition` holds; fail with the last screen after `timeout`."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if condition(text):
                return text
            time.sleep(0.2)  # a poll interval, not a wait for timing
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; the screen was:\n{text}")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    config = tmp_path / "tmux.conf"
    config.write_text("set -g status off\n")
    term = Terminal(f"dwtui-test-{os.getpid()}-{tmp_path.name}", config)
    try:
        yield term
    finally:
        subprocess.run([TMUX, "-L", term.socket, "kill-server"], capture_output=True, timeout=20, check=False)
        socket_path = Path(f"/tmp/tmux-{os.getuid()}") / term.socket
        socket_path.unlink(missing_ok=True)


def test_installed_demo_paints_loads_helps_and_quits(terminal: Terminal) -> None:
    assert DWTUI.is_file(), f"{DWTUI} is not installed; run `pip install -e .`"
    # The shell reports dwtui's exit status on the screen: tmux itself sometimes leaves an exited
    # pane's process unreaped, so its pane_dead_status cannot be relied on.
    command = f"{DWTUI} --demo --speed 20; echo dwtui exited with status $?; sleep 600"
    terminal.tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", SESSION, command)

    main = terminal.wait_for(
        "the environment and its Power Platform Integration state",
        lambda text: "contoso-uat" in text and "Power Platform Integration" in text and "set up" in text,
    )
    assert "Traceback" not in main

    help_title = "Dual-write setup from Lifecycle Services"  # the help screen's first heading
    assert help_title not in main
    terminal.keys("?")
    terminal.wait_for("the help screen", lambda text: help_title in text)

    terminal.keys("Escape")
    terminal.wait_for("the main screen again", lambda text: help_title not in text and "contoso-uat" in text)

    terminal.keys("q")
    ended = terminal.wait_for("dwtui to exit", lambda text: "dwtui exited with status" in text, timeout=30)
    assert "dwtui exited with status 0" in ended
    assert "Traceback" not in ended


def test_hostile_names_leave_the_clipboard_and_the_title_alone(terminal: Terminal) -> None:
    """Services' names carry OSC 52 (clipboard), OSC 0 (title) and more: tmux sees none of them."""
    assert DWTUI.is_file(), f"{DWTUI} is not installed; run `pip install -e .`"
    terminal.config.write_text("set -g status off\nset -g set-clipboard on\n")
    terminal.tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", SESSION, "bash --norc --noprofile")
    title = "dwtui-test-title"

    def run(command: str, done: str, timeout: float = 90.0) -> str:
        terminal.keys(f"{command}; echo {done} $?", "Enter")
        ended = re.compile(rf"^{done} \d+$", re.MULTILINE)  # the echo's output, not the command line
        return terminal.wait_for(done, lambda text: ended.search(text) is not None, timeout)

    # The terminal really obeys these sequences: raw, they fill a paste buffer and set the title.
    terminal.tmux("select-pane", "-t", SESSION, "-T", title)
    run(r"printf '\033]52;c;ZHd0dWk=\007\033]2;pwned\033\\'", "probe-done")
    assert "dwtui" in terminal.tmux("list-buffers")
    assert terminal.tmux("display", "-p", "-t", SESSION, "#{pane_title}").strip() == "pwned"
    terminal.tmux("delete-buffer")
    terminal.tmux("select-pane", "-t", SESSION, "-T", title)
    terminal.keys("clear", "Enter")

    shown = run(f"{DWTUI} --demo --scenario hostile-names status", "status-done")
    assert "status-done 0" in shown
    assert "contoso-uat\\x1b]52;c;ZHd0dWktcHJvYmU=\\x07" in shown  # shown, not obeyed
    assert terminal.tmux("list-buffers") == ""
    assert terminal.tmux("display", "-p", "-t", SESSION, "#{pane_title}").strip() == title

    terminal.keys("clear", "Enter")
    terminal.keys(f"{DWTUI} --demo --scenario hostile-names --speed 20; echo tui-done $?", "Enter")
    tui_done = re.compile(r"^tui-done \d+$", re.MULTILINE)
    terminal.wait_for("the hostile names, shown", lambda text: "contoso-uat\\x1b]52;c;" in text)
    # Both panes read (each border says when), so Link is enabled when l is pressed.
    read_at = re.compile(r"read \d\d:\d\d:\d\d UTC")
    terminal.wait_for("both panes read", lambda text: len(read_at.findall(text)) >= 2)
    terminal.keys("e")
    terminal.wait_for("the picker", lambda text: "Environments of LCS project" in text)
    terminal.keys("Escape")
    terminal.wait_for("the main screen", lambda text: "Environments of LCS project" not in text)
    terminal.keys("l")
    terminal.wait_for("the link confirmation", lambda text: "(y)" in text)
    terminal.keys("y")
    failed = terminal.wait_for("the DW9003 failure", lambda text: "CRM.\\x1b]52;c;" in text)
    assert "Traceback" not in failed
    terminal.keys("q")
    ended = terminal.wait_for("dwtui to exit", lambda text: tui_done.search(text) is not None, timeout=30)
    assert "tui-done 0" in ended
    assert terminal.tmux("list-buffers") == ""
    assert terminal.tmux("display", "-p", "-t", SESSION, "#{pane_title}").strip() == title


@pytest.mark.parametrize("set_clipboard", ["on", "external"])
def test_c_in_tmux_sends_the_link_and_says_how_to_let_it_through(
    terminal: Terminal, set_clipboard: str
) -> None:
    """`c` sends the admin link with OSC 52: with `set-clipboard on` it reaches tmux (a paste buffer),
    with tmux's default it does not, and dwtui cannot tell the two apart: it says the same, never
    "copied", and shows the link to select."""
    assert DWTUI.is_file(), f"{DWTUI} is not installed; run `pip install -e .`"
    terminal.config.write_text(f"set -g status off\nset -g set-clipboard {set_clipboard}\n")
    command = f"{DWTUI} --demo --scenario linked --speed 20; echo dwtui exited with status $?; sleep 600"
    terminal.tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", SESSION, command)
    read_at = re.compile(r"read \d\d:\d\d:\d\d UTC")
    terminal.wait_for("both panes read", lambda text: len(read_at.findall(text)) >= 2)
    terminal.keys("c")
    shown = terminal.wait_for("what was sent", lambda text: "Sent to your clipboard with OSC 52" in text)
    assert "`set -g" in shown and "set-clipboard on`" in shown  # the remedy, wrapped in the dialog
    assert "copied" not in shown.lower()
    buffers = terminal.tmux("list-buffers")
    if set_clipboard == "on":
        link = terminal.tmux("show-buffer")
        assert link.startswith("https://") and link[:40] in shown  # the same link, shown to select
    else:
        assert buffers == ""  # nothing arrived, and nothing on screen claims it did
    terminal.keys("Escape")
    terminal.wait_for("the main screen", lambda text: "Sent to your clipboard" not in text)
    terminal.keys("q")
    ended = terminal.wait_for("dwtui to exit", lambda text: "dwtui exited with status" in text, timeout=30)
    assert "dwtui exited with status 0" in ended


def test_a_jump_box_terminal_installs_resets_and_enables_the_flight(terminal: Terminal) -> None:
    """80x24: each button is on the screen before it is pressed (by its key, or clicked where it has none)."""
    assert DWTUI.is_file(), f"{DWTUI} is not installed; run `pip install -e .`"
    terminal.tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", SESSION, "bash --norc --noprofile")
    read_at = re.compile(r"read \d\d:\d\d:\d\d UTC")
    footer = re.compile(r"\? Help +q Quit")

    def start(scenario: str, done: str) -> str:
        terminal.keys("clear", "Enter")
        terminal.keys(f"{DWTUI} --demo --scenario {scenario} --speed 300; echo {done} $?", "Enter")
        main = terminal.wait_for(
            f"the {scenario} main screen, both panes read",
            lambda text: len(read_at.findall(text)) >= 2 and footer.search(text.splitlines()[-1]) is not None,
        )
        assert "Traceback" not in main
        return main

    def quit_with_0(done: str) -> None:
        terminal.keys("q")
        ended = terminal.wait_for(
            "dwtui to exit", lambda text: re.search(rf"^{done} \d+$", text, re.M) is not None
        )
        assert f"{done} 0" in ended and "Traceback" not in ended

    # Install: the terms, then Configure (no key: clicked), then OK (y).
    start("happy", "install-done")
    terminal.keys("d")
    terminal.press(
        re.compile(r"Configure +Cancel \(Esc\)"),
        "Configure",
        lambda text: "OK (y)" in text and "No (n)" in text,
        "the install confirmation",
    )
    terminal.keys("y")
    terminal.wait_for("the install to succeed", lambda text: "Succeeded: the dual-write" in text, timeout=90)

    # The one-box flight: contoso-dev from the picker, o, the flight step and Run (clicked), then y.
    terminal.keys("e")
    terminal.wait_for("the picker", lambda text: "contoso-dev" in text and "enter opens" in text)
    terminal.keys("Down", "Down", "Enter")
    terminal.wait_for("contoso-dev read", lambda text: "contoso-dev (" in text.splitlines()[0])
    # o is in the footer once Power Platform Integration is read and says the one-box steps apply.
    terminal.wait_for("o in the footer", lambda text: "o One-box" in text.splitlines()[-1])
    terminal.keys("o")
    tabs = re.compile(r"1 Application user +2 Flight SQL +3 AOS restart +4 Verify")
    terminal.wait_for("the one-box steps, all four", lambda text: "[ ] 4 Verify" in text)
    run = re.compile(r"Generate +Run\.\.\.")
    terminal.press(tabs, "2 Flight SQL", lambda text: run.search(text) is not None, "the flight step")
    terminal.press(
        run,
        "Run...",
        lambda text: "Run these statements on AXDB?" in text and "Run (y)" in text and "No (n)" in text,
        "the flight confirmation with its buttons",
    )
    terminal.keys("y")
    terminal.wait_for("the flight enabled", lambda text: "[x] 2 Flight" in text and "Committed." in text)
    terminal.keys("Escape")
    terminal.wait_for("the main screen", lambda text: footer.search(text.splitlines()[-1]) is not None)
    quit_with_0("install-done")

    # Reset: the name field and the Reset button in view, the name typed, Enter resets.
    start("mismatch", "reset-done")
    terminal.keys("R")
    reset = terminal.wait_for(
        "the reset dialog with its name field and buttons",
        lambda text: (
            "Type the environment name (contoso-uat) to confirm:" in text
            and re.search(r"Reset +Cancel \(Esc\)", text) is not None
            and "enter resets" in text
        ),
    )
    assert "Reset dual-write connection" in reset
    terminal.keys("contoso-uat")
    terminal.wait_for(
        "the name typed", lambda text: re.search(r"^│ ▐?contoso-uat +│$", text, re.M) is not None
    )
    terminal.keys("Enter")
    terminal.wait_for("the reset done", lambda text: "Reset dual-write connection: done" in text)
    quit_with_0("reset-done")


def test_profiles_add_asks_in_a_real_terminal_and_asks_again_after_a_bad_answer(
    terminal: Terminal, tmp_path: Path
) -> None:
    """`dwtui profiles add` without flags, in a terminal: each question, a bad tenant refused with
    its reason and asked again, and the profile written where --config says."""
    assert DWTUI.is_file(), f"{DWTUI} is not installed; run `pip install -e .`"
    config = tmp_path / "profiles" / "config.toml"
    command = f"{DWTUI} --config {config} profiles add --no-check; echo add exited with status $?; sleep 600"
    terminal.tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", SESSION, command)

    def answer(question: str, text: str) -> None:
        terminal.wait_for(question, lambda screen: screen.rstrip().endswith(":") and question in screen)
        terminal.keys("-l", text)
        terminal.keys("Enter")

    answer("Profile name", "contoso-uat")
    answer("Tenant", "not a tenant!")
    refused = terminal.wait_for("the tenant refused", lambda screen: "Error: tenant_id:" in screen)
    assert "Traceback" not in refused
    answer("Tenant", "contoso.onmicrosoft.com")
    answer("App id", "00000000-0000-0000-0000-000000000001")
    answer("LCS project id", "1234567")
    answer("LCS environment id", "")
    answer("Sign-in method", "")
    answer("Dual-write gateway URL", "")
    done = terminal.wait_for("add to exit", lambda screen: "add exited with status" in screen)
    assert "add exited with status 0" in done
    assert "dwtui --config" in done and "doctor --profile contoso-uat" in done
    written = config.read_text()
    assert 'default_profile = "contoso-uat"' in written
    assert 'tenant_id = "contoso.onmicrosoft.com"' in written
    assert config.stat().st_mode & 0o777 == 0o600
