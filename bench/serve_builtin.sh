#!/usr/bin/env bash
# Serving benchmark on the built-in model: starts `autoglm serve` on a loopback port, runs
# `autoglm bench serve` at 1, 8 and 32 concurrent requests, prints one table row per run.
#   bench/serve_builtin.sh [EXTRA_SERVE_ARGS...]     (env: PORT, INPUT_LEN, OUTPUT_LEN, MODEL_PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${AG_BUILD_DIR:-build}/autoglm
PORT=${PORT:-18123}
IN=${INPUT_LEN:-128}
OUT=${OUTPUT_LEN:-64}
args=(serve --host 127.0.0.1 --port "$PORT" --max-num-seqs 32 "$@")
[[ -n "${MODEL_PATH:-}" ]] && args+=(--model "$MODEL_PATH")
"$BIN" "${args[@]}" >/tmp/autoglm-bench-serve.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
    sleep 0.5
done
echo "nproc=$(nproc) cpu=$(lscpu | sed -n 's/Model name: *//p') flags=$(grep -o -w 'avx512f\|avx2\|fma\|neon' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "| concurrency | prompts | req/s | output tok/s | median TTFT ms | median TPOT ms | p99 TPOT ms | median E2EL ms |"
echo "|---|---|---|---|---|---|---|---|"
for c in 1 8 32; do
    n=$((c * 4 < 16 ? 16 : c * 4))
    "$BIN" bench serve --base-url "http://127.0.0.1:$PORT" --model autoglm-phone-9b \
        --num-prompts "$n" --request-rate inf --input-len "$IN" --output-len "$OUT" \
        --max-concurrency "$c" --json >/tmp/autoglm-bench-$c.json
    python3 - "$c" "$n" <<'PY'
import json, sys
c, n = sys.argv[1], sys.argv[2]
d = json.load(open(f"/tmp/autoglm-bench-{c}.json"))
assert d["failed"] == 0, d.get("first_error")
print(f"| {c} | {n} | {d['request_throughput']:.2f} | {d['output_throughput']:.1f} | "
      f"{d['ttft_ms']['median']:.1f} | {d['tpot_ms']['median']:.2f} | {d['tpot_ms']['p99']:.2f} | "
      f"{d['e2el_ms']['median']:.1f} |")
PY
done
