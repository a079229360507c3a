"""The installed `dwtui` in a real terminal (tmux) where keyrings.alt and pycryptodome are installed.

keyrings.alt's EncryptedKeyring asks "Please set a password for your new keyring:" on the terminal
the first time it is used. dwtui must never let it, whether the backend is chosen by
PYTHON_KEYRING_BACKEND or by keyring itself (which, with keyrings.alt installed, chains it among its
file keyrings): it refuses it, keeps the tokens in the kernel keyring instead (each test in a user
namespace of its own, tests/headless_store_support.py), signs in, reads the state and ends.
Where the kernel keyring is refused too, the one prompt is dwtui's own, for the passphrase of its
encrypted file: without echo, once per run.
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
from tests.headless_store_support import no_key_calls, own_user_namespace
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


def _command(argv: list[str], backend: str | None, home: Path) -> str:
    """The shell line that runs ARGV with this test's private dirs, then says how it ended."""
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
    unset += "-u DWTUI_SECRET_STORE -u DWTUI_KEYRING_PASSPHRASE "
    return f"env {unset}{assignments} {shlex.join(argv)}; echo dwtui exited with status $?"


def _run_in_terminal(terminal: Terminal, argv: list[str], backend: str | None, home: Path) -> str:
    """ARGV in a 120x40 pane with this test's private dirs; the screen once it has ended."""
    command = f"{_command(argv, backend, home)}; sleep 600"
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
    with own_user_namespace() as inside:
        argv = [*inside, str(DWTUI), "--config", str(config), "status"]
        screen = _run_in_terminal(terminal, argv, backend, home)
    assert PROMPT not in screen
    assert "dwtui exited with status 0" in screen, screen
    # The refused file keyring gives way to the kernel keyring: no warning, and the store is named.
    assert WARNING not in screen and "in memory" not in screen
    assert "Signed in; tokens: kernel keyring (" in screen
    assert "contoso-uat" in screen  # signed in (device code) and read the state
    # Nothing was written through a file keyring.
    assert not list((home / "data").rglob("*.cfg"))


def test_without_kernel_keyring_the_one_prompt_is_dwtuis_passphrase_without_echo(
    terminal: Terminal, sim: SimServer, tmp_path: Path
) -> None:
    config = tmp_path / "sim.toml"
    sim.write_config(config)
    home = tmp_path / "home"
    passphrase = "jump box passphrase 42"
    status = no_key_calls([str(DWTUI), "--config", str(config), "status"])
    # One shell in the pane: two runs in a row, each asking for the passphrase on the terminal.
    shell = f"{_command(status, ALT, home)}; {_command(status, ALT, home)}; sleep 600"
    terminal.tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", SESSION, shell)
    terminal.wait_for("the new passphrase prompt", lambda text: "New passphrase for it" in text)
    terminal.keys(passphrase, "Enter")
    terminal.wait_for("the confirmation", lambda text: "Repeat for confirmation" in text)
    terminal.keys(passphrase, "Enter")
    terminal.wait_for("the first run's end", lambda text: "dwtui exited with status" in text, timeout=90)
    terminal.wait_for("the second run's prompt", lambda text: "Its passphrase" in text)
    terminal.keys(passphrase, "Enter")
    # The status fills more than the pane: the second end is looked for in the scrollback too.
    terminal.screen = lambda: terminal.tmux("capture-pane", "-p", "-J", "-t", SESSION, "-S", "-500")  # type: ignore[method-assign]
    screen = terminal.wait_for(
        "the second run's end", lambda text: text.count("dwtui exited with status 0") == 2, timeout=90
    )
    assert PROMPT not in screen
    assert passphrase not in screen  # never echoed
    assert "kernel keyring: the kernel refuses key calls here" in screen
    assert "Signed in; tokens: encrypted file (" in screen
    # The second run signed in from the file: one device code in all.
    assert screen.count("enter the code") == 1, screen
    store = home / "data" / "dwtui" / "secrets.encrypted"
    assert passphrase.encode() not in store.read_bytes()


def test_the_demo_status_never_shows_a_keyring_prompt(terminal: Terminal, tmp_path: Path) -> None:
    screen = _run_in_terminal(
        terminal, [str(DWTUI), "--demo", "--speed", "50", "status"], ALT, tmp_path / "home"
    )
    assert PROMPT not in screen
    assert "dwtui exited with status 0" in screen, screen
    assert "contoso-uat" in screen
