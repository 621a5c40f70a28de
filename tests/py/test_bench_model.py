"""`autoglm bench model` on the built-in model with tiny lengths: the JSON has the documented keys,
the rates are positive and consistent with each other, and the weight bytes per token match the
checkpoint's safetensors headers read here (every text tensor, one row of the embedding table).
No timing assertions: speed lives in bench/."""
import json
import math
import struct

import pytest

from conftest import run_autoglm


@pytest.fixture(scope="module")
def builtin_dir(tmp_path_factory, autoglm):
    d = tmp_path_factory.mktemp("builtin")
    p = autoglm("export-builtin", "--out", d)
    assert p.returncode == 0, p.stderr
    return d


def safetensors_weight_bytes(d):
    """Decode-step weight bytes from the headers alone (independent of the C++ reader)."""
    cfg = json.loads((d / "config.json").read_text())
    tied = cfg.get("text_config", {}).get("tie_word_embeddings", cfg.get("tie_word_embeddings", False))
    total = 0
    for f in sorted(d.glob("*.safetensors")):
        with open(f, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n))
        for name, info in header.items():
            if name == "__metadata__" or "visual" in name:
                continue
            size = info["data_offsets"][1] - info["data_offsets"][0]
            if name.endswith("embed_tokens.weight") and not tied:
                size //= info["shape"][0]
            total += size
    return total


def test_bench_model_json(builtin_dir, autoglm):
    p = autoglm("bench", "model", "--model", builtin_dir, "--prompt-len", "16", "--gen-len", "4",
                "--repetitions", "2", "--batch", "3", "--threads", "2", "--bandwidth-runs", "1",
                "--json")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    for key in ("prompt_tokens_per_s", "gen_tokens_per_s", "prompt_tokens_per_s_stddev",
                "gen_tokens_per_s_stddev", "weight_bytes_per_token", "read_bandwidth_bytes_per_s",
                "gen_roofline_tokens_per_s", "gen_roofline_pct", "kernel_isa",
                "batch_gen_tokens_per_s", "batch_gen_tokens_per_s_stddev", "batch_speedup"):
        assert key in r, key
    assert (r["prompt_len"], r["gen_len"], r["repetitions"], r["batch"], r["threads"]) == (16, 4, 2, 3, 2)
    for key in ("prompt_tokens_per_s", "gen_tokens_per_s", "batch_gen_tokens_per_s",
                "read_bandwidth_bytes_per_s"):
        assert math.isfinite(r[key]) and r[key] > 0, key
    for key in ("prompt_tokens_per_s_stddev", "gen_tokens_per_s_stddev", "batch_gen_tokens_per_s_stddev"):
        assert math.isfinite(r[key]) and r[key] >= 0, key
    assert r["weight_bytes_per_token"] == safetensors_weight_bytes(builtin_dir)
    roof = r["read_bandwidth_bytes_per_s"] / r["weight_bytes_per_token"]
    assert r["gen_roofline_tokens_per_s"] == pytest.approx(roof, rel=1e-9)
    assert r["gen_roofline_pct"] == pytest.approx(100 * r["gen_tokens_per_s"] / roof, rel=1e-9)
    assert r["batch_speedup"] == pytest.approx(r["batch_gen_tokens_per_s"] / r["gen_tokens_per_s"], rel=1e-9)


def test_bench_model_text_and_skips(builtin_dir, autoglm):
    # Prompt only, no bandwidth probe: no roofline, readable text output.
    p = autoglm("bench", "model", "--model", builtin_dir, "--prompt-len", "8", "--gen-len", "0",
                "--repetitions", "1", "--threads", "1", "--bandwidth-runs", "0", "--json")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["prompt_tokens_per_s"] > 0 and r["gen_tokens_per_s"] == 0
    assert r["gen_roofline_pct"] is None and "batch_gen_tokens_per_s" not in r
    p = autoglm("bench", "model", "--model", builtin_dir, "--prompt-len", "8", "--gen-len", "2",
                "--repetitions", "1", "--threads", "1", "--bandwidth-runs", "1")
    assert p.returncode == 0, p.stderr
    assert "pp8" in p.stdout and "tg2" in p.stdout and "roofline" in p.stdout


def test_bench_model_bad_args(builtin_dir, autoglm):
    p = autoglm("bench", "model", "--model", builtin_dir, "--repetitions", "0")
    assert 0 < p.returncode < 128
    p = autoglm("bench", "model", "--model", builtin_dir, "--prompt-len", "0", "--gen-len", "0")
    assert 0 < p.returncode < 128 and "bench model" in p.stderr
    p = autoglm("bench", "model", "--model", builtin_dir / "missing")
    assert 0 < p.returncode < 128
