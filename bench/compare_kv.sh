#!/usr/bin/env bash
# KV cache dtypes: autoglm vs llama.cpp decode speed at 1k/4k/16k context, same GGUF, same threads.
#   bash scripts/setup.sh; bench/compare_kv.sh [--threads N] [--depths 1024,4096,16384]
#                                              [--gen-len G] [--repetitions R] [--json-out FILE]
#                                              [--ours f32,int8] [--theirs q8_0]
# Uses bench/.venv from bench/compare_llamacpp.sh (made here if missing: compiles llama.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${AG_BUILD_DIR:-build}
if ! compgen -G "bench/.venv/.installed-bench-*" >/dev/null; then
    bash bench/compare_llamacpp.sh --help >/dev/null
fi
echo "[compare] nproc=$(nproc) cpu='$(lscpu | sed -n 's/^Model name: *//p')'" \
     "flags: $(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')" >&2
exec bench/.venv/bin/python bench/compare_kv.py --autoglm "$BUILD_DIR/autoglm" "$@"
