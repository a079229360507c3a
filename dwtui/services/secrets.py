"""Secrets (token cache, client secret, passphrases): where they are kept, in order of preference.

1. An OS store on the allowlist: stores known to protect secrets and never to stop and ask for a
   password on the terminal (keyrings.alt's and keyrings.cryptfile's encrypted file keyrings do,
   with getpass, which a full-screen terminal app hides). Every other backend, plain-text files,
   the null and fail backends and any third-party one dwtui does not know, is refused.
2. On Linux without one (a jump box with no Secret Service, or a locked one): the kernel's
   persistent keyring of the user (kernel_keyring.py), which never touches disk.
3. Where the kernel refuses key calls (containers): an encrypted file (encrypted_file_keyring.py)
   opened with a passphrase from DWTUI_KEYRING_PASSPHRASE or asked once by the front end, which
   calls `unlock` (or `keep_in_memory` when there is no one to ask).
4. Otherwise secrets stay in memory for the run, and `.warning` says so once, in one line.

DWTUI_SECRET_STORE=os|kernel|file|memory picks one of them instead of that order.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Collection, Mapping
from contextlib import closing
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.errors

from dwtui.services import encrypted_file_keyring, kernel_keyring

# Windows Credential Manager refuses blobs above 2560 bytes, and keyring stores UTF-16 there, so
# 1000 characters per part stays under it with room to spare for every other backend too (a
# kernel key may hold 32,767 bytes).
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
_KERNEL = "dwtui.services.kernel_keyring.KernelKeyring"
_FILE = "dwtui.services.encrypted_file_keyring.EncryptedFileKeyring"
# dwtui's own stores for machines without a desktop: secure, and asking nothing on their own.
HEADLESS_STORES: dict[str, str] = {
    _KERNEL: "Linux kernel persistent keyring",
    _FILE: "encrypted file",
}
# What SecretStore may use; tests add their in-memory keyring to it explicitly.
ALLOWED_BACKENDS: frozenset[str] = frozenset(OS_STORES) | frozenset(HEADLESS_STORES)

STORE_VARIABLE = "DWTUI_SECRET_STORE"
PASSPHRASE_VARIABLE = "DWTUI_KEYRING_PASSPHRASE"
# What DWTUI_SECRET_STORE may say: the stores to try, in order. The test suite narrows AUTO_STORES
# to ("os",) so that no test shares the user's persistent kernel keyring by accident.
AUTO_STORES: tuple[str, ...] = ("os", "kernel", "file")
STORE_CHOICES: tuple[str, ...] = ("auto", "os", "kernel", "file", "memory")

# The short names of the header and `dwtui profiles`.
KERNEL_LABEL = "kernel keyring"
FILE_LABEL = "encrypted file"
NOT_KEPT = "not kept"
_OS_LABELS = {
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager",
    "keyring.backends.SecretService.Keyring": "Secret Service",
}

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
    """The backend to use (or None) and why it cannot be used (or None)."""
    if not _is_chainer(backend):
        reason = _refusal(backend, allowed)
        return (None, reason) if reason is not None else (backend, None)
    # A chainer reads from (and on failure writes to) every member in turn: it is never used itself.
    # Its best allowed member is used directly, so a keyrings.alt file keyring beside the OS store
    # is never asked for anything.
    members: list[keyring.backend.KeyringBackend] = list(getattr(backend, "backends", ()))
    for member in members:
        if _refusal(member, allowed) is None:
            return member, None
    names = ", ".join(_name(member) for member in members) or "none"
    return None, f"No secure keyring backend (none of the chained backends is allowed: {names})"


class SecretStore:
    """get/set/delete of strings under `service_name`, with values of any size.

    Values longer than CHUNK_SIZE (or the backend's `part_size`) are split into numbered parts
    (`key#1`, `key#2`, ...) and the key itself holds a small header naming the part count and a
    checksum, so a half-written or mixed set of parts reads as absent rather than as a corrupt
    secret.

    `label` is the store's short name (the header, `dwtui profiles`), `detail` one line on where
    and for how long, `not_used` why each store before it was passed over. While
    `needs_passphrase` is true (the encrypted file, no passphrase yet) secrets stay in memory:
    the front end asks and calls `unlock`, or `keep_in_memory` when no one can answer.
    """

    def __init__(
        self,
        service_name: str = "dwtui",
        backend: keyring.backend.KeyringBackend | None = None,
        memory_only: bool = False,
        allowed: Collection[str] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        file_path: Path | None = None,
    ) -> None:
        """`backend`: use this one (or memory), trying no other store. `allowed`: backend class
        names to accept (default ALLOWED_BACKENDS, read at call time). `environ`: where
        DWTUI_SECRET_STORE and DWTUI_KEYRING_PASSPHRASE are read (default os.environ)."""
        self.service_name = service_name
        self._memory: dict[str, str] = {}
        self._lock = threading.RLock()
        self._backend: keyring.backend.KeyringBackend | None = None
        self.backend_name = "memory"
        self.warning: str | None = None
        self.label = NOT_KEPT
        self.detail = "in memory for this run only"
        self.not_used: list[str] = []
        self.needs_passphrase = False
        self.passphrase_error: str | None = None
        self.file_path = file_path if file_path is not None else encrypted_file_keyring.default_path()
        self._allowed = allowed
        if memory_only:
            return
        if backend is not None:
            chosen, reason = _choose(backend, self._allowed_now())
            if chosen is None:
                self._not_kept(reason or "No secure keyring backend")
            else:
                self._use(chosen)
            return
        variables = os.environ if environ is None else environ
        self._pick((variables.get(STORE_VARIABLE) or "auto").strip().lower(), variables)

    def _allowed_now(self) -> Collection[str]:
        return ALLOWED_BACKENDS if self._allowed is None else self._allowed

    def _pick(self, choice: str, variables: Mapping[str, str]) -> None:
        if choice not in STORE_CHOICES:
            wanted = ", ".join(STORE_CHOICES)
            self._not_kept(f"{STORE_VARIABLE}={choice} is not one of {wanted}")
            return
        order = AUTO_STORES if choice == "auto" else (() if choice == "memory" else (choice,))
        for kind in order:
            if kind == "os":
                found, problem = _default_backend()
                chosen, reason = (
                    (None, f"No keyring backend could be loaded ({problem})")
                    if found is None
                    else _choose(found, self._allowed_now())
                )
                if chosen is not None:
                    self._use(chosen)
                    return
                self.not_used.append(reason or "no OS keyring")
            elif kind == "kernel":
                refusal = kernel_keyring.probe()
                if refusal is None:
                    self._use(kernel_keyring.KernelKeyring())
                    return
                self.not_used.append(f"kernel keyring: {refusal}")
            elif kind == "file":
                self._await_passphrase(variables.get(PASSPHRASE_VARIABLE) or "")
                return
        self._not_kept("; ".join(self.not_used) or f"{STORE_VARIABLE}=memory")

    def _use(self, backend: keyring.backend.KeyringBackend) -> None:
        self._backend = backend
        self.backend_name = _name(backend)
        self.needs_passphrase = False
        if self.backend_name == _KERNEL:
            self.label = KERNEL_LABEL
            self.detail = _kernel_detail()
        elif self.backend_name == _FILE:
            self.label = FILE_LABEL
            self.detail = f"{self.file_path}, AES-256-GCM with a key made from your passphrase (scrypt)"
        else:
            self.label = _OS_LABELS.get(self.backend_name, self.backend_name.rpartition(".")[2])
            self.detail = OS_STORES.get(self.backend_name, self.backend_name)

    def _not_kept(self, reason: str) -> None:
        self._backend = None
        self.backend_name = "memory"
        self.needs_passphrase = False
        self.label = NOT_KEPT
        self.warning = f"{reason}; {_MEMORY}"
        self.detail = self.warning

    # -- the encrypted file and its passphrase -------------------------------------------------------

    def _await_passphrase(self, passphrase: str) -> None:
        self.backend_name = _FILE
        self.label = FILE_LABEL
        self.detail = f"{self.file_path}, locked until its passphrase is given"
        self.needs_passphrase = True
        if passphrase:
            try:
                self.unlock(passphrase)
            except (ValueError, OSError) as error:
                self.passphrase_error = f"{PASSPHRASE_VARIABLE}: {_first_line(error)}"

    @property
    def file_exists(self) -> bool:
        """Whether the encrypted file is there already (else `unlock` creates it)."""
        return self.file_path.exists()

    def unlock(self, passphrase: str) -> None:
        """Open (or create) the encrypted file with `passphrase`.

        Raises WrongPassphrase (a ValueError) or UnreadableStore (a ValueError) with one line, or
        OSError; the store stays locked then.
        """
        backend = encrypted_file_keyring.EncryptedFileKeyring.open(self.file_path, passphrase)
        with self._lock:
            self._use(backend)
            self.passphrase_error = None
            earlier, self._memory = self._memory, {}
            for key, value in earlier.items():
                self._write(key, value)

    def keep_in_memory(self, reason: str) -> None:
        """Give up the store that waits for a passphrase: secrets stay in memory; `.warning` says why."""
        with self._lock:
            self._not_kept(reason)

    @property
    def secure(self) -> bool:
        """True when secrets outlive the run in a store that protects them."""
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
                # The store failed part-way (a full kernel quota): take back what it did write,
                # which only takes room, then keep the value whole in memory.
                self._discard(backend, key, len(value))
                self._set(key, value)

    def _discard(self, backend: keyring.backend.KeyringBackend, key: str, length: int) -> None:
        size = int(getattr(backend, "part_size", CHUNK_SIZE))
        for name in [key, *(f"{key}#{index}" for index in range(1, length // size + 2))]:
            try:
                backend.delete_password(self.service_name, name)
            except Exception:  # absent, or the store is gone altogether: nothing more to take back
                continue

    def _set(self, key: str, value: str) -> None:
        with self._lock:
            old_parts = self._part_count(self._read(key))
            # A backend may take larger parts (the kernel keyring: fewer keys against its quota).
            size = int(getattr(self._backend, "part_size", CHUNK_SIZE)) if self._backend else CHUNK_SIZE
            if len(value) <= size and not value.startswith(_MARK):
                self._write(key, value)
                new_parts = 0
            else:
                parts = [value[i : i + size] for i in range(0, len(value), size)]
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
        # A keyring that fails at run time (locked, no D-Bus session, a full quota) must not stop
        # sign-in.
        own = self.backend_name in HEADLESS_STORES
        what = f"The {self.label}" if own else f"Keyring backend {self.backend_name}"
        self._not_kept(f"{what} failed ({_first_line(error)})")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def _kernel_detail() -> str:
    seconds = kernel_keyring.expiry_seconds()
    if seconds is None:
        kept = "until its expiry after disuse"
    elif seconds % 86400 == 0:
        kept = f"until {seconds // 86400} day{'s' if seconds != 86400 else ''} after its last use"
    else:
        kept = f"until {seconds:,} seconds after its last use"
    return f"this user's persistent keyring in kernel memory, never written to disk; kept {kept}"


def _default_backend() -> tuple[keyring.backend.KeyringBackend | None, str]:
    """keyring's backend, or None and why not (one line)."""
    try:
        return keyring.get_keyring(), ""
    except Exception as error:  # PYTHON_KEYRING_BACKEND or keyringrc may name one that cannot load
        named = os.environ.get("PYTHON_KEYRING_BACKEND")
        return None, (f"PYTHON_KEYRING_BACKEND={named}: " if named else "") + _first_line(error)
