"""Shared pieces of the command-line tests: in-process runs, the installed command, a test keyring."""

from __future__ import annotations

import io
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import keyring
import keyring.backend
import keyring.errors
import pytest

from dwtui.cli import run

DWTUI = Path(sys.executable).parent / "dwtui"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A secure-looking keyring that lives in one test only, so no test touches the real one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.values.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


def use_memory_keyring() -> Iterator[MemoryKeyring]:
    """keyring's default backend for one test: a MemoryKeyring, which dwtui is told to accept."""
    from dwtui.services import secrets

    previous, allowed = keyring.get_keyring(), secrets.ALLOWED_BACKENDS
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    secrets.ALLOWED_BACKENDS = allowed | {f"{MemoryKeyring.__module__}.{MemoryKeyring.__qualname__}"}
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
        secrets.ALLOWED_BACKENDS = allowed


def clear_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite must not depend on the caller's Azure or dwtui environment variables.
    for name in list(os.environ):
        if name.startswith(("AZURE_", "DWTUI_")):
            monkeypatch.delenv(name)


def run_cli(
    argv: list[str], capsys: pytest.CaptureFixture[str], *, stdin: str | None = None
) -> tuple[int, str, str]:
    """`dwtui ARGV` in this process; `stdin` is what a pipe would give it (never a terminal)."""
    previous = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = run(argv)
    finally:
        sys.stdin = previous
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sigint_as_at_a_terminal() -> None:
    """preexec_fn for a child a test interrupts with SIGINT, as Ctrl+C would.

    A suite started in the background by a non-interactive shell (nohup, `cmd &`, some CI runners)
    ignores SIGINT, and a child inherits that: it would never see the test's Ctrl+C.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def child_env() -> dict[str, str]:
    """The installed command's environment: this test's private dirs, and no keyring at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "DWTUI_"))}
    # Secrets stay in that process's memory; the real keyring is never touched, and neither is the
    # user's kernel keyring, which every test would share.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["DWTUI_SECRET_STORE"] = "os"
    return env


def run_installed(
    argv: list[str], *, stdin: str = "", timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DWTUI), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
        check=False,
    )


class LineReader:
    """Lines of a child's stream, read in a thread so a test can wait for one with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} within {timeout} s: {self.lines[-5:]}") from None
            if line is None:
                raise AssertionError(f"the stream ended without {text!r}: {self.lines[-5:]}")
            self.lines.append(line)
            if text in line:
                return line

    def rest(self, timeout: float = 30.0) -> list[str]:
        self._thread.join(timeout)
        while not self._queue.empty():
            line = self._queue.get_nowait()
            if line is not None:
                self.lines.append(line)
        return self.lines


def install_posts(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r for r in requests if r["method"] == "POST" and r["path"].endswith("/install") and r["fault"] is None
    ]
