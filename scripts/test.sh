#!/usr/bin/env bash
# The one test command (README, .ci/run). On a fresh Debian machine it installs what the tests need
# (system packages, .venv, the package with its test extras), then runs every check. Extra arguments go
# to pytest, e.g. `bash scripts/test.sh tests/test_cli_status.py -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# tmux: the test of the installed command in a real terminal. unixodbc/odbcinst/libsqliteodbc: pyodbc
# needs a driver manager, and the AXDB tests run through a real ODBC driver (SQLite's).
ensure_system_packages python3 python3-venv python3-pip tmux unixodbc unixodbc-dev odbcinst libsqliteodbc
# gnome-keyring and dbus: a real Linux Secret Service, the OS store dwtui allows there.
ensure_system_packages gnome-keyring dbus-daemon
# libkeyutils1: the kernel keyring, dwtui's token store where there is no Secret Service;
# util-linux: unshare and nsenter give each of its tests a user namespace (so a keyring) of its own.
ensure_system_packages libkeyutils1 util-linux
# postgresql/odbc-postgresql: the flight tests run on SQLite and on a throwaway PostgreSQL cluster
# through psqlODBC; tdsodbc: FreeTDS, tested against a closed port (SQL Server cannot run here).
ensure_system_packages postgresql odbc-postgresql tdsodbc
ensure_venv "[test]"

echo "== ruff"
.venv/bin/ruff check dwtui tests scripts benchmarks
echo "== mypy"
.venv/bin/mypy
echo "== import-linter"
.venv/bin/lint-imports
echo "== pytest"
# tests/no_skips.py (loaded by tests/conftest.py) turns any skipped or xfailed test into a failure.
# Four workers on a 2-core machine: about half of a test's time is spent waiting (on the CLI's child
# processes, sockets, the simulator's clock), so two workers left the cores half idle (14.5 min against
# 7.7 min with four). Tests on the fixed snapshot port share one worker (loadgroup).
.venv/bin/pytest -p no:cacheprovider -n "${DWTUI_TEST_WORKERS:-4}" --dist loadgroup "$@"
