"""The token store in the TUI: named in the header, and the encrypted file's passphrase asked in a
dialog before sign-in (never a prompt hidden behind the screen), at 80x24."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Label

from dwtui.services.secrets import SecretStore
from dwtui.tui.app import DwtuiApp
from dwtui.tui.screens.passphrase import PassphraseScreen
from dwtui.tui.screens.sign_in import SignInScreen
from tests.conftest import SimFactory
from tests.tui.support import build_app, ready, settle, settle_screen, shown_whole

SMALL = (80, 24)
PASSPHRASE = "horse-42x"


def header(app: DwtuiApp) -> str:
    return str(app.page.query_one("#header-context", Label).content)


def problem(app: DwtuiApp) -> str:
    return str(app.screen.query_one("#passphrase-error", Label).content)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*text)


def file_store(path: Path) -> SecretStore:
    # As on a machine where the kernel keyring is refused: the encrypted file, no passphrase yet.
    return SecretStore(environ={"DWTUI_SECRET_STORE": "file"}, file_path=path)


async def test_the_header_names_the_store(sim_factory: SimFactory) -> None:
    app = build_app(sim_factory("happy"))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot, ready(app))
        assert "tokens: not kept" in header(app)  # the tests' sessions keep secrets in memory


async def test_the_passphrase_is_asked_in_a_dialog_before_sign_in(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    sim = sim_factory("happy", device_approve_after=0.0)
    path = tmp_path / "data" / "secrets.encrypted"
    first = file_store(path)
    app = build_app(sim, signed_in=False, secrets=first)
    async with app.run_test(size=SMALL) as pilot:
        await settle_screen(pilot, PassphraseScreen)
        assert "tokens: encrypted file (locked)" in header(app)
        assert shown_whole(app, "#passphrase-open") and shown_whole(app, "#passphrase-skip")
        assert not any(isinstance(screen, SignInScreen) for screen in app.screen_stack)
        assert app.screen.focused is app.screen.query_one("#passphrase-input")

        await type_text(pilot, "one-pass9")
        await pilot.press("enter")  # to the second field
        await type_text(pilot, "two-pass9")
        await pilot.press("enter")
        assert "differ" in problem(app)

        await type_text(pilot, "short")
        await pilot.press("enter")
        await type_text(pilot, "short")
        await pilot.press("enter")
        await settle(pilot, lambda: "at least 8 characters" in problem(app))
        assert not path.exists()

        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot, ready(app))
        assert app.signed_in is not None  # then the device-code sign-in ran, as usual
        assert "tokens: encrypted file" in header(app) and "(locked)" not in header(app)
        assert first.secure
    assert path.is_file() and PASSPHRASE.encode() not in path.read_bytes()
    device_codes = sum(1 for r in sim.requests() if r["path"].endswith("/devicecode"))
    assert device_codes == 1

    # The next start: the same file. A wrong passphrase is said in the dialog, which stays open.
    app = build_app(sim, signed_in=False, secrets=file_store(path))
    async with app.run_test(size=SMALL) as pilot:
        await settle_screen(pilot, PassphraseScreen)
        assert not app.screen.query("#passphrase-again")
        await type_text(pilot, "wrong-pw9")
        await pilot.press("enter")
        await settle(pilot, lambda: "does not open" in problem(app))
        assert isinstance(app.screen, PassphraseScreen)
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot, ready(app))
        assert app.signed_in is not None
    # Signed in silently, from the file: no second device code.
    assert sum(1 for r in sim.requests() if r["path"].endswith("/devicecode")) == device_codes


async def test_escape_keeps_tokens_in_memory_and_says_so(sim_factory: SimFactory, tmp_path: Path) -> None:
    path = tmp_path / "secrets.encrypted"
    app = build_app(sim_factory("happy", device_approve_after=0.0), signed_in=False, secrets=file_store(path))
    async with app.run_test(size=SMALL) as pilot:
        await settle_screen(pilot, PassphraseScreen)
        await pilot.press("escape")
        await settle(pilot, ready(app))
        assert app.signed_in is not None
        assert "tokens: not kept" in header(app)
        warned = [n.message for n in app._notifications if "no passphrase was given" in n.message]
        assert len(warned) == 1 and "in memory for this run only" in warned[0]
    assert not path.exists()
