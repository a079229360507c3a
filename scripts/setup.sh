#!/usr/bin/env bash
# Shared by scripts/test.sh and scripts/demo.sh (sourced, not run): system packages and the .venv.

# ensure_system_packages PACKAGE...: apt-get installs the missing ones (as root, or with sudo).
ensure_system_packages() {
    local missing=() package
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "dwtui: not a Debian system; make sure these are installed: $*" >&2
        return 0
    fi
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    ((${#missing[@]})) || return 0
    local as_root=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "dwtui: need root or sudo to install: ${missing[*]}" >&2
            return 1
        fi
        as_root=(sudo)
    fi
    echo "dwtui: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_venv EXTRAS: .venv with dwtui installed editable (EXTRAS e.g. "[test]" or ""); reinstalls
# only when pyproject.toml changed since the last install, so repeated runs stay fast.
ensure_venv() {
    local extras="$1" stamp=.venv/.dwtui-install wanted
    [ -x .venv/bin/python ] || python3 -m venv .venv
    wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)${extras}"
    # A test install also satisfies a plain one.
    if [ "$(cat "$stamp" 2>/dev/null || true)" = "$wanted" ] && [ -x .venv/bin/dwtui ]; then
        return 0
    fi
    if [ -z "$extras" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "${wanted}[test]" ] && [ -x .venv/bin/dwtui ]; then
        return 0
    fi
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".${extras}"
    echo "$wanted" >"$stamp"
}
