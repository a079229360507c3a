"""Operation statuses, the adaptive poll schedule, the progress estimate and the stage log (pure)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dwtui.domain.operations import (
    FIRST_PHASE_INTERVAL,
    MAX_INTERVAL,
    NEAR_END_INTERVAL,
    TYPICAL_INSTALL_SECONDS,
    OperationKind,
    OperationRecord,
    OperationStatus,
    estimate_progress,
    fault_delay,
    format_duration,
    poll_delay,
    readable_terms,
    record_from_json,
    record_to_json,
)
from dwtui.domain.operations import parse_status as status_of

elapsed_times = st.floats(min_value=0, max_value=6 * 3600, allow_nan=False)
percents = st.floats(min_value=0, max_value=100, allow_nan=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NotStarted", OperationStatus.NOT_STARTED),
        ("running", OperationStatus.RUNNING),
        ("Succeeded", OperationStatus.SUCCEEDED),
        ("Failed", OperationStatus.FAILED),
        ("Canceled", OperationStatus.CANCELED),
        ("Cancelled", OperationStatus.CANCELED),
        (" CANCELLED ", OperationStatus.CANCELED),
        ("Exploded", OperationStatus.UNKNOWN),
        ("", OperationStatus.UNKNOWN),
    ],
)
def test_status_spellings(text: str, expected: OperationStatus) -> None:
    assert status_of(text) is expected


def test_terminal_statuses() -> None:
    terminal = {s for s in OperationStatus if s.terminal}
    assert terminal == {OperationStatus.SUCCEEDED, OperationStatus.FAILED, OperationStatus.CANCELED}


def polls_until(done_at: float, **kw: float) -> tuple[int, float]:
    """(requests made, seconds between completion and the poll that notices it)."""
    moment, count = 0.0, 1
    while moment < done_at:
        moment += poll_delay(moment, **kw)
        count += 1
    return count, moment - done_at


def test_schedule_meets_the_aim_for_a_typical_install() -> None:
    fixed_requests = math.ceil(TYPICAL_INSTALL_SECONDS / 5.0) + 1
    requests, noticed_after = polls_until(TYPICAL_INSTALL_SECONDS)
    assert requests <= fixed_requests / 2
    assert noticed_after <= 10.0


def test_schedule_is_frequent_first_then_rarer_then_frequent_near_the_end() -> None:
    assert all(poll_delay(t) == FIRST_PHASE_INTERVAL for t in (0, 10, 29.9))
    assert poll_delay(600) == MAX_INTERVAL
    assert poll_delay(TYPICAL_INSTALL_SECONDS - 20) == NEAR_END_INTERVAL
    assert poll_delay(TYPICAL_INSTALL_SECONDS - 150) < MAX_INTERVAL


@given(elapsed_times, st.one_of(st.none(), percents))
def test_schedule_stays_within_bounds(elapsed: float, percent: float | None) -> None:
    delay = poll_delay(elapsed, percent=percent)
    assert FIRST_PHASE_INTERVAL <= delay <= MAX_INTERVAL


@given(elapsed_times, st.floats(min_value=0, max_value=3600, allow_nan=False))
def test_retry_after_always_wins(elapsed: float, retry_after: float) -> None:
    assert poll_delay(elapsed, retry_after=retry_after) == retry_after
    assert fault_delay(elapsed, 7, retry_after=retry_after) == retry_after


@given(elapsed_times, st.integers(min_value=0, max_value=100))
def test_fault_delay_backs_off_but_never_below_the_schedule(elapsed: float, streak: int) -> None:
    delay = fault_delay(elapsed, streak)
    assert poll_delay(elapsed) <= delay <= MAX_INTERVAL


def test_service_percent_moves_the_expected_end() -> None:
    # 90% after 9 minutes: the end is expected at 10 minutes, so polls tighten long before 30.
    assert poll_delay(9 * 60, percent=90.0) == pytest.approx(60 * 0.2)
    assert poll_delay(9 * 60) == MAX_INTERVAL


@given(st.floats(min_value=0, max_value=TYPICAL_INSTALL_SECONDS * 3, allow_nan=False))
def test_estimate_without_percent_never_claims_completion(elapsed: float) -> None:
    estimate = estimate_progress(elapsed, None)
    assert 0.0 <= estimate.fraction < 1.0
    assert not estimate.from_service
    assert estimate.overdue == (elapsed >= TYPICAL_INSTALL_SECONDS)
    if estimate.overdue:
        assert estimate.eta_seconds is None and "longer than usual" in estimate.summary
    else:
        assert estimate.eta_seconds == pytest.approx(TYPICAL_INSTALL_SECONDS - elapsed)


@given(st.floats(min_value=1, max_value=7200, allow_nan=False), st.floats(min_value=1, max_value=99))
def test_estimate_with_percent_uses_it(elapsed: float, percent: float) -> None:
    estimate = estimate_progress(elapsed, percent)
    assert estimate.from_service and estimate.fraction == pytest.approx(percent / 100)
    assert estimate.eta_seconds == pytest.approx(elapsed * (100 - percent) / percent)


def test_estimate_of_finished_operations() -> None:
    assert estimate_progress(60, None, OperationStatus.SUCCEEDED).fraction == 1.0
    failed = estimate_progress(600, None, OperationStatus.FAILED)
    assert failed.fraction < 1.0 and failed.eta_seconds is None


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0, 9.6, 65, 3600 + 120)] == [
        "0 s",
        "10 s",
        "1 min 05 s",
        "1 h 02 min",
    ]


def record() -> OperationRecord:
    return OperationRecord(OperationKind.INSTALL, "sim", "6f4a", "bap-1", "DualWriteCoreAnchor", 100.0, "c1")


def test_stage_log_keeps_state_changes_only() -> None:
    r = record()
    for at, status, message in [
        (1, OperationStatus.NOT_STARTED, ""),
        (2, OperationStatus.NOT_STARTED, ""),
        (3, OperationStatus.RUNNING, "Validating prerequisites"),
        (4, OperationStatus.RUNNING, "Validating prerequisites"),
        (5, OperationStatus.RUNNING, "Applying maps"),
    ]:
        r = r.observed(at, status, message, None)
    assert [(e.at, e.message) for e in r.log] == [
        (1, ""),
        (3, "Validating prerequisites"),
        (5, "Applying maps"),
    ]
    assert r.last_polled_at == 5


@given(
    st.text(max_size=20),
    st.one_of(st.none(), percents),
    st.sampled_from(list(OperationStatus)),
    st.one_of(st.none(), st.floats(min_value=0, max_value=2e9)),
)
def test_record_round_trips_through_json(
    message: str, percent: float | None, status: OperationStatus, finished: float | None
) -> None:
    original = record().observed(5.0, status, message, percent)
    original = replace(original, finished_at=finished)
    assert record_from_json(record_to_json(original)) == original


@pytest.mark.parametrize("damaged", [None, [], {"kind": "explode"}, {"kind": "install"}, "text"])
def test_damaged_records_are_skipped(damaged: object) -> None:
    assert record_from_json(damaged) is None


def test_readable_terms_reduces_html_and_keeps_text() -> None:
    html = (
        "<!DOCTYPE html><html><head><style>p{}</style></head>"
        "<body><h1>Terms</h1><p>One &amp; two</p></body></html>"
    )
    assert readable_terms(html) == "Terms\n\nOne & two"
    assert readable_terms("  plain\ntext  ", "text/plain") == "plain\ntext"


def test_readable_terms_leave_the_wrapping_to_the_dialog() -> None:
    """Line breaks inside a paragraph are the author's editor's, not the document's: at 80 columns they
    made ragged lines (issue 11). HTML joins them as a browser does; hard-wrapped plain text too."""
    html = "<html><body><p>These terms are an agreement\nbetween you and the publisher.</p><p>Two</p></body>"
    assert readable_terms(html) == "These terms are an agreement between you and the publisher.\n\nTwo"
    wrapped = (
        "Dual-write copies the data of the tables you map between finance and operations and Dataverse,\n"
        "in near real time. Review which tables you map.\n"
        "Short line\n"
        "\n"
        "- a list item that stays on its own line, however long the line before it may be\n"
        "- another one\n"
    )
    assert readable_terms(wrapped, "text/plain") == (
        "Dual-write copies the data of the tables you map between finance and operations and Dataverse, "
        "in near real time. Review which tables you map.\nShort line\n\n"
        "- a list item that stays on its own line, however long the line before it may be\n- another one"
    )
