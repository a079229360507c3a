"""`dwtui setup` and `dwtui link` when the request's outcome is in doubt or another one runs: a lost
answer is settled from the service's own state, a refusal started nothing, and two clients on two
machines (separate state directories) end by following one operation."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from dwtui.cli import EXIT_SERVICE
from dwtui.sim.server import SimServer
from tests.cli_support import (
    DWTUI,
    MemoryKeyring,
    child_env,
    clear_overrides,
    run_cli,
    sigint_as_at_a_terminal,
    use_memory_keyring,
)
from tests.conftest import SimFactory

LINK_POST = "/gateway/api/ConnectionSet"
INSTALL = "/ppapi/appmanagement/environments/"


@pytest.fixture(autouse=True)
def _no_profile_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_memory_keyring()


def configured(sim: SimServer, tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    sim.write_config(config)
    return config


def install_sim(sim_factory: SimFactory) -> SimServer:
    sim = sim_factory("happy", speed=300.0, device_code_lifetime=60.0)
    sim.world.install_seconds = 600.0  # two real seconds
    return sim


def statuses(requests: list[dict[str, Any]], path: str, *, end: str = "") -> list[int | None]:
    """The answers to the POSTs of `path` (or of paths ending with `end`), in order."""
    return [
        r["status"]
        for r in requests
        if r["method"] == "POST" and (r["path"].endswith(end) if end else r["path"] == path)
    ]


def operations_of(sim: SimServer, kind: str) -> int:
    """Operations the simulated service acted on (its own record, not the answers)."""
    with sim.world.lock:
        return sum(1 for o in sim.world.operations.values() if o.kind == kind)


def status_json(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run_cli(["--config", str(config), "status", "--json"], capsys)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


# -- setup --------------------------------------------------------------------------------------------


def test_setup_whose_answer_was_lost_after_the_service_acted_follows_the_install(
    sim_factory: SimFactory, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = install_sim(sim_factory)
    config = configured(sim, tmp_path)
    sim.add_fault(INSTALL, "acted-503", method="POST")
    code, out, err = run_cli(["--config", str(config), "setup", "--yes", "--wait"], capsys)
    assert code == 0, err
    assert "the install request got no answer (simulated HTTP 503); it may have started" in out
    assert "The dual-write packages of the plan are installed on contoso-uat." in out
    assert statuses(sim.requests(), "", end="/install") == [503] and operations_of(sim, "install") == 1


def test_setup_refused_by_the_service_started_nothing_and_can_be_run_again(
    sim_factory: SimFactory, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = install_sim(sim_factory)
    config = configured(sim, tmp_path)
    sim.add_fault(INSTALL, "429", method="POST")
    code, out, err = run_cli(["--config", str(config), "setup", "--yes"], capsys)
    assert code == EXIT_SERVICE
    assert err.strip().splitlines()[-1].startswith("dwtui: Power Platform API [HTTP 429]")
    status = status_json(config, capsys)
    assert status["operations"]["install"] is None and status["operations"]["last_install"] is None
    code, out, err = run_cli(["--config", str(config), "setup", "--yes"], capsys)
    assert code == 0, err
    assert "Install of Dual-write Application Core requested (operation" in out
    assert statuses(sim.requests(), "", end="/install") == [429, 200] and operations_of(sim, "install") == 1


# -- link ---------------------------------------------------------------------------------------------


def test_link_whose_answer_was_lost_after_the_gateway_acted_follows_the_link(
    sim_factory: SimFactory, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = sim_factory("installed", speed=240.0, device_code_lifetime=60.0)
    config = configured(sim, tmp_path)
    sim.add_fault(LINK_POST, "acted-503", method="POST")
    code, out, err = run_cli(["--config", str(config), "link", "--yes", "--wait"], capsys)
    assert code == 0, err
    assert "The link request's answer was lost; following the link request the gateway lists" in out
    assert "(inferred: the gateway is taken to list a link request on its connection set)" in out
    assert "contoso-uat is linked to the Power Platform environment." in out
    assert statuses(sim.requests(), LINK_POST) == [503] and operations_of(sim, "link") == 1


def test_link_whose_request_may_not_have_arrived_is_not_sent_again_while_in_doubt(
    sim_factory: SimFactory, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = sim_factory("installed", speed=240.0, device_code_lifetime=60.0)
    config = configured(sim, tmp_path)
    sim.add_fault(LINK_POST, "503", method="POST")  # stopped at the door: the gateway made nothing
    code, out, err = run_cli(["--config", str(config), "link", "--yes"], capsys)
    assert code == 0, err
    assert "The link request got no clear answer: the gateway does not show the link request yet" in out
    held = status_json(config, capsys)["operations"]["link"]
    assert held is not None and held["operation_id"] == "" and held["finished_at"] is None
    code, out, err = run_cli(["--config", str(config), "link", "--yes"], capsys)
    assert code == 0, err
    assert "A link is already under way on contoso-uat; not starting another." in out
    assert statuses(sim.requests(), LINK_POST) == [503] and operations_of(sim, "link") == 0


def test_link_refused_by_the_gateway_started_nothing_and_can_be_run_again(
    sim_factory: SimFactory, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = sim_factory("installed", speed=240.0, device_code_lifetime=60.0)
    config = configured(sim, tmp_path)
    sim.add_fault(LINK_POST, "429", method="POST")
    code, _, err = run_cli(["--config", str(config), "link", "--yes", "--wait"], capsys)
    assert code == EXIT_SERVICE
    assert err.strip().splitlines()[-1].startswith("dwtui: dual-write gateway [HTTP 429]")
    status = status_json(config, capsys)
    assert status["operations"]["link"] is None and status["operations"]["last_link"] is None
    code, out, err = run_cli(["--config", str(config), "link", "--yes", "--wait"], capsys)
    assert code == 0, err
    assert "contoso-uat is linked to the Power Platform environment." in out
    assert statuses(sim.requests(), LINK_POST) == [429, 202] and operations_of(sim, "link") == 1


# -- two machines at once -------------------------------------------------------------------------------


@contextmanager
def standalone_sim(tmp_path: Path, scenario: str, speed: float) -> Iterator[tuple[Path, httpx.Client, str]]:
    """`dwtui sim --write-config`, and a client of its request log (/_sim/requests)."""
    config = tmp_path / "sim.toml"
    server = subprocess.Popen(
        [str(DWTUI), "sim", "--scenario", scenario, "--speed", str(speed), "--write-config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        preexec_fn=sigint_as_at_a_terminal,
    )
    try:
        assert server.stdout is not None
        printed: dict[str, str] = {}
        for line in server.stdout:  # ends at EOF if the simulator dies, so this cannot hang
            key, _, value = line.strip().partition("  ")
            printed[key] = value.strip()
            if "Press Ctrl-C" in line:
                break
        base, ca = printed["base URL"], printed["CA file"]
        with httpx.Client(verify=ssl.create_default_context(cafile=ca), timeout=10.0) as client:
            yield config, client, base
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        finally:
            server.kill()


def together(config: Path, tmp_path: Path, argv: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """The same command from two machines at once: each with its own state (operation store)."""
    children = []
    for machine in ("a", "b"):
        env = {**child_env(), "XDG_STATE_HOME": str(tmp_path / f"{machine}-state")}
        children.append(
            subprocess.Popen(
                [str(DWTUI), "--config", str(config), "--profile", "sim", *argv],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    done = []
    for child in children:
        try:
            out, err = child.communicate(timeout=180)
        finally:
            if child.poll() is None:
                child.kill()
        done.append(subprocess.CompletedProcess(child.args, child.returncode, out, err))
    return done


def test_two_setups_from_two_machines_at_once_both_follow_one_install(tmp_path: Path) -> None:
    with standalone_sim(tmp_path, "happy", 300.0) as (config, client, base):
        runs = together(config, tmp_path, ["setup", "--yes", "--wait"])
        requests = client.get(f"{base}/_sim/requests").json()
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
        assert "The dual-write packages of the plan are installed on contoso-uat." in run.stdout
        assert "Traceback" not in run.stderr
    answers = statuses(requests, "", end="/install")
    # One install was taken; a request sent while it ran was refused and its sender followed it.
    assert answers.count(200) == 1 and set(answers) <= {200, 409}, answers
    if 409 in answers:
        assert any("refused a second install (InstallInProgress" in run.stdout for run in runs)


def test_two_links_from_two_machines_at_once_both_follow_one_link(tmp_path: Path) -> None:
    with standalone_sim(tmp_path, "installed", 60.0) as (config, client, base):
        runs = together(config, tmp_path, ["link", "--yes", "--unverified", "--wait"])
        requests = client.get(f"{base}/_sim/requests").json()
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
        assert "contoso-uat is linked to the Power Platform environment." in run.stdout
        assert "Traceback" not in run.stderr
    answers = statuses(requests, LINK_POST)
    assert answers.count(202) == 1 and set(answers) <= {202, 409}, answers
    followers = [run for run in runs if "Link requested (" not in run.stdout]
    assert len(followers) == 1, [run.stdout for run in runs]
    assert (
        "The gateway refused a second link request (LinkInProgress" in followers[0].stdout
        or "A link is already under way on contoso-uat; not starting another." in followers[0].stdout
    )
