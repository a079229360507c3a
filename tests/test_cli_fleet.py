"""`dwtui fleet` against the demo: the 80-column table, `--json` with its documented keys, exit codes."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from dwtui.cli.fleet import fit
from dwtui.sim import fleet_world
from dwtui.sim.scenarios import build_world
from tests.cli_support import clear_overrides, run_cli

README = Path(__file__).resolve().parent.parent / "README.md"
DEMO = ["--demo", "--scenario", "fleet", "--speed", "1000"]
EVERY_PROJECT = ["--project", "1234567", "--project", "2345678", "--project", "3456789"]

TOP_KEYS = {"schema", "command", "read_at", "projects", "environments", "faults", "cache"}
PROJECT_KEYS = {"id", "environments", "listed_at", "from_cache", "error"}
ENVIRONMENT_KEYS = {
    "project_id",
    "id",
    "name",
    "type",
    "state",
    "version",
    "fo_url",
    "listed_at",
    "listed_age_s",
    "integration",
    "dataverse",
    "packages",
    "link",
    "mismatch",
    "operation",
    "doctor",
    "age_s",
    "complete",
    "from_cache",
}
FACT_KEYS = {"value", "detail", "read_at", "age_s", "reading", "error"}
# Each generated environment's kind (the scenario is the same on every run).
KINDS = {made.record.name: made.kind for made in fleet_world.populate(build_world("happy"))}
FACTS = ("integration", "dataverse", "packages", "link", "mismatch", "operation", "doctor")


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_overrides(monkeypatch)


def fleet_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_cli([*DEMO, "fleet", "--json", *args], capsys)
    return code, json.loads(out), err


def cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def test_json_of_every_project_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, err = fleet_json(capsys, *EVERY_PROJECT)
    assert code == 0, err
    assert set(data) == TOP_KEYS
    assert (data["schema"], data["command"], data["faults"]) == (1, "fleet", [])
    assert [p["id"] for p in data["projects"]] == ["1234567", "2345678", "3456789"]
    assert all(set(p) == PROJECT_KEYS and p["environments"] == 20 for p in data["projects"])
    assert len(data["environments"]) == 60
    for environment in data["environments"]:
        assert set(environment) == ENVIRONMENT_KEYS
        for name in FACTS:
            assert set(environment[name]) >= FACT_KEYS, name
        assert environment["complete"] is True and environment["from_cache"] is False
        # The doctor's checks that need no extra read, judged on every row.
        assert environment["doctor"]["value"] in ("ok", "problem"), environment["doctor"]
    by_name = {e["name"]: e for e in data["environments"]}
    sandboxes = [name for name, e in by_name.items() if e["type"] == "Sandbox"]
    failed = next(name for name in sandboxes if KINDS.get(name) == "failed")
    assert by_name[failed]["doctor"]["value"] == "problem"
    assert by_name[failed]["doctor"]["detail"].startswith("Dual-write packages and their dependencies:")
    healthy = next(name for name in sandboxes if KINDS.get(name) == "linked")
    assert by_name[healthy]["doctor"]["value"] == "ok"
    packages = data["environments"][0]["packages"]
    assert {"installed", "listed", "failed", "installing", "items"} <= set(packages)
    assert "percent" in data["environments"][0]["operation"]
    assert data["cache"]["lifetime_s"] == 600.0
    names = [e["name"] for e in data["environments"]]
    assert names == sorted(names, key=str.casefold)  # sorted by name, the default


def test_the_profiles_projects_by_default_and_a_filter_and_sort(capsys: pytest.CaptureFixture[str]) -> None:
    # The demo's profile names the fleet scenario's other projects in fleet_project_ids.
    code, data, _ = fleet_json(capsys)
    assert code == 0 and [p["id"] for p in data["projects"]] == ["1234567", "2345678", "3456789"]
    code, data, _ = fleet_json(capsys, "--project", "1234567")
    assert code == 0 and [p["id"] for p in data["projects"]] == ["1234567"]
    assert len(data["environments"]) == 20
    sorted_by = ("--sort", "version", "--descending")
    code, data, _ = fleet_json(capsys, *EVERY_PROJECT, "--filter", "fabrikam", *sorted_by)
    assert code == 0
    assert {e["project_id"] for e in data["environments"]} == {"2345678"}
    versions = [tuple(map(int, e["version"].split("."))) for e in data["environments"]]
    assert versions == sorted(versions, reverse=True)


def test_the_table_fits_80_columns(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*DEMO, "fleet", *EVERY_PROJECT], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == [
        "NAME", "TYPE", "STATE", "VERSION", "PPI", "DV", "PKG", "LINK", "MM", "OP", "DR", "AGE"
    ]
    assert all(cells(line) <= 80 for line in lines), max(lines, key=cells)
    rows = [line for line in lines[1:] if line and not line.startswith(("project ", " "))]
    assert sum(1 for line in rows if re.match(r"\S+\s+(prod|sbx|dev)\s", line)) == 60
    assert any(line.startswith("northw~d-000 prod") for line in lines)  # a long name, cut in the middle
    assert "project 2345678: 20 environments, listed" in out


def test_names_from_the_services_reach_the_table_inert(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["--demo", "--scenario", "hostile-names", "--speed", "1000", "fleet"], capsys)
    assert code == 0, err
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in out.replace("\n", ""))
    assert "contos~\\x1b" in out and all(cells(line) <= 80 for line in out.splitlines())


@pytest.mark.parametrize(
    ("text", "width", "shown"),
    [
        ("contoso-uat", 12, "contoso-uat "),
        ("northwind-000", 12, "northw~d-000"),
        ("a\x1b]52;c;x\x07b", 12, "a\\x1b]~;x\\x07b"[:12]),
        ("東京東京東京東京", 12, "東京東~東京 "),
    ],
)
def test_fit_cuts_in_the_middle_after_making_text_inert(text: str, width: int, shown: str) -> None:
    result = fit(text, width)
    assert cells(result) == width
    assert "\x1b" not in result
    if text.isprintable():
        assert result == shown


def test_a_bad_project_id_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*DEMO, "fleet", "--project", "12ab"], capsys)
    assert code == 2 and out == ""
    assert err.startswith("dwtui: ") and len(err.strip().splitlines()) == 1 and "12ab" in err


def test_a_project_that_cannot_be_listed_still_prints_the_rest_and_exits_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, data, err = fleet_json(capsys, "--project", "2345678", "--project", "999")
    assert code == 3
    assert [p["environments"] for p in data["projects"]] == [20, 0]
    assert data["projects"][1]["error"]["service"] == "LCS API"
    assert len(data["environments"]) == 20 and data["faults"] == [data["projects"][1]["error"]]
    assert err.strip().splitlines()[-1].startswith("dwtui: could not read everything: LCS API")


def test_the_readme_documents_every_json_key() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## `dwtui fleet --json`", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([a-z_]+)`", section))
    missing = (TOP_KEYS | PROJECT_KEYS | ENVIRONMENT_KEYS | FACT_KEYS) - documented
    assert not missing, missing
