"""`dwtui link --yes --wait` stopped at each step of a link, by each signal, then run again: the
gateway gets one link request, and the rerun ends linked (exit 0).

Steps: claimed but the request not sent (tests/link_child.py holds the real command there); the
request taken by the gateway but its answer not yet back (the simulator acts, then holds its
answer: fault "late"); the link followed. Signals: SIGKILL, SIGTERM, SIGHUP (no handler: the
process just ends), SIGINT (Ctrl+C: dwtui ends with 130).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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

REPO = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).with_name("link_child.py")
LINK_POST = "/gateway/api/ConnectionSet"
SIGNALS = {name: signal.Signals[name] for name in ("SIGKILL", "SIGTERM", "SIGINT", "SIGHUP")}
LATE = 6.0  # seconds the simulated gateway holds its answer to the link request


@pytest.fixture(autouse=True)
def _no_profile_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_memory_keyring()


def link_posts(sim: SimServer) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["method"] == "POST" and r["path"] == LINK_POST]


def accepted(sim: SimServer) -> int:
    """The link requests the simulated gateway acted on (its own record, not the answers)."""
    with sim.world.lock:
        return sum(1 for o in sim.world.operations.values() if o.kind == "link")


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def link_sim(sim_factory: SimFactory, tmp_path: Path) -> tuple[SimServer, Path]:
    sim = sim_factory("installed", speed=60.0, device_code_lifetime=60.0)  # a 4-second link
    config = tmp_path / "config.toml"
    sim.write_config(config)
    return sim, config


def start(argv: list[str], *, held: bool) -> subprocess.Popen[str]:
    command = [sys.executable, str(CHILD)] if held else [str(DWTUI)]
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return subprocess.Popen(
        [*command, *argv],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**child_env(), "PYTHONPATH": path},
        preexec_fn=sigint_as_at_a_terminal,
    )


@pytest.mark.parametrize("signal_name", sorted(SIGNALS))
@pytest.mark.parametrize("step", ["claimed", "answer-pending", "following"])
def test_a_link_stopped_at_any_step_is_requested_once_and_the_rerun_ends_linked(
    sim_factory: SimFactory, tmp_path: Path, step: str, signal_name: str
) -> None:
    sim, config = link_sim(sim_factory, tmp_path)
    argv = ["--config", str(config), "link", "--yes", "--unverified", "--wait"]
    if step == "answer-pending":
        sim.add_fault(LINK_POST, "late", method="POST", delay=LATE)
    child = start(argv, held=step == "claimed")
    try:
        assert child.stderr is not None
        errors = LineReader(child.stderr)
        if step == "claimed":
            errors.wait_for("claimed; the link request is not sent")
        elif step == "answer-pending":
            wait_until(lambda: accepted(sim) == 1, 60, "the gateway to take the link request")
        else:
            errors.wait_for("[link ")  # the link is being followed
        child.send_signal(SIGNALS[signal_name])
        code = child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    stopped = "".join(errors.rest())
    assert "Traceback" not in stopped
    if signal_name == "SIGINT":
        assert code == 130, stopped
    else:
        assert code == -SIGNALS[signal_name], stopped

    again = run_installed(argv)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "contoso-uat is linked to the Power Platform environment." in again.stdout
    assert "Traceback" not in again.stderr
    if step == "claimed":  # nothing had been sent: the rerun sends the one request
        assert "Link requested (" in again.stdout
    else:  # the rerun follows the request the stopped run made
        assert "A link is already under way on contoso-uat; not starting another." in again.stdout
    assert accepted(sim) == 1
    wait_until(lambda: len(link_posts(sim)) >= 1, LATE + 10, "the held answer to be logged")
    assert len(link_posts(sim)) == 1


def test_status_after_a_run_stopped_with_its_answer_pending_says_linking(
    sim_factory: SimFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str], memory_keyring: MemoryKeyring
) -> None:
    """`status` settles the stopped run's claim from the gateway first: linking, not "not linked"."""
    sim, config = link_sim(sim_factory, tmp_path)
    sim.world.link_seconds = 3600.0  # a minute: still linking when status looks
    sim.add_fault(LINK_POST, "late", method="POST", delay=LATE)
    child = start(["--config", str(config), "link", "--yes", "--unverified", "--wait"], held=False)
    try:
        wait_until(lambda: accepted(sim) == 1, 60, "the gateway to take the link request")
        child.kill()
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    code, out, err = run_cli(["--config", str(config), "status", "--json"], capsys)
    assert code == 0, err
    status = json.loads(out)
    assert status["link"]["state"] == "linking"
    link = status["operations"]["link"]
    assert link is not None and link["operation_id"] and link["status"] == "Running"
    assert "inferred" in link["message"]
    assert accepted(sim) == 1 and install_posts(sim.requests()) == []
