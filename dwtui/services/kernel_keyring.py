"""The Linux kernel's persistent keyring as a keyring backend: secrets held by the kernel, never on disk.

Each user has one persistent keyring (persistent-keyring(7), https://man7.org/linux/man-pages/man7/persistent-keyring.7.html):
it outlives the login session, lives only in kernel memory, and is destroyed after
/proc/sys/kernel/keys/persistent_keyring_expiry seconds (3 days by default) without a
keyctl_get_persistent() call; every dwtui run makes that call, so the clock restarts at each use.
Keys are `user` keys (keyrings(7)): at most 32,767 bytes each, counted against the user's quota
(/proc/sys/kernel/keys/maxbytes and maxkeys, root_maxbytes for root), so values are kept in parts
of at most PART_SIZE characters, compressed. Other processes of the same
user can read them, as they can an unlocked Secret Service; other users cannot.

Why a binding of our own: PyPI's `keyutils` (last release 2019) is a Cython extension that needs a
compiler and libkeyutils' headers, `keyctl` runs the keyctl command (a value on a command line is
visible to everyone in /proc), and the newer bindings are months old with one author each. dwtui
needs five functions of libkeyutils.so.1 (Debian package libkeyutils1), whose manual pages
document them: keyctl_get_persistent(3), add_key(2), keyctl_search(3), keyctl_read(3),
keyctl_invalidate(3). They are bound here with ctypes.

In containers a seccomp profile often refuses the key syscalls (ENOSYS or EPERM; Docker's default
profile does, https://docs.docker.com/engine/security/seccomp/): `probe()` says so and dwtui picks
the next store.
"""

from __future__ import annotations

import ctypes
import errno
import os
import threading
import zlib
from pathlib import Path

import keyring.backend
import keyring.errors
from jaraco.classes import properties

LIBRARY = "libkeyutils.so.1"
# keyctl_get_persistent(3): -1 is the caller's own uid. keyrings(7): -2 is the process keyring.
_OWN_UID = -1
_PROCESS_KEYRING = -2
_KEY_TYPE = b"user"
# keyrings(7): a user key's payload may be up to 32,767 bytes.
MAX_PAYLOAD = 32767
# SecretStore's parts for this backend, in characters: 4 UTF-8 bytes each at worst, plus the mark.
PART_SIZE = 8000
# The payload's first byte: zlib-compressed UTF-8 or plain UTF-8. A token cache's tokens share
# most of their text, and the bytes count against a quota of 20,000 per user by default.
_ZLIB, _PLAIN = b"z", b"p"
_PROC = Path("/proc/sys/kernel/keys")
# A key missing, expired, revoked or invalidated reads as absent (keyctl_search(3)).
_ABSENT = frozenset({errno.ENOKEY, errno.EKEYEXPIRED, errno.EKEYREVOKED})

_library: ctypes.CDLL | None = None
_library_lock = threading.Lock()


class KernelKeyringUnavailable(Exception):
    """The kernel keyring cannot be used here; the message is one line saying why."""


def _load() -> ctypes.CDLL:
    global _library
    with _library_lock:
        if _library is None:
            try:
                library = ctypes.CDLL(LIBRARY, use_errno=True)
            except OSError as error:
                raise KernelKeyringUnavailable(
                    f"{LIBRARY} is not installed (Debian package libkeyutils1)"
                ) from error
            c_serial = ctypes.c_int32  # key_serial_t
            library.keyctl_get_persistent.argtypes = [ctypes.c_int, c_serial]
            library.keyctl_get_persistent.restype = ctypes.c_long
            library.add_key.argtypes = [
                ctypes.c_char_p,
                ctypes.c_char_p,
                ctypes.c_void_p,
                ctypes.c_size_t,
                c_serial,
            ]
            library.add_key.restype = c_serial
            library.keyctl_search.argtypes = [c_serial, ctypes.c_char_p, ctypes.c_char_p, c_serial]
            library.keyctl_search.restype = ctypes.c_long
            library.keyctl_read.argtypes = [c_serial, ctypes.c_void_p, ctypes.c_size_t]
            library.keyctl_read.restype = ctypes.c_long
            library.keyctl_invalidate.argtypes = [c_serial]
            library.keyctl_invalidate.restype = ctypes.c_long
            _library = library
        return _library


def _failed(what: str) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"{what}: {os.strerror(code)}")


def _persistent(library: ctypes.CDLL) -> int:
    """The caller's persistent keyring, linked into its process keyring so its keys are possessed
    (keyrings(7): only a possessor may read a user key); this also restarts its expiry timer."""
    serial = int(library.keyctl_get_persistent(_OWN_UID, _PROCESS_KEYRING))
    if serial < 0:
        raise _failed("keyctl_get_persistent")
    return serial


def _read_setting(name: str) -> int | None:
    try:
        return int((_PROC / name).read_text().strip())
    except (OSError, ValueError):
        return None


def expiry_seconds() -> int | None:
    """How long the persistent keyring outlives its last use (persistent-keyring(7)), if readable."""
    return _read_setting("persistent_keyring_expiry")


def _quota_line() -> str:
    setting = "root_maxbytes" if os.geteuid() == 0 else "maxbytes"
    limit = _read_setting(setting)
    shown = f"{limit:,} bytes" if limit is not None else "a few kilobytes"
    return (
        f"the kernel keyring quota of this user is full ({shown}, /proc/sys/kernel/keys/{setting}); "
        f"an administrator can raise it with `sysctl kernel.keys.{setting}=<bytes>`"
    )


def probe() -> str | None:
    """Why the kernel keyring cannot be used here (one line), or None when it can."""
    try:
        _persistent(_load())
    except KernelKeyringUnavailable as error:
        return str(error)
    except OSError as error:
        if error.errno in (errno.ENOSYS, errno.EPERM, errno.EACCES):
            why = error.strerror
            return f"the kernel refuses key calls here ({why}), as a container's seccomp profile makes it"
        if error.errno == errno.EOPNOTSUPP:
            return "this kernel has no persistent keyrings (CONFIG_PERSISTENT_KEYRINGS)"
        return f"the kernel keyring failed ({error.strerror})"
    return None


def _pack(value: str) -> bytes:
    plain = value.encode("utf-8")
    packed = zlib.compress(plain, 9)
    return _ZLIB + packed if len(packed) < len(plain) else _PLAIN + plain


def _unpack(payload: bytes) -> str:
    mark, body = payload[:1], payload[1:]
    if mark == _ZLIB:
        return zlib.decompress(body).decode("utf-8")
    if mark == _PLAIN:
        return body.decode("utf-8")
    raise ValueError("a kernel key dwtui did not write")


class KernelKeyring(keyring.backend.KeyringBackend):
    """keyring's get/set/delete over `user` keys named "SERVICE:USERNAME" in the persistent keyring."""

    part_size = PART_SIZE

    @properties.classproperty
    def priority(cls) -> float:
        # Only dwtui chooses this backend (secrets.py); keyring's own selection never may.
        raise RuntimeError("chosen by dwtui only")

    def _description(self, service: str, username: str) -> bytes:
        return f"{service}:{username}".encode()

    def _find(self, library: ctypes.CDLL, service: str, username: str) -> int | None:
        keyring_id = _persistent(library)
        serial = int(library.keyctl_search(keyring_id, _KEY_TYPE, self._description(service, username), 0))
        if serial >= 0:
            return serial
        if ctypes.get_errno() in _ABSENT:
            return None
        raise _failed("keyctl_search")

    def get_password(self, service: str, username: str) -> str | None:
        library = _load()
        serial = self._find(library, service, username)
        if serial is None:
            return None
        size = MAX_PAYLOAD
        while True:
            buffer = ctypes.create_string_buffer(size)
            length = int(library.keyctl_read(serial, buffer, size))
            if length < 0:
                if ctypes.get_errno() in _ABSENT:
                    return None
                raise _failed("keyctl_read")
            if length <= size:  # keyctl_read(3): the full length is returned even when cut
                return _unpack(buffer.raw[:length])
            size = length

    def set_password(self, service: str, username: str, password: str) -> None:
        library = _load()
        payload = _pack(password)
        if len(payload) > MAX_PAYLOAD:
            raise keyring.errors.PasswordSetError(
                f"a value of {len(payload):,} bytes is larger than a kernel key may be ({MAX_PAYLOAD:,})"
            )
        keyring_id = _persistent(library)
        # add_key(2) replaces a key of the same type and description in that keyring atomically.
        serial = int(
            library.add_key(
                _KEY_TYPE, self._description(service, username), payload, len(payload), keyring_id
            )
        )
        if serial < 0:
            if ctypes.get_errno() == errno.EDQUOT:
                raise keyring.errors.PasswordSetError(_quota_line())
            error = _failed("add_key")
            raise keyring.errors.PasswordSetError(str(error)) from error

    def delete_password(self, service: str, username: str) -> None:
        library = _load()
        serial = self._find(library, service, username)
        if serial is None:
            raise keyring.errors.PasswordDeleteError(username)
        # keyctl_invalidate(3): gone from every keyring at once, and its memory freed soon after.
        if int(library.keyctl_invalidate(serial)) < 0 and ctypes.get_errno() not in _ABSENT:
            raise keyring.errors.PasswordDeleteError(str(_failed("keyctl_invalidate")))
