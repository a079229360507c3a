"""Child process of benchmarks/first_paint.py: run one app and exit right after its first paint.

The probe wraps Textual's `App._ready` (called once the first screen is composed and mounted) and
asks for a callback after the next refresh, i.e. once that screen has been painted to the terminal.
It then writes the wall-clock time to the file descriptor named by PAINT_PROBE_FD and, unless told
to stay for a while (PAINT_PROBE_SETTLE seconds, to see memory once the app has done its start-up
work), exits. Usage: python paint_probe.py dwtui|bare [app arguments...]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from textual.app import App

_FD = int(os.environ["PAINT_PROBE_FD"])
_SETTLE = float(os.environ.get("PAINT_PROBE_SETTLE", "0"))
_original_ready = App._ready


async def _ready_then_report(self: App[Any]) -> None:
    await _original_ready(self)

    def painted() -> None:
        os.write(_FD, f"{time.time():.6f}\n".encode())
        if _SETTLE > 0:
            self.set_timer(_SETTLE, self.exit)
        else:
            self.exit()

    self.call_after_refresh(painted)


App._ready = _ready_then_report  # type: ignore[method-assign]


def main() -> None:
    which, arguments = sys.argv[1], sys.argv[2:]
    if which == "dwtui":
        from dwtui.cli import main as dwtui_main

        dwtui_main(arguments)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bare_app import BareApp

        BareApp().run()


if __name__ == "__main__":
    main()
