"""--kv-cache-dtype end to end: the server reports the dtype, bytes per token and capacity, and
the CLI refuses an unknown dtype."""
import json

import pytest

from conftest import ROOT, run_autoglm
from server_fixture import MODEL_NAME, running_server

BUILTIN = ROOT / "build" / "builtin-model" / "config.json"


def builtin_bytes_per_token(dtype, block_size=16):
    t = json.loads(BUILTIN.read_text())["text_config"]
    d = t["hidden_size"] // t["num_attention_heads"]
    # (key, value) head bytes per token; int4 keys: codes + per-block channel scales (f16 pairs)
    record = {"f32": (4 * d,) * 2, "bf16": (2 * d,) * 2, "f16": (2 * d,) * 2, "int8": (d + 4,) * 2,
              "int4": (d // 2 + 4 * d / block_size, d // 2 + 4 * (d // 32 if d % 32 == 0 else 1))}[dtype]
    return round(t["num_hidden_layers"] * t["num_key_value_heads"] * sum(record))


@pytest.mark.parametrize("flag, dtype", [(None, "bf16"), ("int8", "int8"), ("int4", "int4")])
def test_server_reports_kv_dtype_and_capacity(flag, dtype):
    args = ["--kv-cache-memory", "0.01"] + (["--kv-cache-dtype", flag] if flag else [])
    with running_server(*args) as srv:
        openai = pytest.importorskip("openai")
        client = openai.OpenAI(base_url=srv.base_url, api_key="EMPTY", max_retries=0)
        r = client.chat.completions.create(model=MODEL_NAME, temperature=0, max_tokens=8,
                                           messages=[{"role": "user", "content": "hi"}])
        assert r.usage.completion_tokens > 0
        info = [k for k in srv.metrics() if k.startswith("vllm:cache_config_info{")]
        assert len(info) == 1 and f'cache_dtype="{dtype}"' in info[0], info
        per_token = builtin_bytes_per_token(dtype)
        assert srv.metric("autoglm:kv_cache_bytes_per_token") == per_token
        # int4 sets aside f32 rows (K and V, every layer) for the blocks that can be open at
        # once: two per running sequence (16 by default) and one per 16 batched tokens (2048).
        t = json.loads(BUILTIN.read_text())["text_config"]
        open_block = 2 * 4 * t["num_hidden_layers"] * 16 * t["num_key_value_heads"] * (
            t["hidden_size"] // t["num_attention_heads"])
        open_rows = (2 * 16 + 2048 // 16) * open_block if dtype == "int4" else 0
        assert srv.metric("autoglm:kv_cache_open_rows_bytes") == open_rows
        # --kv-cache-memory is converted to tokens with the dtype's size (whole blocks of 16),
        # after the open rows.
        capacity = srv.metric("autoglm:kv_cache_capacity_tokens")
        assert capacity == (int((0.01 * 2**30 - open_rows) / (per_token * 16))) * 16
        assert f"dtype {dtype}" in srv.log_tail(100000)


def test_unknown_kv_dtype_is_refused(autoglm):
    r = autoglm("generate", "--prompt", "x", "--max-tokens", "1", "--kv-cache-dtype", "fp8")
    assert r.returncode != 0
    assert "kv-cache-dtype" in r.stderr


def test_generate_with_each_kv_dtype(autoglm):
    for dt in ["f32", "bf16", "f16", "int8", "int4"]:
        r = autoglm("generate", "--prompt", "hello", "--max-tokens", "4", "--temperature", "0",
                    "--kv-cache-dtype", dt, "--json")
        assert r.returncode == 0, r.stderr
        assert len(json.loads(r.stdout)["ids"]) == 4
