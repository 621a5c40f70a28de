"""A vLLM command line pasted as is (Open-AutoGLM's launch command and vLLM's no-op flags), and the
operational surface vLLM users rely on: /ping, models.retrieve, /tokenize counting image tokens
as the chat request does, full-prompt vllm:prompt_tokens_total, the status page's effective
numbers, per-request and periodic throughput log lines, the --max-model-len warning."""
import collections
import json
import os
import re
import time
import urllib.error
import urllib.request

import pytest

from conftest import run_autoglm
from server_fixture import MODEL_NAME, ServerProcess
from test_server_images import data_url, image_part, png

# Open-AutoGLM's README launch command (vLLM), after `python3 -m vllm.entrypoints.openai.api_server`
# (--served-model-name and --port come from the fixture; --model is a local directory).
OPEN_AUTOGLM_FLAGS = [
    "--allowed-local-media-path", "/", "--mm-encoder-tp-mode", "data",
    "--mm_processor_cache_type", "shm", "--mm_processor_kwargs", '{"max_pixels":5000000}',
    "--max-model-len", "25480", "--chat-template-content-format", "string",
    "--limit-mm-per-prompt", '{"image":10}',
]
# Other vLLM flags that mean nothing here, in the spellings vLLM accepts.
NOOP_FLAGS = [
    "--gpu-memory-utilization", "0.9", "-tp", "1", "--tensor_parallel_size", "1",
    "--trust-remote-code", "--dtype", "bfloat16", "--enable-auto-tool-choice",
]
IGNORED = ["--mm-encoder-tp-mode", "--mm-processor-cache-type", "--gpu-memory-utilization",
           "--tensor-parallel-size", "--trust-remote-code", "--dtype", "--enable-auto-tool-choice"]


def post(srv, path, body):
    req = urllib.request.Request(srv.root + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def get(srv, path):
    try:
        with urllib.request.urlopen(srv.root + path, timeout=30) as r:
            body = r.read()
            return r.status, json.loads(body) if body else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait_for_log(srv, pattern, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = re.search(pattern, srv.log_tail(200000))
        if m:
            return m
        time.sleep(0.1)
    raise AssertionError(f"no log line matching {pattern!r}:\n{srv.log_tail()}")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("builtin")
    p = run_autoglm("export-builtin", "--out", out)
    assert p.returncode == 0, p.stderr
    return out


@pytest.fixture(scope="module")
def srv(model_dir):
    os.environ["AUTOGLM_LOG_STATS_INTERVAL"] = "0.5"
    try:
        s = ServerProcess(*OPEN_AUTOGLM_FLAGS, *NOOP_FLAGS, "--model", model_dir)
    finally:
        del os.environ["AUTOGLM_LOG_STATS_INTERVAL"]
    yield s
    assert s.stop() == 0, s.log_tail()


def test_pasted_vllm_command_warns_once_per_ignored_flag(srv):
    log = srv.log_tail(200000)
    for flag in IGNORED:
        lines = [ln for ln in log.splitlines() if ln.startswith(f"[WARN] {flag} ")
                 or ln.startswith(f"[WARN] {flag}:")]
        assert len(lines) == 1, (flag, lines)  # -tp, given twice more: the last one wins
        assert "ignored" in lines[0]
    assert "--max-model-len 25480 exceeds the model's max_position_embeddings 8192" in log
    # The pasted flags took effect: the image limit and the content format.
    status = get(srv, "/status")[1]
    assert status["settings"]["chat_template_content_format"] == "string"
    assert status["model"]["max_model_len"] == 25480
    too_many = {"model": MODEL_NAME, "max_tokens": 1, "messages": [
        {"role": "user", "content": [image_part(data_url(png(28, 28)))] * 11}]}
    with pytest.raises(urllib.error.HTTPError) as e:
        post(srv, "/v1/chat/completions", too_many)
    assert e.value.code == 400 and "At most 10 image(s)" in e.value.read().decode()


def test_ping_and_models_retrieve(srv, model_dir):
    assert get(srv, "/ping")[0] == 200
    code, card = get(srv, f"/v1/models/{MODEL_NAME}")
    assert code == 200 and card["id"] == MODEL_NAME and card["object"] == "model"
    assert card["root"] == str(model_dir)
    code, err = get(srv, "/v1/models/gpt-4")
    assert code == 404 and err["error"]["type"] == "NotFoundError"
    assert "gpt-4" in err["error"]["message"]


def srv_model_root(srv):
    return get(srv, "/v1/models")[1]["data"][0]["root"]


def test_models_retrieve_with_the_openai_sdk(srv):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=srv.base_url, api_key="EMPTY", max_retries=0)
    assert client.models.retrieve(MODEL_NAME).id == MODEL_NAME
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4")


def test_tokenize_counts_image_tokens_as_chat_does(srv):
    messages = [{"role": "user", "content": [image_part(data_url(png(300, 200, seed=4))),
                                             {"type": "text", "text": "打开设置"}]}]
    tok = post(srv, "/tokenize", {"model": MODEL_NAME, "messages": messages})
    chat = post(srv, "/v1/chat/completions", {"model": MODEL_NAME, "messages": messages,
                                              "max_tokens": 1, "temperature": 0})
    assert tok["count"] == chat["usage"]["prompt_tokens"] == len(tok["tokens"])
    # 300x200 -> 308x196 after resizing to multiples of 28: (22 x 14) patches / 4 = 77 tokens,
    # one run of the image placeholder id.
    image_id, run = collections.Counter(tok["tokens"]).most_common(1)[0]
    assert run == 77
    ids = tok["tokens"]
    assert ids.index(image_id) + 77 == len(ids) - ids[::-1].index(image_id)  # contiguous


def test_prompt_tokens_total_counts_cached_prompt_tokens(srv):
    body = {"model": MODEL_NAME, "prompt": "the same long prompt " * 20, "max_tokens": 1}
    before = srv.metric("vllm:prompt_tokens_total")
    first = post(srv, "/v1/completions", body)
    second = post(srv, "/v1/completions", body)
    n = first["usage"]["prompt_tokens"]
    assert second["usage"]["prompt_tokens_details"]["cached_tokens"] > 0
    assert srv.metric("vllm:prompt_tokens_total") - before == 2 * n


def test_status_shows_effective_threads_kv_size_rates_and_memory(srv):
    get(srv, "/status")
    post(srv, "/v1/completions", {"model": MODEL_NAME, "prompt": "count", "max_tokens": 16,
                                  "ignore_eos": True})
    time.sleep(1.1)
    status = get(srv, "/status")[1]
    s, m = status["settings"], status["metrics"]
    assert s["threads"] == os.cpu_count()  # the effective count, not the flag's 0
    assert s["kv_cache_size_gib"] == pytest.approx(
        (m["kv_cache_capacity_tokens"] * m["kv_cache_bytes_per_token"]
         + m["kv_cache_open_rows_bytes"]) / 2**30)
    assert m["memory_rss_gib"] > 0.01
    assert m["generation_tokens_per_s"] > 0 and m["prompt_tokens_per_s"] > 0


def test_request_and_throughput_log_lines(srv):
    out = post(srv, "/v1/completions", {"model": MODEL_NAME, "prompt": "log me", "max_tokens": 7,
                                        "ignore_eos": True})
    n_prompt = out["usage"]["prompt_tokens"]
    wait_for_log(srv, rf"\[INFO\] request \d+ length: prompt {n_prompt} tokens \(\d+ cached\), "
                      r"7 generated, TTFT [0-9.]+ s, decode [0-9.]+ tok/s, total [0-9.]+ s")
    wait_for_log(srv, r"Avg prompt throughput: [0-9.]+ tokens/s, Avg generation throughput: "
                      r"[0-9.]+ tokens/s, Running: \d+ reqs, Waiting: \d+ reqs")


def test_positional_model_and_quiet_logs(model_dir):
    s = ServerProcess(model_dir, "--disable-log-requests", "--disable-log-stats")
    try:
        assert srv_model_root(s) == str(model_dir)
        post(s, "/v1/completions", {"model": MODEL_NAME, "prompt": "x", "max_tokens": 2})
        time.sleep(0.5)
        assert "request " not in s.log_tail(200000)
        assert "Avg prompt throughput" not in s.log_tail(200000)
    finally:
        assert s.stop() == 0


def test_two_different_models_are_refused(model_dir):
    p = run_autoglm("serve", model_dir, "--model", "/elsewhere", "--port", "0", timeout=60)
    assert p.returncode != 0 and "two models given" in p.stderr, p.stderr
