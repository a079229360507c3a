"""The simulator answers every call as the public sources do (tests/contracts).

Real runs of dwtui against the simulator are recorded with --trace: the demo commands that make
every call dwtui makes (status, setup in its answer shapes and failures, Add Dataverse, link,
reset, the one-box steps, a refused consent), plus the reads no command reaches without losing an
answer (a single BAP environment, a connection set whose link request runs). Then, for each
contract, every field dwtui reads that the source's answer has must be in the simulator's answers
to the same call, with the same JSON type; and every call of those runs must have a contract. A
change that makes the simulator and dwtui agree with each other but not with the source fails here
(or in test_contracts_parsers.py).
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from dwtui.cli import run
from dwtui.domain.linking import integration_dataverse
from dwtui.services.errors import ServiceError
from dwtui.services.trace import TraceFile
from dwtui.sim import ids
from dwtui.sim.server import SimServer
from tests.contract_support import (
    Contract,
    Path_,
    contracts,
    json_type,
    read,
    show,
    values_at,
)
from tests.helpers import make_session

CONTRACTS = contracts()
BY_NAME = {contract.name: contract for contract in CONTRACTS}
SIMULATED = sorted(contract.name for contract in CONTRACTS if not contract.not_simulated)
FAST = ["--demo", "--speed", "5000"]
ONEBOX = ["--environment", "contoso-dev", "onebox"]
APP = ["--app-id", ids.ONEBOX_CLIENT_ID]
# name -> the command line after the global options: each makes some of the calls, all of them together
# make every call dwtui makes.
DRIVES: dict[str, list[str]] = {
    "status": ["status", "--json"],
    "install-200": ["setup", "--yes", "--wait", "--json"],
    "install-202": ["--scenario", "install-202", "setup", "--yes", "--wait", "--json"],
    "install-failed": ["--scenario", "install-failed", "setup", "--yes", "--wait", "--json"],
    "terms-listed": ["--scenario", "progress-reported", "setup", "--yes", "--wait", "--json"],
    "add-dataverse": ["--scenario", "no-dataverse", "integrate", "--yes", "--wait", "--json"],
    "add-dataverse-fails": ["--scenario", "add-dataverse-fails", "integrate", "--yes", "--wait", "--json"],
    "link": ["--scenario", "installed", "link", "--yes", "--unverified", "--wait", "--json"],
    "link-fails": ["--scenario", "link-dw9003-crm", "link", "--yes", "--unverified", "--wait", "--json"],
    "reset": ["--scenario", "maps-running", "reset", "--yes", "--force", "--json"],
    "not-integrated": ["--scenario", "not-integrated", "status", "--json"],
    "app-user": ["--scenario", "onebox-no-app-user", *ONEBOX, "app-user", *APP, "--yes", "--json"],
    "app-user-purged": [
        *("--scenario", "onebox-app-user-deleted", *ONEBOX),
        *("app-user", *APP, "--yes", "--json"),
    ],
    "verify": [*ONEBOX, "verify", *APP, "--json"],
    "verify-no-user": ["--scenario", "onebox-no-app-user", *ONEBOX, "verify", *APP, "--json"],
    "no-consent": ["--scenario", "no-consent-ppapi", "status", "--json"],
    "doctor": ["--scenario", "maps-running", "doctor", "--json"],
    "doctor-onebox": ["--environment", "contoso-dev", "doctor", "--json"],
}


@pytest.fixture(scope="module")
def exchanges(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("contract-runs")
    recorded: list[dict[str, Any]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(folder / "state"))
        patch.setenv("XDG_CONFIG_HOME", str(folder / "config"))
        for name, argv in DRIVES.items():
            trace = folder / f"{name}.jsonl"
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = run([*FAST, "--trace", str(trace), *argv])
            # Failures are part of the drive (a failed install, a refused consent): the runs only
            # have to end, not succeed; a usage error would mean a drive that calls nothing.
            assert code != 2, f"{name}: {err.getvalue()}"
            recorded += [dict(r, drive=name) for r in _records(trace)]
        recorded += [dict(r, drive="bap-environment") for r in _bap_environment(folder)]
        recorded += [dict(r, drive="linking") for r in _linking_connection_set(folder)]
    return recorded


def _records(path: Path) -> Iterator[dict[str, Any]]:
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["kind"] == "exchange" and record.get("response") is not None:
            yield record


def _bap_environment(folder: Path) -> list[dict[str, Any]]:
    """GET one BAP environment (read only when an Add Dataverse answer was lost), and one that is gone."""
    trace_path = folder / "bap-environment.jsonl"
    sim = SimServer(scenario="no-dataverse", speed=50).start()
    try:
        session = make_session(sim, sign_in=True, trace=TraceFile(trace_path))
        try:
            listed = session.bap.environments()
            assert any(not e.instance_url for e in listed) and any(e.instance_url for e in listed)
            for environment in listed:
                session.bap.environment(environment.bap_environment_id)
            with pytest.raises(ServiceError):
                session.bap.environment("00000000-0000-0000-0000-000000000404")
        finally:
            session.close()
    finally:
        sim.stop()
    return list(_records(trace_path))


def _linking_connection_set(folder: Path) -> list[dict[str, Any]]:
    """The link state read while a link request runs (read when a request's answer was lost)."""
    trace_path = folder / "linking.jsonl"
    sim = SimServer(scenario="installed", speed=1).start()
    try:
        session = make_session(sim, sign_in=True, trace=TraceFile(trace_path))
        try:
            environment = session.environment(sim.environment_id("uat"))
            dataverse = integration_dataverse(session.power_platform(environment))
            assert session.gateway is not None and dataverse is not None
            session.gateway.start_link(environment, dataverse)
            link = session.gateway.link(environment.fo_url)
            assert link.linking and link.request is not None
        finally:
            session.close()
    finally:
        sim.stop()
    return list(_records(trace_path))


def _matches(contract: Contract, exchange: dict[str, Any]) -> bool:
    return contract.matches(
        exchange["service"],
        exchange["method"],
        urlsplit(exchange["url"]).path,
        exchange["response"]["status"],
    )


def _body(exchange: dict[str, Any]) -> Any:
    return exchange["response"].get("json")


def _headers(exchange: dict[str, Any]) -> dict[str, str]:
    return dict(exchange["response"].get("headers", {}))


def _nonnull_types(values: list[Any]) -> set[str]:
    return {json_type(value) for value in values} - {"null"}


@pytest.mark.parametrize("name", SIMULATED)
def test_the_simulator_answers_with_every_field_dwtui_reads_from_the_source(
    name: str, exchanges: list[dict[str, Any]]
) -> None:
    contract = BY_NAME[name]
    answers = [exchange for exchange in exchanges if _matches(contract, exchange)]
    assert answers, f"no run answered {contract.call} with {contract.status}: add a drive"
    _, reads = read(contract.reader, contract.answer)
    problems: list[str] = []
    for path in sorted(reads):
        documented = values_at(contract.answer.body, contract.answer.headers, path)
        if not documented:
            continue  # shown by another fixture of the call, or declared inferred
        simulated = [v for answer in answers for v in values_at(_body(answer), _headers(answer), path)]
        if not simulated:
            problems.append(f"{show(path)}: missing")
            continue
        want, got = _nonnull_types(documented), _nonnull_types(simulated)
        if want and got != want:
            problems.append(f"{show(path)}: {sorted(got)} where the source has {sorted(want)}")
    assert not problems, f"{name} ({len(answers)} simulated answers): {problems}"


def test_every_call_of_the_runs_has_a_contract(exchanges: list[dict[str, Any]]) -> None:
    """Sign-in's successful answers are MSAL's to read (and real MSAL reads them in these runs)."""
    uncovered = sorted(
        {
            f"{e['service']} {e['method']} {urlsplit(e['url']).path} {e['response']['status']}"
            for e in exchanges
            if not (e["service"] == "sign-in" and e["response"]["status"] < 400)
            and not any(_matches(contract, e) for contract in CONTRACTS)
        }
    )
    assert not uncovered, f"calls without a contract fixture: {uncovered}"


def test_an_answer_the_simulator_never_gives_says_why_and_is_really_not_given(
    exchanges: list[dict[str, Any]],
) -> None:
    for contract in CONTRACTS:
        if contract.not_simulated:
            assert len(contract.not_simulated) > 40, contract.name
            given = [e for e in exchanges if _matches(contract, e)]
            assert not given, f"{contract.name} is simulated after all"


def test_a_simulator_that_renamed_a_field_is_caught(exchanges: list[dict[str, Any]]) -> None:
    """The comparison above, shown failing on a simulator answer with UserId renamed."""
    contract = BY_NAME["dataverse-who-am-i"]
    answer = next(e for e in exchanges if _matches(contract, e))
    renamed = {k if k != "UserId" else "UserID": v for k, v in _body(answer).items()}
    _, reads = read(contract.reader, contract.answer)
    path: Path_ = ("UserId",)
    assert path in reads and values_at(contract.answer.body, {}, path)
    assert not values_at(renamed, {}, path)

