"""SecretStore over a real keyring backend (keyrings.cryptfile), and its refusal of insecure ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest
from keyrings.cryptfile.cryptfile import CryptFileKeyring
from keyrings.cryptfile.file import PlaintextKeyring

from dwtui.services.secrets import CHUNK_SIZE, SecretStore

SERVICE = "dwtui-test"
SECRET = "s3cr3t-Value~with.symbols_0123456789"


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
    first = SecretStore(SERVICE, backend=cryptfile_keyring(keyring_file))
    assert first.secure and first.warning is None
    assert first.backend_name.endswith("CryptFileKeyring")
    first.set("profile:client-secret", SECRET)

    # A new backend object and a new store: nothing is shared but the file, as in a second run.
    second = SecretStore(SERVICE, backend=cryptfile_keyring(keyring_file))
    assert second.get("profile:client-secret") == SECRET
    assert second.get("absent") is None

    on_disk = keyring_file.read_bytes()
    assert SECRET.encode() not in on_disk
    assert b"s3cr3t" not in on_disk


def test_large_values_are_chunked_transparently(keyring_file: Path) -> None:
    backend = cryptfile_keyring(keyring_file)
    store = SecretStore(SERVICE, backend=backend)
    big = "".join(chr(ord("a") + i % 26) for i in range(CHUNK_SIZE * 4 + 123))
    store.set("cache", big)

    head = backend.get_password(SERVICE, "cache")
    assert head is not None and big not in head and len(head) < 100
    parts = [backend.get_password(SERVICE, f"cache#{i}") for i in range(1, 6)]
    assert all(part is not None and len(part) <= CHUNK_SIZE for part in parts)
    assert backend.get_password(SERVICE, "cache#6") is None
    assert SecretStore(SERVICE, backend=cryptfile_keyring(keyring_file)).get("cache") == big
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
    store = SecretStore(SERVICE, backend=backend)
    store.set("cache", "x" * (CHUNK_SIZE * 2 + 1))
    backend.set_password(SERVICE, "cache#2", "y" * CHUNK_SIZE)  # a part from another write
    assert store.get("cache") is None
    backend.delete_password(SERVICE, "cache#3")
    assert store.get("cache") is None


def test_a_value_that_looks_like_a_chunk_header_is_kept_verbatim(keyring_file: Path) -> None:
    store = SecretStore(SERVICE, backend=cryptfile_keyring(keyring_file))
    store.set("odd", "dwtui-chunked:v1:2:abc")
    assert store.get("odd") == "dwtui-chunked:v1:2:abc"


def test_delete_of_an_absent_key_is_quiet(keyring_file: Path) -> None:
    store = SecretStore(SERVICE, backend=cryptfile_keyring(keyring_file))
    store.delete("never-set")
    assert store.get("never-set") is None


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


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda tmp: keyring.backends.fail.Keyring(), "keyring.backends.fail.Keyring"),
        (lambda tmp: keyring.backends.null.Keyring(), "keyring.backends.null.Keyring"),
        (lambda tmp: _plaintext(tmp / "plain.cfg"), "PlaintextKeyring"),
        (lambda tmp: _ZeroPriority(), "_ZeroPriority"),
        (
            lambda tmp: _chainer_of(_plaintext(tmp / "plain.cfg"), keyring.backends.null.Keyring()),
            "has no secure member",
        ),
        (lambda tmp: CryptFileKeyring(), "needs its password typed at a prompt"),
    ],
    ids=["fail", "null", "plaintext", "priority-0", "chainer-without-secure-member", "locked-cryptfile"],
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


def test_a_chainer_is_used_through_its_secure_member_only(tmp_path: Path, keyring_file: Path) -> None:
    secure = cryptfile_keyring(keyring_file)
    plain_file = tmp_path / "plain.cfg"
    store = SecretStore(SERVICE, backend=_chainer_of(secure, _plaintext(plain_file)))
    assert store.secure and store.warning is None
    assert store.backend_name.endswith("CryptFileKeyring")
    store.set("k", SECRET)
    assert secure.get_password(SERVICE, "k") == SECRET
    assert not plain_file.exists()


def test_test_backends_stay_out_of_keyrings_registry() -> None:
    names = {type(b).__name__ for b in keyring.backend.get_all_keyring()}
    assert not names & {"_ZeroPriority", "_Broken", "Chainer"}


def test_the_default_backend_of_this_machine_is_never_insecure() -> None:
    # Whatever keyring picks here (the test venv has only file keyrings), the store either uses a
    # secure backend or says it does not, in one line.
    store = SecretStore(SERVICE)
    assert store.secure == (store.warning is None)
    if not store.secure:
        assert store.backend_name == "memory"


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
    store = SecretStore(SERVICE, backend=_Broken())
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
    store = SecretStore(SERVICE, backend=_FailsOnThirdWrite())
    big = "z" * (CHUNK_SIZE * 4)
    store.set("cache", big)
    assert not store.secure and store.warning is not None and "blob too large" in store.warning
    assert store.get("cache") == big
