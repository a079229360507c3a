"""A second process for the kill tests: runs the flight and stops mid-transaction to be killed.

Run as `python tests/flight_child.py PREFIX N` with the connection string in DWTUI_TEST_AXDB (not on
the command line: it may hold a password). It prints every Activity entry's summary, and "paused"
right after the N-th statement starting with PREFIX has run, then waits for the parent's SIGKILL.
"""

from __future__ import annotations

import os
import sys
import time

from dwtui.domain.flight import FlightPlan
from dwtui.services.activity import ActivityEntry, ActivityLog
from dwtui.services.axdb import run_flight


def main() -> int:
    prefix, wanted = sys.argv[1], int(sys.argv[2])
    seen = 0
    activity = ActivityLog()

    def on_entry(entry: ActivityEntry) -> None:
        nonlocal seen
        print(entry.summary, flush=True)
        if entry.summary.startswith(prefix):
            seen += 1
            if seen == wanted:
                print("paused", flush=True)
                time.sleep(120)  # the statement ran, the transaction is open: the parent kills us now

    activity.subscribe(on_entry)
    result = run_flight(os.environ["DWTUI_TEST_AXDB"], FlightPlan(), activity=activity)
    print(f"finished committed={result.committed}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
