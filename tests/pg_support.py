"""A throwaway PostgreSQL cluster for the flight tests, reached through psqlODBC as dwtui reaches AXDB.

The cluster lives in a temporary directory, listens on 127.0.0.1 on a free port (its Unix socket in
that directory too), and takes md5 password logins over TCP: a wrong password fails as it would on a
real server. initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user
(created by Debian's postgresql packages). scripts/test.sh installs the server and psqlODBC; where
either is missing the tests fail and say what to install (the suite fails on any skip).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyodbc

PSQLODBC = "PostgreSQL Unicode"  # the name Debian's odbc-postgresql registers in odbcinst.ini
USER = "dwtui"
INSTALL = "apt-get install postgresql odbc-postgresql (bash scripts/test.sh installs both)"
_names = itertools.count(1)


class PostgresMissing(AssertionError):
    """The server or psqlODBC is not installed: a failure, never a skip."""


def server_bin_dir() -> Path:
    """The newest installed PostgreSQL server's bin directory (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(
        (path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
        key=lambda path: int(re.sub(r"\D", "", path.parent.name) or 0),
    )
    if not found:
        raise PostgresMissing(f"no PostgreSQL server (no /usr/lib/postgresql/*/bin/initdb): {INSTALL}")
    return found[-1]


def check_psqlodbc() -> None:
    if PSQLODBC not in pyodbc.drivers():
        raise PostgresMissing(f"psqlODBC ({PSQLODBC!r}) is not registered in odbcinst.ini: {INSTALL}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PgCluster:
    directory: Path
    port: int
    password: str
    bin_dir: Path
    as_postgres: bool

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def connection_string(self, database: str = "postgres", *, password: str | None = None) -> str:
        """A raw psqlODBC string: only PWD may be braced for psqlODBC (dwtui.services.odbc_strings)."""
        secret = self.password if password is None else password
        return (
            f"Driver={{{PSQLODBC}}};Server=127.0.0.1;Port={self.port};Database={database};UID={USER};"
            f"PWD={{{secret.replace('}', '}}')}}};SSLmode=disable"
        )

    @contextlib.contextmanager
    def connect(self, database: str = "postgres", *, autocommit: bool = True) -> Iterator[Any]:
        connection = pyodbc.connect(self.connection_string(database), autocommit=autocommit, timeout=10)
        try:
            yield connection
        finally:
            connection.close()

    def execute(self, database: str, *statements: str) -> None:
        with self.connect(database) as connection:
            for statement in statements:
                connection.execute(statement)

    def query(self, database: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with self.connect(database) as connection:
            return [tuple(row) for row in connection.execute(sql, *params).fetchall()]

    def new_database(self) -> str:
        """A fresh, empty database for one test (names never repeat within a cluster)."""
        name = f"axdb_{next(_names)}_{secrets.token_hex(3)}"
        self.execute("postgres", f"CREATE DATABASE {name}")
        return name

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / argv[0]), *argv[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        pwfile = self.directory / "pw"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        if self.as_postgres:
            shutil.chown(self.directory, "postgres")
            shutil.chown(pwfile, "postgres")
        done = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=md5",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        pwfile.unlink()
        if done.returncode != 0:
            raise AssertionError(f"initdb failed: {done.stdout}{done.stderr}")
        for _attempt in range(3):
            self.port = free_port()
            options = (
                f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off"
            )
            log = str(self.directory / "log")
            started = self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")
            if started.returncode == 0:
                return
        log = (self.directory / "log").read_text(encoding="utf-8", errors="replace")
        raise AssertionError(f"pg_ctl start failed: {started.stdout}{started.stderr}\n{log[-2000:]}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


def start_cluster() -> PgCluster:
    bin_dir = server_bin_dir()
    check_psqlodbc()
    as_postgres = os.geteuid() == 0
    # Not pytest's tmp_path: its parents are root-only (0700), and the server runs as `postgres`.
    directory = Path(tempfile.mkdtemp(prefix="dwtui-pg-"))
    # ';', braces and a space: the password itself tests psqlODBC's quoting of PWD.
    password = f"pw;{{{secrets.token_hex(4)}}} x"
    cluster = PgCluster(directory, 0, password, bin_dir, as_postgres)
    try:
        cluster.start()
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return cluster
