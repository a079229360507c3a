"""The audit trail of changes: every change dwtui makes to a system is one Activity entry."""

from __future__ import annotations

import time

from dwtui.domain.models import LcsEnvironment
from dwtui.services.activity import ActivityEntry
from dwtui.services.session import Session


def record_change(
    session: Session,
    environment: LcsEnvironment,
    what: str,
    result: str,
    detail: str = "",
    *,
    service: str,
) -> None:
    """One Activity entry of kind "change": what dwtui changed, where, by whom, with what result."""
    who = session.auth.signed_in()
    session.activity.record(
        ActivityEntry(
            at=time.time(),
            kind="change",
            summary=f"{what} on {environment.name}: {result}",
            service=service,
            detail="; ".join(
                part
                for part in (
                    f"by {who.username}" if who else "by an unknown identity",
                    f"environment {environment.name} ({environment.environment_id})",
                    detail,
                )
                if part
            ),
        )
    )
