"""`autoglm bench serve` against a real server: every request completes and the aggregates obey
vLLM bench serve's definitions (output tokens from usage, TTFT <= E2EL, TPOT from E2EL - TTFT)."""
import json

from conftest import run_autoglm
from server_fixture import MODEL_NAME, server  # noqa: F401  (fixture)


def test_bench_serve_json(server):  # noqa: F811
    p = run_autoglm("bench", "serve", "--base-url", server.root, "--model", MODEL_NAME,
                    "--num-prompts", "6", "--request-rate", "50", "--input-len", "32",
                    "--output-len", "5", "--max-concurrency", "3", "--json")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["completed"] == 6 and r["failed"] == 0
    assert r["total_output_tokens"] == 6 * 5  # ignore_eos: exactly output_len each
    assert 0 < r["total_input_tokens"]
    assert 0 < r["ttft_ms"]["median"] <= r["e2el_ms"]["median"]
    assert r["tpot_ms"]["mean"] > 0
    assert r["request_throughput"] > 0


def test_bench_serve_bad_args(server):  # noqa: F811
    p = run_autoglm("bench", "serve", "--base-url", server.root, "--model", MODEL_NAME,
                    "--request-rate", "fast")
    assert 0 < p.returncode < 128 and "request-rate" in p.stderr
    p = run_autoglm("bench", "serve", "--base-url", "http://127.0.0.1:1", "--model", MODEL_NAME,
                    "--num-prompts", "2", "--output-len", "2", "--json")
    assert p.returncode == 0
    assert json.loads(p.stdout)["failed"] == 2
