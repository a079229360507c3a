"""The installed `dwtui --demo` in a real terminal (tmux): it paints, loads, shows help and quits."""

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
# An explicit environment: the process's C-level environment can hold COLUMNS/LINES set by a
# library at run time (not in os.environ), which would pin the app to 80x24 inside the pane.
_ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


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
            env=_ENV,
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", SESSION)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", SESSION, *keys)

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
