#!/usr/bin/env python3
"""Decode speed at long context per KV cache dtype: autoglm (`bench model --depth D
--kv-cache-dtype T`) and llama.cpp (llamacpp_bench.py --depth D --cache-type T, flash attention
on) on the same GLM-4-shaped GGUF with the same threads, in one invocation. Called by
bench/compare_kv.sh (which makes the venv).

The model keeps AutoGLM-Phone-9B's attention layout per layer (2 kv heads of 128; GQA 8:1) with
a smaller width so that the KV cache, not the weights, dominates a decode step at 16k tokens:
hidden 1024, 24 layers, 8 heads, FFN 2816, vocab 151552, Q8_0 weights (~0.55 GB; the f32 KV
cache at 16k is 0.75 GB).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from compare_llamacpp import log, run_json

HERE = Path(__file__).resolve().parent
SHAPE = ["--preset", "1.9b", "--hidden", "1024", "--layers", "24", "--heads", "8",
         "--ffn", "2816"]
OURS = ["f32", "bf16", "f16", "int8", "int4"]
THEIRS = ["f16", "q8_0", "q4_0"]


def ensure_model(models_dir: Path) -> Path:
    path = models_dir / "glm4-kvbench-h1024-l24-q8_0.gguf"
    if not path.exists():
        log(f"making {path.name} (random weights)")
        subprocess.run([sys.executable, str(HERE / "make_glm4_gguf.py"), *SHAPE, "--type", "q8_0",
                        "--out", str(path)], check=True)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--autoglm", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--depths", default="1024,4096,16384")
    ap.add_argument("--gen-len", type=int, default=32)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--ours", default=",".join(OURS), help="autoglm KV dtypes")
    ap.add_argument("--theirs", default=",".join(THEIRS), help="llama.cpp cache types")
    ap.add_argument("--json-out", help="all results, rewritten after every run")
    a = ap.parse_args()
    ours, theirs = a.ours.split(","), a.theirs.split(",")
    model = ensure_model(HERE / "models")
    depths = [int(d) for d in a.depths.split(",")]
    rows = []
    for depth in depths:
        common = ["--gen-len", str(a.gen_len), "--repetitions", str(a.repetitions)]
        for t in ours:
            j = run_json([a.autoglm, "bench", "model", "--model", str(model), "--threads",
                          str(a.threads), "--prompt-len", "0", "--depth", str(depth),
                          "--kv-cache-dtype", t, "--bandwidth-runs", "0", "--json", *common])
            rows.append({"engine": "autoglm", "depth": depth, "kv": t,
                         "tg": j["gen_tokens_per_s"], "sd": j["gen_tokens_per_s_stddev"]})
            save(rows, a.json_out)
        for t in theirs:
            j = run_json([sys.executable, str(HERE / "llamacpp_bench.py"), "--model", str(model),
                          "--threads", str(a.threads), "--prompt-len", "0", "--depth", str(depth),
                          "--cache-type", t, *common])
            rows.append({"engine": "llama.cpp", "depth": depth, "kv": t,
                         "tg": j["gen_tokens_per_s"], "sd": j["gen_tokens_per_s_stddev"]})
            save(rows, a.json_out)
    print(f"model: {model.name}, threads {a.threads}, tg{a.gen_len} tok/s (mean ± sd of "
          f"{a.repetitions}) after D tokens in the cache")
    print("| depth | " + " | ".join(f"autoglm {t}" for t in ours) + " | " +
          " | ".join(f"llama.cpp {t}" for t in theirs) +
          " | int8 / f32 (autoglm) | autoglm int8 / llama.cpp q8_0 |")
    print("|---" * (len(ours) + len(theirs) + 3) + "|")
    for depth in depths:
        got = {(r["engine"], r["kv"]): r for r in rows if r["depth"] == depth}
        cells = [f"{got[('autoglm', t)]['tg']:.2f} ± {got[('autoglm', t)]['sd']:.2f}" for t in ours]
        cells += [f"{got[('llama.cpp', t)]['tg']:.2f} ± {got[('llama.cpp', t)]['sd']:.2f}" for t in theirs]

        def ratio(a_key, b_key):
            return f"{got[a_key]['tg'] / got[b_key]['tg']:.2f}x" if a_key in got and b_key in got else "—"
        cells += [ratio(("autoglm", "int8"), ("autoglm", "f32")),
                  ratio(("autoglm", "int8"), ("llama.cpp", "q8_0"))]
        print(f"| {depth} | " + " | ".join(cells) + " |")
    return 0


def save(rows, path):
    if path:
        Path(path).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    sys.exit(main())
