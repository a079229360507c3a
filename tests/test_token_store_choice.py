"""Which store SecretStore picks (DWTUI_SECRET_STORE), and the encrypted file on its own: sealed,
bound to its header, shared safely by two writers. Nothing here writes to the kernel keyring."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import keyring.backends.fail
import pytest

from dwtui.services import secrets
from dwtui.services.encrypted_file_keyring import EncryptedFileKeyring, UnreadableStore, WrongPassphrase
from dwtui.services.secrets import SecretStore

PASSPHRASE = "a passphrase of some length"


def test_auto_order_goes_from_a_refused_os_keyring_to_the_kernel_keyring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(secrets, "AUTO_STORES", ("os", "kernel", "file"))
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        store = SecretStore("dwtui-test", environ={})
    finally:
        keyring.set_keyring(previous)
    assert store.secure and store.warning is None
    assert store.label == "kernel keyring"
    assert "never written to disk" in store.detail and "after its last use" in store.detail
    [reason] = store.not_used
    assert reason.startswith("No secure keyring backend (keyring.backends.fail.Keyring is not one")


def test_os_only_keeps_the_old_behaviour_and_memory_says_so() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        only_os = SecretStore("dwtui-test", environ={"DWTUI_SECRET_STORE": "os"})
    finally:
        keyring.set_keyring(previous)
    assert not only_os.secure and only_os.label == "not kept"
    assert only_os.warning is not None and only_os.warning.startswith("No secure keyring backend")
    memory = SecretStore("dwtui-test", environ={"DWTUI_SECRET_STORE": "memory"})
    assert memory.warning == "DWTUI_SECRET_STORE=memory; secrets are kept in memory for this run only"
    unknown = SecretStore("dwtui-test", environ={"DWTUI_SECRET_STORE": "disk"})
    assert unknown.warning is not None
    assert unknown.warning.startswith("DWTUI_SECRET_STORE=disk is not one of auto, os, kernel, file, memory")


def test_the_file_store_waits_for_its_passphrase_then_keeps_what_was_set(tmp_path: Path) -> None:
    path = tmp_path / "secrets.encrypted"
    store = SecretStore("dwtui-test", environ={"DWTUI_SECRET_STORE": "file"}, file_path=path)
    assert store.needs_passphrase and not store.secure and store.label == "encrypted file"
    assert not store.file_exists and not path.exists()
    store.set("early", "kept in memory until unlocked")
    with pytest.raises(WrongPassphrase, match="at least 8 characters"):
        store.unlock("short")
    store.unlock(PASSPHRASE)
    assert store.secure and not store.needs_passphrase
    store.set("big", "t" * 30_000)
    again = SecretStore(
        "dwtui-test",
        environ={"DWTUI_SECRET_STORE": "file", "DWTUI_KEYRING_PASSPHRASE": PASSPHRASE},
        file_path=path,
    )
    assert again.secure and again.get("early") == "kept in memory until unlocked"
    assert again.get("big") == "t" * 30_000
    wrong = SecretStore(
        "dwtui-test",
        environ={"DWTUI_SECRET_STORE": "file", "DWTUI_KEYRING_PASSPHRASE": "x" * 12},
        file_path=path,
    )
    assert wrong.needs_passphrase and wrong.passphrase_error is not None
    assert wrong.passphrase_error.startswith(f"DWTUI_KEYRING_PASSPHRASE: the passphrase does not open {path}")
    wrong.keep_in_memory("no passphrase was given")
    assert wrong.label == "not kept" and wrong.warning is not None and not wrong.needs_passphrase


def test_a_changed_byte_or_parameter_reads_as_a_wrong_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "secrets.encrypted"
    EncryptedFileKeyring.open(path, PASSPHRASE).set_password("dwtui", "k", "value")
    document = json.loads(path.read_text())
    sealed = bytearray(document["ciphertext"].encode())
    sealed[5] = ord("A") if sealed[5] != ord("A") else ord("B")
    path.write_text(json.dumps({**document, "ciphertext": sealed.decode()}))
    with pytest.raises(WrongPassphrase):
        EncryptedFileKeyring.open(path, PASSPHRASE)
    # The header is authenticated: a cheaper KDF cost claimed by the file does not open it either.
    path.write_text(json.dumps({**document, "n": 2**14}))
    with pytest.raises(WrongPassphrase):
        EncryptedFileKeyring.open(path, PASSPHRASE)
    path.write_text(json.dumps({**document, "n": 2**40}))
    with pytest.raises(UnreadableStore, match="scrypt parameters"):
        EncryptedFileKeyring.open(path, PASSPHRASE)
    path.write_text("not json")
    with pytest.raises(UnreadableStore):
        EncryptedFileKeyring.open(path, PASSPHRASE)


def test_two_writers_never_lose_each_others_entries(tmp_path: Path) -> None:
    path = tmp_path / "secrets.encrypted"
    EncryptedFileKeyring.open(path, PASSPHRASE)
    # Two stores opened apart, as two dwtui processes have: their writes interleave under the lock.
    writers = [EncryptedFileKeyring.open(path, PASSPHRASE) for _ in range(2)]

    def write(index: int) -> None:
        for n in range(15):
            writers[index].set_password("dwtui", f"writer{index}-{n}", f"value {n}")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    reader = EncryptedFileKeyring.open(path, PASSPHRASE)
    assert all(
        reader.get_password("dwtui", f"writer{i}-{n}") == f"value {n}" for i in range(2) for n in range(15)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [".secrets.encrypted.lock", "secrets.encrypted"]
