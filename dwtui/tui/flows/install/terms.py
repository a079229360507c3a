"""Dual-write application (d): choose the packages, review their terms, then Configure or Cancel.

The dual-write core solution and the Dual-write Application Core are always in the plan when missing;
the optional packages (Finance, Notes, ...) are ticked by the person, and ticking one ticks what it
needs (unticking a package unticks what needs it). Installed packages show their version and cannot
be ticked. Below, the terms of every package of the plan, or the notice that the service lists none
before the install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Button, SelectionList, Static
from textual.widgets.selection_list import Selection

from dwtui.domain.operations import TermsDocument
from dwtui.domain.packages import (
    APPLICATION_KEYS,
    CATALOGUE,
    Installed,
    PackageStatus,
    dependents,
    with_dependencies,
)
from dwtui.domain.text import inert
from dwtui.tui.safe_text import option_prompt
from dwtui.tui.screens.dialog import Dialog

if TYPE_CHECKING:
    from dwtui.services.install import PreparedChoice


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


def _label(status: PackageStatus, required: bool) -> str:
    title = f"{status.package.title:<42}"
    if status.state is Installed.INSTALLED:
        return f"{title} installed {status.version}".rstrip()
    if status.state is Installed.FAILED:
        return f"{title} failed before: install again"
    if status.state is not Installed.NOT_INSTALLED:
        return f"{title} {status.state.value}"
    return f"{title} {'required' if required else 'optional'}"


class TermsScreen(Dialog[tuple[str, ...] | None]):
    """Dismissed with the chosen package keys for Configure; Escape and Cancel give None."""

    CSS_PATH = "terms.tcss"
    DIALOG_ID = "terms-dialog"
    BUTTONS_ID = "terms-buttons"
    KEYS_HINT = "space ticks a package, tab moves, enter presses"

    BINDINGS = [
        Binding("escape", "answer(False)", "Cancel", id="dwtui.terms.cancel", tooltip="Install nothing"),
    ]

    def __init__(self, prepared: PreparedChoice) -> None:
        super().__init__()
        self.prepared = prepared
        statuses = {status.package.key: status for status in prepared.choice.statuses}
        self._choosable = set(prepared.steps)
        # What is missing of the dual-write application is always part of the plan.
        self._required = {key for key in APPLICATION_KEYS if key in self._choosable}
        self._statuses = statuses
        self._chosen: set[str] = set(self._required)

    def dialog_title(self) -> str:
        return "Dual-write application: the packages and their terms"

    def compose_body(self) -> ComposeResult:
        choice = self.prepared.choice
        dataverse = choice.dataverse
        yield Static(
            f"Into {dataverse.display_name} ({dataverse.instance_url}), for {choice.environment.name}. "
            "Space ticks a package; what it needs is ticked with it.",
            id="terms-package",
            markup=False,
        )
        options = []
        for package in CATALOGUE:
            status = self._statuses[package.key]
            required = package.key in self._required
            options.append(
                Selection(
                    option_prompt(_label(status, required)),  # a version is the service's
                    package.key,
                    package.key in self._chosen,
                    id=f"package-{package.key}",
                    disabled=required or package.key not in self._choosable,
                )
            )
        yield SelectionList[str](*options, id="terms-packages", compact=True)
        yield Static("", id="terms-plan", markup=False)
        # The terms take what is left of the frame's height, and scroll.
        with VerticalScroll(id="terms-body", classes="dialog-body"):
            yield Static("", id="terms-text", markup=False)

    def compose_controls(self) -> ComposeResult:
        yield Static(
            "Configure accepts these terms; dwtui then asks once more before it installs.",
            classes="hint",
        )

    def compose_buttons(self) -> ComposeResult:
        yield Button("Configure", id="terms-configure", variant="primary", compact=True)
        yield Button("Cancel (Esc)", id="terms-cancel", compact=True)

    def on_mount(self) -> None:
        self._show_plan()
        # The terms come first: arrow keys scroll them; Tab reaches the list and the buttons.
        self.query_one("#terms-body", VerticalScroll).focus()

    @property
    def chosen(self) -> tuple[str, ...]:
        return tuple(package.key for package in CATALOGUE if package.key in self._chosen)

    @on(SelectionList.SelectedChanged, "#terms-packages")
    def _ticked(self, event: SelectionList.SelectedChanged[str]) -> None:
        selection = event.selection_list
        now = set(selection.selected) | self._required
        added, removed = now - self._chosen, self._chosen - now
        for key in added:
            now |= {need for need in with_dependencies((key,)) if need in self._choosable}
        for key in removed:
            now -= dependents(key)
        now |= self._required
        if now != self._chosen:
            self._chosen = now
            with selection.prevent(SelectionList.SelectedChanged):
                for key in self._choosable:
                    if key in now:
                        selection.select(key)
                    else:
                        selection.deselect(key)
        self._show_plan()

    def _show_plan(self) -> None:
        steps = [self.prepared.steps[key] for key in self.chosen if key in self.prepared.steps]
        plan = ", ".join(f"{number}. {step.package.title}" for number, step in enumerate(steps, start=1))
        self.query_one("#terms-plan", Static).update(f"Plan: {plan or 'nothing to install'}")
        parts = []
        for step in steps:
            parts.append(f"{step.package.title} ({step.unique_name})")
            if step.notice or not step.terms:
                parts.append(step.notice)
            for document in step.terms:
                parts.append(f"-- {document_title(document)}\n{document_text(document)}")
            parts.append("")
        # The terms documents are the service's text: shown inert.
        self.query_one("#terms-text", Static).update(inert("\n".join(parts).strip(), multiline=True))
        self.query_one("#terms-configure", Button).disabled = not steps

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer(event.button.id == "terms-configure")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(self.chosen if yes and self.chosen else None)
