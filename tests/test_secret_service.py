"""The Linux Secret Service, the OS store dwtui allows there, with a real daemon (gnome-keyring).

Used when its collection is unlocked; refused in one line, without a prompt, when it is locked or
has no default collection (keyring would ask the desktop to unlock or create it, and on a machine
without one that never answers); then the kernel keyring takes over, naming the refusal.
scripts/test.sh installs gnome-keyring and dbus.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CHILD = Path(__file__).with_name("secret_service_child.py")
BACKEND = "keyring.backends.SecretService.Keyring"


def _in_a_session(tmp_path: Path, case: str) -> dict[str, Any]:
    """The child's report, run in a new D-Bus session with its own gnome-keyring daemon."""
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        assert shutil.which(tool), f"{tool} is missing; scripts/test.sh installs it"
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY")}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_RUNTIME_DIR=str(runtime),
        PYTHON_KEYRING_BACKEND=BACKEND,
        # The OS keyring or memory: what this file tests is the Secret Service's refusal.
        DWTUI_SECRET_STORE="os",
        PYTHONPATH=os.pathsep.join([str(CHILD.parent.parent), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    # --unlock reads the new login keyring's password from stdin and makes it the default
    # collection; --start alone leaves none.
    start = (
        "printf test-password | gnome-keyring-daemon --unlock --components=secrets"
        if case == "unlocked"
        else "gnome-keyring-daemon --start --components=secrets"
    )
    script = f"{start} >/dev/null && exec {shlex.quote(sys.executable)} {shlex.quote(str(CHILD))} {case}"
    done = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_an_unlocked_collection_keeps_secrets_and_a_locked_one_is_refused(tmp_path: Path) -> None:
    report = _in_a_session(tmp_path, "unlocked")
    assert report["first"] == {"secure": True, "backend": BACKEND, "warning": None}
    assert report["read_back"] is True
    locked = report["locked"]
    assert locked["secure"] is False and locked["backend"] == "memory"
    refusal = (
        f"No secure keyring backend ({BACKEND}: its collection is locked and dwtui never asks to unlock it)"
    )
    assert locked["warning"] == f"{refusal}; secrets are kept in memory for this run only"
    # Without DWTUI_SECRET_STORE=os the kernel keyring takes over, and says why the OS store did not.
    assert report["auto"] == {"label": "kernel keyring", "not_used": [refusal]}


@pytest.mark.timeout(90)
def test_no_default_collection_is_refused_without_asking_to_create_one(tmp_path: Path) -> None:
    report = _in_a_session(tmp_path, "none")
    first = report["first"]
    assert first["secure"] is False and first["backend"] == "memory"
    assert "it has no default collection and dwtui never asks to create one" in first["warning"]
    assert report["auto"]["label"] == "kernel keyring"
    [reason] = report["auto"]["not_used"]
    assert "it has no default collection and dwtui never asks to create one" in reason
