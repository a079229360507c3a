"""The Environment pane: the LCS Environment details fields of one environment."""

from __future__ import annotations

from textual.app import ComposeResult

from dwtui.domain.models import LcsEnvironment
from dwtui.tui.widgets.fields import Fields
from dwtui.tui.widgets.pane import Pane

_ROWS = (
    ("name", "Name"),
    ("id", "Id"),
    ("type", "Type"),
    ("state", "State"),
    ("url", "F&O URL"),
    ("application", "Application"),
    ("platform", "Platform"),
    ("deployed", "Deployed"),
    ("topology", "Topology"),
    ("infrastructure", "Hosting"),
    ("region", "Region"),
)


def _joined(*parts: str, sep: str = " / ") -> str:
    return sep.join(part for part in parts if part)


class EnvironmentPane(Pane):
    TITLE = "Environment"

    def compose_body(self) -> ComposeResult:
        yield Fields("env", _ROWS, id="env-fields")

    def show(self, environment: LcsEnvironment, read_at: str = "") -> None:
        fields = self.query_one("#env-fields", Fields)
        fields.set("name", environment.name)
        fields.set("id", environment.environment_id)
        fields.set("type", environment.environment_type)
        fields.set("state", environment.state_text)
        fields.set("url", environment.fo_url)
        fields.set("application", _joined(environment.application_release, environment.application_version))
        fields.set("platform", _joined(environment.platform_release, environment.platform_version))
        fields.set("deployed", environment.deployed_on_utc)
        fields.set("topology", environment.topology)
        fields.set("infrastructure", _joined(environment.infrastructure, environment.group))
        disaster = (
            f"DR {environment.disaster_recovery_location}" if environment.disaster_recovery_location else ""
        )
        fields.set("region", _joined(environment.storage_location, disaster, sep=", "))
        self.content_shown(read_at=read_at)
