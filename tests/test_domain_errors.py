"""Every documented code maps to a meaning and a remedy; unknown ones fall back sensibly."""

from __future__ import annotations

import pytest

from dwtui.domain.errors import explain, known_codes, lookup
from dwtui.domain.models import Fault


def test_dw9003_crm_and_ax_get_different_remedies() -> None:
    crm = explain(
        Fault("dual-write", "Failed to connect to CRM. Ensure that the service principal ...", "DW9003")
    )
    ax = explain(
        Fault("dual-write", "Failed to connect to AX. Ensure that the service principal ...", "DW9003")
    )
    assert crm.code == ax.code == "DW9003"
    assert "Dataverse" in crm.remedy and "Entra ID applications" in ax.remedy
    assert "requirements-and-prerequisites" in crm.doc


def test_not_a_member_of_the_organization_points_to_the_onebox_steps() -> None:
    found = explain(Fault("Dataverse", "The user is not a member of the organization.", "0x80072560", 403))
    assert "application user" in found.remedy
    assert "DualWriteUnoAuthenticationFnoToCds" in found.remedy


def test_not_integrated() -> None:
    found = explain(Fault("Dataverse", "Dataverse instance isn't integrated", "0x80048d0b", 400))
    assert "Power Platform Integration" in found.remedy


@pytest.mark.parametrize(
    ("status", "family"),
    [(502, "unavailable"), (503, "unavailable"), (504, "unavailable"), (429, "throttling")],
)
def test_http_status_falls_back_to_its_family(status: int, family: str) -> None:
    found = explain(Fault("LCS API", "x", f"HTTP {status}", status))
    assert family in found.meaning


def test_unknown_code_keeps_the_message() -> None:
    found = explain(Fault("LCS API", "something odd", "XYZ"))
    assert found.code == "XYZ"
    assert found.meaning == "something odd"
    assert found.remedy == "Try again; if it persists, see the Activity pane."


def test_every_catalogue_code_explains_itself() -> None:
    generic = explain(Fault("LCS API", "something odd", "XYZ")).remedy
    for code in known_codes():
        found = lookup(code, "Failed to connect to CRM")
        assert found is not None, code
        # Its own words, not the fallback for codes dwtui does not know.
        assert len(found.meaning) > 15 and len(found.remedy) > 15 and found.remedy != generic, code


def test_lookup_of_unknown_code_is_none() -> None:
    assert lookup("NOPE123") is None


def test_an_internal_error_does_not_claim_a_retry_that_never_happened() -> None:
    """HTTP 500 is not in the policy's retry statuses, so its remedy must not say it was retried."""
    from dwtui.services.http import RETRY_STATUSES

    assert 500 not in RETRY_STATUSES
    found = explain(Fault("BAP admin API", "boom", "HTTP 500", 500))
    assert "retried" not in found.remedy and "does not repeat" in found.remedy
    for status in RETRY_STATUSES - {429}:
        assert "retried" in explain(Fault("LCS API", "x", f"HTTP {status}", status)).remedy


# -- where the remedy is shown ------------------------------------------------------------------


def test_no_remedy_on_the_command_line_sends_a_person_to_a_pane_or_a_key() -> None:
    from dwtui.domain.errors import Surface, every_remedy

    remedies = every_remedy(Surface.CLI)
    assert len(remedies) > 30
    for remedy in remedies:
        assert "pane" not in remedy.lower() and "press " not in remedy.lower(), remedy
        assert "[[" not in remedy, remedy


def test_the_terminal_ui_gets_keys_where_the_command_line_gets_commands() -> None:
    from dwtui.domain.errors import Surface, every_remedy

    for remedy in every_remedy(Surface.TUI):
        assert "[[" not in remedy and "`dwtui " not in remedy, remedy
    maps = Fault("dual-write", "maps run", "DualWriteMapsRunning")
    assert "(`dwtui reset --force`)" in explain(maps, Surface.CLI).remedy
    assert "(press R and tick Force reset)" in explain(maps, Surface.TUI).remedy
    no_user = Fault("Dataverse", "not a member", "0x80072560", 403)
    assert "(press o)" in explain(no_user).remedy  # the terminal UI is the default
    assert "`dwtui onebox app-user`" in explain(no_user, Surface.CLI).remedy
    internal = Fault("BAP admin API", "boom", "HTTP 500", 500)
    assert "run the command again" in explain(internal, Surface.CLI).remedy
    assert "press r" in explain(internal, Surface.TUI).remedy


def test_the_fallback_remedy_on_the_command_line_is_the_trace() -> None:
    from dwtui.domain.errors import Surface

    found = explain(Fault("LCS API", "something odd", "XYZ"), Surface.CLI)
    assert found.remedy.startswith("Try again; if it persists, run it again with --trace FILE")


def test_a_services_own_brackets_are_left_as_they_are() -> None:
    from dwtui.domain.errors import Surface

    odd = Fault("LCS API", "x", "XYZ", remedy="see [[onebox]] and [[not-a-way]]")
    assert explain(odd, Surface.CLI).remedy.startswith("see `dwtui onebox app-user`")
    assert explain(odd, Surface.CLI).remedy.endswith("and [[not-a-way]]")
