"""The one kind of worker dwtui runs for service calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import work


def service_worker(name: str, description: str) -> Callable[[Callable[..., None]], Any]:
    """A thread worker for blocking service calls (httpx, MSAL, keyring, pyodbc).

    One at a time per name (a new call cancels the old one's result), and failures are not raised
    in the app: they arrive as Worker.StateChanged, which the app routes by this name.
    """
    return work(
        thread=True, exclusive=True, exit_on_error=False, group=name, name=name, description=description
    )
