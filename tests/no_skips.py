"""A skipped or xfailed test fails the run, however pytest is started (tests/conftest.py imports
these hooks; `xfail_strict` in pyproject.toml makes an unexpected pass fail too).

The suite has no optional parts: a test that skips because a tool is missing means the machine is
not set up, and that must not pass silently.
"""

from __future__ import annotations

import pytest

_NOT_RUN = ("skipped", "xfailed")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    not_run = [report for kind in _NOT_RUN for report in terminalreporter.stats.get(kind, [])]
    if not_run:
        terminalreporter.section("tests that did not run (this fails the run)", red=True)
        for report in not_run:
            terminalreporter.line(f"{report.nodeid}: {report.longrepr}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = getattr(reporter, "stats", {})
    if exitstatus == 0 and any(stats.get(kind) for kind in _NOT_RUN):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
