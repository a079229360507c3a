"""A second dwtui process for the resume tests: signs in, starts the install and watches it.

Run as `python tests/install_child.py CONFIG_JSON`; the parent kills it mid-install. It prints
one line, "attached <operation id>", once the operation id is in the store.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dwtui.domain.profile import parse_profile
from dwtui.services.activity import ActivityLog
from dwtui.services.install import prepare_install, start_install
from dwtui.services.operations import OperationStore
from dwtui.services.secrets import SecretStore
from dwtui.services.session import Session
from dwtui.services.watch import watch


def main() -> int:
    config = json.loads(sys.argv[1])
    session = Session(
        parse_profile("sim", config["profile"]), secrets=SecretStore(memory_only=True), activity=ActivityLog()
    )
    prompt = session.auth.start_device_flow()
    session.auth.finish_device_flow(prompt, lambda: False)
    store = OperationStore(Path(config["store"]))
    environment = session.environment(session.profile.environment_id)
    plan = prepare_install(session, environment, session.power_platform(environment))
    record = start_install(session, plan, store)
    print(f"attached {record.operation_id}", flush=True)
    watch(session.ppapi, record, on_event=lambda event: None, store=store, speed=float(config["speed"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
