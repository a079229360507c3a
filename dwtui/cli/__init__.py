"""The `dwtui` command: the TUI when no command is given, headless commands otherwise.

Each module registers its commands on the group in dwtui.cli.root, which imports a module only
when one of its commands is asked for (root.COMMAND_MODULES). Every failure a person can fix ends
in one line on stderr and a documented exit code, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from dwtui.cli.root import cli, run
from dwtui.cli.runtime import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SERVICE,
    EXIT_SIGN_IN,
    Failure,
    Runtime,
)
from dwtui.cli.terminal_text import install_inert_streams

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SERVICE",
    "EXIT_SIGN_IN",
    "Failure",
    "Runtime",
    "cli",
    "main",
    "run",
]


def main(argv: Sequence[str] | None = None) -> None:
    # For the whole process, not only run(): a traceback of a bug passes the boundary too.
    install_inert_streams()
    sys.exit(run(argv))
