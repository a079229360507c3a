"""The installed `dwtui` on a headless Linux box, as a jump box or a container has it.

- A user namespace of its own per test (`unshare --user --map-root-user`, joined with `nsenter`):
  the kernel's persistent keyrings are kept per user namespace (persistent-keyring(7)), so each
  test has a fresh one that every command of the test shares, and parallel tests never meet.
- "No kernel keyring", as a container's seccomp profile makes it: run as
  `python tests/headless_store_support.py no-key-calls -- COMMAND...`, which installs a seccomp
  filter making add_key, request_key and keyctl fail with ENOSYS (as Docker's default profile
  does) and then execs COMMAND.
- No Secret Service: DBUS_SESSION_BUS_ADDRESS names a socket that does not exist.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve()
DWTUI = Path(sys.executable).parent / "dwtui"
NO_BUS = "unix:path=/nonexistent/dwtui-test-bus"

# seccomp(2) and the kernel's BPF: the syscall numbers of the key calls, per architecture.
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_KEY_CALLS = {"x86_64": (248, 249, 250), "aarch64": (217, 218, 219)}  # add_key, request_key, keyctl
_LD_W_ABS, _JEQ_K, _RET_K = 0x20, 0x15, 0x06
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2


class _Instruction(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Instruction))]


def refuse_key_calls() -> None:
    """From now on, in this process and its children, every key syscall fails with ENOSYS."""
    machine = platform.machine()
    add_key, request_key, keyctl = _KEY_CALLS[machine]
    program = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ_K, 0, 5, _AUDIT_ARCH[machine]),
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        (_JEQ_K, 2, 0, add_key),
        (_JEQ_K, 1, 0, request_key),
        (_JEQ_K, 0, 1, keyctl),
        (_RET_K, 0, 0, _RET_ERRNO | errno.ENOSYS),
        (_RET_K, 0, 0, _RET_ALLOW),
    ]
    instructions = (_Instruction * len(program))(*(_Instruction(*row) for row in program))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    filter_program = _Program(len(program), instructions)
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(filter_program), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


def no_key_calls(argv: list[str]) -> list[str]:
    """`argv` run with the key syscalls refused."""
    return [sys.executable, str(HERE), "no-key-calls", "--", *argv]


@contextmanager
def own_user_namespace() -> Iterator[list[str]]:
    """A user namespace (so a persistent keyring) of this test's own; yields the argv prefix that
    runs a command in it. The namespace, and every key in it, goes when the test ends."""
    for tool in ("unshare", "nsenter"):
        assert shutil.which(tool), f"{tool} is missing (Debian package util-linux)"
    holder = subprocess.Popen(
        ["unshare", "--user", "--map-root-user", "sleep", "infinity"], stdin=subprocess.DEVNULL
    )
    try:
        # unshare execs sleep in the new namespace: wait until it has.
        mine = os.readlink("/proc/self/ns/user")
        for _ in range(500):
            try:
                if os.readlink(f"/proc/{holder.pid}/ns/user") != mine and _is_sleep(holder.pid):
                    break
            except OSError:
                pass
            subprocess.run(["sleep", "0.01"], check=True)
        else:
            raise AssertionError("unshare did not make a user namespace")
        yield ["nsenter", f"--target={holder.pid}", "--user"]
    finally:
        holder.send_signal(signal.SIGTERM)
        holder.wait(timeout=30)


def _is_sleep(pid: int) -> bool:
    return Path(f"/proc/{pid}/comm").read_text().strip() == "sleep"


def headless_env(home: Path) -> dict[str, str]:
    """No Secret Service, no caller's dwtui or Azure settings, and private dirs under `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "DWTUI_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        TMPDIR=str(home / "tmp"),
        DBUS_SESSION_BUS_ADDRESS=NO_BUS,
        # keyring's Secret Service backend: the OS store there is, and here it cannot be reached.
        PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring",
    )
    env.pop("DISPLAY", None)
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    return env


def plaintext_hits(folders: list[Path], needles: dict[str, str]) -> list[str]:
    """`name in path` for each needle found in any file under `folders`."""
    hits: list[str] = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            data = path.read_bytes()
            hits.extend(f"{name} in {path}" for name, value in needles.items() if value.encode() in data)
    return hits


if __name__ == "__main__":
    assert sys.argv[1:3] == ["no-key-calls", "--"], sys.argv
    refuse_key_calls()
    os.execvp(sys.argv[3], sys.argv[3:])
