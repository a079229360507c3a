"""Hostile text for the boundary tests: what it is made of, and what must never reach a terminal.

The checks here are written out independently of dwtui.domain.text, so a mistake in its character
list cannot make the tests agree with it.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

C0 = [chr(code) for code in range(0x20)]
C1 = [chr(code) for code in range(0x80, 0xA0)]
BIDI = [
    "\u061c",
    "\u200e",
    "\u200f",
    *(chr(c) for c in range(0x202A, 0x202F)),
    *(chr(c) for c in range(0x2066, 0x206A)),
]
# Whole and partial sequences: a lone ESC, CSI, OSC 52 with and without its terminator, ST, a
# hyperlink that hides its target, the window title, and markup a widget could read.
SEQUENCES = [
    "\x1b",
    "\x1b[",
    "\x1b[2J",
    "\x1b[31m",
    "\x1b]52;c;ZHd0dWk=",
    "\x1b]52;c;ZHd0dWk=\x07",
    "\x1b]52;c;ZHd0dWk=\x1b\\",
    "\x1b\\",
    "\x1b]8;;https://evil.example/\x1b\\",
    "\x1b]8;;https://evil.example/\x1b\\https://evil.example/\x1b]8;;\x1b\\",
    "\x1b]0;title\x07",
    "\x1bP1$r\x1b\\",
    "\x9b31m",
    "\x9d52;c;ZHd0dWk=\x9c",
    "\x90q\x9c",
    "\x9f\x9c",
    "\r\n",
    "[link=https://evil.example/]x[/link]",
    "[@click=app.quit]q[/]",
    "[b]",
    "\\",
]
_PIECES = st.sampled_from([*SEQUENCES, *C0, "\x7f", *C1, *BIDI, "\ud800", "\udfff", "\U000e0041"])
# Any code point at all, lone surrogates included.
_ANY = st.text(st.characters(exclude_categories=()), max_size=4)
HOSTILE = st.lists(st.one_of(_PIECES, _ANY), max_size=12).map("".join)

# Never on a terminal, raw: C0 but line feed and tab, DEL, C1, bidi controls, lone surrogates.
_RAW_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(BIDI) + "\ud800-\udfff]")
# In a painted line of the TUI, not even a line feed or a tab.
_RAW_ON_SCREEN = re.compile("[\x00-\x1f\x7f-\x9f" + "".join(BIDI) + "\ud800-\udfff]")
# The one sequence that may pass the command line's boundary: our own hyperlink to a safe URL.
OWN_LINK = re.compile(r"\x1b\]8;;(https://[\x21-\x7e]+)\x1b\\(https://[\x21-\x7e]+)\x1b\]8;;\x1b\\")


def raw_in_output(text: str, allowed_links: frozenset[str] = frozenset()) -> list[str]:
    """The raw control characters in command-line output, but for our own links to `allowed_links`."""

    def keep_own(match: re.Match[str]) -> str:
        url, shown = match.group(1), match.group(2)
        return "" if url == shown and url in allowed_links else match.group()

    return _RAW_IN_LINES.findall(OWN_LINK.sub(keep_own, text))


def raw_on_screen(text: str) -> list[str]:
    return _RAW_ON_SCREEN.findall(text)
