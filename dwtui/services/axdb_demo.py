"""The demo's AXDB: a local SQLite file with the two tables the flight touches.

It lives in services, not sim, because it is reached through the same ODBC code as a real AXDB
and the front ends create it without importing the HTTP simulator; it needs only stdlib sqlite3.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path

from dwtui.services.axdb import installed_drivers, is_sqlite_driver, sqlite_connection_string
from dwtui.services.errors import ServiceError

# RECIDs as AXDB numbers them: the first partition, "initial", is 5637144576.
DEMO_PARTITIONS: tuple[tuple[int, str, str], ...] = (
    (5637144576, "initial", "Initial"),
    (5637144577, "contoso", "Contoso"),
    (5637144578, "fabrikam", "Fabrikam"),
)
# Other flights a one-box already has, so the table is not empty and the run must leave them alone.
OTHER_FLIGHTS = (("EnableSomethingUnrelated", 1, 12719367), ("ClientRoundTripLogging", 0, 12719367))

_SCHEMA = (
    "CREATE TABLE PARTITIONS ("
    " RECID BIGINT NOT NULL PRIMARY KEY,"
    " PARTITIONKEY NVARCHAR(8) NOT NULL,"
    " NAME NVARCHAR(60) NOT NULL DEFAULT '')",
    # RECID is assigned by the database, as SQL Server's column default does on a one-box.
    "CREATE TABLE SYSFLIGHTING ("
    " FLIGHTNAME NVARCHAR(100) NOT NULL,"
    " ENABLED INTEGER NOT NULL DEFAULT 0,"
    " FLIGHTSERVICEID INTEGER NOT NULL DEFAULT 0,"
    " PARTITION BIGINT NOT NULL DEFAULT 5637144576,"
    " RECID INTEGER PRIMARY KEY AUTOINCREMENT,"
    " UNIQUE (FLIGHTNAME, PARTITION))",
)


def create_demo_database(
    path: Path,
    *,
    partitions: Sequence[tuple[int, str, str]] = DEMO_PARTITIONS,
    flight_rows: Iterable[tuple[str, int, int, int]] = (),
    replace: bool = True,
) -> Path:
    """Write a fresh demo AXDB at `path`.

    `flight_rows` are (FLIGHTNAME, ENABLED, FLIGHTSERVICEID, PARTITION) rows to start with.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        if not replace:
            return path
        path.unlink()
    with closing(sqlite3.connect(path)) as connection, connection:
        for statement in _SCHEMA:
            connection.execute(statement)
        connection.executemany(
            "INSERT INTO PARTITIONS (RECID, PARTITIONKEY, NAME) VALUES (?, ?, ?)", partitions
        )
        connection.executemany(
            "INSERT INTO SYSFLIGHTING (FLIGHTNAME, ENABLED, FLIGHTSERVICEID, PARTITION) VALUES (?, ?, ?, ?)",
            seed_flight_rows(partitions, flight_rows),
        )
    return path


def seed_flight_rows(
    partitions: Sequence[tuple[int, str, str]], flight_rows: Iterable[tuple[str, int, int, int]] = ()
) -> list[tuple[str, int, int, int]]:
    """A demo AXDB's first SYSFLIGHTING rows: the other flights on every partition, then `flight_rows`."""
    others = [
        (name, enabled, service, recid)
        for name, enabled, service in OTHER_FLIGHTS
        for recid, _key, _name in partitions
    ]
    return [*others, *flight_rows]


def sqlite_driver_name() -> str:
    """The installed SQLite 3 ODBC driver's name (Debian registers "SQLite3")."""
    try:
        drivers = installed_drivers()
    except ServiceError:  # the connection attempt says, clearly, what to install
        return "SQLite3"
    sqlite = [d for d in drivers if is_sqlite_driver(d) and "3" in d]
    return sqlite[0] if sqlite else "SQLite3"


def demo_connection_string(path: Path, *, driver: str = "", lock_timeout_ms: int = 5000) -> str:
    return sqlite_connection_string(driver or sqlite_driver_name(), str(path), lock_timeout_ms)
