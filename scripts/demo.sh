#!/usr/bin/env bash
# Install dwtui into .venv (once) and open the demo: the TUI against the built-in simulator.
# Arguments go to dwtui, e.g. `bash scripts/demo.sh --scenario mismatch --speed 10`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# unixodbc + libsqliteodbc: the demo one-box runs its flight SQL through a real ODBC driver.
# libkeyutils1: the kernel keyring, where real profiles keep tokens on a machine without a desktop.
ensure_system_packages python3 python3-venv python3-pip unixodbc libsqliteodbc libkeyutils1
ensure_venv ""
exec .venv/bin/dwtui --demo "$@"
