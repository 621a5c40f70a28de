#!/usr/bin/env python3
"""llama.cpp's speed on a GGUF file, measured as llama-bench measures it, through
llama-cpp-python's low-level C API (no sampling, no Python work between decodes):

  pp  one llama_decode over `prompt_len` random token ids (one batch) in an empty KV cache;
  tg  `gen_len` single-token llama_decode calls from an empty KV cache (or after `depth` tokens
      decoded untimed, llama-bench's -d);
  tg×B (optional) `gen_len` steps of one llama_decode over B sequences' next tokens.

Each test runs once as a warm-up, then `repetitions` times (the cache cleared before each), like
llama-bench (n_batch 2048, n_ubatch 512, f16 KV cache, flash attention auto, CPU only);
--cache-type q8_0|q4_0 sets -ctk/-ctv (flash attention on, which quantized V needs).
Prints JSON with the same keys as `autoglm bench model --json`.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import random
import statistics
import sys
import time

import llama_cpp as L


def mean_sd(xs: list[float]) -> tuple[float, float]:
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


class Bench:
    def __init__(self, path: str, threads: int, n_ctx: int, n_seq: int = 1,
                 cache_type: str = "f16"):
        mp = L.llama_model_default_params()
        mp.n_gpu_layers = 0
        self.model = L.llama_model_load_from_file(path.encode(), mp)
        if not self.model:
            raise SystemExit(f"llama.cpp could not load {path}")
        cp = L.llama_context_default_params()
        cp.n_ctx = n_ctx
        cp.n_batch = 2048
        cp.n_ubatch = 512
        cp.n_seq_max = n_seq
        cp.n_threads = threads
        cp.n_threads_batch = threads
        cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_AUTO
        if cache_type != "f16":
            ggml_type = {"q8_0": L.GGML_TYPE_Q8_0, "q4_0": L.GGML_TYPE_Q4_0}[cache_type]
            cp.type_k = ggml_type
            cp.type_v = ggml_type
            cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_ENABLED
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            raise SystemExit("llama.cpp could not create a context")
        L.llama_set_n_threads(self.ctx, threads, threads)
        self.n_vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(self.model))
        self.rng = random.Random(0)

    def clear(self) -> None:
        L.llama_memory_clear(L.llama_get_memory(self.ctx), False)

    def decode(self, batch) -> None:
        rc = L.llama_decode(self.ctx, batch)
        if rc != 0:
            raise SystemExit(f"llama_decode failed: {rc}")

    def prompt(self, n: int) -> float:
        toks = (L.llama_token * n)(*[self.rng.randrange(self.n_vocab) for _ in range(n)])
        self.clear()
        t0 = time.perf_counter()
        self.decode(L.llama_batch_get_one(toks, n))
        L.llama_synchronize(self.ctx)
        return time.perf_counter() - t0

    def gen(self, n: int, depth: int = 0) -> float:
        ids = [self.rng.randrange(self.n_vocab) for _ in range(n)]
        tok = (L.llama_token * 1)()
        self.clear()
        for c0 in range(0, depth, 2048):  # untimed, as llama-bench's -d
            c = min(2048, depth - c0)
            pre = (L.llama_token * c)(*[self.rng.randrange(self.n_vocab) for _ in range(c)])
            self.decode(L.llama_batch_get_one(pre, c))
        L.llama_synchronize(self.ctx)
        t0 = time.perf_counter()
        for i in range(n):
            tok[0] = ids[i]
            self.decode(L.llama_batch_get_one(tok, 1))
            L.llama_synchronize(self.ctx)
        return time.perf_counter() - t0

    def batch_gen(self, b: int, n: int) -> float:
        batch = L.llama_batch_init(b, 0, 1)
        ids = [[self.rng.randrange(self.n_vocab) for _ in range(b)] for _ in range(n)]
        self.clear()
        try:
            t0 = time.perf_counter()
            for step in range(n):
                batch.n_tokens = b
                for s in range(b):
                    batch.token[s] = ids[step][s]
                    batch.pos[s] = step
                    batch.n_seq_id[s] = 1
                    batch.seq_id[s][0] = s
                    batch.logits[s] = 1
                self.decode(batch)
                L.llama_synchronize(self.ctx)
            return time.perf_counter() - t0
        finally:
            L.llama_batch_free(batch)

    def close(self) -> None:
        L.llama_free(self.ctx)
        L.llama_model_free(self.model)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-len", type=int, default=512)
    ap.add_argument("--gen-len", type=int, default=128)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--depth", type=int, default=0, help="tg after this many tokens (llama-bench -d)")
    ap.add_argument("--cache-type", choices=["f16", "q8_0", "q4_0"], default="f16",
                    help="KV cache type (llama-bench -ctk/-ctv)")
    ap.add_argument("--verbose", action="store_true", help="keep llama.cpp's log")
    a = ap.parse_args()

    L.llama_backend_init()
    if not a.verbose:
        quiet = L.llama_log_callback(lambda level, text, user: None)
        L.llama_log_set(quiet, ctypes.c_void_p())
    out: dict = {"model": a.model, "engine": "llama.cpp", "llama_cpp_python": L.__version__,
                 "threads": a.threads, "prompt_len": a.prompt_len, "gen_len": a.gen_len,
                 "repetitions": a.repetitions, "batch": a.batch, "depth": a.depth,
                 "kv_cache_dtype": a.cache_type,
                 "system_info": L.llama_print_system_info().decode(errors="replace").strip()}

    b = Bench(a.model, a.threads, max(a.prompt_len, a.depth) + a.gen_len + 1,
              cache_type=a.cache_type)
    out["model_bytes"] = int(L.llama_model_size(b.model))
    out["model_params"] = int(L.llama_model_n_params(b.model))
    if a.prompt_len > 0:
        b.prompt(a.prompt_len)  # warm-up
        tps = [a.prompt_len / b.prompt(a.prompt_len) for _ in range(a.repetitions)]
        out["prompt_tokens_per_s"], out["prompt_tokens_per_s_stddev"] = mean_sd(tps)
    if a.gen_len > 0:
        b.gen(1)  # warm-up, as llama-bench
        tps = [a.gen_len / b.gen(a.gen_len, a.depth) for _ in range(a.repetitions)]
        out["gen_tokens_per_s"], out["gen_tokens_per_s_stddev"] = mean_sd(tps)
    b.close()

    if a.batch > 1 and a.gen_len > 0:
        bb = Bench(a.model, a.threads, a.batch * a.gen_len, n_seq=a.batch)
        bb.batch_gen(a.batch, 1)
        tps = [a.batch * a.gen_len / bb.batch_gen(a.batch, a.gen_len) for _ in range(a.repetitions)]
        out["batch_gen_tokens_per_s"], out["batch_gen_tokens_per_s_stddev"] = mean_sd(tps)
        bb.close()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
