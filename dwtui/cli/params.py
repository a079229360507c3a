"""Option types that refuse what no service or simulator could use, as one usage line (exit 2).

`--speed nan` crashed the simulator, a 100,000-character `--environment` crashed the HTTP client
with an invalid URL: values are checked where they are typed, not where they break something.
"""

from __future__ import annotations

import math
from typing import Any

import click

# Longest names dwtui accepts: an LCS environment name, a Dataverse role or business unit name and a
# profile name are all well under these (role names are at most 100 characters in Dataverse); ids
# are 36 characters.
NAME_LIMIT = 200
ID_LIMIT = 100
CONNECTION_STRING_LIMIT = 4096


class FiniteFloat(click.ParamType):
    """A finite number within [low, high]: NaN and infinities are refused by name."""

    name = "number"

    def __init__(self, low: float, high: float) -> None:
        self.low = low
        self.high = high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float) and math.isfinite(value):
            number = value
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a number", param, ctx)
            if not math.isfinite(number):
                self.fail(f"{value!r} is not a finite number", param, ctx)
        if not self.low <= number <= self.high:
            self.fail(f"{number:g} is not between {self.low:g} and {self.high:g}", param, ctx)
        return number

    def __repr__(self) -> str:
        return f"FiniteFloat({self.low:g}, {self.high:g})"


class BoundedText(click.ParamType):
    """Text of at most `limit` characters, without line breaks or NUL (stripped of outer spaces)."""

    name = "text"

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if len(text) > self.limit:
            self.fail(f"is {len(text):,} characters long; at most {self.limit} are accepted", param, ctx)
        if any(ch in text for ch in "\n\r\x00"):
            self.fail("must be one line, without NUL characters", param, ctx)
        return text

    def __repr__(self) -> str:
        return f"BoundedText({self.limit})"


class ProjectId(click.ParamType):
    """An LCS project id: the number in the project's URL, as a profile's lcs_project_id."""

    name = "project"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from dwtui.domain.profile import ProfileError, validate_project_id

        text = str(value).strip()
        try:
            return validate_project_id(text)
        except ProfileError:
            shown = text if len(text) <= 20 and text.isprintable() else f"{text[:20]!r}..."
            self.fail(f"'{shown}' is not an LCS project id (the number in the project's URL)", param, ctx)


SPEED = FiniteFloat(0.01, 1_000_000.0)
PROJECT_ID = ProjectId()
NAME = BoundedText(NAME_LIMIT)
IDENTIFIER = BoundedText(ID_LIMIT)
