#!/usr/bin/env python3
"""Runs autoglm and llama.cpp on the same GLM-4-shaped GGUF files with the same thread count and
prints one table with the ratios. Called by bench/compare_llamacpp.sh (which makes the venv);
see that script for the options.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def log(msg: str) -> None:
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def ensure_model(preset: str, fmt: str, models_dir: Path) -> Path:
    path = models_dir / f"glm4-{preset}-random-{fmt}.gguf"
    if path.exists():
        return path
    log(f"making {path.name} (random weights, gguf package)")
    subprocess.run([sys.executable, str(HERE / "make_glm4_gguf.py"), "--preset", preset,
                    "--type", fmt, "--out", str(path)], check=True)
    return path


def run_json(cmd: list[str]) -> dict:
    log(" ".join(cmd))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"exit status {p.returncode}: {' '.join(cmd)}")
    return json.loads(p.stdout)


def fmt_rate(mean: float | None, sd: float | None) -> str:
    if mean is None:
        return "—"
    return f"{mean:.2f} ± {sd or 0:.2f}"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a and b else "—"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--autoglm", default=str(ROOT / "build" / "autoglm"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--formats", default="f16,q8_0,q4_0")
    ap.add_argument("--9b", dest="nine_b", action="store_true",
                    help="AutoGLM-Phone-9B-shaped model (Q4_0 only) instead of the 1.86 B one")
    ap.add_argument("--prompt-len", type=int, default=512)
    ap.add_argument("--gen-len", type=int, default=128)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8, help="batched decode width (1: skip)")
    ap.add_argument("--models-dir", default=str(HERE / "models"))
    ap.add_argument("--engines", default="autoglm,llama.cpp")
    ap.add_argument("--json-out", help="also write all results to this file")
    a = ap.parse_args()

    preset = "9b" if a.nine_b else "1.9b"
    formats = ["q4_0"] if a.nine_b else [f.strip().lower() for f in a.formats.split(",") if f.strip()]
    engines = {e.strip() for e in a.engines.split(",")}
    models_dir = Path(a.models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    common = ["--threads", str(a.threads), "--prompt-len", str(a.prompt_len), "--gen-len",
              str(a.gen_len), "--repetitions", str(a.repetitions), "--batch", str(a.batch)]

    load = os.getloadavg()[0]
    log(f"load average {load:.2f} on {os.cpu_count()} CPUs" +
        ("  (busy machine: numbers will be low and noisy)" if load > 0.5 else ""))
    rows = []
    for fmt in formats:
        model = ensure_model(preset, fmt, models_dir)
        row: dict = {"format": fmt, "model": str(model)}
        if "autoglm" in engines:
            try:
                row["autoglm"] = run_json([a.autoglm, "bench", "model", "--model", str(model),
                                           "--json", *common])
            except (RuntimeError, json.JSONDecodeError) as e:
                log(f"autoglm failed on {model.name}: {e}")
        if "llama.cpp" in engines:
            try:
                row["llama.cpp"] = run_json([sys.executable, str(HERE / "llamacpp_bench.py"),
                                             "--model", str(model), *common])
            except (RuntimeError, json.JSONDecodeError) as e:
                log(f"llama.cpp failed on {model.name}: {e}")
        rows.append(row)

    print(f"\nGLM-4-shaped {preset} model, random weights; {a.threads} threads; "
          f"pp{a.prompt_len} / tg{a.gen_len}, mean ± sd of {a.repetitions} runs; "
          f"load average at start {load:.2f}")
    head = ("| format | pp tok/s autoglm | pp tok/s llama.cpp | pp ratio | tg tok/s autoglm "
            "| tg tok/s llama.cpp | tg ratio | tg % roofline autoglm | tg % roofline llama.cpp |")
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for r in rows:
        o, l = r.get("autoglm", {}), r.get("llama.cpp", {})
        roof = o.get("gen_roofline_tokens_per_s")
        l_pct = f"{100 * l['gen_tokens_per_s'] / roof:.1f}" if roof and l.get("gen_tokens_per_s") else "—"
        o_pct = f"{o['gen_roofline_pct']:.1f}" if o.get("gen_roofline_pct") is not None else "—"
        print(f"| {r['format'].upper()} "
              f"| {fmt_rate(o.get('prompt_tokens_per_s'), o.get('prompt_tokens_per_s_stddev'))} "
              f"| {fmt_rate(l.get('prompt_tokens_per_s'), l.get('prompt_tokens_per_s_stddev'))} "
              f"| {ratio(o.get('prompt_tokens_per_s'), l.get('prompt_tokens_per_s'))} "
              f"| {fmt_rate(o.get('gen_tokens_per_s'), o.get('gen_tokens_per_s_stddev'))} "
              f"| {fmt_rate(l.get('gen_tokens_per_s'), l.get('gen_tokens_per_s_stddev'))} "
              f"| {ratio(o.get('gen_tokens_per_s'), l.get('gen_tokens_per_s'))} "
              f"| {o_pct} | {l_pct} |")
    any_o = next((r["autoglm"] for r in rows if "autoglm" in r), None)
    if any_o:
        print(f"\nread bandwidth ({a.threads} threads, autoglm's probe): "
              f"{any_o['read_bandwidth_bytes_per_s'] / 1e9:.1f} GB/s; kernels: "
              f"{any_o.get('kernel_isa') or 'n/a'}")
        for r in rows:
            o = r.get("autoglm")
            if o and o.get("weight_bytes_per_token"):
                print(f"  {r['format'].upper()}: {o['weight_bytes_per_token'] / 2**30:.3f} GiB of weights per "
                      f"token -> roofline {o['gen_roofline_tokens_per_s']:.1f} tok/s")
    if a.batch > 1:
        print(f"\nbatched decode, {a.batch} sequences (total tok/s; speed-up over one sequence):")
        print("| format | autoglm | × | llama.cpp | × |")
        print("|---|---|---|---|---|")
        for r in rows:
            o, l = r.get("autoglm", {}), r.get("llama.cpp", {})
            print(f"| {r['format'].upper()} "
                  f"| {fmt_rate(o.get('batch_gen_tokens_per_s'), o.get('batch_gen_tokens_per_s_stddev'))} "
                  f"| {ratio(o.get('batch_gen_tokens_per_s'), o.get('gen_tokens_per_s'))} "
                  f"| {fmt_rate(l.get('batch_gen_tokens_per_s'), l.get('batch_gen_tokens_per_s_stddev'))} "
                  f"| {ratio(l.get('batch_gen_tokens_per_s'), l.get('gen_tokens_per_s'))} |")
    if a.json_out:
        Path(a.json_out).write_text(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                                "threads": a.threads, "preset": preset, "rows": rows},
                                               indent=2))
    failed = [r["format"] for r in rows if any(e not in r for e in engines)]
    if failed:
        log(f"incomplete rows: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
