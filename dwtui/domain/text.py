"""Text from outside (services, databases, files, arguments) made inert before a terminal sees it.

A terminal obeys control characters: ESC starts sequences that set the clipboard (OSC 52), the
window title or a hyperlink (OSC 8), BEL and C1 codes (U+0080 to U+009F, CSI and OSC among them)
do the same in fewer bytes, and bidi overrides reorder what a person reads. `inert` shows every
such character as its Python escape instead (ESC as the four characters `\\x1b`, U+202E as
`\\u202e`), so nothing is executed and nothing is hidden. Backslashes are left as they are: the
aim is a harmless, readable line, not one that can be parsed back.

`safe_https_url` decides which URLs may become hyperlinks: the front ends link a URL only when it
passes, and only with the URL itself as the text (so a link never shows one host and opens another).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Every code point of the Unicode categories Cc (C0, DEL, C1), Cf (format: bidi controls, zero-width
# characters, the BOM, tags), Cs (lone surrogates: they cannot even be encoded for output), Zl and
# Zp (line and paragraph separators). tests/test_text.py checks this against unicodedata.
UNSAFE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xD800, 0xDFFF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _character_class(ranges: tuple[tuple[int, int], ...], keep: str = "") -> str:
    parts = []
    for first, last in ranges:
        for start, end in _without(first, last, {ord(ch) for ch in keep}):
            parts.append(re.escape(chr(start)) + ("" if start == end else "-" + re.escape(chr(end))))
    return "[" + "".join(parts) + "]"


def _without(first: int, last: int, skip: set[int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = None
    for code in range(first, last + 1):
        if code in skip:
            if start is not None:
                spans.append((start, code - 1))
                start = None
        elif start is None:
            start = code
    if start is not None:
        spans.append((start, last))
    return spans


UNSAFE = re.compile(_character_class(UNSAFE_RANGES))
# Text of several lines keeps its line breaks and tabs: they move the cursor, but only as text does.
_UNSAFE_IN_LINES = re.compile(_character_class(UNSAFE_RANGES, keep="\n\t"))
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def inert(text: str, *, multiline: bool = False) -> str:
    """`text` with every control, format and separator character shown as its Python escape.

    With `multiline`, line breaks (a CRLF counts as one) and tabs stay as they are. The result
    holds none of those characters, so inert(inert(x)) == inert(x).
    """
    # isprintable() is false for every unsafe character (and for a few harmless ones, such as a
    # no-break space): a fast answer for almost every string, before the slower search.
    if text.isprintable():
        return text
    pattern = _UNSAFE_IN_LINES if multiline else UNSAFE
    if pattern.search(text) is None:
        return text
    if multiline:
        text = text.replace("\r\n", "\n")
    return pattern.sub(_visible, text)


# A host name as DNS spells it (IDNs arrive as punycode), an IPv4 address or a bracketed IPv6 one.
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?")
_IPV6 = re.compile(r"[0-9a-f:.]+")
# OSC 8 carries the URI as printable ASCII only (the hyperlink spec); a space ends nothing but
# would make the text differ from what a person reads as the URL.
_URL_CHARS = re.compile(r"[\x21-\x7e]+")


def safe_https_url(url: str) -> str | None:
    """`url` when it may be a hyperlink: absolute https, a proper host, no user info, printable
    ASCII only (no controls, spaces or bidi characters); None otherwise."""
    # fullmatch, not match with $: `$` also matches before a final line feed.
    if not url or len(url) > 4096 or _URL_CHARS.fullmatch(url) is None:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or "@" in parts.netloc:
        return None
    host = parts.hostname or ""
    if not host:
        return None
    if "[" in parts.netloc:
        if _IPV6.fullmatch(host) is None:
            return None
    elif _HOST.fullmatch(host) is None:
        return None
    return url
