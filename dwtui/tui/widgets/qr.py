"""A QR code drawn with half-block characters: two modules per character cell, dark on light."""

from __future__ import annotations

import segno
from rich.style import Style
from rich.text import Text
from textual.widgets import Static

# Phones read dark modules on a light ground; the terminal's own colours may be the reverse,
# so both are fixed here rather than taken from the theme (named ANSI colours would be remapped
# by the theme's palette, so they are given as RGB).
_STYLE = Style(color="rgb(0,0,0)", bgcolor="rgb(255,255,255)")
_QUIET_ZONE = 2  # modules; the standard asks for 4, 2 scans reliably on screens and saves rows


def qr_lines(data: str, border: int = _QUIET_ZONE) -> list[str]:
    """The QR code of `data` as text lines, each character holding an upper and a lower module."""
    rows = [list(row) for row in segno.make(data, error="m").matrix_iter(scale=1, border=border)]
    if len(rows) % 2:
        rows.append([0] * len(rows[0]))
    lines = []
    for upper, lower in zip(rows[0::2], rows[1::2], strict=True):
        chars = []
        for top, bottom in zip(upper, lower, strict=True):
            if top and bottom:
                chars.append("\u2588")  # full block
            elif top:
                chars.append("\u2580")  # upper half block
            elif bottom:
                chars.append("\u2584")  # lower half block
            else:
                chars.append(" ")
        lines.append("".join(chars))
    return lines


class QrCode(Static):
    def __init__(self, data: str, *, id: str | None = None) -> None:  # noqa: A002
        self.data = data
        text = Text("\n".join(qr_lines(data)), style=_STYLE, no_wrap=True)
        super().__init__(text, id=id)
