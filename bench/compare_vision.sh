#!/usr/bin/env bash
# GLM-4.1V vision tower (AutoGLM-Phone-9B's: depth 24, hidden 1536): autoglm vs llama.cpp's
# mmproj encode (libmtmd, PROJECTOR_TYPE_GLM4V) on the same random-weight f16 checkpoint, same
# patches, same thread count, one invocation.
#
#   bash scripts/setup.sh                # once: builds build/autoglm
#   bench/compare_vision.sh [--threads N] [--sizes 448x1036,1080x2400] [--repetitions R]
#                           [--warmup W] [--flash-attn auto|on|off] [--json-out FILE]
#
# Uses bench/.venv from bench/compare_llamacpp.sh (made here if missing: compiles llama.cpp) and
# adds to it what llama.cpp's convert_hf_to_gguf.py imports (torch, transformers, safetensors,
# sentencepiece, protobuf: PyPI's torch wheel pulls the CUDA runtime wheels, ~3 GB, done once).
# The converter is the one vendored in llama-cpp-python's source distribution (the same llama.cpp
# as the compiled libmtmd): fetched with `pip download` and unpacked under bench/models/.
# Writes bench/models/glm4v-vision9b-f16/ (1.8 GB), its mmproj GGUF (1.8 GB) and a 0.7 GB
# 1-layer text GGUF once. Env: AG_BUILD_DIR (default build), LLAMA_CPP_PYTHON_VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${AG_BUILD_DIR:-build}
LLAMA_VER=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
VENV=bench/.venv

if [[ ! -x "$BUILD_DIR/autoglm" ]]; then
    echo "error: $BUILD_DIR/autoglm not found: run bash scripts/setup.sh first" >&2
    exit 1
fi
if ! compgen -G "$VENV/.installed-bench-*" >/dev/null; then
    bash bench/compare_llamacpp.sh --help >/dev/null
fi
stamp="$VENV/.installed-convert-$LLAMA_VER"
if [[ ! -f "$stamp" ]]; then
    # Versions from the vendored requirements/requirements-convert_hf_to_gguf.txt.
    echo "[compare-vision] installing torch, transformers, safetensors into $VENV" \
         "(log: $VENV/install-convert.log)" >&2
    "$VENV/bin/pip" install --disable-pip-version-check torch==2.11.0 transformers==4.57.6 \
        safetensors "sentencepiece>=0.1.98,<0.3.0" "protobuf>=4.21.0,<5.0.0" \
        >"$VENV/install-convert.log" 2>&1 || {
            echo "error: pip install failed; see $VENV/install-convert.log" >&2
            tail -20 "$VENV/install-convert.log" >&2
            exit 1
        }
    touch "$stamp"
fi
src=bench/models/llama_cpp_python-$LLAMA_VER
if [[ ! -f "$src/vendor/llama.cpp/convert_hf_to_gguf.py" ]]; then
    mkdir -p bench/models
    "$VENV/bin/pip" download --disable-pip-version-check --no-deps --no-binary :all: \
        -d bench/models "llama-cpp-python==$LLAMA_VER" >&2
    tar -xzf "bench/models/llama_cpp_python-$LLAMA_VER.tar.gz" -C bench/models
fi

echo "[compare-vision] nproc=$(nproc) cpu='$(lscpu | sed -n 's/^Model name: *//p')'" \
     "flags: $(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')" >&2
exec "$VENV/bin/python" bench/compare_vision.py --autoglm "$BUILD_DIR/autoglm" \
    --converter "$src/vendor/llama.cpp/convert_hf_to_gguf.py" "$@"
