"""A flight killed mid-transaction (SIGKILL: no rollback, no close) leaves no partial write.

On SQLite the next reader rolls the hot journal back; on PostgreSQL the server aborts the dead
session's transaction. Each stage is a point where some of the writes have been made: after the
UPDATE, after the INSERT, and after the final read, just before COMMIT. A new run then completes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dwtui.domain.flight import DEFAULT_FLIGHT_NAME as NAME
from dwtui.domain.flight import DEFAULT_FLIGHT_SERVICE_ID as SID
from dwtui.domain.flight import FlightPlan
from dwtui.services.activity import ActivityLog
from dwtui.services.axdb import run_flight
from dwtui.services.axdb_demo import DEMO_PARTITIONS
from tests.axdb_support import Axdb
from tests.cli_support import LineReader

REPO = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).with_name("flight_child.py")
INITIAL, CONTOSO, _FABRIKAM = (recid for recid, _key, _name in DEMO_PARTITIONS)

# (statement prefix, occurrence): the child stops right after that statement has run.
STAGES = {
    "after-update": ("UPDATE SYSFLIGHTING", 1),
    "after-insert": ("INSERT INTO SYSFLIGHTING", 1),
    "before-commit": ("SELECT PARTITION, ENABLED", 2),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_flight_killed_mid_transaction_leaves_nothing_behind(database: Axdb, stage: str) -> None:
    # contoso's row is off, so the UPDATE writes; two partitions have none, so the INSERT writes.
    connection = database.create(flight_rows=[(NAME, 1, SID, INITIAL), (NAME, 0, SID, CONTOSO)])
    before = database.everything()
    prefix, occurrence = STAGES[stage]
    child = subprocess.Popen(
        [sys.executable, str(CHILD), prefix, str(occurrence)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "DWTUI_TEST_AXDB": connection},
    )
    try:
        assert child.stdout is not None
        lines = LineReader(child.stdout)
        lines.wait_for("paused", timeout=60)
        assert any(line.startswith(prefix) for line in lines.lines)
        assert "COMMIT\n" not in lines.lines
        child.send_signal(signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)

    assert database.everything() == before  # not one of the writes survived

    result = run_flight(connection, FlightPlan(), activity=ActivityLog())
    assert result.committed and (result.inserted, result.updated) == (1, 1)
    assert [(r[0], r[1], r[2]) for r in database.rows()] == [(p, 1, SID) for p, _k, _n in DEMO_PARTITIONS]
