"""Keys that never eat what is typed, and focus that lands where the next key is meant to go.

The one-box screen opens each step on its first empty field or its main button, and Enter does the
step; a step key (1 to 4) acts only while no text field has the focus, and the footer says which keys
apply. Typing a page's or a dialog's keys into any text field types them, and does nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Input,
    OptionList,
    RadioButton,
    RadioSet,
    Select,
    SelectionList,
    Static,
    TabbedContent,
)

import dwtui.tui
from dwtui.tui.app import DwtuiApp
from dwtui.tui.flows.dataverse.dialog import AddDataverseScreen
from dwtui.tui.flows.onebox.checklist import Checklist, Step, StepState
from dwtui.tui.flows.onebox.screen import OneboxScreen
from dwtui.tui.flows.reset.dialog import ResetScreen
from dwtui.tui.screens.confirm import ConfirmChangeScreen
from dwtui.tui.screens.help import HelpScreen
from dwtui.tui.widgets.fields import Fields
from tests.conftest import SimFactory
from tests.tui.onebox_support import build_onebox_app, demo_axdb, open_onebox_screen
from tests.tui.operations_support import operations_app
from tests.tui.support import SIZE, ready, settle, settle_screen

# Every page key, every step key and every dialog key, as a person might type them into a field.
SHORTCUTS = "1234rRedlPoapwcqyn?"


@pytest.fixture
def axdb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    return demo_axdb(tmp_path)


def active_tab(screen: OneboxScreen) -> str:
    return screen.query_one("#onebox-tabs", TabbedContent).active


def footer_keys(screen: Screen[Any]) -> dict[str, bool]:
    """The keys the footer shows, each with whether it is enabled."""
    return {key: active.enabled for key, active in screen.active_bindings.items() if active.binding.show}


def focused_id(app: DwtuiApp) -> str | None:
    focused = app.screen.focused
    return focused.id if focused is not None else None


async def test_a_step_key_on_the_opened_one_box_switches_steps_and_leaves_the_app_id_alone(
    sim_factory: SimFactory, axdb: str
) -> None:
    sim = sim_factory("onebox-no-app-user")
    app = build_onebox_app(sim, axdb, application_id=sim.onebox_client_id)  # pre-filled, as in the demo
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        # The app id is there: step 1 opens on Create once Dataverse's units and roles are in.
        await settle(pilot, lambda: focused_id(app) == "app-user-create")
        assert {"1", "2", "3", "4", "escape"} <= set(footer_keys(screen))
        await pilot.press("2")
        assert active_tab(screen) == "tab-flight"
        assert screen.query_one("#app-id", Input).value == sim.onebox_client_id


async def test_each_step_opens_on_its_button_or_empty_field_and_enter_does_the_step(
    sim_factory: SimFactory, axdb: str
) -> None:
    sim = sim_factory("onebox-no-app-user")
    app = build_onebox_app(sim, axdb)  # no app id: a real VM's, to be typed
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        # The first empty field: the app id. Digits typed there are the app id's.
        assert focused_id(app) == "app-id"
        await pilot.press("3")
        assert active_tab(screen) == "tab-app-user"
        assert screen.query_one("#app-id", Input).value == "3"
        # While typing, the footer offers the way out of the field instead of the step keys.
        keys = footer_keys(screen)
        assert "tab" in keys and "1" not in keys
        await pilot.press("tab")
        assert focused_id(app) != "app-id"
        assert "1" in footer_keys(screen)

        await pilot.press("3")
        await pilot.pause()
        assert active_tab(screen) == "tab-aos" and focused_id(app) == "aos-restart"
        await pilot.press("enter")
        await settle_screen(pilot, ConfirmChangeScreen)
        await pilot.press("n")

        await pilot.press("2")
        await pilot.pause()
        assert active_tab(screen) == "tab-flight" and focused_id(app) == "flight-run"
        await pilot.press("enter")
        await settle_screen(pilot, ConfirmChangeScreen)
        assert "Run these statements on AXDB?" in str(
            app.screen.query_one("#confirm-dialog .dialog-title").render()
        )
        await pilot.press("n")

        # Step 4 with no app id has nothing to verify: nothing takes the focus, and Enter does nothing.
        await pilot.press("4")
        await pilot.pause()
        assert active_tab(screen) == "tab-verify" and focused_id(app) is None
        await pilot.press("1")
        await pilot.pause()
        assert focused_id(app) == "app-id"
        screen.query_one("#app-id", Input).value = sim.onebox_client_id
        await pilot.press("enter")  # Enter in the app id creates the user once the form is complete
        await settle_screen(pilot, ConfirmChangeScreen)
        await pilot.press("n")
        await settle(pilot, lambda: screen.query_one(Checklist).states[Step.APP_USER] is StepState.TODO)

        # Step 4 now opens on the empty secret; Enter there verifies (no secret is stored: it says so).
        await pilot.press("tab")
        await pilot.press("4")
        await pilot.pause()
        assert focused_id(app) == "verify-secret"
        await pilot.press("enter")
        await settle(pilot, lambda: screen.query_one(Checklist).states[Step.VERIFY] is StepState.FAILED)
        assert "client secret" in str(screen.query_one("#verify-fault .fault-text").render())

        # Enter with nothing focused presses the step's button.
        await pilot.press("3")
        assert screen.query_one("#verify-secret", Input).value == "3"  # typed: the field has the focus
        await pilot.press("tab", "3")
        await pilot.pause()
        screen.set_focus(None)
        await pilot.press("enter")
        await settle_screen(pilot, ConfirmChangeScreen)
        await pilot.press("n")


async def test_keys_typed_into_every_one_box_field_are_text_only(sim_factory: SimFactory, axdb: str) -> None:
    sim = sim_factory("onebox-no-app-user")
    app = build_onebox_app(sim, axdb)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        # Every text field of every step, the connection form's too (enabled here to be typed into).
        screen.action_tab("tab-flight")
        await pilot.pause()
        await pilot.click("#mode-form")
        await pilot.click("#login-sql")
        await pilot.pause()
        fields = list(screen.query(Input))
        assert len(fields) >= 10
        # Every placeholder is an instruction, in italics: never something that reads as a value.
        placeholders = [field for field in fields if field.placeholder]
        assert len(placeholders) >= 5
        for field in placeholders:
            assert field.placeholder.startswith("type "), field.placeholder
            assert field.get_component_rich_style("input--placeholder").italic, field.id
        for field in fields:
            tab = screen.query_one("#onebox-tabs", TabbedContent)
            pane = next(node for node in field.ancestors if node.parent is tab.query_one("ContentSwitcher"))
            screen.action_tab(str(pane.id))
            await pilot.pause()
            field.max_length = 0
            field.value = ""
            field.focus()
            await pilot.press(*SHORTCUTS)
            assert field.value == SHORTCUTS, field.id
            assert app.screen is screen and active_tab(screen) == pane.id, field.id
        assert all(value is StepState.TODO for value in screen.query_one(Checklist).states.values())


async def test_keys_typed_into_the_dialogs_fields_are_text_only(sim_factory: SimFactory) -> None:
    sim = sim_factory("mismatch", device_code_lifetime=60.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("R")
        await settle_screen(pilot, ResetScreen)
        field = app.screen.query_one("#reset-name", Input)
        assert app.screen.focused is field
        await pilot.press(*SHORTCUTS)
        assert field.value == SHORTCUTS and isinstance(app.screen, ResetScreen)
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, ResetScreen))

    sim = sim_factory("no-dataverse", device_code_lifetime=60.0)
    app = operations_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("P")
        await settle_screen(pilot, AddDataverseScreen)
        for selector in ("#dataverse-language", "#dataverse-currency"):
            field = app.screen.query_one(selector, Input)
            field.max_length = 0
            field.value = ""
            field.focus()
            await pilot.press(*SHORTCUTS)
            assert field.value == SHORTCUTS and isinstance(app.screen, AddDataverseScreen)
        await pilot.press("escape")


def dwtui_screens() -> Iterator[type[Screen[Any]]]:
    """Every screen class of the TUI (its modules imported first)."""
    for module in pkgutil.walk_packages(dwtui.tui.__path__, "dwtui.tui."):
        importlib.import_module(module.name)
    pending: list[type[Screen[Any]]] = [Screen]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("dwtui."):
            yield cls


async def test_every_binding_has_a_description_and_a_tooltip_and_the_help_lists_its_key(
    sim_factory: SimFactory,
) -> None:
    app = operations_app(sim_factory("happy"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        tables = list(app.screen.query(Fields))
        shown = [label for fields in tables for label in fields.labels()]
        values = " ".join(value for fields in tables for value in fields.values())
    listed = {key for keys in shown for key in keys.split()}
    assert "palette" not in listed  # not a key
    assert {"ctrl+p", "1", "2", "3", "4", "esc", "?", "y", "n", "enter", "tab"} <= listed
    assert "Error details (in the command palette)" in values
    screens = list(dwtui_screens())
    assert {"EnvironmentDetailsScreen", "OneboxScreen", "ResetScreen", "HelpScreen"} <= {
        s.__name__ for s in screens
    }
    for screen in screens:
        for binding in screen.BINDINGS:
            assert isinstance(binding, Binding), (screen, binding)
            assert binding.description and binding.tooltip, (screen.__name__, binding.key)
            shown_as = (
                "?" if binding.key == "question_mark" else "esc" if binding.key == "escape" else binding.key
            )
            assert shown_as in listed, (screen.__name__, binding.key)


async def test_the_palette_on_the_one_box_screen_offers_its_keys_not_the_pages(
    sim_factory: SimFactory, axdb: str
) -> None:
    from textual.command import CommandList

    app = build_onebox_app(sim_factory("onebox-no-app-user"), axdb)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_onebox_screen(pilot)
        await pilot.press("ctrl+p")

        def listed() -> set[str]:
            lists = app.screen.query(CommandList)
            if not lists:
                return set()
            options = lists.first(CommandList).options
            return {str(getattr(option.prompt, "plain", option.prompt)).split("\n")[0] for option in options}

        await settle(pilot, lambda: "Step 3 (3)" in listed())
        titles = listed()
        assert {"Back (esc)", "Step 1 (1)", "Step 4 (4)"} <= titles
        assert "Reset dual-write connection" not in titles and "Refresh" not in titles
        await pilot.press(*"Step 3")
        await settle(pilot, lambda: len(listed()) == 1)
        await pilot.press("enter")
        await settle(pilot, lambda: app.screen is screen)
        assert active_tab(screen) == "tab-aos"


def contrast(style: Style) -> float:
    """WCAG contrast of a cell's foreground against its background."""

    def luminance(color: RichColor) -> float:
        def channel(value: int) -> float:
            v = value / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        red, green, blue = color.get_truecolor()
        return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)

    assert style.color is not None and style.bgcolor is not None
    light, dark = sorted((luminance(style.color), luminance(style.bgcolor)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def left_edge(widget: Widget) -> Segment:
    """The first cell of the widget's middle line, its border included."""
    size = widget.outer_size
    line = widget.render_lines(Region(0, size.height // 2, size.width, 1))[0]
    return next(iter(line))


class Controls(App[None]):
    """Every kind of focusable widget dwtui shows, styled by the app's own stylesheet."""

    CSS_PATH = [Path(dwtui.tui.__file__).with_name("app.tcss")]

    def compose(self) -> ComposeResult:
        yield Button("Create application user", id="button", compact=True)
        yield Button("Run...", id="warning", variant="warning", compact=True)
        yield Input("3c5e7a9b-1d2f-4e6a-8b0c-2d4f6a8c0e1b", id="input", compact=True)
        yield Select[str]([("contosodev (root)", "root")], value="root", id="select", compact=True)
        yield Checkbox("Encrypt", True, id="checkbox", compact=True)
        with RadioSet(id="radios", compact=True):
            yield RadioButton("Form", value=True, compact=True)
            yield RadioButton("ODBC connection string", compact=True)
        yield SelectionList[str](("Dual-write Finance", "finance"), id="selection", compact=True)
        yield OptionList("contoso-uat", "contoso-prod", id="options")
        table: DataTable[str] = DataTable(id="table")
        table.add_columns("Service", "Status")
        table.add_row("Dataverse", "200")
        yield table
        with VerticalScroll(id="scroll"):
            yield Static("The terms of the dual-write packages...\n" * 3)


async def test_focus_shows_as_a_bar_in_every_theme() -> None:
    app = Controls()
    async with app.run_test(size=(80, 40)) as pilot:
        themes = sorted(app.available_themes)
        assert len(themes) >= 20
        widgets = list(
            app.screen.query(
                "#button, #warning, #input, #select, #checkbox, #radios, #selection, "
                "#options, #table, #scroll"
            )
        )
        for theme in themes:
            app.theme = theme
            previous: Widget | None = None
            for widget in [*widgets, None]:
                app.screen.set_focus(widget)
                await pilot.pause()
                if previous is not None:
                    # Nothing moves: the cell is blank once the focus left (a list keeps its border).
                    assert left_edge(previous).text != "▐", (theme, previous.id)
                previous = widget
                if widget is None:
                    continue
                bar = left_edge(widget)
                assert bar.text == "▐" and bar.style is not None, (theme, widget.id, bar)
                assert not bar.style.reverse
                if app.get_theme(theme).ansi:
                    # The terminal's own text colour on its background: always readable.
                    assert bar.style.color is not None and bar.style.color.is_default, (theme, widget.id)
                else:
                    assert contrast(bar.style) >= 3.0, (theme, widget.id, contrast(bar.style))


async def test_the_main_screen_focuses_nothing_hidden_and_tab_shows_the_focus(
    sim_factory: SimFactory,
) -> None:
    app = operations_app(sim_factory("happy"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        # Nothing unseen has the focus (Enter would press it): nothing does, until Tab.
        assert app.screen.focused is None
        seen = []
        while len(seen) < 5:
            await pilot.press("tab")
            focused = app.screen.focused
            assert focused is not None and focused.display and left_edge(focused).text == "▐", focused
            seen.append(focused.id)
        assert "setup" in seen  # Dual-write application, the enabled action
