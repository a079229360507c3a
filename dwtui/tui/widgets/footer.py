"""The key bar of every page: Textual's Footer, rebuilt only when its keys change, not their state.

Textual's Footer makes its key widgets anew whenever the screen's bindings are refreshed, and new
widgets lay the whole screen out again (30 to 50 ms on the Environment details page). dwtui refreshes
bindings each time an operation starts, is polled into a new state or ends, and mostly only whether a
key is enabled changes then: that is a style (dim), drawn without a layout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.screen import Screen

# A key as the footer shows it, apart from whether it is enabled.
_Shape = tuple[str, str, str, str, bool]


class SteadyFooter(Footer):
    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(compact=compact)
        self._shape: tuple[_Shape, ...] | None = None

    def _keys(self, screen: Screen[object]) -> tuple[tuple[_Shape, ...], dict[str, bool]]:
        shapes: list[_Shape] = []
        enabled: dict[str, bool] = {}
        palette = self.app.COMMAND_PALETTE_BINDING
        for key, (_node, binding, is_enabled, tooltip) in screen.active_bindings.items():
            if binding.show or key == palette:
                shapes.append((key, binding.action, binding.description, tooltip, binding.group is None))
                enabled[key] = is_enabled
        return tuple(shapes), enabled

    def bindings_changed(self, screen: Screen[object]) -> None:
        if not (self.is_attached and screen is self.screen and screen.app.app_focus):
            super().bindings_changed(screen)
            return
        shape, enabled = self._keys(screen)
        keys = list(self.query(FooterKey))
        if shape != self._shape or not keys:
            self._shape = shape
            super().bindings_changed(screen)
            return
        for widget in keys:
            now_enabled = enabled.get(widget.key, not widget._disabled)
            if now_enabled == widget._disabled:
                widget._disabled = not now_enabled
                widget.set_class(not now_enabled, "-disabled")
