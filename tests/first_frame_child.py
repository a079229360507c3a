"""`dwtui --demo` up to its first frame, then out: which modules that frame needed.

Run as `python tests/first_frame_child.py FD` in a terminal (the test gives it a pseudo-terminal).
The first time Textual writes a rendered frame to the terminal, this writes the names of every
imported module, one per line, to file descriptor FD, and the app exits.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import RenderableType
from textual.app import App
from textual.screen import Screen

_FD = int(sys.argv[1])
_original_display = App._display
_written = False


def _display_then_list_modules(
    self: App[Any], screen: Screen[Any], renderable: RenderableType | None
) -> None:
    global _written
    _original_display(self, screen, renderable)
    if _written or renderable is None or not self._running or self._driver is None:
        return
    _written = True
    os.write(_FD, ("\n".join(sorted(sys.modules)) + "\n").encode())
    os.close(_FD)
    self.call_later(self.exit)


App._display = _display_then_list_modules  # type: ignore[method-assign]

if __name__ == "__main__":
    from dwtui.cli import main

    main(["--demo"])
