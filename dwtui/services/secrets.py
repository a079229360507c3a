"""Secrets (token cache, client secret, passphrases) in the OS keyring, or in memory for the run.

Only backends on an allowlist are used: stores known to protect secrets and never to stop and ask
for a password on the terminal (keyrings.alt's and keyrings.cryptfile's encrypted file keyrings
do, with getpass, which a full-screen terminal app hides). Every other backend, plain-text files,
the null and fail backends and any third-party one dwtui does not know, is refused: the store
keeps secrets in memory for the run and says so once, in one line, through `.warning`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Collection
from contextlib import closing

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.errors

# Windows Credential Manager refuses blobs above 2560 bytes, and keyring stores UTF-16 there, so
# 1000 characters per part stays under it with room to spare for every other backend too.
CHUNK_SIZE = 1000
_MARK = "dwtui-chunked:v1:"

# The OS stores dwtui trusts: secure (the OS protects them) and non-interactive in a terminal.
# - macOS Keychain and Windows Credential Manager never ask on the terminal (a locked macOS
#   keychain is unlocked by the desktop's own dialog, or the call fails over SSH).
# - The Linux Secret Service only when its collection exists and is unlocked when the store is
#   made (checked over D-Bus without creating or unlocking anything, see _secret_service_refusal):
#   keyring would otherwise ask the desktop to create or unlock it, which on a jump box without a
#   desktop never answers.
# Not on the list: kwallet (opening a wallet shows KWallet's "allow this application" dialog and
# waits for it), libsecret (it unlocks by prompting as well; keyring's own SecretService backend
# reaches the same store and wins when both are there), and every file keyring.
OS_STORES: dict[str, str] = {
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager",
    "keyring.backends.SecretService.Keyring": "Secret Service (GNOME Keyring, KeePassXC, ...)",
}
# The headless token store for jump boxes (a later issue) goes here: secure and non-interactive
# without a desktop session.
HEADLESS_STORES: dict[str, str] = {}
# What SecretStore may use; tests add their in-memory keyring to it explicitly.
ALLOWED_BACKENDS: frozenset[str] = frozenset(OS_STORES) | frozenset(HEADLESS_STORES)

_SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
_MEMORY = "secrets are kept in memory for this run only"


def _name(backend: object) -> str:
    kind = type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _secret_service_refusal(backend: keyring.backend.KeyringBackend) -> str | None:
    """Why the Secret Service cannot be used without a prompt right now, or None when it can."""
    # keyring's SecretService backend (keyring/backends/SecretService.py) creates the default
    # collection or unlocks a locked one, both through a desktop prompt; look first, asking nothing.
    try:
        import secretstorage
        from secretstorage.exceptions import ItemNotFoundException
    except Exception as error:  # keyring's own backend would not load either
        return f"not usable: {_first_line(error)}"
    path = getattr(backend, "preferred_collection", None) or secretstorage.collection.DEFAULT_COLLECTION
    try:
        with closing(secretstorage.dbus_init()) as connection:
            # Collection() reads its Label, so it fails when there is no such collection.
            if secretstorage.Collection(connection, path).is_locked():
                return "its collection is locked and dwtui never asks to unlock it"
    except ItemNotFoundException:
        return "it has no default collection and dwtui never asks to create one"
    except Exception as error:  # no D-Bus session, no daemon: not usable here
        return f"not usable without a prompt: {_first_line(error)}"
    return None


def _refusal(backend: keyring.backend.KeyringBackend, allowed: Collection[str]) -> str | None:
    """Why `backend` must not hold secrets (one line), or None when it may."""
    name = _name(backend)
    if name not in allowed:
        return f"No secure keyring backend ({name} is not one dwtui knows to be secure and non-interactive)"
    if name == _SECRET_SERVICE:
        reason = _secret_service_refusal(backend)
        if reason is not None:
            return f"No secure keyring backend ({name}: {reason})"
    return None


def _is_chainer(backend: object) -> bool:
    return isinstance(backend, keyring.backends.chainer.ChainerBackend)


def _choose(
    backend: keyring.backend.KeyringBackend, allowed: Collection[str]
) -> tuple[keyring.backend.KeyringBackend | None, str | None]:
    """The backend to use (or None) and the warning to give (or None)."""
    if not _is_chainer(backend):
        reason = _refusal(backend, allowed)
        return (None, f"{reason}; {_MEMORY}") if reason is not None else (backend, None)
    # A chainer reads from (and on failure writes to) every member in turn: it is never used itself.
    # Its best allowed member is used directly, so a keyrings.alt file keyring beside the OS store
    # is never asked for anything.
    members: list[keyring.backend.KeyringBackend] = list(getattr(backend, "backends", ()))
    for member in members:
        if _refusal(member, allowed) is None:
            return member, None
    names = ", ".join(_name(member) for member in members) or "none"
    return None, f"No secure keyring backend (none of the chained backends is allowed: {names}); {_MEMORY}"


class SecretStore:
    """get/set/delete of strings under `service_name`, with values of any size.

    Values longer than CHUNK_SIZE are split into numbered parts (`key#1`, `key#2`, ...) and the
    key itself holds a small header naming the part count and a checksum, so a half-written or
    mixed set of parts reads as absent rather than as a corrupt secret.
    """

    def __init__(
        self,
        service_name: str = "dwtui",
        backend: keyring.backend.KeyringBackend | None = None,
        memory_only: bool = False,
        allowed: Collection[str] | None = None,
    ) -> None:
        """`allowed`: backend class names to accept (default ALLOWED_BACKENDS, read at call time)."""
        self.service_name = service_name
        self._memory: dict[str, str] = {}
        self._lock = threading.RLock()
        self._backend: keyring.backend.KeyringBackend | None = None
        self.warning: str | None = None
        if memory_only:
            self.backend_name = "memory"
            return
        chosen = backend if backend is not None else _default_backend()
        if chosen is None:
            self.warning = f"No keyring backend could be loaded; {_MEMORY}"
        else:
            chosen, self.warning = _choose(chosen, ALLOWED_BACKENDS if allowed is None else allowed)
        self._backend = chosen
        self.backend_name = _name(chosen) if chosen is not None else "memory"

    @property
    def secure(self) -> bool:
        """True when secrets outlive the run in a keyring that protects them."""
        return self._backend is not None

    # -- public API --------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        with self._lock:
            head = self._read(key)
            if head is None or not head.startswith(_MARK):
                return head
            return self._join(key, head)

    def set(self, key: str, value: str) -> None:
        with self._lock:
            backend = self._backend
            self._set(key, value)
            if backend is not None and self._backend is None:
                self._set(key, value)  # the keyring failed part-way: write it whole to memory

    def _set(self, key: str, value: str) -> None:
        with self._lock:
            old_parts = self._part_count(self._read(key))
            if len(value) <= CHUNK_SIZE and not value.startswith(_MARK):
                self._write(key, value)
                new_parts = 0
            else:
                parts = [value[i : i + CHUNK_SIZE] for i in range(0, len(value), CHUNK_SIZE)]
                # Parts first, header last: a reader sees either the old header (whose checksum
                # then fails against the new parts) or the complete new value.
                for index, part in enumerate(parts, start=1):
                    self._write(f"{key}#{index}", part)
                self._write(key, f"{_MARK}{len(parts)}:{_digest(value)}")
                new_parts = len(parts)
            for index in range(new_parts + 1, old_parts + 1):
                self._remove(f"{key}#{index}")

    def delete(self, key: str) -> None:
        with self._lock:
            count = self._part_count(self._read(key))
            for index in range(1, count + 1):
                self._remove(f"{key}#{index}")
            self._remove(key)

    # -- chunking ------------------------------------------------------------------------------

    @staticmethod
    def _part_count(head: str | None) -> int:
        if head is None or not head.startswith(_MARK):
            return 0
        count, _, _ = head[len(_MARK) :].partition(":")
        return int(count) if count.isdigit() else 0

    def _join(self, key: str, head: str) -> str | None:
        count = self._part_count(head)
        digest = head[len(_MARK) :].partition(":")[2]
        parts: list[str] = []
        for index in range(1, count + 1):
            part = self._read(f"{key}#{index}")
            if part is None:
                return None
            parts.append(part)
        value = "".join(parts)
        return value if count and _digest(value) == digest else None

    # -- one backend entry -------------------------------------------------------------------

    def _read(self, key: str) -> str | None:
        if self._backend is None:
            return self._memory.get(key)
        try:
            return self._backend.get_password(self.service_name, key)
        except Exception as error:  # whatever a backend raises, the run goes on in memory
            self._fall_back(error)
            return self._memory.get(key)

    def _write(self, key: str, value: str) -> None:
        if self._backend is not None:
            try:
                self._backend.set_password(self.service_name, key, value)
                return
            except Exception as error:  # whatever a backend raises, the run goes on in memory
                self._fall_back(error)
        self._memory[key] = value

    def _remove(self, key: str) -> None:
        self._memory.pop(key, None)
        if self._backend is None:
            return
        try:
            self._backend.delete_password(self.service_name, key)
        except keyring.errors.PasswordDeleteError:
            pass  # already absent
        except Exception as error:  # whatever a backend raises, the run goes on in memory
            self._fall_back(error)

    def _fall_back(self, error: Exception) -> None:
        # A keyring that fails at run time (locked, no D-Bus session) must not stop sign-in.
        self.warning = f"Keyring backend {self.backend_name} failed ({_first_line(error)}); {_MEMORY}"
        self._backend = None
        self.backend_name = "memory"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def _default_backend() -> keyring.backend.KeyringBackend | None:
    try:
        return keyring.get_keyring()
    except Exception:  # keyring's own configuration file may name a backend that fails to load
        return None
