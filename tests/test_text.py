"""The text boundary's rules: `inert`, `safe_https_url`, and the command line's stream and hyperlinks."""

from __future__ import annotations

import io
import json
import re
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dwtui.cli import terminal_text
from dwtui.cli.terminal_text import InertStream, hyperlink, inert_output, inert_streams
from dwtui.domain import text as text_module
from dwtui.domain.text import UNSAFE_RANGES, inert, safe_https_url
from tests.hostile_text import BIDI, C0, C1, HOSTILE, SEQUENCES, raw_in_output, raw_on_screen

SAFE = "https://contoso-uat.sandbox.operations.dynamics.com/"


# -- inert -----------------------------------------------------------------------------------------


def test_every_control_format_and_separator_character_is_in_the_list() -> None:
    listed = {code for first, last in UNSAFE_RANGES for code in range(first, last + 1)}
    categories = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    missing = [f"U+{code:04X}" for code in range(0x110000) if unicodedata.category(chr(code)) in categories]
    assert [code for code in missing if int(code[2:], 16) not in listed] == []


def test_the_character_class_is_built_from_the_ranges_less_what_is_kept() -> None:
    # Built here, not at import: the class is what every pattern of the boundary is made from.
    built = re.compile(
        text_module._character_class(((0x10, 0x14), (0x20, 0x20), (0x7F, 0x81)), keep="\x12\x14\x80")
    )
    assert [code for code in range(0x100) if built.fullmatch(chr(code))] == [
        0x10,
        0x11,
        0x13,
        0x20,
        0x7F,
        0x81,
    ]
    assert text_module._without(0x10, 0x14, {0x10, 0x12}) == [(0x11, 0x11), (0x13, 0x14)]
    assert text_module._without(0x10, 0x12, set()) == [(0x10, 0x12)]
    every = re.compile(text_module._character_class(UNSAFE_RANGES, keep="\n\t"))
    listed = {code for first, last in UNSAFE_RANGES for code in range(first, last + 1)} - {0x0A, 0x09}
    assert {code for code in range(0x110000) if every.fullmatch(chr(code))} == listed


@pytest.mark.parametrize("char", [*C0, "\x7f", *C1, *BIDI, "\ud800", "\u2028", "\ufeff", "\U000e0041"])
def test_each_control_is_shown_as_its_python_escape(char: str) -> None:
    assert inert(f"a{char}b") == f"a{char.encode('unicode_escape').decode('ascii')}b"


def test_the_escapes_are_the_ones_python_writes() -> None:
    assert inert("contoso\x1b]52;c;aGk=\x07") == "contoso\\x1b]52;c;aGk=\\x07"
    assert inert("\u202eexe.txt") == "\\u202eexe.txt"
    assert inert("a\tb\nc\r") == "a\\tb\\nc\\r"
    assert inert("\x9b31m") == "\\x9b31m"
    assert inert("\U000e0041") == "\\U000e0041"


def test_multiline_keeps_line_breaks_and_tabs_and_nothing_else() -> None:
    assert inert("one\r\ntwo\tthree\n\x1b[2J", multiline=True) == "one\ntwo\tthree\n\\x1b[2J"
    assert inert("a\rb", multiline=True) == "a\\rb"


def test_ordinary_text_is_untouched() -> None:
    for text in (
        "contoso-uat",
        "Contoso (default)",
        "Dual-write Finance 1.0.24104.3",
        "Zürich ☃ 東京",
        "a\u00a0b",
    ):
        assert inert(text) == text
        assert inert(text, multiline=True) == text


@given(HOSTILE, st.booleans())
@settings(max_examples=400)
def test_inert_leaves_no_raw_control_and_is_idempotent(text: str, multiline: bool) -> None:
    shown = inert(text, multiline=multiline)
    if multiline:
        assert raw_in_output(shown) == []
    else:
        assert raw_on_screen(shown) == []
    assert inert(shown, multiline=multiline) == shown
    # Nothing that was readable is lost: every printable character is still there, in order.
    printable = [ch for ch in text if ch.isprintable()]
    it = iter(shown)
    assert all(ch in it for ch in printable)


# -- safe_https_url ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        SAFE,
        "https://127.0.0.1:8443/dataverse/contosouat/",
        "https://[::1]:8443/x",
        "https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/dual-write/a?b=c#d",
        "https://dataintegrator.trafficmanager.net/dualWrite?axenv=contoso-uat.sandbox.operations.dynamics.com",
    ],
)
def test_safe_urls_pass(url: str) -> None:
    assert safe_https_url(url) == url


def test_a_url_may_be_4096_characters_long_and_no_longer() -> None:
    base = "https://contoso.example/"
    longest = base + "a" * (4096 - len(base))
    assert safe_https_url(longest) == longest
    assert safe_https_url(longest + "a") is None


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://contoso.example/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://",
        "https:///path",
        "https://real.example@evil.example/",
        "https://user:pass@contoso.example/",
        "https://contoso.example/ x",
        f"{SAFE}\x1b\\\x1b]8;;https://evil.example/\x1b\\",
        "https://contoso.example/\u202egpj.exe",
        "https://contoso.example/\x9d",
        "https://contoso.example:99999/",
        "https://contoso.example:port/",
        "https://cont_oso.example/",
        "https://xn--contoso-.example/\u00e9",
        "https://[not-ipv6]/",
        f"{SAFE}\n",
        f"{SAFE}\t",
        "https://contoso.example\n/",
    ],
)
def test_unsafe_urls_do_not(url: str) -> None:
    assert safe_https_url(url) is None


@given(HOSTILE)
def test_no_url_with_a_control_character_is_safe(tail: str) -> None:
    url = f"{SAFE}{tail}"
    if safe_https_url(url) is not None:
        assert raw_on_screen(url) == [] and " " not in url and url.isascii()


# -- the command line's stream -------------------------------------------------------------------------


@given(HOSTILE)
@settings(max_examples=400)
def test_the_stream_lets_no_raw_control_through(text: str) -> None:
    inner = io.StringIO()
    stream = InertStream(inner)
    assert stream.write(text) == len(text)
    assert raw_in_output(inner.getvalue()) == []
    assert raw_in_output(inert_output(text)) == []


def test_only_a_hyperlink_this_process_built_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terminal_text, "_links_supported", lambda: True)
    monkeypatch.setattr(terminal_text, "_LINKED", set())
    ours = hyperlink(SAFE)
    assert ours == f"\x1b]8;;{SAFE}\x1b\\{SAFE}\x1b]8;;\x1b\\"
    assert inert_output(f"  {ours}\n") == f"  {ours}\n"
    # The same shape for a URL hyperlink() never saw, or text that differs from the target: inert.
    forged = "\x1b]8;;https://evil.example/\x1b\\https://evil.example/\x1b]8;;\x1b\\"
    assert raw_in_output(inert_output(forged)) == []
    hidden = f"\x1b]8;;{SAFE}\x1b\\https://elsewhere.example/\x1b]8;;\x1b\\"
    assert raw_in_output(inert_output(hidden)) == []
    # Our link inside hostile text: the link passes, the rest is shown.
    mixed = inert_output(f"\x1b]52;c;aGk=\x07{ours}\x1b]0;t\x07")
    assert raw_in_output(mixed, frozenset({SAFE})) == []
    assert ours in mixed and mixed.startswith("\\x1b]52;c;aGk=\\x07")


@pytest.mark.parametrize(
    "url",
    [f"{SAFE}\x1b\\\x1b]8;;https://evil.example/\x1b\\", "http://contoso.example/", "https://a@b.example/"],
)
def test_hyperlink_refuses_unsafe_urls_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setattr(terminal_text, "_links_supported", lambda: True)
    assert hyperlink(url) == url  # plain: the stream then makes it inert
    assert url not in terminal_text._LINKED
    assert raw_in_output(inert_output(hyperlink(url))) == []


def test_hyperlink_is_plain_where_stdout_is_not_a_terminal() -> None:
    assert hyperlink(SAFE) == SAFE  # pytest captures stdout: not a terminal


def test_the_streams_are_wrapped_only_while_a_command_runs() -> None:
    before = sys.stdout, sys.stderr
    with inert_streams():
        wrapped = sys.stdout
        assert isinstance(wrapped, InertStream) and isinstance(sys.stderr, InertStream)
        with inert_streams():  # nested: not wrapped twice
            assert sys.stdout is wrapped
        assert sys.stdout is wrapped
    assert (sys.stdout, sys.stderr) == before


@given(HOSTILE)
def test_json_output_is_valid_and_escapes_every_control(text: str) -> None:
    # The commands' JSON is json.dumps with its defaults (ensure_ascii), then the stream.
    written = inert_output(json.dumps({"name": text}, indent=2))
    assert raw_in_output(written) == []
    assert json.loads(written) == {"name": text}


def test_sequences_list_covers_the_issue_cases() -> None:
    # The strategy's fixed pieces include what the probe used: OSC 52, the title, the hidden link.
    assert any("]52;" in piece for piece in SEQUENCES)
    assert any("]0;" in piece for piece in SEQUENCES)
    assert any("]8;;https://evil.example/" in piece for piece in SEQUENCES)
