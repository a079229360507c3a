"""The Power Platform Integration pane: Dataverse, integration, dual-write application, link, mismatch."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Label, Static

from dwtui.domain.assessment import (
    MISMATCH_WARNING,
    NOT_INTEGRATED_CODE,
    Action,
    AppState,
    Assessment,
    IntegrationState,
    LinkState,
    Mismatch,
    Remedy,
)
from dwtui.domain.errors import explain
from dwtui.domain.models import DataverseEnvironment, DualWriteLink, Fault, PowerPlatformSnapshot
from dwtui.domain.packages import Installed, PackageStatus
from dwtui.domain.text import inert
from dwtui.tui.environment_details.connect_steps import connect_steps
from dwtui.tui.widgets.fields import Fields
from dwtui.tui.widgets.pane import FaultBox, Pane

_ROWS = (
    ("dataverse", "Dataverse"),
    ("url", "Dataverse URL"),
    ("environment-id", "Environment id"),
    ("org-id", "Organization id"),
    ("integration", "Integration"),
    ("app", "Dual-write app"),
    ("link", "Dual-write link"),
    ("linked", "Linked URL"),
)

# The buttons of the LCS page, in its order, with the action each one runs.
BUTTONS: tuple[tuple[Action, str, str], ...] = (
    (Action.ADD_DATAVERSE, "add_dataverse", "Add Dataverse"),
    (Action.SETUP_DUAL_WRITE, "setup", "Dual-write application"),
    (Action.LINK, "link", "Link to Power Platform environment"),
    (Action.RESET, "reset", "Reset dual-write connection"),
)

# The two documented remedies; the documentation picks one by whether the integration was ever set up.
REMEDY_CONDITIONS: dict[Remedy, str] = {
    Remedy.CONNECT_INTEGRATION: "never set up",
    Remedy.RESET_CONNECTION: "already set up",
}


def remedy_lines(mismatch: Mismatch) -> list[str]:
    """The remedy that applies first, then the other one with the condition it needs."""

    def text(remedy: Remedy) -> str:
        return f"{remedy.value} (key R)" if remedy is Remedy.RESET_CONNECTION else remedy.value

    other = next(remedy for remedy in Remedy if remedy is not mismatch.remedy)
    return [
        f"Applies: {text(mismatch.remedy)}.",
        f"Otherwise (integration {REMEDY_CONDITIONS[other]}): {text(other)}.",
    ]


NO_DATAVERSE_HINT = (
    "LCS gave this environment a Power Platform environment without Dataverse. Dual-write needs "
    "Dataverse: press P to add it (or use Setup in LCS's Power Platform Integration section)."
)


def packages_text(packages: tuple[PackageStatus, ...]) -> str:
    """Every dual-write package with its state and installed version, the core's included."""
    if not packages:
        return ""
    marks = {Installed.INSTALLED: "[x]", Installed.FAILED: "[-]", Installed.INSTALLING: "[~]"}
    lines = ["Dual-write packages:"]
    for status in packages:
        state = f"{status.state.value} {status.version}".strip()
        lines.append(f"{marks.get(status.state, '[ ]')} {status.package.title}: {state}")
    return "\n".join(lines)


def _dataverse_text(part: DataverseEnvironment | Fault | None) -> str:
    if isinstance(part, DataverseEnvironment):
        if not part.instance_url:
            return f"none yet: Power Platform environment {part.display_name} has no Dataverse"
        name = part.display_name
        if part.unique_name and part.unique_name != part.display_name:
            name = f"{name} ({part.unique_name})"
        return f"{name}, {part.instance_state}" if part.instance_state else name
    if isinstance(part, Fault):
        return f"could not be read ({part.code or part.service})"
    return "none: no Power Platform environment is linked to this environment"


def _app_text(assessment: Assessment) -> str:
    if assessment.app is AppState.INSTALLED and assessment.app_version:
        return f"installed (version {assessment.app_version})"
    return assessment.app.value


def _link_text(assessment: Assessment, link: DualWriteLink | Fault | None) -> str:
    if assessment.link is LinkState.LINKED and isinstance(link, DualWriteLink):
        return f"linked to {link.dataverse_name or link.dataverse_url}"
    return assessment.link.value


class MismatchBox(Vertical):
    """The linking mismatch warning: both Dataverse URLs and the remedy that applies.

    Its parts are mounted when the first mismatch is shown: few environments ever have one, and
    every widget mounted before the first frame delays it.
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.border_title = "Linking mismatch"
        self.mismatch: Mismatch | None = None
        self._integration_url = Static("", id="mismatch-integration-url", markup=False)
        self._dual_write_url = Static("", id="mismatch-dual-write-url", markup=False)
        self._remedies = Static("", id="mismatch-remedies", markup=False)

    def on_mount(self) -> None:
        self.display = self.mismatch is not None

    def show(self, mismatch: Mismatch | None) -> None:
        self.mismatch = mismatch
        self.display = mismatch is not None
        if mismatch is None:
            return
        self._integration_url.update(inert(mismatch.integration_dataverse_url) or "none (not set up)")
        self._dual_write_url.update(inert(mismatch.dual_write_dataverse_url))
        lines = remedy_lines(mismatch)
        if mismatch.remedy is Remedy.CONNECT_INTEGRATION:
            lines.append(connect_steps(mismatch.dual_write_dataverse_url))
        self._remedies.update(inert("\n".join(lines), multiline=True))
        if self._remedies.parent is None:
            self.mount_all(self._parts())

    def _parts(self) -> list[Widget]:
        def side(heading: str, url: Static) -> Vertical:
            return Vertical(Label(heading, classes="mismatch-heading"), url, classes="mismatch-side")

        return [
            Static(MISMATCH_WARNING, id="mismatch-warning", markup=False),
            Horizontal(
                side("Power Platform Integration", self._integration_url),
                side("Dual-write", self._dual_write_url),
                id="mismatch-urls",
            ),
            self._remedies,
        ]


class PowerPlatformPane(Pane):
    TITLE = "Power Platform Integration"

    def compose_body(self) -> ComposeResult:
        # The warning comes first, as on the LCS page: it is what the person must act on.
        yield MismatchBox(id="mismatch")
        yield Fields("ppi", _ROWS, id="ppi-fields")
        yield Static("", id="ppi-hint", markup=False)
        yield FaultBox(id="ppi-faults")
        with Vertical(id="ppi-actions"):
            for _action, name, label in BUTTONS:
                with Horizontal(classes="ppi-action", id=f"{name}-row"):
                    yield Button(label, id=name, action=f"screen.{name}", compact=True, disabled=True)
                    yield Static("", id=f"{name}-reason", classes="ppi-action-reason", markup=False)
        yield Static("", id="ppi-packages", markup=False)

    def show(self, snapshot: PowerPlatformSnapshot, assessment: Assessment, read_at: str = "") -> None:
        fields = self.query_one("#ppi-fields", Fields)
        dataverse = snapshot.dataverse
        fields.set("dataverse", _dataverse_text(dataverse))
        if isinstance(dataverse, DataverseEnvironment):
            fields.set("url", dataverse.instance_url)
            fields.set("environment-id", dataverse.bap_environment_id)
            fields.set("org-id", dataverse.organization_id)
        else:
            for key in ("url", "environment-id", "org-id"):
                fields.set(key, "")
        fields.set("integration", assessment.integration.value)
        fields.set("app", _app_text(assessment))
        fields.set("link", _link_text(assessment, snapshot.link))
        link = snapshot.link
        linked = isinstance(link, DualWriteLink) and link.linked
        fields.set("linked", link.dataverse_url if isinstance(link, DualWriteLink) and linked else "")

        hint = self.query_one("#ppi-hint", Static)
        if assessment.integration is IntegrationState.NO_DATAVERSE:
            hint.update(NO_DATAVERSE_HINT)
            hint.display = True
        elif assessment.integration is IntegrationState.NOT_SET_UP:
            explanation = explain(Fault(service="Dataverse", message="", code=NOT_INTEGRATED_CODE))
            hint.update(f"{explanation.meaning} {explanation.remedy}")
            hint.display = True
        else:
            hint.display = False

        self._show_mismatch(assessment.mismatch)
        self.query_one("#ppi-faults", FaultBox).show(assessment.faults, "Some sources could not be read:")
        self._show_actions(assessment)
        packages = self.query_one("#ppi-packages", Static)
        packages.update(inert(packages_text(assessment.packages), multiline=True))
        packages.display = bool(assessment.packages)
        self.content_shown(read_at=read_at)

    def _show_mismatch(self, mismatch: Mismatch | None) -> None:
        self.query_one("#mismatch", MismatchBox).show(mismatch)

    def _show_actions(self, assessment: Assessment) -> None:
        # Add Dataverse is a step only some environments need: its row shows only for them.
        needed = assessment.integration is IntegrationState.NO_DATAVERSE
        self.query_one("#add_dataverse-row").display = needed
        for action, name, _label in BUTTONS:
            availability = assessment.actions[action]
            button = self.query_one(f"#{name}", Button)
            button.disabled = not availability.enabled
            button.tooltip = availability.reason or None
            reason = availability.reason
            if action is Action.LINK and availability.enabled:
                reason = "the gateway's link request is unverified (no public source shows it)"
            self.query_one(f"#{name}-reason", Static).update(inert(reason))
