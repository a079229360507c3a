"""SecretStore against a real Secret Service (gnome-keyring), run inside `dbus-run-session`.

Run as `python tests/secret_service_child.py unlocked|none` by tests/test_secret_service.py, with
PYTHON_KEYRING_BACKEND naming keyring's SecretService backend and DWTUI_SECRET_STORE=os (the OS
keyring or memory, as before the headless stores). Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
from contextlib import closing

import secretstorage

from dwtui.services.secrets import CHUNK_SIZE, SecretStore

SERVICE = "dwtui-test"


def main() -> int:
    case = sys.argv[1]
    seen: dict[str, object] = {}
    first = SecretStore(SERVICE)
    seen["first"] = {"secure": first.secure, "backend": first.backend_name, "warning": first.warning}
    if case == "unlocked":
        big = "t" * (CHUNK_SIZE * 3 + 7)  # a token cache is larger than one entry may be
        first.set("profile:token-cache", big)
        # A second store, as in the next run: the value comes back from the daemon.
        seen["read_back"] = SecretStore(SERVICE).get("profile:token-cache") == big
        with closing(secretstorage.dbus_init()) as connection:
            secretstorage.get_default_collection(connection).lock()
        locked = SecretStore(SERVICE)
        seen["locked"] = {"secure": locked.secure, "backend": locked.backend_name, "warning": locked.warning}
    # DWTUI_SECRET_STORE=os above; by default the next store takes over, saying why (nothing is
    # written to it here).
    chosen = SecretStore(SERVICE, environ={})
    seen["auto"] = {"label": chosen.label, "not_used": chosen.not_used}
    print(json.dumps(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
