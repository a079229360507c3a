"""The terminal UI's one boundary for text, and the pieces that show outside text on screen.

`InertLines` is a Textual line filter the App applies to every line it paints (panes, dialogs,
tables, notifications, the footer): no control, format or separator character in a segment's text
reaches the terminal, and no link style carries a URL that `safe_https_url` refuses. Textual's own
escape codes are made from styles after the filters ran, never from segment text, so they are not
touched. The layout was already measured by then, with every such character zero cells wide
(a few are one cell), so the filter can only drop them (or put U+FFFD in a cell's place): it is
the guarantee, not the way a person sees them.

Seeing them is the job of the data edges: where a service's text enters a widget it goes through
dwtui.domain.text.inert (a handful of shared places: Fields, the fault box and error details, the
Activity table, notifications, the progress pane, dialogs), so an ESC shows as `\\x1b` and the
layout is measured with that. `link_text` is the one way the TUI makes a hyperlink.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from rich.cells import cell_len
from rich.markup import escape as escape_rich_markup
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.color import Color
from textual.filter import LineFilter

from dwtui.domain.text import UNSAFE, inert, safe_https_url


def _same_cells(match: re.Match[str]) -> str:
    # Keep the cells the layout gave the character: zero-width ones vanish, the rest become U+FFFD.
    return "\ufffd" * cell_len(match.group())


@lru_cache(maxsize=256)
def _linkable(url: str) -> bool:
    # The same few links are painted over and over; parsing each once is enough.
    return safe_https_url(url) == url


def _safe_link(style: Style | None) -> Style | None:
    if style is None or not style.link or _linkable(style.link):
        return style
    return style.update_link(None)


class InertLines(LineFilter):
    """Drops control, format and separator characters from painted text; unlinks unsafe URLs."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        # Nearly every line is printable and unlinked: one pass of cheap checks, no copies.
        for text, style, control in segments:
            if control is None and (not text.isprintable() or (style is not None and style.link)):
                break
        else:
            return segments
        cleaned: list[Segment] = []
        for segment in segments:
            text, style, control = segment
            if control is None:
                if not text.isprintable():
                    text = UNSAFE.sub(_same_cells, text)
                    if not text:
                        continue
                segment = Segment(text, _safe_link(style), control)
            cleaned.append(segment)
        return cleaned


def link_text(url: str) -> Text:
    """The URL as text a terminal with hyperlinks (OSC 8) can follow, when it is a safe https URL
    (and only with itself as the text); otherwise the URL made inert, not linked."""
    if safe_https_url(url) == url:
        return Text(url, style=Style(link=url))
    return Text(inert(url))


def copy_url(app: App[Any], url: str) -> bool:
    """Send the URL to the person's clipboard (OSC 52) only when it could also be a hyperlink; the
    caller says what was sent (dwtui.tui.screens.clipboard), never that it arrived."""
    if safe_https_url(url) != url:
        app.notify("Not copied: the address is not a plain https URL.", severity="warning")
        return False
    app.copy_to_clipboard(url)
    return True


def table_cell(text: str) -> str:
    """A DataTable cell from outside text: inert, and its brackets never read as (Rich) markup."""
    return escape_rich_markup(inert(text))


def option_prompt(text: str) -> Text:
    """An OptionList, Select or SelectionList prompt from outside text: inert, and never read as
    markup (Textual's markup escape leaves `[31m` to its parser, so the prompt is no string at all)."""
    return Text(inert(text))
