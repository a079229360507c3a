"""`dwtui integrate` (Add Dataverse) and the honest `dwtui link`, against the simulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dwtui.cli import EXIT_CONFIG, EXIT_SERVICE
from tests.cli_support import clear_overrides, run_cli

FAST = ["--demo", "--speed", "2000"]


@pytest.fixture(autouse=True)
def _no_profile_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


def as_json(out: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(out)
    return data


def test_status_of_an_environment_without_dataverse(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 9's third failure: an LCS-linked Power Platform environment without Dataverse showed
    "set up"; and no Dataverse or package call may be made for it."""
    code, out, err = run_cli([*FAST, "--scenario", "no-dataverse", "status", "--json"], capsys)
    assert code == 0, err
    data = as_json(out)
    assert data["integration"]["state"] == "Power Platform environment without Dataverse"
    assert data["integration"]["dataverse"]["url"] == ""
    assert data["dual_write_application"]["packages"] == []
    assert data["actions"]["add_dataverse"]["enabled"] is True
    assert data["actions"]["setup"]["enabled"] is False
    assert "add Dataverse first" in data["actions"]["setup"]["reason"]
    code, out, _ = run_cli([*FAST, "--scenario", "no-dataverse", "status"], capsys)
    assert "Add Dataverse                           available: `dwtui integrate`" in out
    assert "(P)" not in out  # the screen's keys mean nothing on a command line


def test_integrate_adds_dataverse_once_and_then_dual_write_can_be_installed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        [*FAST, "--scenario", "no-dataverse", "integrate", "--currency", "eur", "--yes", "--wait", "--json"],
        capsys,
    )
    assert code == 0, err
    data = as_json(out)
    assert (data["command"], data["outcome"], data["started"]) == ("integrate", "succeeded", True)
    assert data["operation"]["kind"] == "add-dataverse"
    assert "Language: 1033   Currency: EUR   Template: D365_FinOps_Finance (Finance)" in err
    assert "can't be added to the initial Power Platform environment" in err  # the documented caveat
    assert "[integrate " in err and "Succeeded" in err


def test_integrate_refuses_what_the_service_would_not_take(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        [*FAST, "--scenario", "no-dataverse", "integrate", "--currency", "E1", "--yes"], capsys
    )
    assert code == EXIT_CONFIG and "ISO 4217" in err
    code, _, err = run_cli(
        [*FAST, "--scenario", "no-dataverse", "integrate", "--template", "Sales", "--yes"], capsys
    )
    assert code == EXIT_CONFIG and "D365_FinOps_Finance" in err
    code, out, err = run_cli([*FAST, "integrate", "--yes", "--json"], capsys)
    assert code == 0, err
    assert as_json(out)["outcome"] == "already_integrated"


def test_integrate_failure_says_what_to_do_instead(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        [*FAST, "--scenario", "add-dataverse-fails", "integrate", "--yes", "--wait"], capsys
    )
    assert code == EXIT_SERVICE
    assert "BAP admin API [Failed]: the Run stage failed" in out  # the failed lifecycle stage, named
    assert "use Setup in LCS" in out
    assert err.strip().splitlines()[-1].startswith("dwtui: adding Dataverse failed")


def test_link_against_a_real_gateway_prints_the_documented_way_first(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The simulator's gateway is on loopback; this is how dwtui treats any other (a real one).
    monkeypatch.setattr("dwtui.services.session.Session.gateway_is_simulator", property(lambda self: False))
    code, out, err = run_cli([*FAST, "--scenario", "installed", "link", "--yes", "--json"], capsys)
    assert code == 0, err
    data = as_json(out)
    assert data["outcome"] == "documented_path" and data["started"] is False and data["unverified"] is True
    assert data["wizard"]["url"] == "https://contoso-uat.sandbox.operations.dynamics.com/"
    assert "Select New link to environment" in " ".join(data["wizard"]["steps"])
    assert "link-your-environment" in data["wizard"]["doc"]
    assert "`dwtui link --unverified`" in err
    # With --unverified it asks the gateway (and says the call is unverified).
    code, out, err = run_cli(
        [*FAST, "--scenario", "installed", "link", "--unverified", "--yes", "--json"], capsys
    )
    assert code == 0, err
    assert as_json(out)["outcome"] == "started"
    assert "unverified: no public source shows the gateway's link request" in err


def test_status_says_how_to_find_a_missing_gateway_host(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dwtui.services.session import Session

    original = Session.__init__

    def without_gateway(self: Session, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.gateway = None

    monkeypatch.setattr(Session, "__init__", without_gateway)
    code, out, _ = run_cli([*FAST, "status", "--json"], capsys)
    assert code == EXIT_SERVICE  # a source could not be read
    data = as_json(out)
    assert data["link"]["gateway_configured"] is False
    [fault] = [f for f in data["faults"] if f["service"] == "dual-write gateway"]
    assert fault["code"] == "not_configured"
    assert (
        "https://dataintegrator.trafficmanager.net/dualWrite?axenv=contoso-uat.sandbox.operations.dynamics.com"
        in (fault["message"])
    )
    assert "projectmanagementservice" in fault["message"]
    # The guess from the environment's cluster is offered, and said to be one.
    assert (
        "inferred, not verified): https://projectmanagementservice.us-il103.gateway.prod.island"
        in (fault["message"])
    )
    assert "Dual-write-automations" in fault["doc"]
