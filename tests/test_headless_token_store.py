"""On a Linux box with no Secret Service, a person signs in once and later commands sign in silently.

The installed `dwtui` against the simulator, with D-Bus pointing nowhere: the token cache goes to
the kernel's persistent keyring (each test in a user namespace of its own, so a keyring of its
own: tests/headless_store_support.py), or, where the key syscalls are refused as in a container,
to an encrypted file opened with DWTUI_KEYRING_PASSPHRASE. Neither leaves a token or the
passphrase in plain text in the state, config, cache, data or temp dirs.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import keyring.errors
import pytest

from dwtui.services.config import load_config
from dwtui.services.encrypted_file_keyring import EncryptedFileKeyring
from dwtui.services.kernel_keyring import MAX_PAYLOAD, PART_SIZE, KernelKeyring
from dwtui.services.secrets import SecretStore
from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.headless_store_support import DWTUI, headless_env, no_key_calls, own_user_namespace, plaintext_hits

PASSPHRASE = "correct horse battery staple 7"
DEVICE_CODE = "enter the code"
TOKEN_CACHE = "token-cache"


@pytest.fixture
def sim(sim_factory: SimFactory) -> SimServer:
    return sim_factory("happy", device_approve_after=0.0)


@pytest.fixture
def config(sim: SimServer, tmp_path: Path) -> Path:
    path = tmp_path / "sim.toml"
    sim.write_config(path)
    return path


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False
    )


def _device_code_calls(sim: SimServer) -> int:
    return sum(1 for r in sim.requests() if r["path"].endswith("/devicecode"))


def _cache_key(config: Path) -> str:
    return load_config(config).profiles["sim"].secret_key(TOKEN_CACHE)


def _needles(cache_json: str) -> dict[str, str]:
    """The secrets of an MSAL token cache: every access token (and its JWT payload) and refresh token."""
    cache: dict[str, Any] = json.loads(cache_json)
    needles: dict[str, str] = {}
    for kind in ("AccessToken", "RefreshToken"):
        for index, item in enumerate(cache.get(kind, {}).values()):
            needles[f"{kind} {index}"] = item["secret"]
            if kind == "AccessToken":
                needles[f"{kind} {index} payload"] = item["secret"].split(".")[1]
    assert any(name.startswith("AccessToken") for name in needles), cache.keys()
    assert any(name.startswith("RefreshToken") for name in needles), cache.keys()
    return needles


_READ_KERNEL_CACHE = """
import sys
from dwtui.services.kernel_keyring import KernelKeyring
from dwtui.services.secrets import SecretStore
print(SecretStore(backend=KernelKeyring()).get(sys.argv[1]) or "")
"""


def test_the_second_command_signs_in_silently_from_the_kernel_keyring(
    sim: SimServer, config: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = headless_env(home)
    with own_user_namespace() as inside:
        first = _run([*inside, str(DWTUI), "--config", str(config), "status"], env)
        assert first.returncode == 0, first.stderr
        assert DEVICE_CODE in first.stderr
        assert "Signed in; tokens: kernel keyring (" in first.stderr
        assert "never written to disk" in first.stderr
        assert "No secure keyring backend" not in first.stderr
        assert "in memory" not in first.stderr
        codes = _device_code_calls(sim)
        assert codes == 1

        second = _run([*inside, str(DWTUI), "--config", str(config), "status", "--no-interactive"], env)
        assert second.returncode == 0, second.stderr
        assert DEVICE_CODE not in second.stderr and "Signed in;" not in second.stderr
        assert "contoso-uat" in second.stdout
        assert _device_code_calls(sim) == codes  # silent: no new device code was asked for

        # What the kernel keyring holds is the token cache; nothing of it is on disk in plain text.
        read = _run([*inside, sys.executable, "-c", _READ_KERNEL_CACHE, _cache_key(config)], env)
        assert read.returncode == 0, read.stderr
        needles = _needles(read.stdout.strip())
    assert plaintext_hits([home], needles) == []
    # The keyring was this test's own: the user's real persistent keyring never saw the cache.
    assert SecretStore(backend=KernelKeyring()).get(_cache_key(config)) is None


def test_without_kernel_keyring_an_encrypted_file_keeps_the_tokens(
    sim: SimServer, config: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = headless_env(home)
    with_passphrase = {**env, "DWTUI_KEYRING_PASSPHRASE": PASSPHRASE}
    dwtui = [str(DWTUI), "--config", str(config)]

    first = _run(no_key_calls([*dwtui, "status"]), with_passphrase)
    assert first.returncode == 0, first.stderr
    assert DEVICE_CODE in first.stderr
    [said] = [line for line in first.stderr.splitlines() if line.startswith("Signed in;")]
    store = home / "data" / "dwtui" / "secrets.encrypted"
    assert said.startswith(f"Signed in; tokens: encrypted file ({store}, AES-256-GCM")
    # The fallback says what it stands in for.
    assert "not used: " in said and "kernel keyring: the kernel refuses key calls here" in said
    assert "Function not implemented" in said
    codes = _device_code_calls(sim)

    second = _run(no_key_calls([*dwtui, "status", "--no-interactive"]), with_passphrase)
    assert second.returncode == 0, second.stderr
    assert DEVICE_CODE not in second.stderr and "Signed in;" not in second.stderr
    assert _device_code_calls(sim) == codes

    # No passphrase and --no-interactive: one line naming the variable, exit 4 (a person is needed).
    locked = _run(no_key_calls([*dwtui, "status", "--no-interactive"]), env)
    assert locked.returncode == 4
    [line] = locked.stderr.strip().splitlines()
    assert line.startswith(f"dwtui: the token store here is an encrypted file, {store}, and no passphrase")
    assert "set DWTUI_KEYRING_PASSPHRASE" in line and "--no-interactive" in line
    assert locked.stdout == ""

    wrong = _run(
        no_key_calls([*dwtui, "status", "--no-interactive"]), {**env, "DWTUI_KEYRING_PASSPHRASE": "nope"}
    )
    assert wrong.returncode == 4
    [line] = wrong.stderr.strip().splitlines()
    assert line.startswith(f"dwtui: DWTUI_KEYRING_PASSPHRASE: the passphrase does not open {store}")

    # The file holds the cache, sealed: with the passphrase it opens, and nothing is in plain text.
    opened = SecretStore(backend=EncryptedFileKeyring.open(store, PASSPHRASE))
    cache = opened.get(_cache_key(config))
    assert cache is not None
    needles = {**_needles(cache), "passphrase": PASSPHRASE}
    assert plaintext_hits([home], needles) == []
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    assert not list((home / "data" / "dwtui").glob("*.tmp"))


def test_profiles_names_the_store_and_what_it_stands_in_for(config: Path, tmp_path: Path) -> None:
    env = headless_env(tmp_path / "home")
    with own_user_namespace() as inside:
        shown = _run([*inside, str(DWTUI), "--config", str(config), "profiles"], env)
        as_json = _run([*inside, str(DWTUI), "--config", str(config), "profiles", "--json"], env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert any(line.startswith("tokens: kernel keyring (this user's persistent keyring") for line in lines)
    unreachable = "  not used: No keyring backend could be loaded (PYTHON_KEYRING_BACKEND=keyring.backends."
    assert any(line.startswith(unreachable) for line in lines), lines
    store = json.loads(as_json.stdout)["token_store"]
    assert store["store"] == "kernel keyring" and store["locked"] is False
    assert store["backend"] == "dwtui.services.kernel_keyring.KernelKeyring"

    fallback = _run(no_key_calls([str(DWTUI), "--config", str(config), "profiles", "--json"]), env)
    assert fallback.returncode == 0, fallback.stderr
    store = json.loads(fallback.stdout)["token_store"]
    assert store["store"] == "encrypted file" and store["locked"] is True
    assert any(
        reason.startswith("kernel keyring: the kernel refuses key calls") for reason in store["not_used"]
    )
    # Asking what the store is never creates it.
    assert not (tmp_path / "home" / "data" / "dwtui" / "secrets.encrypted").exists()


def test_the_kernel_keyring_round_trips_a_value_of_several_parts() -> None:
    # The persistent keyring is this user's, shared with every test: a service name of this test's own.
    service = f"dwtui-test-{uuid.uuid4().hex}"
    backend = KernelKeyring()
    # Longer than a kernel key may hold (32,767 bytes) even compressed: random text does not shrink.
    big = secrets.token_urlsafe(PART_SIZE * 5)[: PART_SIZE * 5 + 17] + "é✓" * 1000
    assert len(big.encode()) > MAX_PAYLOAD
    keys = ["cache", *(f"cache#{i}" for i in range(1, 9))]
    try:
        SecretStore(service, backend=KernelKeyring()).set("cache", big)
        # A new store and backend, as the next run has: the value comes back whole from the kernel.
        assert SecretStore(service, backend=KernelKeyring()).get("cache") == big
        parts = [backend.get_password(service, key) for key in keys[1:]]
        assert [part is not None for part in parts] == [True] * 6 + [False] * 2
        assert all(part is not None and len(part) <= PART_SIZE for part in parts[:6])
        head = backend.get_password(service, "cache")
        assert head is not None and head.startswith("dwtui-chunked:v1:6:")
        SecretStore(service, backend=KernelKeyring()).delete("cache")
        assert all(backend.get_password(service, key) is None for key in keys)
    finally:
        for key in keys:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                backend.delete_password(service, key)


def test_a_token_cache_takes_little_of_the_kernel_quota() -> None:
    """20,000 bytes per user by default: a cache of JWTs sharing most of their text is compressed."""
    service = f"dwtui-test-{uuid.uuid4().hex}"
    backend = KernelKeyring()
    claims = '{"aud":"https://lcsapi.lcs.dynamics.com","iss":"https://sts.windows.net/tenant/","scp":"user_impersonation"}'
    token = ".".join(["eyJhbGciOiJSUzI1NiJ9", claims.encode().hex(), secrets.token_urlsafe(256)])
    cache = json.dumps({"AccessToken": {str(i): {"secret": token + str(i)} for i in range(8)}})
    try:
        SecretStore(service, backend=backend).set("cache", cache)
        assert SecretStore(service, backend=KernelKeyring()).get("cache") == cache
        sizes = _kernel_sizes(service)
        assert sizes and sum(sizes) < len(cache) / 2, (sizes, len(cache))
    finally:
        SecretStore(service, backend=backend).delete("cache")
    assert _kernel_sizes(service) == []


def _kernel_sizes(service: str) -> list[int]:
    """The payload sizes of this service's live keys, as /proc/keys shows them (proc(5))."""
    sizes = []
    for line in Path("/proc/keys").read_text().splitlines():
        fields = line.split(None, 8)
        live = not set(fields[1]) & set("iRD")  # invalidated, revoked or dead: on its way out
        if len(fields) == 9 and live and fields[7] == "user" and fields[8].startswith(f"{service}:"):
            sizes.append(int(fields[8].rpartition(": ")[2]))
    return sizes
