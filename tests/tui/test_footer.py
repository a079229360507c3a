"""The key bar keeps its key widgets when only whether a key is enabled changes (issue 13: a new set
of widgets laid the whole page out again each time an operation was polled into a new state)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from dwtui.tui.widgets.footer import SteadyFooter


class KeysApp(App[None]):
    BINDINGS = [
        Binding("i", "install", "Install"),
        Binding("l", "link", "Link"),
        Binding("x", "extra", "Extra"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.can_install = True
        self.show_extra = False

    def compose(self) -> ComposeResult:
        yield Static("page")
        yield SteadyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "install":
            return True if self.can_install else None  # None: shown, dimmed
        if action == "extra":
            return self.show_extra  # False: not shown at all
        return True

    def action_install(self) -> None: ...
    def action_link(self) -> None: ...
    def action_extra(self) -> None: ...


def keys(app: KeysApp) -> dict[str, FooterKey]:
    return {widget.key: widget for widget in app.query(FooterKey)}


async def test_only_the_enabled_state_changes_in_place_and_new_keys_rebuild_the_bar() -> None:
    app = KeysApp()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        first = keys(app)
        assert set(first) >= {"i", "l"} and "x" not in first
        assert not first["i"].has_class("-disabled")

        app.can_install = False
        app.refresh_bindings()
        await pilot.pause()
        dimmed = keys(app)
        assert all(dimmed[key] is first[key] for key in first)
        assert dimmed["i"].has_class("-disabled") and dimmed["i"]._disabled
        assert not dimmed["l"].has_class("-disabled")

        app.can_install = True
        app.refresh_bindings()
        await pilot.pause()
        assert not keys(app)["i"].has_class("-disabled")
        assert keys(app)["i"] is first["i"]

        app.show_extra = True
        app.refresh_bindings()
        await pilot.pause()
        rebuilt = keys(app)
        assert "x" in rebuilt
        assert rebuilt["i"] is not first["i"]


async def test_rebuilding_the_bar_lets_the_old_key_widgets_go() -> None:
    """Each rebuild left the old keys bound to the footer (Textual's data binding), alive for good."""
    app = KeysApp()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        old = list(keys(app).values())
        for show in (True, False, True, False):
            app.show_extra = show
            app.refresh_bindings()
            await pilot.pause()
        await pilot.pause()
        footer = app.query_one(SteadyFooter)
        bound = {id(node) for pairs in getattr(footer, "__watchers", {}).values() for node, _ in pairs}
        assert not bound & {id(widget) for widget in old}
        assert set(keys(app)) >= {"i", "l"}
