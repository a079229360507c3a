"""SecretStore over a real keyring backend, and its refusal of every backend not on its allowlist.

No OS store exists on a test machine, so the chunking tests accept keyrings.cryptfile's keyring,
unlocked in code, explicitly (`allowed=STAND_IN`); dwtui itself never does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.kwallet
import keyring.backends.null
import keyring.errors
import keyrings.alt.file
import pytest
from keyrings.cryptfile.cryptfile import CryptFileKeyring
from keyrings.cryptfile.file import PlaintextKeyring

from dwtui.services.secrets import ALLOWED_BACKENDS, CHUNK_SIZE, HEADLESS_STORES, OS_STORES, SecretStore

SERVICE = "dwtui-test"
SECRET = "s3cr3t-Value~with.symbols_0123456789"
STAND_IN = frozenset({"keyrings.cryptfile.cryptfile.CryptFileKeyring"})


def cryptfile_keyring(path: Path) -> CryptFileKeyring:
    """A fresh CryptFileKeyring instance on `path`, unlocked without a prompt (cheap KDF for tests)."""
    backend = CryptFileKeyring()
    backend.file_path = str(path)
    backend.time_cost = 1
    backend.memory_cost = 1024
    backend.parallelism = 1
    backend.keyring_key = "test keyring passphrase"
    return backend


@pytest.fixture
def keyring_file(tmp_path: Path) -> Path:
    return tmp_path / "keyring" / "cryptfile.cfg"


def test_value_survives_into_a_second_store_and_is_encrypted_on_disk(keyring_file: Path) -> None:
    first = SecretStore(SERVICE, backend=cryptfile_keyring(keyring_file), allowed=STAND_IN)
    assert first.secure and first.warning is None
    assert first.backend_name.endswith("CryptFileKeyring")
    first.set("profile:client-secret", SECRET)

    # A new backend object and a new store: nothing is shared but the file, as in a second run.
    second = SecretStore(SERVICE, backend=cryptfile_keyring(keyring_file), allowed=STAND_IN)
    assert second.get("profile:client-secret") == SECRET
    assert second.get("absent") is None

    on_disk = keyring_file.read_bytes()
    assert SECRET.encode() not in on_disk
    assert b"s3cr3t" not in on_disk


def test_large_values_are_chunked_transparently(keyring_file: Path) -> None:
    backend = cryptfile_keyring(keyring_file)
    store = SecretStore(SERVICE, backend=backend, allowed=STAND_IN)
    big = "".join(chr(ord("a") + i % 26) for i in range(CHUNK_SIZE * 4 + 123))
    store.set("cache", big)

    head = backend.get_password(SERVICE, "cache")
    assert head is not None and big not in head and len(head) < 100
    parts = [backend.get_password(SERVICE, f"cache#{i}") for i in range(1, 6)]
    assert all(part is not None and len(part) <= CHUNK_SIZE for part in parts)
    assert backend.get_password(SERVICE, "cache#6") is None
    assert SecretStore(SERVICE, backend=cryptfile_keyring(keyring_file), allowed=STAND_IN).get("cache") == big
    assert big[:CHUNK_SIZE].encode() not in keyring_file.read_bytes()

    # Shrinking removes the parts that are no longer needed; delete removes everything.
    store.set("cache", "small")
    assert backend.get_password(SERVICE, "cache") == "small"
    assert backend.get_password(SERVICE, "cache#1") is None
    store.set("cache", big)
    store.delete("cache")
    assert store.get("cache") is None
    assert all(backend.get_password(SERVICE, f"cache#{i}") is None for i in range(1, 6))


def test_a_damaged_chunked_value_reads_as_absent(keyring_file: Path) -> None:
    backend = cryptfile_keyring(keyring_file)
    store = SecretStore(SERVICE, backend=backend, allowed=STAND_IN)
    store.set("cache", "x" * (CHUNK_SIZE * 2 + 1))
    backend.set_password(SERVICE, "cache#2", "y" * CHUNK_SIZE)  # a part from another write
    assert store.get("cache") is None
    backend.delete_password(SERVICE, "cache#3")
    assert store.get("cache") is None


def test_a_value_that_looks_like_a_chunk_header_is_kept_verbatim(keyring_file: Path) -> None:
    store = SecretStore(SERVICE, backend=cryptfile_keyring(keyring_file), allowed=STAND_IN)
    store.set("odd", "dwtui-chunked:v1:2:abc")
    assert store.get("odd") == "dwtui-chunked:v1:2:abc"


def test_delete_of_an_absent_key_is_quiet(keyring_file: Path) -> None:
    store = SecretStore(SERVICE, backend=cryptfile_keyring(keyring_file), allowed=STAND_IN)
    store.delete("never-set")
    assert store.get("never-set") is None


def _named(cls: type[Any]) -> frozenset[str]:
    """An allowlist of one test backend: dwtui accepts it only when told to."""
    return frozenset({f"{cls.__module__}.{cls.__qualname__}"})


def _unregistered(cls: type[Any]) -> type[Any]:
    """Keep a test backend out of keyring's registry of backends, which every later test would see."""
    keyring.backend.KeyringBackend._classes.discard(cls)
    return cls


@_unregistered
class _ZeroPriority(keyring.backend.KeyringBackend):
    priority = 0

    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("an insecure backend must never be read")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError("an insecure backend must never be written")

    def delete_password(self, service: str, username: str) -> None:
        raise AssertionError("an insecure backend must never be touched")


def _plaintext(path: Path) -> PlaintextKeyring:
    backend = PlaintextKeyring()
    backend.file_path = str(path)
    return backend


def _chainer_of(*members: keyring.backend.KeyringBackend) -> keyring.backends.chainer.ChainerBackend:
    @_unregistered
    class Chainer(keyring.backends.chainer.ChainerBackend):
        @property
        def backends(self) -> list[keyring.backend.KeyringBackend]:
            return list(members)

    return Chainer()


@_unregistered
class _ThirdParty(keyring.backend.KeyringBackend):
    """A backend dwtui has never heard of, claiming a high priority: still refused."""

    priority = 9

    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("an unknown backend must never be read")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError("an unknown backend must never be written")

    def delete_password(self, service: str, username: str) -> None:
        raise AssertionError("an unknown backend must never be touched")


def _alt_encrypted(path: Path) -> keyrings.alt.file.EncryptedKeyring:
    backend = keyrings.alt.file.EncryptedKeyring()
    backend.file_path = str(path)
    return backend


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda tmp: keyring.backends.fail.Keyring(), "keyring.backends.fail.Keyring is not one"),
        (lambda tmp: keyring.backends.null.Keyring(), "keyring.backends.null.Keyring is not one"),
        (lambda tmp: _plaintext(tmp / "plain.cfg"), "PlaintextKeyring is not one"),
        (lambda tmp: keyrings.alt.file.PlaintextKeyring(), "keyrings.alt.file.PlaintextKeyring is not one"),
        # keyrings.alt's encrypted keyring asks "Please set a password for your new keyring:" with
        # getpass on first use; refused by name, it is never asked for anything.
        (lambda tmp: _alt_encrypted(tmp / "crypted.cfg"), "keyrings.alt.file.EncryptedKeyring is not one"),
        (lambda tmp: CryptFileKeyring(), "CryptFileKeyring is not one"),
        (lambda tmp: cryptfile_keyring(tmp / "unlocked.cfg"), "CryptFileKeyring is not one"),
        (lambda tmp: _ZeroPriority(), "_ZeroPriority is not one"),
        (lambda tmp: _ThirdParty(), "_ThirdParty is not one"),
        (lambda tmp: keyring.backends.kwallet.DBusKeyring(), "kwallet.DBusKeyring is not one"),
        (
            lambda tmp: _chainer_of(_plaintext(tmp / "plain.cfg"), keyring.backends.null.Keyring()),
            "none of the chained backends is allowed",
        ),
    ],
    ids=[
        "fail",
        "null",
        "plaintext",
        "alt-plaintext",
        "alt-encrypted",
        "locked-cryptfile",
        "unlocked-cryptfile",
        "priority-0",
        "unknown-third-party",
        "kwallet",
        "chainer-without-allowed-member",
    ],
)
def test_insecure_backends_fall_back_to_memory_with_one_warning(
    tmp_path: Path, make: Any, named: str
) -> None:
    store = SecretStore(SERVICE, backend=make(tmp_path))
    assert not store.secure
    assert store.backend_name == "memory"
    assert store.warning is not None and named in store.warning
    assert "in memory for this run only" in store.warning
    assert "\n" not in store.warning
    store.set("k", SECRET)
    assert store.get("k") == SECRET
    store.delete("k")
    assert store.get("k") is None
    # Nothing went to disk, in particular not through the plain-text keyring.
    assert all(SECRET.encode() not in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_a_chainer_is_used_through_its_allowed_member_only(tmp_path: Path, keyring_file: Path) -> None:
    secure = cryptfile_keyring(keyring_file)
    plain_file = tmp_path / "plain.cfg"
    crypted = tmp_path / "crypted.cfg"
    chainer = _chainer_of(_alt_encrypted(crypted), secure, _plaintext(plain_file))
    store = SecretStore(SERVICE, backend=chainer, allowed=STAND_IN)
    assert store.secure and store.warning is None
    assert store.backend_name.endswith("CryptFileKeyring")
    store.set("k", SECRET)
    assert secure.get_password(SERVICE, "k") == SECRET
    assert store.get("k") == SECRET
    # The members before and after it were never asked (the encrypted one would have prompted).
    assert not plain_file.exists() and not crypted.exists()


def test_test_backends_stay_out_of_keyrings_registry() -> None:
    names = {type(b).__name__ for b in keyring.backend.get_all_keyring()}
    assert not names & {"_ZeroPriority", "_Broken", "Chainer"}


def test_the_default_backend_of_this_machine_is_never_insecure() -> None:
    # Whatever keyring picks here (the test venv has only file keyrings), the store either uses an
    # allowed backend or says it does not, in one line.
    store = SecretStore(SERVICE)
    assert store.secure == (store.warning is None)
    assert store.backend_name in ALLOWED_BACKENDS | {"memory"}


def test_the_allowlist_is_the_os_stores_and_the_headless_store_only() -> None:
    assert set(OS_STORES) == {
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
        "keyring.backends.SecretService.Keyring",
    }
    assert set(OS_STORES) | set(HEADLESS_STORES) == ALLOWED_BACKENDS
    # Each name is a class keyring really has, so a rename upstream cannot silently empty the list.
    import importlib

    for name in OS_STORES:
        module, _, cls = name.rpartition(".")
        assert hasattr(importlib.import_module(module), cls), name


def test_keyrings_alt_as_the_default_backend_is_refused_without_a_prompt(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """keyrings.alt and pycryptodome are installed here (test extras), as on many machines."""
    # pycryptodome (package Crypto) makes keyrings.alt's EncryptedKeyring viable.
    import Crypto.Cipher.AES  # noqa: F401
    import keyring.core

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert keyrings.alt.file.EncryptedKeyring.priority > 0
    # What `PYTHON_KEYRING_BACKEND=keyrings.alt.file.EncryptedKeyring` resolves to, and what keyring
    # picks by itself with keyrings.alt installed (a chainer with it among the members).
    chosen_by_keyring = max(keyring.backend.get_all_keyring(), key=keyring.backend.by_priority)
    for backend in (keyring.core.load_keyring("keyrings.alt.file.EncryptedKeyring"), chosen_by_keyring):
        members = getattr(backend, "backends", [backend])
        names = [f"{type(b).__module__}.{type(b).__qualname__}" for b in members]
        assert "keyrings.alt.file.EncryptedKeyring" in names
        # getpass reads the terminal; a prompt here would fail this test (stdin is not one).
        monkeypatch.setattr("getpass.getpass", _no_prompt)
        store = SecretStore(SERVICE, backend=backend)
        assert not store.secure and store.backend_name == "memory"
        assert store.warning is not None and store.warning.startswith("No secure keyring backend")
        assert "\n" not in store.warning
        store.set("k", SECRET)
        assert store.get("k") == SECRET
    assert list(tmp_path.rglob("*.cfg")) == []


def _no_prompt(prompt: str = "", stream: Any = None) -> str:
    raise AssertionError(f"dwtui let a keyring prompt: {prompt!r}")


def test_the_secret_service_is_refused_where_there_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring.backends.SecretService

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/dwtui-test-bus")
    store = SecretStore(SERVICE, backend=keyring.backends.SecretService.Keyring())
    assert not store.secure
    assert store.warning is not None
    assert store.warning.startswith("No secure keyring backend (keyring.backends.SecretService.Keyring: ")


def test_memory_only_is_quiet_and_not_persistent(keyring_file: Path) -> None:
    store = SecretStore(SERVICE, memory_only=True)
    assert not store.secure and store.warning is None and store.backend_name == "memory"
    store.set("k", "v" * (CHUNK_SIZE * 3))
    assert store.get("k") == "v" * (CHUNK_SIZE * 3)
    assert SecretStore(SERVICE, memory_only=True).get("k") is None


@_unregistered
class _Broken(keyring.backend.KeyringBackend):
    priority = 5

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the collection is locked\nsecond line")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("the collection is locked")


def test_a_backend_failing_at_run_time_degrades_to_memory() -> None:
    store = SecretStore(SERVICE, backend=_Broken(), allowed=_named(_Broken))
    assert store.secure
    store.set("k", SECRET)
    assert not store.secure
    assert store.warning is not None and "the collection is locked" in store.warning
    assert "\n" not in store.warning
    assert store.get("k") == SECRET


@_unregistered
class _FailsOnThirdWrite(keyring.backend.KeyringBackend):
    priority = 5

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(self.values) == 2:
            raise keyring.errors.PasswordSetError("blob too large")
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


def test_a_backend_failing_part_way_through_a_chunked_write_keeps_the_whole_value() -> None:
    backend = _FailsOnThirdWrite()
    store = SecretStore(SERVICE, backend=backend, allowed=_named(_FailsOnThirdWrite))
    big = "z" * (CHUNK_SIZE * 4)
    store.set("cache", big)
    assert not store.secure and store.warning is not None and "blob too large" in store.warning
    assert store.get("cache") == big
    # The parts written before the failure were taken back (in the kernel keyring they take quota).
    assert backend.values == {}
