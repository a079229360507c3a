"""The terms of the dual-write application package, before anything is installed: Configure or Cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from dwtui.domain.operations import TermsDocument

if TYPE_CHECKING:
    from dwtui.services.install import InstallPlan


def document_title(document: TermsDocument) -> str:
    # The URIs are pre-signed storage links: the signature is not something to show off.
    parts = urlsplit(document.uri)
    name = parts.path.rsplit("/", 1)[-1] or document.uri
    return f"{name} ({parts.hostname or 'unknown host'})"


def document_text(document: TermsDocument) -> str:
    if document.error:
        return (
            f"This document could not be read ({document.error}). Open it in a browser before you "
            f"accept:\n{document.uri}"
        )
    return document.text or "(the document is empty)"


class TermsScreen(ModalScreen[bool]):
    """Dismissed with True for Configure; Escape and Cancel say no."""

    CSS_PATH = "terms.tcss"

    BINDINGS = [
        Binding("escape", "answer(False)", "Cancel", id="dwtui.terms.cancel", tooltip="Install nothing"),
    ]

    def __init__(self, plan: InstallPlan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        package = self.plan.listing.package
        dataverse = self.plan.dataverse
        with Vertical(id="terms-dialog", classes="dialog"):
            yield Label("Dual-write application: review the terms", classes="dialog-title")
            yield Static(
                f"{package.application_name or package.unique_name} {package.version}".strip()
                + f"\ninto {dataverse.display_name} ({dataverse.instance_url}), for "
                f"{self.plan.environment.name}",
                id="terms-package",
                markup=False,
            )
            with VerticalScroll(id="terms-body"):
                if self.plan.notice or not self.plan.terms:
                    yield Static(self.plan.notice, id="terms-notice", markup=False)
                for index, document in enumerate(self.plan.terms):
                    yield Label(document_title(document), classes="terms-heading", markup=False)
                    yield Static(
                        document_text(document),
                        id=f"terms-document-{index}",
                        classes="terms-text",
                        markup=False,
                    )
            yield Static(
                "Configure accepts these terms; dwtui then asks once more before it installs.",
                classes="hint",
            )
            with Horizontal(id="terms-buttons"):
                yield Button("Configure", id="terms-configure", variant="primary", compact=True)
                yield Button("Cancel (Esc)", id="terms-cancel", compact=True)

    def on_mount(self) -> None:
        # The terms come first: arrow keys scroll them; Tab reaches the buttons.
        self.query_one("#terms-body", VerticalScroll).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "terms-configure")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
