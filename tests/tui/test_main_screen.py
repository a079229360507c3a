"""Pilot tests of the main screen against the real simulator and the real services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Label, Static

from dwtui.domain.assessment import MISMATCH_WARNING
from dwtui.tui.app import DwtuiApp, Phase
from dwtui.tui.widgets.fields import Fields
from tests.conftest import SimFactory
from tests.tui.support import SIZE, build_app, ready, settle


def ppi(app: DwtuiApp, key: str) -> str:
    return app.page.query_one("#ppi-fields", Fields).value(key)


def text(app: DwtuiApp, selector: str) -> str:
    return str(app.page.query_one(selector, Static).content)


def enabled(app: DwtuiApp, button_id: str) -> bool:
    return not app.page.query_one(f"#{button_id}", Button).disabled


# scenario -> (integration, app state prefix, link prefix, setup, link, reset enabled)
EXPECTED: dict[str, tuple[str, str, str, bool, bool, bool]] = {
    "happy": ("set up", "not installed", "not linked", True, False, False),
    "throttled": ("set up", "not installed", "not linked", True, False, False),
    # Installed: d stays available to add the optional dual-write packages (Finance, Notes, ...).
    "installed": ("set up", "installed (version", "not linked", True, True, False),
    "linked": ("set up", "installed (version", "linked to contoso-uat", True, False, False),
    "not-integrated": ("not set up", "not installed", "not linked", False, False, False),
    "mismatch": ("set up", "installed (version", "linked to contoso-uat-old", True, False, True),
    "no-dataverse": (
        "Power Platform environment without Dataverse",
        "not installed",
        "not linked",
        False,
        False,
        False,
    ),
}


@pytest.mark.parametrize("scenario", list(EXPECTED))
async def test_each_scenario_shows_its_state(sim_factory: SimFactory, scenario: str) -> None:
    integration, app_state, link, setup, link_enabled, reset = EXPECTED[scenario]
    sim = sim_factory(scenario)
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        assert app.phase is Phase.READY
        assert app.page.query_one("#env-fields", Fields).value("name") == "contoso-uat"
        assert app.page.query_one("#env-fields", Fields).value("type") == "Sandbox"
        assert ppi(app, "integration") == integration
        assert ppi(app, "app").startswith(app_state)
        assert ppi(app, "link").startswith(link)
        assert (enabled(app, "setup"), enabled(app, "link"), enabled(app, "reset")) == (
            setup,
            link_enabled,
            reset,
        )
        # A disabled button says why, next to it; an enabled Link says its request is unverified.
        for button_id in ("setup", "link", "reset"):
            reason = text(app, f"#{button_id}-reason")
            if button_id == "link" and enabled(app, "link"):
                assert "unverified" in reason
            else:
                assert bool(reason) is not enabled(app, button_id)
        # Add Dataverse is offered only where the Power Platform environment has none.
        no_dataverse = scenario == "no-dataverse"
        assert app.page.query_one("#add_dataverse-row").display is no_dataverse
        assert enabled(app, "add_dataverse") is no_dataverse
        assert app.page.check_action("add_dataverse", ()) is no_dataverse
        mismatch_shown = app.page.query_one("#mismatch").display
        assert mismatch_shown is (scenario == "mismatch")
        if scenario == "mismatch":
            assert text(app, "#mismatch-warning") == MISMATCH_WARNING
            assert text(app, "#mismatch-integration-url").rstrip("/").endswith("/dataverse/contosouat")
            assert text(app, "#mismatch-dual-write-url").rstrip("/").endswith("/dataverse/contosouatold")
            remedies = text(app, "#mismatch-remedies")
            assert remedies.startswith("Applies: reset the dual-write connection")
            assert "Otherwise (integration never set up): connect Power Platform Integration" in remedies
        if scenario == "not-integrated":
            assert ppi(app, "dataverse").startswith("none")
            assert app.page.query_one("#ppi-hint").display
            assert "Set up Power Platform Integration" in text(app, "#ppi-hint")
        # Every HTTP call is in the Activity pane, redacted.
        entries = app.page.activity_pane.entries
        assert any(e.kind == "http" and "/lcs/environmentinfo/" in e.url for e in entries)
        assert not any("access_token=" in e.url and "***" not in e.url for e in entries)


async def test_throttling_shows_the_wait_as_the_loading_state(sim_factory: SimFactory) -> None:
    # At speed 2 the prefilled window (another admin's calls) is still full when dwtui first calls LCS.
    sim = sim_factory("throttled", speed=2.0, device_approve_after=0)
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        # While LCS makes dwtui wait, the Environment pane says so (Retry-After is at least 1 s).
        while not app.page_open:
            await pilot.pause(0.02)
        while not any(entry.kind == "wait" for entry in app.page.activity_pane.entries):
            await pilot.pause(0.02)
            assert app.phase is not Phase.READY, "loaded without ever being throttled"
        status = str(app.page.environment_pane.query_one(".pane-status", Label).content)
        assert "throttled" in status and "retrying in" in status
        await settle(pilot, ready(app))
        assert app.phase is Phase.READY
        assert not app.page.environment_pane.query_one(".pane-status", Label).display


async def test_environment_picker_switches_to_production_read_only(sim_factory: SimFactory) -> None:
    sim = sim_factory("happy")
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        assert not app.page.query_one("#header-production").display
        await pilot.press("e")
        from dwtui.tui.environment_details.picker import EnvironmentPickerScreen

        picker = app.screen
        assert isinstance(picker, EnvironmentPickerScreen)
        await settle(pilot, lambda: len(picker.environments) >= 3)
        names = [env.name for env in picker.environments]
        assert {"contoso-uat", "contoso-prod", "contoso-dev"} <= set(names)
        for _ in range(names.index("contoso-prod") - names.index("contoso-uat")):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(
            pilot, lambda: app.page.environment is not None and app.page.environment.name == "contoso-prod"
        )
        await settle(pilot, ready(app))
        assert app.page.query_one("#env-fields", Fields).value("type") == "Production"
        assert app.page.query_one("#header-production").display
        assert app.page.query_one("#header-read-only").display
        # prod is healthy (linked) and read-only: every change is refused, and says why.
        assert ppi(app, "link").startswith("linked to")
        for button_id in ("setup", "link", "reset"):
            assert not enabled(app, button_id)
            assert "read-only" in text(app, f"#{button_id}-reason")


async def test_production_allowed_by_the_profile_is_not_read_only(sim_factory: SimFactory) -> None:
    sim = sim_factory("happy")
    app = build_app(sim, start_environment="contoso-prod", allow_production_changes=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        assert app.page.environment is not None and app.page.environment.name == "contoso-prod"
        assert app.page.query_one("#header-production").display
        assert not app.page.query_one("#header-read-only").display
        assert "read-only" not in text(app, "#setup-reason")


async def test_help_opens_and_closes(sim_factory: SimFactory) -> None:
    from dwtui.tui.screens.help import HelpScreen

    app = build_app(sim_factory("happy"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        procedure = app.screen.query_one("#help-procedure")
        assert "Select the **Dual-write application** button" in str(getattr(procedure, "source", ""))
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_lists_every_action(sim_factory: SimFactory) -> None:
    from textual.command import CommandList

    from dwtui.tui.commands import COMMANDS

    app = build_app(sim_factory("happy"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("ctrl+p")

        def listed() -> set[str]:
            lists = app.screen.query(CommandList)
            if not lists:
                return set()
            options = lists.first(CommandList).options
            return {str(getattr(option.prompt, "plain", option.prompt)).split("\n")[0] for option in options}

        titles = {command.title for command in COMMANDS}
        await settle(pilot, lambda: titles <= {line.strip() for text in listed() for line in [text]})
        await pilot.press("escape")


async def test_enabled_buttons_open_their_flow_and_disabled_keys_say_why(sim_factory: SimFactory) -> None:
    from dwtui.tui.flows.install.terms import TermsScreen

    app = build_app(sim_factory("happy"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.click("#setup")
        await settle(pilot, lambda: isinstance(app.screen, TermsScreen))
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, TermsScreen))
        await pilot.press("l")  # disabled here: says why instead
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("install the dual-write application first" in m for m in messages)
        await pilot.press("R")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("Reset dual-write connection is not available" in m for m in messages)


async def test_reset_key_in_mismatch_and_quit_exit_code(sim_factory: SimFactory) -> None:
    from dwtui.tui.flows.reset.dialog import ResetScreen

    app = build_app(sim_factory("mismatch"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("R")
        await settle(pilot, lambda: isinstance(app.screen, ResetScreen))
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, ResetScreen))
        await pilot.press("q")
    assert app.return_code == 0


async def test_a_service_fault_shows_code_meaning_remedy_and_details(sim_factory: SimFactory) -> None:
    from dwtui.tui.screens.error_details import ErrorDetailsScreen

    sim = sim_factory("happy")
    sim.add_fault("/bap", "500", count=50)
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        faults = app.page.query_one("#ppi-faults")
        assert faults.display
        shown = str(faults.query_one(".fault-text", Static).content)
        assert "BAP admin API: HTTP 500" in shown
        assert "internal error" in shown and "Remedy:" in shown
        await pilot.click("#ppi-faults .fault-details")
        assert isinstance(app.screen, ErrorDetailsScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, ErrorDetailsScreen)


async def test_insecure_secret_store_is_reported_once(sim_factory: SimFactory) -> None:
    import keyring.backends.fail

    from dwtui.services.secrets import SecretStore

    secrets = SecretStore(backend=keyring.backends.fail.Keyring())
    assert secrets.warning
    app = build_app(sim_factory("happy"), secrets=secrets)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("r")
        await settle(pilot, ready(app))
        warned = [n for n in app._notifications if n.message == secrets.warning]
        assert len(warned) == 1


async def test_a_missing_consent_shows_in_the_ppi_pane_and_asks_no_sign_in(sim_factory: SimFactory) -> None:
    from dwtui.tui.screens.sign_in import SignInScreen

    sim = sim_factory("no-consent-ppapi")
    app = build_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        assert app.phase is Phase.READY
        # The other sources were read in the same session.
        assert ppi(app, "integration") == "set up"
        assert ppi(app, "dataverse").startswith("contoso-uat")
        assert ppi(app, "app").startswith("unknown")
        faults = app.page.query_one("#ppi-faults")
        assert faults.display
        shown = str(faults.query_one(".fault-text", Static).content)
        assert "Power Platform API: consent_required" in shown
        assert "AADSTS65001" in shown and "https://api.powerplatform.com/.default" in shown
        assert f"{sim.base_url}/{sim.tenant_id}/adminconsent?client_id={sim.client_id}" in shown
        assert "Grant admin consent" in shown
        assert "sign in again" not in shown.lower()
        assert not app.page.environment_pane.faults
        # Reading again reports it again; nobody is asked to sign in.
        sim.reset_log()
        await pilot.press("r")
        await settle(pilot, ready(app))
        assert app.phase is Phase.READY
        assert app.signed_in is not None
        assert not isinstance(app.screen, SignInScreen)
        assert "consent_required" in str(faults.query_one(".fault-text", Static).content)
        assert [r for r in sim.requests() if r["service"] == "bap"]  # it did read again
        assert not [r for r in sim.requests() if r["path"].endswith("/devicecode")]


async def test_an_application_profile_gets_the_lcs_refusal_and_no_call(sim_factory: SimFactory) -> None:
    sim = sim_factory("happy")
    app = build_app(sim, signed_in=False, auth="client-secret", client_id=sim.confidential_client_id)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        assert app.phase is Phase.FAILED
        [fault] = app.page.environment_pane.faults
        assert (fault.service, fault.code) == ("LCS API", "delegated_only")
        shown = str(app.page.environment_pane.query_one(".fault-text", Static).content)
        assert shown.startswith("dwtui made no LCS call.")
        assert "Service Principal authentication" in shown and 'auth = "device-code"' in shown
        # Neither a refresh nor the environment picker makes a call.
        await pilot.press("r")
        await settle(pilot, ready(app))
        await pilot.press("e")
        await settle(pilot, ready(app))
        assert app.page.environment_pane.faults == (fault,)
        assert app.signed_in is None
    assert sim.requests() == []


async def test_an_audit_trail_that_cannot_be_written_is_shown_once(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    from dwtui.services.activity import ActivityLog
    from tests.helpers import make_session
    from tests.tui.support import FIXED_CLOCK

    trail = tmp_path / "activity.jsonl"
    trail.mkdir()  # a folder where the file belongs: no write succeeds, even as root
    sim = sim_factory("happy")
    app = DwtuiApp(
        lambda: make_session(sim, activity=ActivityLog(trail), sign_in=True),
        profile_name="sim",
        clock=lambda: FIXED_CLOCK,
        show_timings=False,
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, ready(app))
        await pilot.press("r")
        await settle(pilot, ready(app))
        shown = [n for n in app._notifications if n.title == "Audit trail"]
        assert len(shown) == 1
        assert shown[0].severity == "error"
        assert f"the audit trail could not be written: {trail}" in shown[0].message
        # The pane still has every call.
        assert any(entry.kind == "http" for entry in app.page.activity_pane.entries)


async def test_the_picker_shows_environments_that_arrive_before_it_is_mounted() -> None:
    """LCS can answer between the picker's compose and its mount (seen in the 80x24 tmux walk): the
    list is shown, not left loading for an answer that already came."""
    from textual.widgets import OptionList

    from dwtui.domain.models import Fault, LcsEnvironment
    from dwtui.services.errors import ServiceError
    from dwtui.tui.environment_details.picker import EnvironmentPickerScreen
    from dwtui.tui.styles import beside

    environment = LcsEnvironment(
        environment_id="6f4a1c2e9b3d4e8fa7c05d1b2e3f4a5b",
        name="contoso-uat",
        project_id="1234567",
        environment_type="Sandbox",
        fo_url="https://contoso-uat.sandbox.operations.dynamics.com/",
    )

    class AnsweredEarly(EnvironmentPickerScreen):
        CSS_PATH = beside(EnvironmentPickerScreen)  # picker.tcss, beside the class it tests

        def on_mount(self) -> None:
            self.show_environments([environment])  # what the page does when the answer lands first
            super().on_mount()

    def no_session() -> Any:
        raise ServiceError(Fault(service="test", message="no session in this test", code="test"))

    app = DwtuiApp(no_session, profile_name="test", clock=lambda: 0.0, show_timings=False)
    async with app.run_test(size=SIZE) as pilot:
        picker = AnsweredEarly("1234567")
        await app.push_screen(picker)
        await pilot.pause()
        options = picker.query_one("#picker-list", OptionList)
        assert not options.loading
        assert options.option_count == 1
