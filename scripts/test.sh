#!/usr/bin/env bash
# Runs the whole test suite (C++ via CTest, Python via pytest) against an existing build.
# Heavy checks are opt-in: AG_SLOW_TESTS=1 also runs tests labelled `slow`.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${AG_BUILD_DIR:-build}
exclude="cuda|slow"
[[ "${AG_SLOW_TESTS:-0}" == 1 ]] && exclude="cuda"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" -LE "$exclude"
if compgen -G "tests/py/test_*.py" >/dev/null; then
    .venv/bin/python -m pytest -q tests/py
fi
