#!/usr/bin/env bash
# Installs what autoglm.cpp needs on Debian (as root), makes the test venv and builds.
# Idempotent: re-running skips what is already there.
#   AG_SKIP_APT=1   do not touch apt (packages installed by other means)
#   AG_BUILD_DIR    build directory (default: build)
#   AG_CMAKE_ARGS   extra CMake arguments (e.g. -DAG_NATIVE=OFF)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake pkg-config git curl python3 python3-venv python3-pip
      nlohmann-json3-dev libcpp-httplib-dev libspdlog-dev libfmt-dev libcli11-dev libstb-dev libjpeg-dev libwebp-dev
      libpcre2-dev libgtest-dev libgmock-dev libbenchmark-dev libsndfile1-dev libsoxr-dev zlib1g-dev
      espeak-ng sox lame flac vorbis-tools opus-tools)

if [[ "${AG_SKIP_APT:-0}" != 1 ]]; then
    missing=()
    for p in "${PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        echo "[setup] installing: ${missing[*]}"
        SUDO=""
        [[ $(id -u) -ne 0 ]] && SUDO=sudo
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
fi

# Python venv: tests and tooling only (never used for serving).
if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c 'import sys' 2>/dev/null; then
    python3 -m venv .venv
fi
if ! cmp -s tests/requirements.txt .venv/.installed-requirements 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check -r tests/requirements.txt
    cp tests/requirements.txt .venv/.installed-requirements
fi

BUILD_DIR=${AG_BUILD_DIR:-build}
EXTRA_ARGS=${AG_CMAKE_ARGS:-}
# CI builds treat warnings as errors.
[[ "${CI:-}" == true ]] && EXTRA_ARGS="$EXTRA_ARGS -DAG_WERROR=ON"
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release $EXTRA_ARGS >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "[setup] built $BUILD_DIR/autoglm"
