"""An encrypted file as a keyring backend, for machines where no OS store nor the kernel keyring works.

One file holds every entry, as JSON encrypted with AES-256-GCM (cryptography's AESGCM,
https://cryptography.io/en/latest/hazmat/primitives/aead/). Its key is derived from a passphrase
with scrypt, N=2^17, r=8, p=1: OWASP's Password Storage Cheat Sheet minimum
(https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#scrypt), about
0.4 s and 128 MiB once per run. The header (format, KDF and its parameters, salt) is authenticated
data, so a changed parameter fails like a wrong passphrase. Nothing is ever written in plain text:
each change is encrypted with a fresh nonce into a 0600 temporary file beside it and renamed over
it, under an flock so two dwtui processes never lose each other's entries.

The passphrase itself is never stored; dwtui takes it from DWTUI_KEYRING_PASSPHRASE or asks the
person once per run (secrets.py, and the CLI and TUI that ask).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring.backend
import keyring.errors
import platformdirs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from jaraco.classes import properties

from dwtui.services.private_files import open_private, private_dir

FORMAT = "dwtui-encrypted-secrets"
VERSION = 1
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSPHRASE = 8
_KEY_BYTES = 32
_SALT_BYTES = 16
_NONCE_BYTES = 12  # AESGCM's 96-bit nonce


def default_path() -> Path:
    return platformdirs.user_data_path("dwtui") / "secrets.encrypted"


class WrongPassphrase(ValueError):
    """The passphrase does not open the file (or the file was changed by someone else)."""


class UnreadableStore(ValueError):
    """The file is not one dwtui wrote (damaged, or another format)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=_KEY_BYTES, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _associated(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


class EncryptedFileKeyring(keyring.backend.KeyringBackend):
    """Entries "SERVICE\\0USERNAME" -> value, in one encrypted file opened with a passphrase.

    Built by `open(path, passphrase)`, which derives the key and proves it on the file (or creates
    the file), so a wrong passphrase is known before anything is read or written.
    """

    # SecretStore's parts for this backend: one file holds values of any size, so a value is one
    # entry and each change one write.
    part_size = 1 << 24

    @properties.classproperty
    def priority(cls) -> float:
        # Only dwtui chooses this backend (secrets.py); keyring's own selection never may.
        raise RuntimeError("chosen by dwtui only")

    def __init__(self, path: Path, header: dict[str, Any], key: bytes) -> None:
        super().__init__()
        self.path = path
        self._header = header
        self._aead = AESGCM(key)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, passphrase: str) -> EncryptedFileKeyring:
        """The store in `path`, created when absent; WrongPassphrase, UnreadableStore or OSError."""
        if not passphrase:
            raise WrongPassphrase("the passphrase is empty")
        private_dir(path.parent)
        with _locked(path):
            if path.exists():
                header, nonce, ciphertext = _read(path)
                key = _derive(passphrase, _unb64(header["salt"]), header["n"], header["r"], header["p"])
                store = cls(path, header, key)
                store._decrypt(nonce, ciphertext)  # proves the passphrase
                return store
            if len(passphrase) < MIN_PASSPHRASE:
                raise WrongPassphrase(f"a new store's passphrase needs at least {MIN_PASSPHRASE} characters")
            salt = os.urandom(_SALT_BYTES)
            header = {
                "format": FORMAT,
                "version": VERSION,
                "kdf": "scrypt",
                "n": SCRYPT_N,
                "r": SCRYPT_R,
                "p": SCRYPT_P,
                "salt": _b64(salt),
            }
            store = cls(path, header, _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P))
            store._write({})
            return store

    # -- keyring's API ----------------------------------------------------------------------------

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock, _locked(self.path):
            return self._entries().get(_entry(service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock, _locked(self.path):
            entries = self._entries()
            entries[_entry(service, username)] = password
            self._write(entries)

    def delete_password(self, service: str, username: str) -> None:
        with self._lock, _locked(self.path):
            entries = self._entries()
            if entries.pop(_entry(service, username), None) is None:
                raise keyring.errors.PasswordDeleteError(username)
            self._write(entries)

    # -- the file ------------------------------------------------------------------------------------

    def _entries(self) -> dict[str, str]:
        if not self.path.exists():
            return {}  # removed by the person since: start again, with the same passphrase
        header, nonce, ciphertext = _read(self.path)
        if header != self._header:
            raise WrongPassphrase(f"{self.path} was replaced by another store since it was opened")
        return self._decrypt(nonce, ciphertext)

    def _decrypt(self, nonce: bytes, ciphertext: bytes) -> dict[str, str]:
        try:
            plain = self._aead.decrypt(nonce, ciphertext, _associated(self._header))
        except InvalidTag:
            raise WrongPassphrase(f"the passphrase does not open {self.path}") from None
        try:
            entries = json.loads(plain.decode("utf-8"))
        except ValueError:
            raise UnreadableStore(f"{self.path} holds no dwtui secrets") from None
        if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
            raise UnreadableStore(f"{self.path} holds no dwtui secrets")
        return entries

    def _write(self, entries: dict[str, str]) -> None:
        nonce = os.urandom(_NONCE_BYTES)
        plain = json.dumps(entries, separators=(",", ":")).encode("utf-8")
        sealed = self._aead.encrypt(nonce, plain, _associated(self._header))
        document = {**self._header, "nonce": _b64(nonce), "ciphertext": _b64(sealed)}
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = open_private(temporary, os.O_WRONLY | os.O_TRUNC)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(document, file, indent=1)
                file.write("\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise


def _entry(service: str, username: str) -> str:
    return f"{service}\0{username}"


def _read(path: Path) -> tuple[dict[str, Any], bytes, bytes]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        header = {k: document[k] for k in ("format", "version", "kdf", "n", "r", "p", "salt")}
        nonce, ciphertext = _unb64(document["nonce"]), _unb64(document["ciphertext"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise UnreadableStore(f"{path} is not a dwtui secret store ({type(error).__name__})") from None
    if header["format"] != FORMAT or header["version"] != VERSION or header["kdf"] != "scrypt":
        raise UnreadableStore(f"{path} is not a dwtui secret store of version {VERSION}")
    # Bounds on what the file may ask for, so a planted file cannot make the KDF take all memory.
    limits = {"n": 2**20, "r": 16, "p": 4}
    if not all(isinstance(header[k], int) and 0 < header[k] <= limits[k] for k in limits):
        raise UnreadableStore(f"{path} names scrypt parameters dwtui does not accept")
    return header, nonce, ciphertext


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive flock on a lock file beside `path`, shared by every dwtui process of this user."""
    descriptor = open_private(path.with_name(f".{path.name}.lock"), os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
