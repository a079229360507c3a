"""The suite refuses skipped and xfailed tests however pytest is started, not only from scripts/test.sh."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import tests.conftest
import tests.no_skips

ROOT = Path(__file__).resolve().parent.parent


def test_the_suite_s_conftest_carries_the_hooks_and_pyproject_makes_xfail_strict() -> None:
    assert tests.conftest.pytest_sessionfinish is tests.no_skips.pytest_sessionfinish
    assert tests.conftest.pytest_terminal_summary is tests.no_skips.pytest_terminal_summary
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]
    assert options["ini_options"]["xfail_strict"] is True
    assert "-p pytest_no_skips" not in (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")


def _pytest(folder: Path, body: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_probe.py").write_text(body, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.no_skips", "-p", "no:cacheprovider", "-q", str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_a_skipped_test_fails_the_run(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "import pytest\n\ndef test_x():\n    pytest.skip('no tool')\n")
    assert done.returncode == 1, done.stdout
    assert "tests that did not run (this fails the run)" in done.stdout


def test_an_xfailed_test_fails_the_run_and_a_passing_one_does_not(tmp_path: Path) -> None:
    failed = _pytest(tmp_path, "import pytest\n\n@pytest.mark.xfail\ndef test_x():\n    assert False\n")
    assert failed.returncode == 1, failed.stdout
    passed = _pytest(tmp_path, "def test_x():\n    assert True\n")
    assert passed.returncode == 0, passed.stdout
