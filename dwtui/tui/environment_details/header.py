"""The one-line header: who is signed in where, and whether changes are allowed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from dwtui.domain.text import inert


class ContextHeader(Horizontal):
    """Profile, tenant, signed-in user, environment, where tokens are kept; a PRODUCTION badge and
    read-only mode."""

    def compose(self) -> ComposeResult:
        yield Label("dwtui", id="header-app")
        yield Label("PRODUCTION", id="header-production")
        yield Label("read-only", id="header-read-only")
        yield Label("", id="header-context", markup=False)

    def show(
        self,
        *,
        profile: str,
        tenant: str,
        user: str,
        environment: str,
        environment_type: str,
        production: bool,
        read_only: bool,
        tokens: str = "",
    ) -> None:
        """`tokens`: the token store's short name (dwtui.services.secrets), "" before a session."""
        # Most important first: a narrow terminal cuts the tail (the tenant).
        parts = [
            (f"{environment} ({environment_type})" if environment_type else environment) or "no environment",
            user or "not signed in",
            f"profile {profile}",
        ]
        if tokens:
            parts.append(f"tokens: {tokens}")
        if tenant:
            parts.append(f"tenant {tenant}")
        self.query_one("#header-context", Label).update(inert(" | ".join(parts)))
        self.query_one("#header-production", Label).display = production
        self.query_one("#header-read-only", Label).display = read_only
