"""Where a component's styles are: a .tcss file beside its module (`pane.py` is styled by `pane.tcss`).

A screen lists, in its CSS_PATH, the stylesheets of the components it shows. They load as user CSS,
like the app stylesheet (which keeps only layout and theme), so a component's rules take precedence
over Textual's own widget defaults wherever they are written.
"""

from __future__ import annotations

import sys
from pathlib import Path


def beside(*components: type[object]) -> list[Path]:
    """The stylesheet next to the module of each component, in the order given."""
    # The module's file, as inspect.getfile finds it, without importing inspect before the first frame.
    return [
        Path(str(sys.modules[component.__module__].__file__)).with_suffix(".tcss") for component in components
    ]


def module_stylesheet(module: str) -> Path:
    """The stylesheet beside a module of this package, named without importing the module."""
    return Path(__file__).parent.joinpath(*module.removeprefix("dwtui.tui.").split(".")).with_suffix(".tcss")
