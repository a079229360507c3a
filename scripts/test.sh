#!/usr/bin/env bash
# The one test command (README, .ci/run). On a fresh Debian machine it installs what the tests need
# (system packages, .venv, the package with its test extras), then runs every check. Extra arguments go
# to pytest, e.g. `bash scripts/test.sh tests/test_cli.py -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

# tmux: the test of the installed command in a real terminal. unixodbc/odbcinst/libsqliteodbc: pyodbc
# needs a driver manager, and the AXDB tests run through a real ODBC driver (SQLite's).
SYSTEM_PACKAGES=(python3 python3-venv python3-pip tmux unixodbc unixodbc-dev odbcinst libsqliteodbc)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for package in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
else
    echo "test.sh: not a Debian system; make sure these are installed: ${SYSTEM_PACKAGES[*]}" >&2
fi
if ((${#missing[@]})); then
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        echo "test.sh: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
    echo "test.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# Reinstall only when pyproject.toml changed since the last install, so local runs stay fast.
stamp=.venv/.dwtui-test-install
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ] || [ ! -x .venv/bin/dwtui ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    echo "$wanted" >"$stamp"
fi

echo "== ruff"
.venv/bin/ruff check dwtui tests scripts benchmarks
echo "== mypy"
.venv/bin/mypy
echo "== import-linter"
.venv/bin/lint-imports
echo "== pytest"
# scripts/pytest_no_skips.py turns any skipped or xfailed test into a failure: every test must run.
PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}" .venv/bin/pytest -p pytest_no_skips -p no:cacheprovider "$@"
