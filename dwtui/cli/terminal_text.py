"""The command line's one boundary for text: whatever dwtui writes to stdout or stderr passes it.

Names, messages and URLs from services, databases, files and arguments reach the output through
click.echo, print, prompts and tracebacks alike, so instead of cleaning each of them the standard
streams are wrapped for as long as the command runs: every write is made inert (controls shown as
`\\x1b` and the like, see dwtui.domain.text). The one escape sequence that passes is a hyperlink
(OSC 8) that `hyperlink` built in this process, for a URL that passed `safe_https_url`, with the
URL itself as its text.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from dwtui.domain.text import inert, safe_https_url

# The URLs `hyperlink` made clickable: a sequence in a write is let through only for one of them.
_LINKED: set[str] = set()
_LINK = re.compile(r"\x1b\]8;;([\x21-\x7e]+)\x1b\\([\x21-\x7e]+)\x1b\]8;;\x1b\\")


def hyperlink(url: str) -> str:
    """The URL, clickable (OSC 8) where stdout is a terminal that is not dumb and the URL is a safe
    https URL; the plain URL otherwise (which the stream then makes inert like any text)."""
    if safe_https_url(url) != url or not _links_supported():
        return url
    _LINKED.add(url)
    return f"\x1b]8;;{url}\x1b\\{url}\x1b]8;;\x1b\\"


def _links_supported() -> bool:
    try:
        tty = sys.stdout is not None and sys.stdout.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and os.environ.get("TERM", "") not in ("", "dumb")


def inert_output(text: str) -> str:
    """`text` as the stream writes it: inert, but for the hyperlinks `hyperlink` built."""
    if text.isprintable():
        return text
    parts: list[str] = []
    position = 0
    for match in _LINK.finditer(text):
        url, shown = match.group(1), match.group(2)
        if url != shown or url not in _LINKED:
            continue
        parts.append(inert(text[position : match.start()], multiline=True))
        parts.append(match.group())
        position = match.end()
    parts.append(inert(text[position:], multiline=True))
    return "".join(parts)


class InertStream(io.TextIOBase):
    """A text stream that writes everything through `inert_output` to the stream it wraps.

    It has no `buffer`: click would otherwise write bytes past it where it judges the text layer
    misconfigured.
    """

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.inner.write(inert_output(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def close(self) -> None:
        # Closing the wrapper (or collecting it) must not close the process's stdout.
        if not self.inner.closed:
            self.inner.flush()

    @property
    def closed(self) -> bool:
        return self.inner.closed

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.inner.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.inner.errors

    @property
    def name(self) -> str:
        return str(getattr(self.inner, "name", "<inert>"))


def _wrapped(stream: TextIO | None) -> TextIO | None:
    if stream is None or isinstance(stream, InertStream):
        return stream
    return InertStream(stream)  # type: ignore[return-value]


def install_inert_streams() -> None:
    """For the rest of the process: `dwtui` itself, whose tracebacks pass the boundary too."""
    sys.stdout = _wrapped(sys.stdout)
    sys.stderr = _wrapped(sys.stderr)


@contextmanager
def inert_streams() -> Iterator[None]:
    """While the block runs (a command run in-process, as tests do)."""
    saved = sys.stdout, sys.stderr
    install_inert_streams()
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, InertStream) and not stream.closed:
                stream.flush()
        sys.stdout, sys.stderr = saved
