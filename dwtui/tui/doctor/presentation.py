"""What the doctor's screen says: a row's state, a check's details, and the run's summary.

Every word a service or the environment chose goes through `inert` on its way in; the only
hyperlink is a check's documentation, made by `link_text`. A state is a mark and a word, so it
reads the same without colour; colour only repeats it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from dwtui.domain.doctor import CheckResult, CheckSpec, CheckState, Group, Outcome, outcome_of
from dwtui.domain.models import LcsEnvironment
from dwtui.domain.text import inert
from dwtui.tui.safe_text import link_text

CHECKING = "checking"
# ASCII marks (as the one-box checklist's): the same in every terminal and font.
MARKS: dict[CheckState | str, str] = {
    CheckState.OK: "[x] ok",
    CheckState.PROBLEM: "[!] problem",
    CheckState.UNKNOWN: "[?] unknown",
    CheckState.NOT_APPLICABLE: "[-] n/a",
    CHECKING: "[…] checking",
}
STATE_WIDTH = max(len(mark) for mark in MARKS.values()) + len(" [I]")
INFERRED_NOTE = "[I] inferred: no public source shows this; dwtui infers it"
OUTCOME_WORDS = {
    Outcome.OK: "All applicable checks pass",
    Outcome.PROBLEM: "Problem found",
    Outcome.INCOMPLETE: "Incomplete: a check could not run",
}


@dataclass(frozen=True, slots=True)
class Palette:
    """The theme's colours for each state (Rich styles: DataTable cells are not styled by CSS)."""

    ok: Style
    problem: Style
    unknown: Style
    muted: Style
    heading: Style

    @staticmethod
    def of(variables: Mapping[str, str]) -> Palette:
        def colour(name: str) -> Style:
            value = variables.get(name, "")
            return Style(color=value) if value.startswith("#") else Style()

        return Palette(
            ok=colour("text-success"),
            problem=colour("text-error") + Style(bold=True),
            unknown=colour("text-warning"),
            muted=Style(dim=True),
            heading=Style(bold=True),
        )

    def of_state(self, state: CheckState | str) -> Style:
        styles: dict[CheckState | str, Style] = {
            CheckState.OK: self.ok,
            CheckState.PROBLEM: self.problem,
            CheckState.UNKNOWN: self.unknown,
        }
        return styles.get(state, self.muted)


def group_heading(group: Group) -> str:
    return group.value[:1].upper() + group.value[1:]


def state_cell(result: CheckResult | None, palette: Palette) -> Text:
    """`[!] problem`, and ` [I]` when what it rests on is inferred; `[…] checking` before it is known."""
    state: CheckState | str = CHECKING if result is None else result.state
    text = Text(MARKS[state], style=palette.of_state(state))
    if result is not None and result.inferred:
        text.append(" [I]", style=palette.muted)
    return text


def duration_text(result: CheckResult | None) -> str:
    return "" if result is None else f"{result.duration_s:.1f} s"


def _heading(text: Text, words: str, palette: Palette) -> None:
    text.append("\n")
    text.append(words, style=palette.heading)
    text.append("\n")


def _source_line(text: Text, source: str) -> None:
    """The public source of a call: a link when it is a page, else the repository and path."""
    if source:
        text.append("    source: ")
        text.append_text(link_text(source))
        text.append("\n")


def check_detail(
    spec: CheckSpec,
    result: CheckResult | None,
    palette: Palette,
    *,
    time_limit: float,
    show_timings: bool = True,
) -> Text:
    """Everything about one check: its state and finding, the evidence, the remedy and its link."""
    text = Text()
    text.append(spec.title, style=palette.heading)
    text.append("\n")
    text.append(f"{group_heading(spec.group)} · {spec.check_id}", style=palette.muted)
    text.append("\n\n")
    text.append_text(state_cell(result, palette))
    if result is None:
        text.append(f"\nstill running (its time limit is {time_limit:g} s)\n")
        _heading(text, "Reads", palette)
        for source in spec.sources:
            mark = " [I]" if source.inferred else ""
            text.append(f"  {inert(source.service)}{mark}: {inert(source.call)}\n")
            _source_line(text, source.source)
        if spec.inferred:
            text.append("\n")
            text.append(INFERRED_NOTE, style=palette.muted)
        return text
    if show_timings:
        text.append(f"  after {duration_text(result)}", style=palette.muted)
    text.append(f"\n{inert(result.summary, multiline=True)}\n")
    if result.evidence:
        _heading(text, "Evidence", palette)
        for evidence in result.evidence:
            mark = " [I] inferred" if evidence.inferred else ""
            text.append(f"  {inert(evidence.service)}{mark}: {inert(evidence.call)}\n")
            text.append(f"    answered: {inert(evidence.answer, multiline=True)}\n")
    if result.remedy:
        _heading(text, "Remedy", palette)
        text.append(f"  {inert(result.remedy, multiline=True)}\n")
    if result.doc:
        _heading(text, "Documentation", palette)
        text.append("  ")
        text.append_text(link_text(result.doc))
        text.append("\n")
    if result.inferred:
        text.append("\n")
        text.append(INFERRED_NOTE, style=palette.muted)
    return text


def group_detail(
    group: Group, rows: Iterable[tuple[CheckSpec, CheckResult | None]], palette: Palette
) -> Text:
    """A group's heading row: its checks, each with its state and finding so far."""
    text = Text()
    text.append(group_heading(group), style=palette.heading)
    text.append("\n")
    for spec, result in rows:
        text.append("\n")
        text.append_text(state_cell(result, palette))
        text.append(f"  {spec.title}\n")
        if result is not None:
            text.append(f"    {inert(result.summary, multiline=True)}\n", style=palette.muted)
    return text


def environment_title(environment: LcsEnvironment | None, fallback: str) -> str:
    if environment is None:
        return fallback
    return inert(f"{environment.name} ({environment.environment_type})")


def summary(total: int, results: Iterable[CheckResult], *, finished: bool) -> tuple[str, str]:
    """(the summary line, the CSS class of its outcome: running, ok, problem or incomplete)."""
    done = list(results)
    counts = {state: sum(1 for result in done if result.state is state) for state in CheckState}
    tally = (
        f"{counts[CheckState.OK]} ok, {counts[CheckState.PROBLEM]} problem(s), "
        f"{counts[CheckState.UNKNOWN]} could not run, {counts[CheckState.NOT_APPLICABLE]} not applicable"
    )
    if not finished:
        return f"Checking: {len(done)} of {total} done ({tally}).", "running"
    outcome = outcome_of(result.state for result in done)
    return f"{OUTCOME_WORDS[outcome]}. {total} checks: {tally}.", outcome.value
