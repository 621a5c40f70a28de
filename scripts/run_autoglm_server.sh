#!/usr/bin/env bash
# Starts the autoglm OpenAI-compatible server.
#   scripts/run_autoglm_server.sh [--model DIR] [--port N] [--served-model-name NAME] [ARGS...]
# Defaults come from the environment: MODEL_PATH (empty: the built-in model), PORT (8000),
# SERVED_MODEL_NAME (autoglm-phone-9b), HOST (0.0.0.0), AG_BUILD_DIR (build). Any other
# argument is passed to `autoglm serve` unchanged (see `autoglm serve --help`), e.g.
#   MODEL_PATH=~/models/AutoGLM-Phone-9B scripts/run_autoglm_server.sh --max-model-len 25480 \
#       --chat-template-content-format string
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${AG_BUILD_DIR:-build}/autoglm"
MODEL_PATH="${MODEL_PATH:-}"
PORT="${PORT:-8000}"
HOST="${HOST:-0.0.0.0}"
SERVED_MODEL_NAME="${SERVED_MODEL_NAME:-autoglm-phone-9b}"

extra=()
while (($#)); do
    case "$1" in
        --model|--model-path) MODEL_PATH="$2"; shift 2 ;;
        --model=*) MODEL_PATH="${1#*=}"; shift ;;
        --port) PORT="$2"; shift 2 ;;
        --port=*) PORT="${1#*=}"; shift ;;
        --host) HOST="$2"; shift 2 ;;
        --host=*) HOST="${1#*=}"; shift ;;
        --served-model-name) SERVED_MODEL_NAME="$2"; shift 2 ;;
        --served-model-name=*) SERVED_MODEL_NAME="${1#*=}"; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exec "$BIN" serve --help ;;
        *) extra+=("$1"); shift ;;
    esac
done

if [[ ! -x "$BIN" ]]; then
    echo "error: $BIN not found; build first (scripts/setup.sh)" >&2
    exit 1
fi

args=(serve --host "$HOST" --port "$PORT" --served-model-name "$SERVED_MODEL_NAME")
if [[ -n "$MODEL_PATH" ]]; then
    args+=(--model "$MODEL_PATH")
else
    echo "[INFO] MODEL_PATH not set: serving the built-in model (its output is not meaningful)" >&2
fi
exec "$BIN" "${args[@]}" "${extra[@]+"${extra[@]}"}"
