"""Every action of the Environment details page, once: its key, footer label and palette entry.

The page's footer bindings and the command palette are both built from this table, so an action
cannot exist in one and be missing from the other. A few actions are the App's (refresh, help,
quit): their keys sit in the same table, so the footer keeps one order, and run on the App.

The other screens' keys are listed here too, as the help screen shows them (each screen binds its
own; a test holds the two together), and every screen's bindings are in the command palette.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.actions import parse as parse_action
from textual.app import SystemCommand
from textual.binding import Binding, BindingType

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen


@dataclass(frozen=True, slots=True)
class Command:
    action: str  # the App's action_<name>
    key: str  # Textual key name; "" = palette only
    label: str  # footer label: a word or two, so that ? Help and q Quit fit 80 columns
    title: str  # command palette title
    help: str  # command palette help line and binding tooltip
    show: bool = True  # shown in the footer
    app_wide: bool = False  # the App's action (session-wide), not the page's


COMMANDS: tuple[Command, ...] = (
    Command(
        "refresh",
        "r",
        "Refresh",
        "Refresh",
        "Read the environment and its Power Platform Integration again",
        app_wide=True,
    ),
    Command("environments", "e", "Envs", "Environments", "Choose another environment of the LCS project"),
    # Not in the footer, like D: it would push ? Help and q Quit out at 80 columns.
    Command(
        "fleet",
        "F",
        "Fleet",
        "Fleet",
        "Every environment of the LCS projects at a glance: integration, Dataverse, packages, link, "
        "mismatch, running operation and the doctor's worst finding; Enter opens one",
        show=False,
    ),
    Command(
        "add_dataverse",
        "P",
        "Dataverse",
        "Add Dataverse",
        "Add Dataverse to the Power Platform environment linked to this environment (it has none yet)",
    ),
    Command(
        "setup",
        "d",
        "Install",
        "Dual-write application",
        "Install the dual-write application and the dual-write packages you choose (terms, Configure, "
        "OK) and watch their progress",
    ),
    Command(
        "link",
        "l",
        "Link",
        "Link to Power Platform environment",
        "Link the dual-write connection to the Dataverse Power Platform Integration names",
    ),
    Command(
        "reset",
        "R",
        "Reset",
        "Reset dual-write connection",
        "Reset the dual-write connection to the Dataverse Power Platform Integration names",
    ),
    Command(
        "onebox", "o", "One-box", "One-box", "Application user, flight SQL and AOS restart on a one-box VM"
    ),
    # Not in the footer: it applies everywhere on the page, and the footer is short at 80 columns.
    Command(
        "doctor",
        "D",
        "Doctor",
        "Doctor",
        "Check every prerequisite of dual-write for this environment, each with its evidence and remedy",
        show=False,
    ),
    # Named by the Progress pane while an install or link is watched, or once the admin link is known
    # (not in the footer, which must keep ? Help and q Quit at 80 columns); in the palette and help.
    Command(
        "poll_now", "p", "Poll now", "Poll now", "Ask the service for the operation's state now", show=False
    ),
    Command(
        "stop_watching",
        "w",
        "Stop watching",
        "Stop watching",
        "Stop watching the install or link (it goes on in the service; r watches it again)",
        show=False,
    ),
    Command(
        "admin_link",
        "a",
        "Admin link",
        "Dual-write administration link",
        "The hyperlink to the dual-write administration area, with a QR code",
        show=False,
    ),
    Command(
        "copy_link",
        "c",
        "Copy link",
        "Copy the dual-write administration link",
        "Send the hyperlink to your own clipboard (OSC 52, also over SSH) and show it to select",
        show=False,
    ),
    Command(
        "error_details", "", "", "Error details", "Show the code, meaning and remedy of the faults on screen"
    ),
    Command("help", "question_mark", "Help", "Help", "The documented procedure and every key", app_wide=True),
    Command("quit", "q", "Quit", "Quit", "Leave dwtui", app_wide=True),
)


# The keys of the screens over the page, as pressed, for the help screen.
ANYWHERE_KEYS: tuple[tuple[str, str], ...] = (
    ("ctrl+p", "Command palette: every action of the screen by name, and Error details"),
    ("ctrl+q", "Quit, from any screen"),
)
ONEBOX_KEYS: tuple[tuple[str, str], ...] = (
    ("1 2 3 4", "The steps: application user, flight, AOS restart, verify (while no text field has focus)"),
    ("enter", "The step's main action: the focused button, or the step's button from a text field"),
    ("tab", "Next field, button or list (shift+tab goes back); leaves a text field"),
    ("esc", "Back to the main screen"),
)
DOCTOR_KEYS: tuple[tuple[str, str], ...] = (
    ("r", "Run every check again (the run under way stops first)"),
    ("tab", "The table, then the selected check's details"),
    ("esc", "Back to the main screen (a run under way stops)"),
)
FLEET_KEYS: tuple[tuple[str, str], ...] = (
    ("enter", "Open the highlighted environment on the main screen"),
    ("f", "Filter: type letters, the rows whose name, type or state hold them stay (enter: to the table)"),
    ("s S", "Sort by the next column; S reverses the order (or click a column's heading)"),
    ("r", "Refresh: list LCS again and read every fact again"),
    ("esc", "Back to the main screen (from the filter: back to the table)"),
)
DIALOG_KEYS: tuple[tuple[str, str], ...] = (
    ("y n", "Yes or No, in a confirmation (No has the focus)"),
    ("c", "Send the link or address to your clipboard, in the dual-write administration and link dialogs"),
    ("enter", "Press the focused button"),
    ("esc", "Cancel or close; stop waiting for a sign-in"),
    ("?", "Close this help"),
)

KEY_NAMES = {"question_mark": "?", "escape": "esc"}


def key_display(key: str) -> str:
    """A Textual key name as a person presses it."""
    return KEY_NAMES.get(key, key)


def page_keys() -> list[tuple[str, str]]:
    """The page's keys with their actions' names; an action with no key of its own is in the palette."""
    return [
        (key_display(c.key), c.title) if c.key else ("ctrl+p", f"{c.title} (in the command palette)")
        for c in COMMANDS
    ]


def bindings() -> list[BindingType]:
    """The page's key bindings; the App's actions are named with their `app.` namespace."""
    return [
        Binding(
            command.key,
            f"app.{command.action}" if command.app_wide else command.action,
            command.label,
            show=command.show,
            key_display=key_display(command.key),
            id=f"dwtui.{command.action}",
            tooltip=command.help,
        )
        for command in COMMANDS
        if command.key
    ]


def system_commands(app: App[int], page: Screen[None]) -> Iterable[SystemCommand]:
    # The palette calls the action methods directly, not through check_action: an action that
    # cannot run explains why (a notification) instead of doing nothing.
    for command in COMMANDS:
        target = app if command.app_wide else page
        yield SystemCommand(command.title, command.help, getattr(target, f"action_{command.action}"))


def screen_commands(app: App[int], screen: Screen[object]) -> Iterable[SystemCommand]:
    """The palette of a screen over the page: its own keys by name (the page's would act behind it)."""
    for binding in type(screen).BINDINGS:
        if not isinstance(binding, Binding) or not binding.description or binding.system:
            continue
        namespace, name, parameters = parse_action(binding.action)
        method = getattr(app if namespace == "app" else screen, f"action_{name}", None)
        if method is None:
            continue

        # Called directly, as the page's are: a key that does not apply right now (a step key while
        # a text field has focus) still does what its name says from the palette.
        async def run(
            method: Callable[..., object] = method, parameters: tuple[object, ...] = parameters
        ) -> None:
            result = method(*parameters)
            if inspect.isawaitable(result):
                await result

        key = key_display(binding.key)
        yield SystemCommand(f"{binding.description} ({key})", binding.tooltip or binding.description, run)
