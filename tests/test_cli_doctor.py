"""`dwtui doctor`: text and --json, the documented keys, and the exit codes 0, 1, 2 and 3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dwtui.cli import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_SERVICE
from dwtui.domain.doctor import CATALOGUE
from tests.cli_support import MemoryKeyring, clear_overrides, run_cli, use_memory_keyring
from tests.conftest import SimFactory

DEMO = ["--demo", "--speed", "50"]
README = Path(__file__).resolve().parent.parent / "README.md"
# The documented `dwtui doctor --json` keys (README, Doctor): scripts depend on them.
TOP_KEYS = {"schema", "command", "environment", "signed_in", "outcome", "counts", "checks"}
CHECK_KEYS = {
    "id",
    "group",
    "title",
    "state",
    "summary",
    "inferred",
    "evidence",
    "remedy",
    "doc",
    "duration_s",
}
EVIDENCE_KEYS = {"service", "call", "answer", "inferred"}


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    yield from use_memory_keyring()


def test_json_on_the_happy_demo_has_the_documented_keys_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli([*DEMO, "doctor", "--json"], capsys)
    assert code == EXIT_OK, err
    report = json.loads(out)
    assert set(report) == TOP_KEYS
    assert report["schema"] == 1 and report["command"] == "doctor" and report["outcome"] == "ok"
    assert report["environment"] == {
        "id": "6f4a1c2e9b3d4e8fa7c05d1b2e3f4a5b",
        "name": "contoso-uat",
        "type": "Sandbox",
    }
    assert set(report["signed_in"]) == {"username", "tenant_id", "kind"}
    assert set(report["counts"]) == {"ok", "problem", "unknown", "not_applicable"}
    assert [check["id"] for check in report["checks"]] == [spec.check_id for spec in CATALOGUE]
    for check in report["checks"]:
        assert set(check) == CHECK_KEYS
        assert check["state"] in ("ok", "not_applicable")
        assert all(set(evidence) == EVIDENCE_KEYS for evidence in check["evidence"])
    assert sum(report["counts"].values()) == len(CATALOGUE)
    inferred = {check["id"] for check in report["checks"] if check["inferred"]}
    assert "rights.lcs_project" in inferred and "environment.state" not in inferred


def test_a_problem_prints_evidence_remedy_and_link_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*DEMO, "--scenario", "old-version", "doctor"], capsys)
    assert code == EXIT_FAILURE, err
    assert "PROBLEM  Finance and operations version against the documented minimums" in out
    assert "10.0.8 / Platform update 32 is below 10.0.9 / Platform update 33" in out
    assert "evidence: LCS API: GET /environmentinfo/v1/detail/project/" in out
    assert "remedy: Update the environment in LCS" in out
    assert "see: https://learn.microsoft.com/" in out and "requirements-and-prerequisites" in out
    assert "[I]" in out  # the inferred checks say so
    last = err.strip().splitlines()[-1]
    assert last.startswith("dwtui: doctor: Finance and operations version against the documented minimums")


def test_json_of_a_missing_consent_names_the_problem_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*DEMO, "--scenario", "no-consent-ppapi", "doctor", "--json"], capsys)
    assert code == EXIT_FAILURE, err
    report = json.loads(out)
    assert report["outcome"] == "problem"
    checks = {check["id"]: check for check in report["checks"]}
    consent = checks["signin.power_platform"]
    assert consent["state"] == "problem" and "adminconsent?client_id=" in consent["remedy"]
    assert checks["dualwrite.packages"]["state"] == "unknown"
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith("dwtui: doctor: Sign-in and admin consent: Power Platform API")
    )


def test_a_check_that_could_not_run_and_no_problem_exits_3(
    sim_factory: SimFactory, memory_keyring: MemoryKeyring, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A one-box without its app id or AXDB given (not the demo, which knows both): nothing wrong was
    # found, but those checks could not run.
    sim = sim_factory("happy", device_approve_after=0)
    config = tmp_path / "sim.toml"
    sim.write_config(config, environment="dev")
    code, out, err = run_cli(["--config", str(config), "doctor", "--json"], capsys)
    assert code == EXIT_SERVICE, err
    report = json.loads(out)
    assert report["outcome"] == "incomplete"
    unknown = {check["id"] for check in report["checks"] if check["state"] == "unknown"}
    assert unknown == {
        "onebox.app_id",
        "onebox.app_user",
        "onebox.flight",
        "onebox.aos_restart",
        "onebox.verify",
    }
    assert (
        err.strip().splitlines()[-1].startswith("dwtui: doctor: could not check One-box app registration id")
    )


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--app-id", "not-a-guid"], "--app-id"),
        (["--time-limit", "0"], "--time-limit"),
        (["--time-limit", "nan"], "--time-limit"),
    ],
)
def test_bad_options_exit_2(options: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli([*DEMO, "doctor", *options], capsys)
    assert code == EXIT_CONFIG, err
    assert words in err and err.startswith("dwtui: ")


def test_the_one_box_in_the_demo_reads_the_demo_app_and_axdb(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*DEMO, "--environment", "contoso-dev", "doctor", "--json"], capsys)
    assert code == EXIT_FAILURE, err  # the demo's AXDB starts without the flight
    checks = {check["id"]: check for check in json.loads(out)["checks"]}
    assert checks["onebox.app_id"]["state"] == "ok"
    assert checks["onebox.app_user"]["state"] == "ok"
    assert checks["onebox.flight"]["state"] == "problem"
    assert checks["onebox.aos_restart"]["state"] == "not_applicable"


def test_the_readme_documents_the_json_keys_and_every_check() -> None:
    section = README.read_text(encoding="utf-8").split("## Doctor", 1)[1].split("\n## ", 1)[0]
    for key in TOP_KEYS | CHECK_KEYS | EVIDENCE_KEYS:
        assert f"`{key}`" in section, key
    for spec in CATALOGUE:
        assert f"`{spec.check_id}`" in section, spec.check_id
