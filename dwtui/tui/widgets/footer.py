"""The key bar of every page: Textual's Footer, rebuilt only when its keys change, not their state.

Textual's Footer makes its key widgets anew whenever the screen's bindings are refreshed, and new
widgets lay the whole screen out again (30 to 50 ms on the Environment details page). dwtui refreshes
bindings each time an operation starts, is polled into a new state or ends, and mostly only whether a
key is enabled changes then: that is a style (dim), drawn without a layout.

When the keys do change, the old key widgets must also be let go: each is bound to the footer's
`compact` (Textual's data binding), and Textual drops a removed widget's binding only when `compact`
changes, which it never does here, so every rebuild kept the keys before it alive (15 an hour in
benchmarks/soak.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.screen import Screen


def _closed(node: object) -> bool:
    return bool(getattr(node, "_closing", False) or getattr(node, "_closed", False))


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

    def _forget_removed_keys(self) -> None:
        # Textual keeps a reactive's watchers in the attribute "__watchers" (textual/reactive.py, _watch),
        # as (watching node, callback) pairs; pruning the closed ones is what it does itself on a change.
        watchers: dict[str, list[tuple[object, object]]] = getattr(self, "__watchers", {})
        for name, pairs in watchers.items():
            kept = [(node, callback) for node, callback in pairs if not _closed(node)]
            if len(kept) != len(pairs):
                watchers[name] = kept

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._forget_removed_keys()
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
