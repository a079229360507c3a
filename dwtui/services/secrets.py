"""Secrets (token cache, client secret, passphrases) in the OS keyring, or in memory for the run.

A backend that would keep secrets readable on disk (plain-text file keyrings), one that does
nothing (null, fail) or one that would stop and ask for a password on the terminal (an encrypted
file keyring with no key set, fatal under a TUI) is never used: the store keeps secrets in memory
and says so once through `.warning`.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.errors

# Windows Credential Manager refuses blobs above 2560 bytes, and keyring stores UTF-16 there, so
# 1000 characters per part stays under it with room to spare for every other backend too.
CHUNK_SIZE = 1000
_MARK = "dwtui-chunked:v1:"

_DO_NOTHING_MODULES = ("keyring.backends.fail", "keyring.backends.null")


def _name(backend: object) -> str:
    kind = type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


def _priority(backend: object) -> float:
    try:
        return float(getattr(backend, "priority", 0))
    except Exception:  # a backend's priority raises when its platform support is missing
        return 0.0


def _insecure_reason(backend: keyring.backend.KeyringBackend) -> str | None:
    """Why `backend` must not hold secrets, or None when it may."""
    name = _name(backend)
    # keyrings.alt and keyrings.cryptfile both name their unencrypted file backends PlaintextKeyring.
    if type(backend).__module__ in _DO_NOTHING_MODULES or "plaintext" in type(backend).__name__.lower():
        return f"No secure keyring backend ({name})"
    if _priority(backend) <= 0:
        return f"No secure keyring backend ({name}, priority <= 0)"
    # Encrypted file keyrings (keyrings.cryptfile, keyrings.alt) ask for their password with
    # getpass on first use, which would hang a full-screen terminal app.
    if hasattr(type(backend), "keyring_key") and getattr(backend, "_keyring_key", "set") is None:
        return f"Keyring backend {name} needs its password typed at a prompt"
    return None


def _secure_member(chainer: Any) -> keyring.backend.KeyringBackend | None:
    """The best secure backend a ChainerBackend would try, used directly.

    Going through the chainer would also read from (and on failure write to) its insecure members.
    """
    for member in getattr(chainer, "backends", ()):
        if _insecure_reason(member) is None:
            return member  # type: ignore[no-any-return]
    return None


def _is_chainer(backend: object) -> bool:
    return isinstance(backend, keyring.backends.chainer.ChainerBackend)


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
    ) -> None:
        self.service_name = service_name
        self._memory: dict[str, str] = {}
        self._lock = threading.RLock()
        self._backend: keyring.backend.KeyringBackend | None = None
        self.warning: str | None = None
        if memory_only:
            self.backend_name = "memory"
            return
        chosen = backend if backend is not None else _default_backend()
        if chosen is not None and _is_chainer(chosen):
            member = _secure_member(chosen)
            if member is None:
                self.warning = (
                    f"No secure keyring backend ({_name(chosen)} has no secure member); "
                    "secrets are kept in memory for this run only"
                )
            chosen = member
        elif chosen is not None:
            reason = _insecure_reason(chosen)
            if reason is not None:
                self.warning = f"{reason}; secrets are kept in memory for this run only"
                chosen = None
        elif self.warning is None:
            self.warning = "No keyring backend could be loaded; secrets are kept in memory for this run only"
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
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        self.warning = (
            f"Keyring backend {self.backend_name} failed ({first_line}); "
            "secrets are kept in memory for this run only"
        )
        self._backend = None
        self.backend_name = "memory"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def _default_backend() -> keyring.backend.KeyringBackend | None:
    try:
        return keyring.get_keyring()
    except Exception:  # keyring's own configuration file may name a backend that fails to load
        return None
