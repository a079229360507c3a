"""The one-box flight on AXDB: Microsoft's documented script, and the statements dwtui runs.

Two renderings of one intent. `documented_script` is Microsoft's T-SQL with the values written in,
for people who run it themselves in SQL Server Management Studio. `FlightPlan.statements` is what
dwtui executes through ODBC in one transaction: plain SQL that SQL Server, PostgreSQL and SQLite
accept alike (unquoted names, which PostgreSQL folds to lower case on both sides),
with every value passed as a `?` parameter, so no input can ever change the SQL text.

SQL Server's real SYSFLIGHTING also has RECID and RECVERSION columns with defaults; the documented
script inserts only FLIGHTNAME, ENABLED, FLIGHTSERVICEID and PARTITION, and so does dwtui.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DEFAULT_FLIGHT_NAME = "DualWriteUnoAuthenticationFnoToCds"
DEFAULT_FLIGHT_SERVICE_ID = 12719367
MAX_SERVICE_ID = 2**31 - 1  # FLIGHTSERVICEID is an int column

_FLIGHT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")


class FlightInputError(ValueError):
    """A flight name or service id that cannot be used; `field_name` says which."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field_name = field_name
        super().__init__(message)


def validate_flight_name(value: str) -> str:
    text = value.strip()
    if not text:
        raise FlightInputError("flight_name", "enter a flight name, e.g. " + DEFAULT_FLIGHT_NAME)
    if not _FLIGHT_NAME.fullmatch(text):
        raise FlightInputError(
            "flight_name",
            "a flight name is a letter followed by up to 99 letters, digits or underscores",
        )
    return text


def validate_service_id(value: str | int) -> int:
    if isinstance(value, bool):
        raise FlightInputError("service_id", "the flight service id is a whole number")
    if isinstance(value, int):
        number = value
    else:
        text = value.strip()
        if not text.isascii() or not text.isdigit():
            raise FlightInputError(
                "service_id", f"the flight service id is a whole number, e.g. {DEFAULT_FLIGHT_SERVICE_ID}"
            )
        number = int(text)
    if not 1 <= number <= MAX_SERVICE_ID:
        raise FlightInputError("service_id", f"the flight service id must be between 1 and {MAX_SERVICE_ID}")
    return number


def documented_script(
    flight_name: str = DEFAULT_FLIGHT_NAME, service_id: int = DEFAULT_FLIGHT_SERVICE_ID
) -> str:
    """Microsoft's script (lcs-setup.md, "Configure app user for one-box environments") with its values.

    Values are validated first: a flight name can hold no quote, so writing it into the text is safe.
    """
    name = validate_flight_name(flight_name)
    number = validate_service_id(service_id)
    return (
        "-- Run against AXDB, then restart the AOS (w3svc, DynamicsAxBatch, the AOSService web site).\n"
        f"DECLARE @flightName NVARCHAR(100) = '{name}';\n"
        "IF NOT EXISTS (SELECT TOP 1 1 FROM SysFlighting WHERE flightName = @flightName)\n"
        "INSERT INTO SYSFLIGHTING(FLIGHTNAME, ENABLED, FLIGHTSERVICEID, PARTITION)\n"
        f"SELECT @flightName, 1, {number}, RECID FROM DBO.[PARTITIONS];\n"
        "ELSE\n"
        f"UPDATE SysFlighting SET enabled = 1, flightServiceId = {number} WHERE flightName = @flightName;\n"
    )


Param = str | int


@dataclass(frozen=True, slots=True)
class Statement:
    step: str  # partitions | before | update | insert | after
    purpose: str
    sql: str
    params: tuple[Param, ...] = ()


# The SQL texts are constants: nothing a person types is ever part of them.
SQL_PARTITIONS = "SELECT RECID, PARTITIONKEY FROM PARTITIONS ORDER BY RECID"
SQL_ROWS = (
    "SELECT PARTITION, ENABLED, FLIGHTSERVICEID FROM SYSFLIGHTING WHERE FLIGHTNAME = ? ORDER BY PARTITION"
)
SQL_UPDATE = (
    "UPDATE SYSFLIGHTING SET ENABLED = 1, FLIGHTSERVICEID = ? WHERE FLIGHTNAME = ? "
    "AND (ENABLED IS NULL OR ENABLED <> 1 OR FLIGHTSERVICEID IS NULL OR FLIGHTSERVICEID <> ?)"
)
SQL_INSERT = (
    "INSERT INTO SYSFLIGHTING (FLIGHTNAME, ENABLED, FLIGHTSERVICEID, PARTITION) "
    "SELECT ?, 1, ?, p.RECID FROM PARTITIONS p WHERE NOT EXISTS "
    "(SELECT 1 FROM SYSFLIGHTING s WHERE s.FLIGHTNAME = ? AND s.PARTITION = p.RECID)"
)


@dataclass(frozen=True, slots=True)
class FlightPlan:
    flight_name: str = DEFAULT_FLIGHT_NAME
    service_id: int = DEFAULT_FLIGHT_SERVICE_ID

    @staticmethod
    def from_input(flight_name: str, service_id: str | int) -> FlightPlan:
        return FlightPlan(validate_flight_name(flight_name), validate_service_id(service_id))

    def partitions(self) -> Statement:
        return Statement("partitions", "read the partitions", SQL_PARTITIONS)

    def read_rows(self, step: str) -> Statement:
        when = "before" if step == "before" else "after"
        return Statement(step, f"read the flight's rows {when} the change", SQL_ROWS, (self.flight_name,))

    def update(self) -> Statement:
        return Statement(
            "update",
            "enable the flight where a partition has a row that is off or has another service id",
            SQL_UPDATE,
            (self.service_id, self.flight_name, self.service_id),
        )

    def insert(self) -> Statement:
        return Statement(
            "insert",
            "add an enabled row for every partition that has none",
            SQL_INSERT,
            (self.flight_name, self.service_id, self.flight_name),
        )

    def statements(self) -> tuple[Statement, ...]:
        """In the order dwtui runs them, all in one transaction."""
        return (
            self.partitions(),
            self.read_rows("before"),
            self.update(),
            self.insert(),
            self.read_rows("after"),
        )

    def describe(self) -> str:
        """The statements and their parameters, as the preview shows them."""
        lines = [
            "-- One transaction; committed only if every partition then shows the flight enabled",
            f"-- with service id {self.service_id}, otherwise rolled back.",
        ]
        for number, statement in enumerate(self.statements(), start=1):
            lines.append(f"-- {number}. {statement.purpose}")
            lines.append(statement.sql + ";")
            if statement.params:
                shown = ", ".join(repr(p) if isinstance(p, str) else str(p) for p in statement.params)
                lines.append(f"--    parameters: {shown}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Partition:
    recid: int
    key: str  # PARTITIONKEY, e.g. initial


@dataclass(frozen=True, slots=True)
class FlightRow:
    partition: int
    enabled: int | None
    service_id: int | None


@dataclass(frozen=True, slots=True)
class PartitionFlight:
    """One partition's flight row before and after the run (None: no row)."""

    partition: Partition
    before: FlightRow | None
    after: FlightRow | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True, slots=True)
class FlightCheck:
    ok: bool
    problems: tuple[str, ...]


def is_enabled(row: FlightRow | None, service_id: int) -> bool:
    return row is not None and row.enabled == 1 and row.service_id == service_id


def check_enabled(partitions: Sequence[Partition], rows: Iterable[FlightRow], service_id: int) -> FlightCheck:
    """Whether every partition shows the flight enabled with `service_id` (the commit condition)."""
    if not partitions:
        return FlightCheck(False, ("PARTITIONS has no rows, so there is nothing to enable the flight for",))
    by_partition: dict[int, list[FlightRow]] = {}
    for row in rows:
        by_partition.setdefault(row.partition, []).append(row)
    problems: list[str] = []
    for partition in partitions:
        found = by_partition.get(partition.recid, [])
        if not found:
            problems.append(f"partition {partition.key} ({partition.recid}) has no row for the flight")
        elif not all(is_enabled(row, service_id) for row in found):
            problems.append(
                f"partition {partition.key} ({partition.recid}) does not show the flight enabled "
                f"with service id {service_id}"
            )
    return FlightCheck(not problems, tuple(problems))


def per_partition(
    partitions: Sequence[Partition], before: Iterable[FlightRow], after: Iterable[FlightRow]
) -> tuple[PartitionFlight, ...]:
    first_before = _first_by_partition(before)
    first_after = _first_by_partition(after)
    return tuple(PartitionFlight(p, first_before.get(p.recid), first_after.get(p.recid)) for p in partitions)


def _first_by_partition(rows: Iterable[FlightRow]) -> dict[int, FlightRow]:
    found: dict[int, FlightRow] = {}
    for row in rows:
        found.setdefault(row.partition, row)
    return found


@dataclass(frozen=True, slots=True)
class FlightResult:
    """What a run did. `committed` is False when it was rolled back (nothing written).

    `notes` are what the ODBC driver would not do that dwtui asked for, and what it did instead
    (e.g. "... does not support a query timeout; statements run without one").
    """

    plan: FlightPlan
    committed: bool
    partitions: tuple[PartitionFlight, ...]
    updated: int
    inserted: int
    check: FlightCheck
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.committed and (self.updated > 0 or self.inserted > 0)

    def summary(self) -> str:
        name = self.plan.flight_name
        if not self.committed:
            return f"Rolled back, nothing written: {'; '.join(self.check.problems)}"
        if not self.changed:
            return f"{name} was already enabled on all {len(self.partitions)} partitions; nothing changed"
        return (
            f"{name} enabled on all {len(self.partitions)} partitions "
            f"({self.inserted} inserted, {self.updated} updated); restart the AOS to apply it"
        )
