"""The environment picker: the LCS project's environments (name, type, state); Enter opens one."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from dwtui.domain.models import Fault, LcsEnvironment
from dwtui.domain.text import inert
from dwtui.tui.safe_text import option_prompt
from dwtui.tui.screens.dialog import Dialog
from dwtui.tui.widgets.pane import describe_fault


def _row(environment: LcsEnvironment) -> Text:
    state = environment.deployment_status or environment.deployment_state
    # Padded as shown: a name's escapes count towards its column.
    name = inert(environment.name)
    return option_prompt(f"{name:<28} {environment.environment_type:<12} {state}")


class EnvironmentPickerScreen(Dialog[LcsEnvironment | None]):
    CSS_PATH = "picker.tcss"
    DIALOG_ID = "picker-dialog"
    KEYS_HINT = "arrows choose, enter opens the environment"
    BINDINGS = [
        Binding("escape", "close", "Cancel", id="dwtui.picker.cancel", tooltip="Keep this environment")
    ]

    def __init__(
        self, project_id: str, current_id: str = "", environments: list[LcsEnvironment] | None = None
    ) -> None:
        super().__init__()
        self.project_id = project_id
        self.current_id = current_id
        self.environments: list[LcsEnvironment] = []
        self._initial = environments
        self._answered = False

    def dialog_title(self) -> str:
        return f"Environments of LCS project {self.project_id}"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="picker-body", classes="dialog-body"):
            yield Static(f"{'Name':<28} {'Type':<12} State", id="picker-heading", markup=False)
            yield OptionList(id="picker-list")
            yield Static("Reading the project's environments...", id="picker-status", markup=False)

    def on_mount(self) -> None:
        if self._initial is not None:
            self.show_environments(self._initial)
        elif not self._answered:
            # LCS may have answered between compose and mount: the list must not wait for it again.
            self.query_one("#picker-list", OptionList).loading = True

    def set_status(self, text: str) -> None:
        status = self.query_one("#picker-status", Static)
        status.update(text)
        status.display = bool(text)

    def show_environments(self, environments: list[LcsEnvironment]) -> None:
        self._answered = True
        self.environments = list(environments)
        options = self.query_one("#picker-list", OptionList)
        options.loading = False
        options.clear_options()
        options.add_options(Option(_row(env), id=env.environment_id) for env in self.environments)
        for index, env in enumerate(self.environments):
            if env.environment_id == self.current_id:
                options.highlighted = index
        self.set_status("" if self.environments else "The project has no environments you can see.")
        options.focus()

    def show_fault(self, fault: Fault) -> None:
        self._answered = True
        self.query_one("#picker-list", OptionList).loading = False
        self.set_status(describe_fault(fault))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = next((e for e in self.environments if e.environment_id == event.option.id), None)
        self.dismiss(chosen)

    def action_close(self) -> None:
        self.dismiss(None)
