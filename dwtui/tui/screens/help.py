"""Help: the documented LCS procedure, step by step with what dwtui does for each, and every key."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Markdown, Static

from dwtui.tui.commands import (
    ANYWHERE_KEYS,
    DIALOG_KEYS,
    DOCTOR_KEYS,
    FLEET_KEYS,
    ONEBOX_KEYS,
    page_keys,
)
from dwtui.tui.screens.dialog import Dialog
from dwtui.tui.styles import beside
from dwtui.tui.widgets.fields import Fields

# "Dual-write setup from Lifecycle Services" (learn.microsoft.com), the steps in its words,
# each followed by where dwtui does it.
PROCEDURE = """\
## Dual-write setup from Lifecycle Services

Prerequisite: the environment's Power Platform Integration is set up (LCS connects the finance and
operations environment with a new or an existing Dataverse instance).

1. On the **Environment Details** page, expand the **Power Platform Integration** section.
   *dwtui: the right-hand pane of the main screen.*
2. Select the **Dual-write application** button. *dwtui: key d.*
3. Review the terms and conditions, and then select **Configure**.
4. Select **OK** to continue.
5. Monitor the progress. Setup typically takes 30 minutes or less. *dwtui: the Progress pane, live.*
6. When the setup is complete, a message says whether it succeeded or failed, with the error. Fix any
   errors before moving to the next step.
7. Select **Link to Power Platform environment** to link Dataverse and the environment's databases.
   It typically takes less than 5 minutes. *dwtui: key l.*
8. When the linking is complete, a hyperlink is displayed. Use it to sign in to the dual-write
   administration area and set up entity mappings.

### One-box development environments (key o)

Create the Dataverse application user (the app registered for the environment, the root business
unit, a role such as System Administrator), enable the `DualWriteUnoAuthenticationFnoToCds` flight in
AXDB, then restart the AOS. Without it, dual-write fails with 0x80072560 "The user is not a member of
the organization".

### Linking mismatch

"Microsoft has detected that your environment is linked via Dual-write to a different destination
than specified in Power Platform Integration, which isn't recommended." The documented remedies:

- If the environment has never been set up for Power Platform Integration, connect it to the
  Dataverse instance that dual-write uses.
- If it is already set up, reset the dual-write connection to the one Power Platform Integration
  specifies (key R).
"""


def key_sections() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(id, heading, rows of key as pressed and what it does), for every screen."""
    return [
        ("main", "Main screen", page_keys()),
        ("anywhere", "Anywhere", list(ANYWHERE_KEYS)),
        ("onebox", "One-box screen (o)", list(ONEBOX_KEYS)),
        ("doctor", "Doctor screen (D)", list(DOCTOR_KEYS)),
        ("fleet", "Fleet screen (F)", list(FLEET_KEYS)),
        ("dialogs", "Dialogs", list(DIALOG_KEYS)),
    ]


class HelpScreen(Dialog[None]):
    CSS_PATH = ["help.tcss", *beside(Fields)]
    DIALOG_ID = "help-dialog"
    KEYS_HINT = "tab moves between the columns, arrows scroll"
    BINDINGS = [
        Binding("escape", "close", "Close", id="dwtui.help.close", tooltip="Close help"),
        Binding(
            "question_mark", "close", "Close", key_display="?", id="dwtui.help.toggle", tooltip="Close help"
        ),
    ]

    def dialog_title(self) -> str:
        return "Help  (Escape closes)"

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="help-body"):
            with VerticalScroll(id="help-procedure-scroll"):
                yield Markdown(PROCEDURE, id="help-procedure")
            with VerticalScroll(id="help-keys-scroll"):
                yield Label("Keys", classes="help-heading")
                for section, heading, rows in key_sections():
                    yield Label(heading, classes="help-keys-heading")
                    numbered = [(str(index), key) for index, (key, _what) in enumerate(rows)]
                    yield Fields(f"help-{section}", numbered, id=f"help-keys-{section}")
                yield Static(
                    "d, l and R show in the footer once the state is known, P and o where they "
                    "apply; the Progress pane names p and w while an install or link is watched, "
                    "and a and c once linked. D (the doctor) and F (the fleet) work anywhere on the page, "
                    "without a place in the footer. A key never acts while a text field has the focus: what "
                    "you type goes into it.",
                    classes="hint",
                )

    def on_mount(self) -> None:
        for section, _heading, rows in key_sections():
            keys = self.query_one(f"#help-keys-{section}", Fields)
            for index, (_key, what) in enumerate(rows):
                keys.set(str(index), what)

    def action_close(self) -> None:
        self.dismiss(None)
