"""The highlighted row in words: each fact with its detail and its own age (the table has room for
the row's oldest age only).

Full, where there is room: a line per fact. Compact, on a short terminal: the row's name and ages,
then the doctor's finding, which its two-letter cell can only hint at.
"""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Static

from dwtui.domain.fleet import Column, Fact, FleetRow
from dwtui.domain.fleet_table import age_words, cells_wide
from dwtui.domain.text import inert

FACT_LABELS: dict[Column, str] = {
    Column.INTEGRATION: "Power Platform Integration",
    Column.DATAVERSE: "Dataverse",
    Column.PACKAGES: "Dual-write packages",
    Column.LINK: "Link",
    Column.MISMATCH: "Linking mismatch",
    Column.OPERATION: "Running operation",
    Column.DOCTOR: "Doctor (no extra read)",
}
_LABEL_WIDTH = max(len(label) for label in FACT_LABELS.values())


def _ago(at: float | None, now: float) -> str:
    return "never read" if at is None else f"{age_words(max(0.0, now - at))} ago"


def fact_words(fact: Fact, now: float) -> str:
    """A fact's value, detail, fault and age in one line (inert)."""
    if fact.reading:
        return "being read..."
    words = [fact.value]
    if fact.detail:
        words.append(fact.detail)
    if fact.fault is not None:
        fault = fact.fault
        code = f" [{fault.code}]" if fault.code else ""
        words.append(f"could not be read: {fault.service}{code} {fault.message}")
    return inert(" · ".join(words)) + f" ({_ago(fact.read_at, now)})"


def heading(row: FleetRow) -> str:
    env = row.environment
    state = env.deployment_status or env.deployment_state
    version = env.application_release or env.application_version
    parts = [env.name, env.environment_type, state, version, f"LCS project {env.project_id}"]
    return inert(" · ".join(part for part in parts if part))


def full_lines(row: FleetRow, now: float) -> list[str]:
    cached = "; its facts from the cache" if row.from_cache else ""
    lines = [
        heading(row),
        inert(f"listed by LCS {_ago(row.lcs_read_at, now)}{cached} · {row.environment.fo_url}"),
    ]
    for column, label in FACT_LABELS.items():
        lines.append(f"{label:<{_LABEL_WIDTH}} {fact_words(row.fact(column), now)}")
    return lines


def compact_lines(row: FleetRow, now: float, width: int) -> list[str]:
    """Two lines of `width` cells at most: the row's project and ages, then the doctor's finding (its
    remedy is for the full detail, beside the table from 150 columns or under it from 30 rows)."""
    env = row.environment
    ages = f"listed {_ago(row.lcs_read_at, now)}, facts {_ago(row.oldest_read_at, now)}"
    first = inert(f"{env.name} · LCS project {env.project_id} · {ages}")
    doctor = fact_words(replace(row.doctor, detail=row.doctor.detail.split(" Remedy: ")[0]), now)
    return [_cut(first, width), _cut(f"Doctor: {doctor}", width)]


def _cut(text: str, width: int) -> str:
    """`text` in `width` cells: whole, or its start and an ellipsis."""
    if cells_wide(text) <= width or width < 2:
        return text
    kept = ""
    for ch in text:
        if cells_wide(kept + ch) > width - 1:
            break
        kept += ch
    return kept + "…"


class RowDetail(Static):
    """What the highlighted row holds, fact by fact."""

    def show(self, row: FleetRow | None, now: float, *, compact: bool) -> None:
        if row is None:
            self.update("No environment to show (yet).")
            return
        width = self.content_region.width or self.app.size.width - 2
        lines = compact_lines(row, now, width) if compact else full_lines(row, now)
        self.update("\n".join(lines))
