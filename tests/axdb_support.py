"""AXDB for the flight tests on two real databases behind two real ODBC drivers.

`SqliteAxdb` is the demo's file (SQLite3 ODBC driver); `PostgresAxdb` is a fresh database in the
session's PostgreSQL cluster (psqlODBC), with the same two tables and the same first rows. Each gives
the test a connection string for dwtui, and reads and arranges the tables behind dwtui's back (through
Python's sqlite3, or a separate psqlODBC connection in autocommit).
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, Protocol

from dwtui.domain.flight import DEFAULT_FLIGHT_NAME as NAME
from dwtui.services.axdb_demo import (
    DEMO_PARTITIONS,
    create_demo_database,
    demo_connection_string,
    seed_flight_rows,
)
from tests.pg_support import USER, PgCluster

Partitions = Sequence[tuple[int, str, str]]
FlightRows = Iterable[tuple[str, int, int, int]]

_COLUMNS = "FLIGHTNAME, ENABLED, FLIGHTSERVICEID, PARTITION, RECID"

# The demo's schema (dwtui.services.axdb_demo) in PostgreSQL's words: RECID from a sequence, as SQL
# Server's column default assigns it on a one-box.
POSTGRES_SCHEMA = (
    "CREATE TABLE PARTITIONS ("
    " RECID BIGINT NOT NULL PRIMARY KEY,"
    " PARTITIONKEY VARCHAR(8) NOT NULL,"
    " NAME VARCHAR(60) NOT NULL DEFAULT '')",
    "CREATE TABLE SYSFLIGHTING ("
    " FLIGHTNAME VARCHAR(100) NOT NULL,"
    " ENABLED INTEGER NOT NULL DEFAULT 0,"
    " FLIGHTSERVICEID INTEGER NOT NULL DEFAULT 0,"
    " PARTITION BIGINT NOT NULL DEFAULT 5637144576,"
    " RECID BIGSERIAL PRIMARY KEY,"
    " UNIQUE (FLIGHTNAME, PARTITION))",
)


class Axdb(Protocol):
    kind: str

    def create(self, *, partitions: Partitions = DEMO_PARTITIONS, flight_rows: FlightRows = ()) -> str:
        """Fresh tables with the demo's rows; the connection string dwtui uses."""

    def rows(self, name: str = NAME) -> list[tuple[int, int, int, int]]:
        """(PARTITION, ENABLED, FLIGHTSERVICEID, RECID) of one flight, by partition."""

    def everything(self) -> list[tuple[Any, ...]]:
        """Every SYSFLIGHTING row, by RECID."""

    def drop_partitions(self) -> None: ...

    def deny_inserts(self) -> str:
        """A connection string under which INSERT into SYSFLIGHTING is refused (UPDATE is not)."""

    def switch_off_after_insert(self, partition: int) -> None:
        """Something on the server turns a new row for `partition` off again."""

    def read_only(self) -> str:
        """A connection string to the same tables that cannot write."""

    def write_locked(self) -> contextlib.AbstractContextManager[str]:
        """While open, another session holds a write lock; yields a string that waits only briefly."""


class SqliteAxdb:
    kind = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.path = directory / "axdb.sqlite"

    def create(self, *, partitions: Partitions = DEMO_PARTITIONS, flight_rows: FlightRows = ()) -> str:
        create_demo_database(self.path, partitions=partitions, flight_rows=flight_rows)
        return demo_connection_string(self.path)

    def _query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.path)) as connection:
            return [tuple(row) for row in connection.execute(sql, params).fetchall()]

    def _execute(self, *statements: str) -> None:
        with closing(sqlite3.connect(self.path)) as connection, connection:
            for statement in statements:
                connection.execute(statement)

    def rows(self, name: str = NAME) -> list[tuple[int, int, int, int]]:
        return [
            (int(r[0]), int(r[1]), int(r[2]), int(r[3]))
            for r in self._query(
                "SELECT PARTITION, ENABLED, FLIGHTSERVICEID, RECID FROM SYSFLIGHTING WHERE FLIGHTNAME = ? "
                "ORDER BY PARTITION",
                name,
            )
        ]

    def everything(self) -> list[tuple[Any, ...]]:
        return self._query(f"SELECT {_COLUMNS} FROM SYSFLIGHTING ORDER BY RECID")

    def drop_partitions(self) -> None:
        self._execute("DROP TABLE PARTITIONS")

    def deny_inserts(self) -> str:
        self._execute(
            "CREATE TRIGGER deny BEFORE INSERT ON SYSFLIGHTING "
            "BEGIN SELECT RAISE(ABORT, 'INSERT permission denied on SYSFLIGHTING'); END"
        )
        return demo_connection_string(self.path)

    def switch_off_after_insert(self, partition: int) -> None:
        self._execute(
            f"CREATE TRIGGER meddle AFTER INSERT ON SYSFLIGHTING WHEN NEW.PARTITION = {int(partition)} "
            "BEGIN UPDATE SYSFLIGHTING SET ENABLED = 0 WHERE RECID = NEW.RECID; END"
        )

    def read_only(self) -> str:
        # A read-only URI: the SQLite ODBC driver opens it with SQLite's own URI parsing.
        return f"Driver={{SQLite3}};Database=file:{self.path}?mode=ro"

    @contextlib.contextmanager
    def write_locked(self) -> Iterator[str]:
        with closing(sqlite3.connect(self.path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # another session holds the write lock
            try:
                yield demo_connection_string(self.path, lock_timeout_ms=50)
            finally:
                other.execute("ROLLBACK")


class PostgresAxdb:
    kind = "postgresql"

    def __init__(self, cluster: PgCluster) -> None:
        self.cluster = cluster
        self.database = ""

    def create(self, *, partitions: Partitions = DEMO_PARTITIONS, flight_rows: FlightRows = ()) -> str:
        self.database = self.cluster.new_database()
        with self.cluster.connect(self.database) as connection:
            for statement in POSTGRES_SCHEMA:
                connection.execute(statement)
            if partitions:
                connection.cursor().executemany(
                    "INSERT INTO PARTITIONS (RECID, PARTITIONKEY, NAME) VALUES (?, ?, ?)", list(partitions)
                )
            seeds = seed_flight_rows(partitions, flight_rows)
            if seeds:
                connection.cursor().executemany(
                    "INSERT INTO SYSFLIGHTING (FLIGHTNAME, ENABLED, FLIGHTSERVICEID, PARTITION) "
                    "VALUES (?, ?, ?, ?)",
                    seeds,
                )
        # No test may hang on a lock: psqlODBC runs statements without a query timeout.
        self._set("lock_timeout", "'10s'")
        return self.cluster.connection_string(self.database)

    def _set(self, setting: str, value: str) -> None:
        # For the sessions opened from now on.
        self.cluster.execute("postgres", f"ALTER DATABASE {self.database} SET {setting} = {value}")

    def _query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        return self.cluster.query(self.database, sql, *params)

    def rows(self, name: str = NAME) -> list[tuple[int, int, int, int]]:
        return [
            (int(r[0]), int(r[1]), int(r[2]), int(r[3]))
            for r in self._query(
                "SELECT PARTITION, ENABLED, FLIGHTSERVICEID, RECID FROM SYSFLIGHTING WHERE FLIGHTNAME = ? "
                "ORDER BY PARTITION",
                name,
            )
        ]

    def everything(self) -> list[tuple[Any, ...]]:
        return self._query(f"SELECT {_COLUMNS} FROM SYSFLIGHTING ORDER BY RECID")

    def drop_partitions(self) -> None:
        self.cluster.execute(self.database, "DROP TABLE PARTITIONS")

    def deny_inserts(self) -> str:
        # A real permission, not a trigger: a login that may read and update SYSFLIGHTING but not insert.
        role = f"reader_{secrets.token_hex(4)}"
        password = secrets.token_hex(8)
        self.cluster.execute(
            self.database,
            f"CREATE ROLE {role} LOGIN PASSWORD '{password}'",
            f"GRANT SELECT ON PARTITIONS TO {role}",
            f"GRANT SELECT, UPDATE ON SYSFLIGHTING TO {role}",
        )
        return self.cluster.connection_string(self.database, password=password).replace(
            f"UID={USER};", f"UID={role};"
        )

    def switch_off_after_insert(self, partition: int) -> None:
        self.cluster.execute(
            self.database,
            "CREATE FUNCTION meddle() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE SYSFLIGHTING SET ENABLED = 0 WHERE RECID = NEW.RECID; RETURN NULL; END $$",
            "CREATE TRIGGER meddle AFTER INSERT ON SYSFLIGHTING FOR EACH ROW "
            f"WHEN (NEW.PARTITION = {int(partition)}) EXECUTE FUNCTION meddle()",
        )

    def read_only(self) -> str:
        self._set("default_transaction_read_only", "on")
        return self.cluster.connection_string(self.database)

    @contextlib.contextmanager
    def write_locked(self) -> Iterator[str]:
        self._set("lock_timeout", "'100ms'")
        with self.cluster.connect(self.database, autocommit=False) as other:
            other.execute("LOCK TABLE SYSFLIGHTING IN EXCLUSIVE MODE")  # another session's write lock
            try:
                yield self.cluster.connection_string(self.database)
            finally:
                other.rollback()
