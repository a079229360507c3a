"""How far start-up got: the App, the page and tests follow it (a module of its own, so the App's
first frame does not load the page's data types to name it)."""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """How far start-up got: the session, the sign-in, then the page's reads."""

    STARTING = "starting"
    SIGNING_IN = "signing in"
    LOADING = "loading"
    CHOOSING = "choosing an environment"
    READY = "ready"
    FAILED = "failed"
