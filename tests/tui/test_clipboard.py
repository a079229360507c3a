"""The clipboard: dwtui sends with OSC 52, which no terminal answers, so it never says "copied".

It says the text was sent, how to let OSC 52 through tmux (GNU screen has no setting for it), and shows
the text in a dialog where it can be selected by hand.
"""

from __future__ import annotations

import pytest
from textual.widgets import Static, TextArea

from dwtui.domain.linking import admin_link
from dwtui.tui.app import DwtuiApp
from dwtui.tui.flows.link.admin_link import AdminLinkScreen
from dwtui.tui.screens.clipboard import SCREEN, SENT, TERMINAL, TMUX, ClipboardScreen, clipboard_note
from tests.conftest import SimFactory
from tests.tui.support import SIZE, build_app, ready, settle, settle_screen


def shown(app: DwtuiApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


def test_the_note_names_what_is_known_of_the_way_to_the_clipboard() -> None:
    assert clipboard_note({"TMUX": "/tmp/tmux-1000/default,4242,0", "TERM": "screen"}) == TMUX
    assert "set -g set-clipboard on" in TMUX
    assert clipboard_note({"STY": "4242.pts-0.jumpbox"}) == SCREEN
    assert "no setting" in SCREEN
    assert clipboard_note({"TERM": "xterm-256color"}) == TERMINAL
    assert "copied" not in f"{SENT} {TMUX} {SCREEN} {TERMINAL}".lower()


@pytest.mark.parametrize(
    ("variable", "value", "note"),
    [("TMUX", "/tmp/tmux-0/default,1,0", TMUX), ("STY", "1.pts-0.box", SCREEN), ("", "", TERMINAL)],
)
async def test_c_sends_the_admin_link_says_only_that_and_shows_it_to_select(
    sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, note: str
) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("STY", raising=False)
    if variable:
        monkeypatch.setenv(variable, value)
    app = build_app(sim_factory("linked"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot, ready(app))
        environment = app.page.environment
        assert environment is not None
        expected = admin_link(environment.fo_url)
        assert expected is not None
        await pilot.press("c")
        await settle_screen(pilot, ClipboardScreen)
        assert app.clipboard == expected.url  # what went out with OSC 52
        assert shown(app, "#clipboard-sent") == SENT
        assert shown(app, "#clipboard-note") == note
        assert app.screen.query_one("#clipboard-text", TextArea).text == expected.url
        assert not any("copied" in n.message.lower() for n in app._notifications)
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, ClipboardScreen))

        # The same from the dialog with the link and its QR code.
        await pilot.press("a")
        await settle_screen(pilot, AdminLinkScreen)
        await pilot.press("c")
        await settle_screen(pilot, ClipboardScreen)
        assert app.screen.query_one("#clipboard-text", TextArea).text == expected.url
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, AdminLinkScreen))
        assert not any("copied" in n.message.lower() for n in app._notifications)
