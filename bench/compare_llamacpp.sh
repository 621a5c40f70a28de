#!/usr/bin/env bash
# autoglm vs llama.cpp on the CPU, same GGUF files, same thread count, one invocation.
#
#   bash scripts/setup.sh                # once: builds build/autoglm
#   bench/compare_llamacpp.sh [--threads N] [--formats f16,q8_0,q4_0] [--9b] [--batch B]
#                             [--repetitions R] [--prompt-len P] [--gen-len G] [--json-out FILE]
#
# Makes bench/.venv (not the test venv) with llama-cpp-python (compiled here from its source
# distribution for this CPU, no GPU; several minutes on 2 cores, done once), gguf and numpy; writes
# the GLM-4-shaped random-weight models to bench/models/ once (1.86 B parameters: hidden 2048,
# 24 layers, 16 heads, 2 KV heads, FFN 6848, vocab 151552; --9b: AutoGLM-Phone-9B's dimensions,
# Q4_0 only); then runs `autoglm bench model --json` and llama.cpp (llama-bench's method through
# llama-cpp-python's C API) on each file and prints the table.
# Env: AG_BUILD_DIR (default build), PYTHON (default python3), LLAMA_CPP_PYTHON_VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${AG_BUILD_DIR:-build}
PY=${PYTHON:-python3}
VENV=bench/.venv
LLAMA_VER=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
GGUF_VER=0.17.1

if [[ ! -x "$BUILD_DIR/autoglm" ]]; then
    echo "error: $BUILD_DIR/autoglm not found: run bash scripts/setup.sh first" >&2
    exit 1
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PY" -m venv "$VENV"
fi
stamp="$VENV/.installed-bench-$LLAMA_VER-$GGUF_VER"
if [[ ! -f "$stamp" ]]; then
    echo "[compare] installing numpy, gguf==$GGUF_VER, llama-cpp-python==$LLAMA_VER into $VENV" \
         "(compiles llama.cpp; log: $VENV/install.log)" >&2
    # CPU-only build tuned for this machine (-march=native), as llama-bench would be built here,
    # except AMX: ggml's AMX path dies with SIGILL (tileloadd) on the Sapphire Rapids VMs this
    # project runs on, so AMX is compiled out (-mno-amx-*); ggml's AVX-512/VNNI paths and its
    # weight repacking stay on.
    no_amx=""
    grep -q -w amx_tile /proc/cpuinfo && no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    CFLAGS="$no_amx" CXXFLAGS="$no_amx" \
    CMAKE_ARGS="-DGGML_NATIVE=ON -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DGGML_BLAS=OFF \
-DGGML_OPENMP=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
-DLLAMA_BUILD_SERVER=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
        "$VENV/bin/pip" install --disable-pip-version-check --no-cache-dir \
        numpy "gguf==$GGUF_VER" "llama-cpp-python==$LLAMA_VER" >"$VENV/install.log" 2>&1 || {
            echo "error: pip install failed; see $VENV/install.log" >&2
            tail -20 "$VENV/install.log" >&2
            exit 1
        }
    touch "$stamp"
fi

echo "[compare] nproc=$(nproc) cpu='$(lscpu | sed -n 's/^Model name: *//p')'" \
     "flags: $(grep -o -w -E 'avx2|avx512f|avx512bw|avx512vl|avx512_vnni|avx_vnni|avx512_bf16|amx_tile|amx_int8|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')" >&2
exec "$VENV/bin/python" bench/compare_llamacpp.py --autoglm "$BUILD_DIR/autoglm" "$@"
