"""dwtui's state, audit trail and config are private (0700 folders, 0600 files), and a run whose
audit trail cannot be written says so and does not exit 0."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from dwtui.cli import EXIT_FAILURE, EXIT_SIGN_IN
from dwtui.services.activity import ActivityEntry, ActivityLog, default_activity_path
from dwtui.services.config import default_config_path
from dwtui.services.operations import OperationStore, default_store_path
from dwtui.sim.server import SimServer
from tests.cli_support import MemoryKeyring, clear_overrides, run_cli, use_memory_keyring


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_memory_keyring()


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common 022 umask: anything created without care would be readable by everyone."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_real_run_creates_its_state_private(
    sim: SimServer, memory_keyring: MemoryKeyring, tmp_path: Path, loose_umask: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "sim.toml"
    sim.write_config(config)
    code, _, err = run_cli(["--config", str(config), "status"], capsys)
    assert code == 0, err
    trail = default_activity_path()
    assert mode(trail.parent) == 0o700 and mode(trail) == 0o600
    assert "private" not in err  # nothing had to be fixed

    store = OperationStore(default_store_path())
    store.records()  # takes the lock: creates the lock file
    assert mode(store.lock_path) == 0o600 and mode(store.path.parent) == 0o700


def test_the_audit_log_and_the_store_create_private_files_under_any_umask(
    tmp_path: Path, loose_umask: None
) -> None:
    log = ActivityLog(tmp_path / "new" / "activity.jsonl")
    log.record(ActivityEntry(at=0.0, kind="auth", summary="Signed in as someone@contoso.com"))
    assert log.file_error is None
    assert mode(tmp_path / "new") == 0o700 and mode(tmp_path / "new" / "activity.jsonl") == 0o600

    existing = tmp_path / "old.jsonl"
    existing.write_text("")
    existing.chmod(0o644)
    ActivityLog(existing).record(ActivityEntry(at=0.0, kind="auth", summary="x"))
    assert mode(existing) == 0o600


def test_loose_state_is_made_private_on_start_and_said_so(
    sim: SimServer, memory_keyring: MemoryKeyring, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sim.toml"
    sim.write_config(config)
    config.chmod(0o644)
    state = default_activity_path().parent
    state.mkdir(parents=True)
    trail, operations = default_activity_path(), default_store_path()
    trail.write_text("")
    operations.write_text('{"version": 1, "operations": []}')
    for path, loose in ((state, 0o755), (trail, 0o644), (operations, 0o640)):
        path.chmod(loose)

    code, _, err = run_cli(["--config", str(config), "status", "--json"], capsys)
    assert code == 0, err
    assert (mode(state), mode(trail), mode(operations)) == (0o700, 0o600, 0o600)
    said = [line for line in err.splitlines() if "private" in line]
    assert said == [
        f"dwtui: made {state} private: it was 0755, now 0700",
        f"dwtui: made {trail} private: it was 0644, now 0600",
        f"dwtui: made {operations} private: it was 0640, now 0600",
    ]
    assert mode(config) == 0o644  # the person's own file, holding no secret: left as it is
    # The audit trail keeps what was changed, like any other change.
    entries = [json.loads(line) for line in trail.read_text().splitlines()]
    changes = [e["summary"] for e in entries if e["kind"] == "change"]
    assert changes == [line.removeprefix("dwtui: ") for line in said]

    # Fixed once: the next run has nothing to say.
    code, _, err = run_cli(["--config", str(config), "status", "--json", "--no-interactive"], capsys)
    assert code == 0 and "private" not in err


def _unwritable_trail() -> Path:
    """A folder where the audit file belongs: no write can succeed, not even as root."""
    trail = default_activity_path()
    trail.mkdir(parents=True)
    return trail


def test_a_run_whose_audit_trail_cannot_be_written_warns_once_and_exits_1(
    sim: SimServer, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.write_config(default_config_path())
    trail = _unwritable_trail()
    code, out, err = run_cli(["status", "--json"], capsys)
    assert code == EXIT_FAILURE
    assert json.loads(out)["environment"]["name"] == "contoso-uat"  # the work itself was done
    warnings = [line for line in err.splitlines() if "audit trail" in line]
    assert warnings == [
        f"dwtui: the audit trail could not be written: {trail}: Is a directory; "
        "this run's calls and changes are missing from it"
    ]
    assert err.strip().splitlines()[-1] == warnings[0]  # at the end


def test_a_failing_run_keeps_its_own_exit_code_and_still_warns(
    sim: SimServer, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.write_config(default_config_path())
    _unwritable_trail()
    code, _, err = run_cli(["status", "--no-interactive"], capsys)
    assert code == EXIT_SIGN_IN
    assert err.strip().splitlines()[-1].startswith("dwtui: the audit trail could not be written: ")
