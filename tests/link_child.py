"""The `dwtui` command, held at one step of a link so a test can stop it exactly there.

Run as `python tests/link_child.py DWTUI-ARGUMENTS...`. It is the real command line (dwtui.cli.run)
with one change: a link claim is made, then, instead of marking the request as sent and sending it,
the process says "claimed; the link request is not sent" on stderr and waits to be stopped. What
it leaves behind is what a run stopped between its claim and its request leaves.
"""

from __future__ import annotations

import sys
import time

from dwtui.cli import run
from dwtui.domain.operations import OperationKind, OperationRecord
from dwtui.services.operations import OperationStore

HELD = "dwtui-test: claimed; the link request is not sent"


def main() -> int:
    original = OperationStore.mark_sent

    def held(store: OperationStore, claim_id: str) -> OperationRecord:
        record = store.get(claim_id)
        if record is not None and record.kind is OperationKind.LINK:
            print(HELD, file=sys.stderr, flush=True)
            time.sleep(3600)  # until the test stops this process
        return original(store, claim_id)

    OperationStore.mark_sent = held  # type: ignore[method-assign]
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
