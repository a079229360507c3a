"""The fleet table as rules: narrow cell words, ages, filtering by a few letters and a stable sort.

Both front ends show the same table: the command line in 80 columns, the TUI in a DataTable. Cells
here are raw words; a front end makes them inert (dwtui.domain.text.inert) before a terminal sees them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from dwtui.domain.fleet import NONE, NOT_CHECKED, UNKNOWN, Column, Fact, FleetRow
from dwtui.domain.text import inert

READING_MARK = ".."  # a fact still being read
CUT = "~"  # where a name too long for its column was cut


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    header: str
    width: int  # in terminal cells, for the 80-column table
    title: str  # what the header stands for (the legend, the TUI's tooltip)


COLUMNS: dict[Column, ColumnSpec] = {
    Column.NAME: ColumnSpec("NAME", 12, "environment name"),
    Column.TYPE: ColumnSpec("TYPE", 4, "prod Production, sbx Sandbox, dev DevTestDev (one-box)"),
    Column.STATE: ColumnSpec("STATE", 9, "LCS deployment status"),
    Column.VERSION: ColumnSpec("VERSION", 7, "finance and operations release"),
    Column.INTEGRATION: ColumnSpec("PPI", 4, "Power Platform Integration (noDV: without Dataverse)"),
    Column.DATAVERSE: ColumnSpec("DV", 5, "Dataverse"),
    Column.PACKAGES: ColumnSpec("PKG", 4, "dual-write packages installed/listed (! failed, * installing)"),
    Column.LINK: ColumnSpec("LINK", 7, "link to the Power Platform environment"),
    Column.MISMATCH: ColumnSpec("MM", 2, "linking mismatch (!!)"),
    Column.OPERATION: ColumnSpec("OP", 8, "running install, link or add Dataverse (% when the service says)"),
    Column.DOCTOR: ColumnSpec(
        "DR",
        3,
        "the doctor's worst finding, of its checks that need no extra read (ok, !! problem, ? could not "
        "judge)",
    ),
    Column.AGE: ColumnSpec("AGE", 3, "age of the row's oldest fact"),
}

_TYPES = {"production": "prod", "sandbox": "sbx", "devtestdev": "dev"}
_WORDS: dict[Column, dict[str, str]] = {
    Column.INTEGRATION: {
        "set up": "yes",
        "not set up": "no",
        "Power Platform environment without Dataverse": "noDV",
    },
    Column.DATAVERSE: {"being added": "add.."},
    Column.LINK: {"not linked": "no"},
    Column.MISMATCH: {"yes": "!!", "no": "-"},
    Column.OPERATION: {NONE: "-", "install": "inst", "add Dataverse": "addDV"},
    Column.DOCTOR: {NOT_CHECKED.value: "n/c", "problem": "!!", "not_applicable": "n/a"},
}
_TYPE_ORDER = {"production": 0, "sandbox": 1, "devtestdev": 2}


def cells_wide(text: str) -> int:
    """How many terminal cells `text` takes (wide characters two, combining marks none)."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def fit(text: str, width: int) -> str:
    """`text` inert, in exactly `width` cells: padded, or cut in the middle (names share their starts)."""
    shown = inert(text)
    if cells_wide(shown) <= width:
        return shown + " " * (width - cells_wide(shown))
    head_room = (width - len(CUT) + 1) // 2
    tail_room = width - len(CUT) - head_room
    head = ""
    for ch in shown:
        if cells_wide(head + ch) > head_room:
            break
        head += ch
    tail = ""
    for ch in reversed(shown):
        if cells_wide(ch + tail) > tail_room:
            break
        tail = ch + tail
    joined = head + CUT + tail
    return joined + " " * (width - cells_wide(joined))


def age_words(seconds: float | None) -> str:
    """3s, 12m, 5h, 2d: an age in at most three characters (99d and older are 99d)."""
    if seconds is None:
        return ""
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size:
            return f"{min(99, int(seconds // size))}{unit}"
    return f"{int(seconds)}s"


def cell(row: FleetRow, column: Column, now: float) -> str:
    """A cell's narrow words (not yet inert, not yet cut to the column's width)."""
    fact = row.fact(column)
    if column is Column.AGE:
        return age_words(fact.age(now))
    if fact.reading:
        return READING_MARK
    if fact.fault is not None or fact.value == UNKNOWN:
        return "?"
    if column is Column.TYPE:
        return _TYPES.get(fact.value.strip().lower(), fact.value.strip().lower()[:4])
    if column is Column.PACKAGES:
        return _packages_cell(row, fact)
    if column is Column.OPERATION and fact.value != NONE:
        word = _WORDS[column].get(fact.value, fact.value)
        return _operation_cell(word, fact)
    return _WORDS.get(column, {}).get(fact.value, fact.value)


def _packages_cell(row: FleetRow, fact: Fact) -> str:
    if fact.value == NONE:
        return "-"
    listed = [status for status in row.package_states if status.state.value != "not listed"]
    installed = sum(1 for status in listed if status.state.value == "installed")
    marks = ("!" if any(s.state.value == "failed" for s in listed) else "") + (
        "*" if any(s.state.value == "installing" for s in listed) else ""
    )
    return f"{installed}/{len(listed)}{marks}"


def _operation_cell(word: str, fact: Fact) -> str:
    # Only the service's own percent: an estimate ("about 12 min left") is the detail's, not the cell's.
    return f"{word} {fact.number:.0f}%" if fact.number is not None else word


def matches(row: FleetRow, text: str) -> bool:
    """Whether every word typed is part of the row's name, type or state (case ignored)."""
    env = row.environment
    haystack = " ".join(
        (env.name, env.environment_type, env.deployment_status, env.deployment_state)
    ).casefold()
    return all(word in haystack for word in text.casefold().split())


def filter_rows(rows: Iterable[FleetRow], text: str) -> list[FleetRow]:
    return [row for row in rows if matches(row, text)]


def _version(text: str) -> tuple[int, ...] | None:
    parts = text.strip().split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


SortKey = tuple[object, ...]


def sort_key(row: FleetRow, column: Column, now: float) -> SortKey | None:
    """What the column sorts by; None for a fact that is still being read or could not be (last)."""
    fact = row.fact(column)
    if column is Column.AGE:
        age = fact.age(now)
        return None if age is None else (age,)
    if fact.reading or fact.fault is not None or fact.value == UNKNOWN:
        return None
    words = fact.value.casefold()
    if column is Column.TYPE:
        return (_TYPE_ORDER.get(words.strip(), 9), words)
    if column is Column.VERSION:
        version = _version(fact.value)
        return (0, version, "") if version is not None else (1, (), words)
    if column in (Column.PACKAGES, Column.OPERATION) and fact.number is not None:
        return (0, fact.number, words)
    if column in (Column.PACKAGES, Column.OPERATION):
        return (1, 0.0, words)
    return (words,)


def sort_rows(
    rows: Iterable[FleetRow], column: Column, *, descending: bool = False, now: float = 0.0
) -> list[FleetRow]:
    """A stable sort by one column: equal rows keep their order, either way; unknown facts go last."""
    known: list[tuple[SortKey, FleetRow]] = []
    unknown: list[FleetRow] = []
    for row in rows:
        key = sort_key(row, column, now)
        if key is None:
            unknown.append(row)
        else:
            known.append((key, row))
    # sorted() is stable with reverse=True too: equal keys keep their input order.
    ordered = sorted(known, key=lambda pair: pair[0], reverse=descending)
    return [row for _, row in ordered] + unknown
