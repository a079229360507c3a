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
    sys.exit(run(argv))
