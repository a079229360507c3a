"""`dwtui fleet`: every environment of one or more LCS projects, one line each, in 80 columns.

The table is printed once every row is read, sorted: a script reading stdout gets whole, ordered
lines, and rows that finish in any order cannot be sorted before the last one is in. While it
reads, a terminal's stderr says how far it has got (and the LCS waits, as every command does).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import click

from dwtui.cli.params import NAME, PROJECT_ID
from dwtui.cli.root import cli
from dwtui.cli.runtime import (
    EXIT_OK,
    EXIT_SERVICE,
    Failure,
    current_runtime,
    fault_line,
    refuse_application_profile,
    sign_in,
)
from dwtui.domain.fleet import Column, FleetRow
from dwtui.domain.fleet_table import COLUMNS, age_words, cell, filter_rows, fit, sort_rows

if TYPE_CHECKING:
    from dwtui.services.fleet import FleetReader, FleetResult, ProjectRead

_PROGRESS_EVERY = 2.0  # seconds between progress lines on a terminal


def table_lines(rows: list[FleetRow], now: float) -> list[str]:
    header = " ".join(fit(spec.header, spec.width) for spec in COLUMNS.values())
    lines = [header.rstrip()]
    for row in rows:
        cells = (fit(cell(row, column, now), COLUMNS[column].width) for column in Column)
        lines.append(" ".join(cells).rstrip())
    return lines


LEGEND = (
    "PPI Power Platform Integration (noDV: no Dataverse)  DV Dataverse  MM !! linking",
    "mismatch  PKG dual-write packages installed/listed (! failed, * installing)",
    "OP running install, link or add Dataverse  DR the doctor's worst finding, of its",
    "checks that need no extra read (ok, !! problem, ? could not judge; dwtui doctor",
    "checks one environment fully)  AGE of the row's oldest fact  ? could not be read",
    ".. not read",
)


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _Progress:
    """Counts the rows read; on a terminal, says so on stderr every few seconds."""

    def __init__(self, show: bool) -> None:
        self.show = show
        self.done: set[tuple[str, str]] = set()
        self.listed: set[tuple[str, str]] = set()
        self.said_at = time.monotonic()

    def on_row(self, row: FleetRow) -> None:
        self.listed.add(row.key)
        if row.complete and not row.from_cache:
            self.done.add(row.key)
        now = time.monotonic()
        if self.show and now - self.said_at >= _PROGRESS_EVERY:
            self.said_at = now
            click.echo(
                f"dwtui: fleet: {len(self.done)} of {len(self.listed)} listed environments read",
                err=True,
            )


def _read(reader: FleetReader, projects: list[str], refresh: bool, progress: _Progress) -> FleetResult:
    """Read in a thread, so Ctrl+C stops the reader (and its waits) instead of waiting for them."""
    outcome: list[Any] = []

    def work() -> None:
        try:
            outcome.append(reader.read(projects, progress.on_row, refresh=refresh))
        except BaseException as error:  # handed to the main thread, which raises it
            outcome.append(error)

    thread = threading.Thread(target=work, name="dwtui-fleet-read", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        reader.cancel()
        thread.join(35.0)  # an HTTP call under way ends within its timeout
        raise
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result  # type: ignore[no-any-return]


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON with stable keys (README).")
@click.option(
    "--project",
    "projects",
    type=PROJECT_ID,
    multiple=True,
    help="An LCS project id (repeat for several; default: the profile's project and fleet_project_ids).",
)
@click.option("--refresh", is_flag=True, help="List LCS again even when the cache is still fresh.")
@click.option(
    "--sort",
    "sort_by",
    type=click.Choice([c.value for c in Column]),
    default=Column.NAME.value,
    show_default=True,
    help="The column to sort by.",
)
@click.option("--descending", is_flag=True, help="Sort from the largest (or last) value.")
@click.option(
    "--filter", "text", type=NAME, default="", help="Only rows whose name, type or state hold these letters."
)
@click.option(
    "--no-interactive",
    is_flag=True,
    help="Never wait for a device-code sign-in; exit 4 when a silent sign-in is not possible.",
)
def fleet(
    as_json: bool,
    projects: tuple[str, ...],
    refresh: bool,
    sort_by: str,
    descending: bool,
    text: str,
    no_interactive: bool,
) -> int:
    """Every environment of one or more LCS projects: integration, Dataverse, packages, link, mismatch,
    running operation, the doctor's worst finding and the age of each fact."""
    from dwtui.services.fleet import FleetReader, fleet_doctor
    from dwtui.services.fleet_cache import CACHE_LIFETIME
    from dwtui.services.fleet_json import fleet_to_json

    runtime = current_runtime()
    session = runtime.session()
    refuse_application_profile(session.profile)
    sign_in(session, interactive=not no_interactive)
    profile = session.profile
    wanted = list(projects) or [profile.lcs_project_id, *profile.fleet_project_ids]
    reader = FleetReader(session, doctor=fleet_doctor(session))
    result = _read(reader, wanted, refresh, _Progress(_stderr_is_terminal() and not as_json))
    now = time.time()
    rows = sort_rows(filter_rows(result.rows, text), Column(sort_by), descending=descending, now=now)
    if as_json:
        document = fleet_to_json(
            result, rows, now, cache_path=str(reader.cache.path), cache_lifetime=CACHE_LIFETIME
        )
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo("\n".join(table_lines(rows, now)))
        click.echo("")
        click.echo("\n".join(LEGEND))
        for project in result.projects:
            click.echo(_project_line(project, now))
    faults = result.faults
    if faults:
        more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
        raise Failure(f"could not read everything: {fault_line(faults[0])}{more}", EXIT_SERVICE)
    return EXIT_OK


def _project_line(project: ProjectRead, now: float) -> str:
    if project.fault is not None:
        return f"project {project.project_id}: not listed ({project.fault.service}: {project.fault.message})"
    if project.listed_at is None:
        return f"project {project.project_id}: not listed"
    source = "from the cache (--refresh lists LCS again)" if project.from_cache else "by LCS"
    age = age_words(now - project.listed_at)
    return f"project {project.project_id}: {project.environments} environments, listed {age} ago {source}"
