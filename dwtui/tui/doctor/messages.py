"""What the doctor's worker tells its screen: each check as it finishes, then the whole report.

Each carries the run it belongs to, so that what a cancelled run still reports is dropped.
"""

from __future__ import annotations

from textual.message import Message

from dwtui.domain.doctor import CheckResult, DoctorReport


class CheckFinished(Message):
    def __init__(self, run: int, result: CheckResult) -> None:
        super().__init__()
        self.run = run
        self.result = result


class DoctorFinished(Message):
    def __init__(self, run: int, report: DoctorReport) -> None:
        super().__init__()
        self.run = run
        self.report = report
