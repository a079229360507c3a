"""The page's frame, drawn while the page's code loads: the first thing a person sees.

The Environment details page needs the domain's rules, every flow and their widgets, which take
longer to load than Textual itself. Nothing is known at start anyway (no session, no sign-in, no
read), so the first frame is the page's frame with what is true then: the header with the profile,
the panes' titles, "Starting...", and the keys that work. The App replaces it with the page right
after (same ids, same stylesheets, so the panes stay where they are) and the page fills in from
there.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Label

from dwtui.tui.commands import bindings
from dwtui.tui.environment_details.header import ContextHeader
from dwtui.tui.styles import module_stylesheet
from dwtui.tui.widgets.footer import SteadyFooter

# The page's layout (screen.tcss, beside this module), then each component's own stylesheet; the
# App reads them with its own, so this frame and the page are laid out by the same rules.
STYLESHEETS: list[str | PurePath] = [
    module_stylesheet("dwtui.tui.environment_details.header"),
    Path(__file__).with_name("screen.tcss"),
    *(
        module_stylesheet(module)
        for module in (
            "dwtui.tui.widgets.pane",
            "dwtui.tui.widgets.fields",
            "dwtui.tui.environment_details.power_platform_pane",
            "dwtui.tui.flows.progress.pane",
            "dwtui.tui.widgets.activity_pane",
        )
    ),
]

# The page's own actions that it offers before anything is read (the rest wait for a read).
_OFFERED_AT_START = frozenset({"environments", "fleet", "doctor"})


def _frame(title: str, status: str, pane_id: str) -> Vertical:
    frame = Vertical(Label(status, classes="pane-status", markup=False), id=pane_id)
    frame.border_title = title
    return frame


class StartingScreen(Screen[None]):
    """The Environment details page's frame, before its code has loaded."""

    BINDINGS = bindings()
    AUTO_FOCUS = ""

    def __init__(self, profile_name: str) -> None:
        super().__init__()
        self.profile_name = profile_name

    def compose(self) -> ComposeResult:
        yield ContextHeader(id="header")
        with Horizontal(id="top"):
            yield _frame("Environment", "Starting...", "environment-pane")
            yield _frame(
                "Power Platform Integration", "Waiting for the environment...", "power-platform-pane"
            )
        with Horizontal(id="bottom"):
            yield _frame("Activity", "", "activity-pane")
        yield SteadyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(ContextHeader).show(
            profile=self.profile_name,
            tenant="",
            user="",
            environment="",
            environment_type="",
            production=False,
            read_only=False,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The footer shows what the page shows before its first read.
        return action in _OFFERED_AT_START

    def action_environments(self) -> None:
        self.notify("dwtui is starting; sign-in comes first.", severity="warning")

    action_fleet = action_environments
    action_doctor = action_environments
