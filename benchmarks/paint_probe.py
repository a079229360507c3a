"""Child process of benchmarks/first_paint.py: run one app and exit right after its first paint.

The probe wraps Textual's `App._display`, which writes a rendered screen update to the terminal;
the first time it has written one, that is the first paint. It then writes the wall-clock time to
the file descriptor named by PAINT_PROBE_FD, with the peak RSS so far, and, unless told to stay for a while
(PAINT_PROBE_SETTLE seconds, to see memory once the app has done its start-up work), exits.

(An earlier version waited for a callback after the first refresh. Such a callback runs after any
the app itself queued for "after the first frame", so it timed that work too: the frame was on the
terminal before it.) Usage: python paint_probe.py dwtui|bare [app arguments...]
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import RenderableType
from textual.app import App
from textual.screen import Screen

_FD = int(os.environ["PAINT_PROBE_FD"])
_SETTLE = float(os.environ.get("PAINT_PROBE_SETTLE", "0"))
_original_display = App._display
_reported = False


def _display_then_report(self: App[Any], screen: Screen[Any], renderable: RenderableType | None) -> None:
    global _reported
    _original_display(self, screen, renderable)
    if _reported or renderable is None or not self._running or self._driver is None:
        return
    _reported = True
    # The peak memory so far, read now: the process runs on for a moment before it exits.
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    os.write(_FD, f"{time.time():.6f} {peak_kib}\n".encode())
    if _SETTLE > 0:
        self.set_timer(_SETTLE, self.exit)
    else:
        self.call_later(self.exit)


App._display = _display_then_report  # type: ignore[method-assign]


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
