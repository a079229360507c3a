"""Every action of the Environment details page, once: its key, footer label and palette entry.

The page's footer bindings and the command palette are both built from this table, so an action
cannot exist in one and be missing from the other. A few actions are the App's (refresh, help,
quit): their keys sit in the same table, so the footer keeps one order, and run on the App.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
        "Copy the hyperlink to your own clipboard (OSC 52, also over SSH)",
        show=False,
    ),
    Command(
        "error_details", "", "", "Error details", "Show the code, meaning and remedy of the faults on screen"
    ),
    Command("help", "question_mark", "Help", "Help", "The documented procedure and every key", app_wide=True),
    Command("quit", "q", "Quit", "Quit", "Leave dwtui", app_wide=True),
)


def key_display(key: str) -> str:
    return "?" if key == "question_mark" else key


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
