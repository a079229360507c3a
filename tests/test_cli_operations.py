"""`dwtui setup`, `link`, `reset` and what `status` says about them, against the simulator."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dwtui.cli import EXIT_CONFIG, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_SERVICE
from dwtui.cli.runtime import SCENARIOS
from dwtui.sim.server import SimServer
from tests.cli_support import (
    DWTUI,
    LineReader,
    MemoryKeyring,
    child_env,
    clear_overrides,
    install_posts,
    run_cli,
    run_installed,
    sigint_as_at_a_terminal,
    use_memory_keyring,
)
from tests.conftest import SimFactory

UAT_URL = "https://contoso-uat.sandbox.operations.dynamics.com/"
FAST = ["--demo", "--speed", "400"]


@pytest.fixture(autouse=True)
def _no_profile_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_memory_keyring()


def slow_install_sim(
    sim_factory: SimFactory, tmp_path: Path, scenario: str = "happy"
) -> tuple[SimServer, Path]:
    """A simulator whose install runs for minutes, with a config file pointing at it."""
    sim = sim_factory(scenario, speed=50.0, device_code_lifetime=60.0)
    sim.world.install_seconds = 3 * 3600.0  # 216 real seconds: still running when the test ends
    config = tmp_path / "config.toml"
    sim.write_config(config)
    return sim, config


def json_out(out: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(out)
    return data


def test_the_scenario_option_offers_every_simulator_scenario() -> None:
    from dwtui.sim.scenarios import scenario_names

    assert sorted(SCENARIOS) == sorted(scenario_names())


# -- setup -----------------------------------------------------------------------------------------


def test_setup_wait_installs_and_reports_progress_on_stderr() -> None:
    done = run_installed([*FAST, "setup", "--wait", "--yes", "--json"])
    assert done.returncode == 0, done.stderr
    data = json_out(done.stdout)
    assert data["command"] == "setup"
    assert data["outcome"] == "succeeded"
    assert data["started"] is True
    assert data["operation"]["status"] == "Succeeded"
    assert data["operation"]["operation_id"]
    assert data["error"] is None
    progress = [line for line in done.stderr.splitlines() if line.startswith("[setup ")]
    assert any("Running: Importing solutions" in line for line in progress), progress
    # The plan's one package, on lines of its own.
    assert all(line.startswith("[setup 1/1 Dual-write Application Core ") for line in progress), progress
    assert any("next poll in" in line for line in progress)
    assert "Traceback" not in done.stderr


def test_setup_failure_shows_the_operations_code_meaning_and_remedy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli([*FAST, "--scenario", "install-failed", "setup", "--wait", "--yes"], capsys)
    assert code == EXIT_SERVICE
    assert "[SolutionImportFailed]" in out  # errorName, the operation error's code
    assert "msdyn_DualWriteAppCoreMaps failed" in out and "(error code -2147188707)" in out
    assert "What it means: The Power Platform API could not install the package" in out
    assert "Remedy: Fix what the message names" in out
    last = err.strip().splitlines()[-1]
    assert last.startswith(
        "dwtui: the install of Dual-write Application Core failed: Power Platform API [SolutionImportFailed]"
    )
    assert "Traceback" not in err


def test_setup_with_packages_installs_the_plan_in_order_and_stops_at_a_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        [
            *FAST,
            "--scenario",
            "dependency-failed",
            "setup",
            "--package",
            "notes",
            "--wait",
            "--yes",
            "--json",
        ],
        capsys,
    )
    assert code == EXIT_SERVICE
    data = json_out(out)
    assert data["outcome"] == "failed"
    assert [(p["unique_name"], p["outcome"]) for p in data["packages"]] == [
        ("msdyn_DualWriteAppCoreAnchor", "succeeded"),
        ("msdyn_Dynamics365FinanceExtendedAnchor", "failed"),
    ]
    assert data["operation"]["plan"] == [
        "msdyn_DualWriteAppCoreAnchor",
        "msdyn_Dynamics365FinanceExtendedAnchor",
        "msdyn_Dynamics365NotesAnchor",
    ]
    assert data["error"]["code"] == "SolutionImportFailed"
    assert "1. Dual-write Application Core" in err and "3. Dual-write Notes" in err
    assert "Not requested, as they need it or come after it: msdyn_Dynamics365NotesAnchor" in err
    steps = {line.split("] ")[0] for line in err.splitlines() if line.startswith("[setup ")}
    assert any(step.startswith("[setup 1/3 Dual-write Application Core") for step in steps)
    assert any(step.startswith("[setup 2/3 Dual-write Finance") for step in steps)
    assert not any("3/3" in step for step in steps)


def test_setup_names_an_unknown_package_and_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli([*FAST, "setup", "--package", "payroll", "--yes"], capsys)
    assert code == EXIT_CONFIG
    assert "no dual-write package is called 'payroll'" in err
    assert "finance, hr-common, hr, supply-chain, notes, asset-management, party-gab" in err


def test_setup_without_yes_and_without_a_terminal_exits_2_and_installs_nothing(
    sim_factory: SimFactory, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim, config = slow_install_sim(sim_factory, tmp_path)
    code, out, err = run_cli(["--config", str(config), "setup"], capsys)
    assert code == EXIT_CONFIG
    # The plan, then the terms: the documented list names none before the install, so the notice
    # with the package's link is shown instead.
    assert "1. Dual-write Application Core (msdyn_DualWriteAppCoreAnchor" in out
    assert "did not list the terms of this package before the install" in out
    assert "http://go.microsoft.com/fwlink/?LinkID=773454" in out
    assert err.strip().splitlines()[-1].startswith("dwtui: ")
    assert "use --yes to accept the terms" in err
    assert install_posts(sim.requests()) == []


def test_setup_asks_in_a_terminal_and_a_no_changes_nothing(
    sim_factory: SimFactory,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim, config = slow_install_sim(sim_factory, tmp_path)
    monkeypatch.setattr("dwtui.cli.runtime.stdin_is_interactive", lambda: True)
    code, _, err = run_cli(["--config", str(config), "setup"], capsys, stdin="n\n")
    assert code == EXIT_FAILURE
    assert "Configure: accept these terms" in err
    assert "not confirmed; nothing was changed" in err
    assert install_posts(sim.requests()) == []

    code, out, err = run_cli(["--config", str(config), "setup"], capsys, stdin="y\n")
    assert code == 0, err
    assert "Install of Dual-write Application Core requested (operation" in out
    assert len(install_posts(sim.requests())) == 1


def test_a_second_setup_while_one_runs_starts_nothing_and_status_shows_it(
    sim_factory: SimFactory, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim, config = slow_install_sim(sim_factory, tmp_path)
    code, out, err = run_cli(["--config", str(config), "setup", "--yes", "--json"], capsys)
    assert code == 0, err
    first = json_out(out)
    assert first["outcome"] == "started"
    assert first["started"] is True
    operation_id = first["operation"]["operation_id"]

    # Another process on this machine: the operation store, not this process's memory, stops it.
    again = run_installed(["--config", str(config), "setup", "--yes", "--json"])
    assert again.returncode == 0, again.stderr
    second = json_out(again.stdout)
    assert second["outcome"] == "running"
    assert second["started"] is False
    assert second["operation"]["operation_id"] == operation_id
    assert "not starting another" in again.stderr
    assert len(install_posts(sim.requests())) == 1

    code, out, err = run_cli(["--config", str(config), "status", "--json", "--no-interactive"], capsys)
    assert code == 0, err
    status = json_out(out)
    assert status["dual_write_application"]["state"] == "installing"
    install = status["operations"]["install"]
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert [key for key in install if f"`{key}`" not in readme] == []
    assert install["operation_id"] == operation_id
    assert install["kind"] == "install"
    assert install["status"] in ("NotStarted", "Running")
    assert install["finished_at"] is None
    assert status["operations"]["link"] is None
    assert status["admin_link"] is None

    code, out, _ = run_cli(["--config", str(config), "status", "--no-interactive"], capsys)
    assert code == 0
    assert "Running" in out
    assert f"operation {operation_id}" in out
    assert "`dwtui setup --wait` follows it" in out


def test_ctrl_c_stops_watching_but_not_the_install(
    sim_factory: SimFactory, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim, config = slow_install_sim(sim_factory, tmp_path)
    child = subprocess.Popen(
        [str(DWTUI), "--config", str(config), "setup", "--wait", "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        preexec_fn=sigint_as_at_a_terminal,
    )
    try:
        assert child.stderr is not None
        errors = LineReader(child.stderr)
        errors.wait_for("[setup ")  # it is watching
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) == EXIT_INTERRUPTED
    finally:
        if child.poll() is None:
            child.kill()
    lines = errors.rest()
    last = lines[-1]
    assert last.startswith("dwtui: stopped watching; the install goes on in the service")
    assert "`dwtui setup --wait` resumes watching" in last
    assert "Traceback" not in "".join(lines)
    assert len(install_posts(sim.requests())) == 1

    code, out, err = run_cli(["--config", str(config), "status", "--json"], capsys)
    assert code == 0, err
    assert json_out(out)["operations"]["install"]["finished_at"] is None


def test_setup_on_production_is_refused_without_allow_production_changes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli([*FAST, "--environment", "contoso-prod", "setup", "--yes"], capsys)
    assert code == EXIT_CONFIG
    assert out == ""
    assert "allow_production_changes = true" in err.strip().splitlines()[-1]


@pytest.mark.parametrize("command", [["link", "--unverified"], ["setup"], ["integrate"]])
def test_production_is_refused_by_the_command_line_before_any_power_platform_call(
    sim_factory: SimFactory,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """The command line's own refusal comes as soon as LCS names the environment's type: only LCS
    and the sign-in are asked anything (the services' guards refuse too, but only after reading)."""
    sim = sim_factory("linked", device_code_lifetime=60.0)
    with sim.world.lock:  # an unlinked production environment, so that only read-only stops a link
        prod = sim.world.connection_set_for(sim.environment_id("prod"))
        assert prod is not None
        del sim.world.connection_sets[prod.cname]
    config = tmp_path / "config.toml"
    sim.write_config(config, "prod")
    code, out, err = run_cli(["--config", str(config), *command, "--yes", "--wait"], capsys)
    assert code == EXIT_CONFIG, err
    assert out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("dwtui: contoso-prod is a production environment and profile 'sim' is read-only")
    assert "nothing was read from or sent to its Power Platform environment" in last
    assert {r["service"] for r in sim.requests()} <= {"idp", "lcs"}


def test_setup_when_already_installed_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*FAST, "--scenario", "installed", "setup", "--yes", "--json"], capsys)
    assert code == 0, err
    assert json_out(out)["outcome"] == "already_installed"


# -- link ------------------------------------------------------------------------------------------


def test_link_wait_succeeds_and_prints_the_hyperlink(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*FAST, "--scenario", "installed", "link", "--wait", "--yes"], capsys)
    assert code == 0, err
    assert "contoso-uat is linked to the Power Platform environment." in out
    assert f"  {UAT_URL}\n" in out  # in full, on a line of its own
    assert "Workspaces > Data management > Dual Write" in out
    assert any(line.startswith("[link ") and "Succeeded" in line for line in err.splitlines())


def test_link_json_carries_the_admin_link() -> None:
    done = run_installed([*FAST, "--scenario", "installed", "link", "--wait", "--yes", "--json"])
    assert done.returncode == 0, done.stderr
    data = json_out(done.stdout)
    assert data["outcome"] == "succeeded"
    assert data["admin_link"]["url"] == UAT_URL
    assert data["admin_link"]["navigation"] == "Workspaces > Data management > Dual Write"
    assert data["dataverse"]["url"].endswith("/dataverse/contosouat/")


def test_link_dw9003_ax_fails_with_the_remedy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*FAST, "--scenario", "link-dw9003-ax", "link", "--wait", "--yes"], capsys)
    assert code == EXIT_SERVICE
    assert "[DW9003]" in out
    assert "Remedy: Add the dual-write apps to Microsoft Entra ID applications" in out
    assert err.strip().splitlines()[-1].startswith("dwtui: the link failed: dual-write gateway [DW9003]")


def test_link_before_the_application_is_installed_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli([*FAST, "link", "--yes"], capsys)
    assert code == EXIT_FAILURE
    assert "install the dual-write application first" in err


# -- reset -----------------------------------------------------------------------------------------


def test_reset_needs_force_while_maps_run_then_clears_the_mismatch(
    sim_factory: SimFactory, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = sim_factory("maps-running", speed=50.0, device_code_lifetime=60.0)
    config = tmp_path / "config.toml"
    sim.write_config(config)
    base = ["--config", str(config)]

    code, out, err = run_cli([*base, "reset", "--yes"], capsys)
    assert code == EXIT_FAILURE
    assert "Current Dataverse: contoso-uat-old" in out
    assert "Target Dataverse:  contoso-uat" in out
    assert "Remove all dual-write configuration data like dual-write maps" in out
    [line] = [x for x in err.splitlines() if x.startswith("dwtui: ")]
    assert "--force" in line
    assert "nothing was reset" in line

    code, out, _ = run_cli([*base, "status", "--json", "--no-interactive"], capsys)
    assert json_out(out)["mismatch"] is not None  # the refused reset changed nothing

    code, out, err = run_cli([*base, "reset", "--force", "--yes", "--json", "--no-interactive"], capsys)
    assert code == 0, err
    data = json_out(out)
    assert data["outcome"] == "reset"
    assert data["forced"] is True
    assert len(data["running_maps"]) == 3
    assert data["mismatch_after"] is False
    assert data["linked_to"].endswith("/dataverse/contosouat/")

    code, out, _ = run_cli([*base, "status", "--json", "--no-interactive"], capsys)
    status = json_out(out)
    assert status["mismatch"] is None
    assert status["link"]["state"] == "linked"
    assert status["admin_link"]["url"] == UAT_URL


def test_reset_without_maps_running_needs_no_force_but_needs_yes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*FAST, "--scenario", "mismatch", "reset"], capsys)
    assert code == EXIT_CONFIG
    assert "A reset will:" in out
    assert "run again with --yes" in err

    code, out, err = run_cli([*FAST, "--scenario", "mismatch", "reset", "--yes"], capsys)
    assert code == 0, err
    assert "No linking mismatch any more." in out


def test_reset_when_not_linked_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli([*FAST, "reset", "--yes"], capsys)
    assert code == EXIT_FAILURE
    assert "not linked" in err


# -- status ----------------------------------------------------------------------------------------


def test_status_shows_the_hyperlink_once_linked(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*FAST, "--scenario", "linked", "status"], capsys)
    assert code == 0, err
    assert f"Dual-write administration               {UAT_URL}" in out
    code, out, _ = run_cli([*FAST, "--scenario", "linked", "status", "--json"], capsys)
    data = json_out(out)
    assert data["admin_link"] == {
        "url": UAT_URL,
        "navigation": "Workspaces > Data management > Dual Write",
        "note": data["admin_link"]["note"],
    }
    assert data["admin_link"]["note"].startswith("inferred")
    assert data["operations"] == {
        "install": None,
        "link": None,
        "last_install": None,
        "last_link": None,
        "add_dataverse": None,
        "last_add_dataverse": None,
    }


def test_the_readme_documents_every_json_key(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    code, out, err = run_cli([*FAST, "--scenario", "linked", "status", "--json"], capsys)
    assert code == 0, err
    status = json_out(out)
    # A key is documented as `key` or as `key.sub`.
    assert [key for key in status if f"`{key}`" not in readme and f"`{key}." not in readme] == []
    assert [key for key in status["admin_link"] if f"`{key}`" not in readme] == []
    code, out, err = run_cli([*FAST, "--scenario", "linked", "setup", "--yes", "--json"], capsys)
    assert code == 0, err
    setup = json_out(out)
    assert [key for key in setup if f"`{key}`" not in readme] == []
    assert f"`{setup['outcome']}`" in readme
