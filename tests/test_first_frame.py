"""The first frame of `dwtui --demo` (the page's frame, StartingScreen) waits for no module it does
not draw.

Measured by benchmarks/first_paint.py; what that figure relies on is kept here: the modules below
load after the first frame (for a screen, a dialog or a call), never before it. The child runs the
real command line in a real pseudo-terminal and lists `sys.modules` at the first frame it writes.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

CHILD = Path(__file__).with_name("first_frame_child.py")

# Module name prefixes that the first frame must not import.
NOT_BEFORE_THE_FIRST_FRAME = (
    # The network, sign-in, secrets and the database: the session connects after the first frame.
    "httpx",
    "httpcore",
    "msal",
    "keyring",
    "pyodbc",
    "cryptography",
    # The simulator starts after the first frame too.
    "uvicorn",
    "starlette",
    "dwtui.sim",
    "dwtui.services.session",
    "dwtui.services.auth",
    "dwtui.services.http",
    # The page itself, its flows and the domain rules they apply: its frame is the first frame.
    "dwtui.tui.environment_details.screen",
    "dwtui.tui.environment_details.reading",
    "dwtui.tui.flows",
    "dwtui.domain.assessment",
    "dwtui.domain.operations",
    "dwtui.domain.linking",
    "dwtui.domain.watch_events",
    "dwtui.domain.packages",
    "dwtui.services.errors",
    "textual.widgets._data_table",
    "textual.widgets._progress_bar",
    # Screens and dialogs load when they are first opened.
    "dwtui.tui.doctor",
    "dwtui.tui.fleet",
    "dwtui.tui.flows.onebox",
    "dwtui.tui.screens.sign_in",
    "dwtui.tui.screens.confirm",
    "dwtui.tui.screens.clipboard",
    "dwtui.tui.screens.error_details",
    "dwtui.tui.screens.help",
    "dwtui.tui.screens.dialog",
    "dwtui.tui.flows.install.terms",
    "dwtui.tui.flows.link.admin_link",
    "dwtui.tui.flows.link.wizard",
    "dwtui.tui.flows.reset.dialog",
    "dwtui.tui.flows.dataverse.dialog",
    "dwtui.tui.environment_details.picker",
    # What only those dialogs draw: QR codes, text areas, selection lists.
    "segno",
    "textual.widgets._text_area",
    "textual.widgets._selection_list",
    "tree_sitter",
    # The other commands' code.
    "dwtui.cli.doctor",
    "dwtui.cli.fleet",
    "dwtui.cli.onebox",
    "dwtui.cli.flight",
    "dwtui.cli.setup",
    "dwtui.cli.profiles",
    "dwtui.cli.simulator",
)


def _first_frame_modules(tmp_path: Path) -> list[str]:
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    read_end, write_end = os.pipe()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(write_end)],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        pass_fds=(write_end,),
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    os.close(terminal)
    os.close(write_end)
    painted: list[bytes] = []

    def drain() -> None:  # the child blocks if nobody reads its terminal
        try:
            while chunk := os.read(controller, 65536):
                painted.append(chunk)
        except OSError:
            pass

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    with os.fdopen(read_end) as report:
        modules = report.read().split()
    try:
        child.wait(timeout=60)
    finally:
        child.kill()
        os.close(controller)
        drainer.join(timeout=5)
    assert modules, f"dwtui exited ({child.returncode}) before its first frame: {b''.join(painted)[-2000:]!r}"
    return modules


def test_the_first_frame_imports_none_of_the_modules_that_load_later(tmp_path: Path) -> None:
    modules = _first_frame_modules(tmp_path)
    # The frame is the page's frame, drawn by the real command line: these it must have.
    assert {"dwtui.cli", "dwtui.tui.app", "dwtui.tui.environment_details.starting"} <= set(modules)
    early = sorted(
        name
        for name in modules
        if any(name == prefix or name.startswith(f"{prefix}.") for prefix in NOT_BEFORE_THE_FIRST_FRAME)
    )
    assert early == [], f"imported before the first frame: {early}"
