#!/usr/bin/env bash
# Mutation testing of dwtui/domain and dwtui/services (mutmut; configured in pyproject.toml). Not part
# of the test command: it runs the tests once per mutant and takes hours on two cores. Prints the
# surviving mutants at the end; `.venv/bin/mutmut show NAME` shows one. Extra arguments go to
# `mutmut run` (e.g. a glob of mutant names to run only those).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

ensure_system_packages python3 python3-venv python3-pip tmux unixodbc unixodbc-dev odbcinst libsqliteodbc
ensure_venv "[test,mutation]"
.venv/bin/mutmut run "$@"
.venv/bin/mutmut results
