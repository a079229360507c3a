"""The installed `dwtui` in a real terminal (tmux) where keyrings.alt and pycryptodome are installed.

keyrings.alt's EncryptedKeyring asks "Please set a password for your new keyring:" on the terminal
the first time it is used. dwtui must never let it: the run says once that secrets stay in memory,
signs in, reads the state and ends, whether the backend is chosen by PYTHON_KEYRING_BACKEND or by
keyring itself (which, with keyrings.alt installed, chains it among its file keyrings).
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.test_terminal_tmux import DWTUI, SESSION, TMUX, Terminal

PROMPT = "Please set a password"
WARNING = "No secure keyring backend"
ALT = "keyrings.alt.file.EncryptedKeyring"


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    config = tmp_path / "tmux.conf"
    config.write_text("set -g status off\n")
    term = Terminal(f"dwtui-keyring-{os.getpid()}-{tmp_path.name}", config)
    try:
        yield term
    finally:
        subprocess.run([TMUX, "-L", term.socket, "kill-server"], capture_output=True, timeout=20, check=False)
        (Path(f"/tmp/tmux-{os.getuid()}") / term.socket).unlink(missing_ok=True)


@pytest.fixture
def sim(sim_factory: SimFactory) -> SimServer:
    return sim_factory("happy", device_approve_after=0.0)


def _run_in_terminal(terminal: Terminal, argv: list[str], backend: str | None, home: Path) -> str:
    """`dwtui ARGV` in a 120x40 pane with this test's private dirs; the screen once it has ended."""
    variables = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    if backend is not None:
        variables["PYTHON_KEYRING_BACKEND"] = backend
    # `env` spells the environment out: the tmux server's own may be another test's.
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in variables.items())
    unset = "" if backend is not None else "-u PYTHON_KEYRING_BACKEND "
    command = (
        f"env {unset}{assignments} {shlex.quote(str(DWTUI))} {shlex.join(argv)}; "
        "echo dwtui exited with status $?; sleep 600"
    )
    terminal.tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", SESSION, command)
    terminal.wait_for(
        "dwtui to finish without a keyring prompt",
        lambda text: "dwtui exited with status" in text or PROMPT in text,
        timeout=90,
    )
    return terminal.tmux("capture-pane", "-p", "-J", "-t", SESSION)  # -J: wrapped lines joined


@pytest.mark.parametrize("backend", [ALT, None], ids=["PYTHON_KEYRING_BACKEND", "keyring-default"])
def test_a_real_profile_status_never_shows_a_keyring_prompt(
    terminal: Terminal, sim: SimServer, tmp_path: Path, backend: str | None
) -> None:
    assert DWTUI.is_file(), f"{DWTUI} is not installed; run `pip install -e .[test]`"
    config = tmp_path / "sim.toml"
    sim.write_config(config)
    home = tmp_path / "home"
    screen = _run_in_terminal(terminal, ["--config", str(config), "status"], backend, home)
    assert PROMPT not in screen
    assert "dwtui exited with status 0" in screen, screen
    [warning] = [line for line in screen.splitlines() if WARNING in line]
    if backend is not None:
        assert ALT in warning
    assert "in memory for this run only" in warning
    assert "contoso-uat" in screen  # signed in (device code) and read the state
    # Nothing was written through a file keyring: the token cache stayed in memory.
    assert not list((home / "data").rglob("*.cfg"))


def test_the_demo_status_never_shows_a_keyring_prompt(terminal: Terminal, tmp_path: Path) -> None:
    screen = _run_in_terminal(terminal, ["--demo", "--speed", "50", "status"], ALT, tmp_path / "home")
    assert PROMPT not in screen
    assert "dwtui exited with status 0" in screen, screen
    assert "contoso-uat" in screen
