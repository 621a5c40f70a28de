"""Many users at once: 64 concurrent greedy streams equal the same requests run one at a time;
clients that leave while queued or mid-stream free their slots; prefix caching shows up in
usage.prompt_tokens_details.cached_tokens."""
import concurrent.futures
import json
import socket
import time

import pytest

from server_fixture import MODEL_NAME, client, running_server, server  # noqa: F401

openai = pytest.importorskip("openai")


def prompt(i):
    return [{"role": "user", "content": f"Request number {i}: count to {i % 7 + 3}."}]


def stream_text(client, messages, max_tokens=12):
    """(text, completion_tokens) of one greedy stream that must run to max_tokens."""
    chunks = list(client.chat.completions.create(
        model=MODEL_NAME, messages=messages, stream=True, max_tokens=max_tokens, temperature=0,
        stream_options={"include_usage": True}, extra_body={"ignore_eos": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks[-1].usage.completion_tokens


def test_64_concurrent_streams_equal_sequential(client):
    sequential = [stream_text(client, prompt(i)) for i in range(64)]
    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        concurrent_ = list(pool.map(lambda i: stream_text(client, prompt(i)), range(64)))
    # Every stream really generated (12 tokens, some text), the prompts gave different texts,
    # and batching 64 at once changed none of them.
    assert all(n == 12 and text for text, n in sequential), sequential
    assert len({text for text, _ in sequential}) > 8
    assert concurrent_ == sequential


def wait_idle(srv, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (srv.metric("vllm:num_requests_running") == 0
                and srv.metric("vllm:num_requests_waiting") == 0
                and srv.metric("vllm:kv_cache_usage_perc") == 0):
            return True
        time.sleep(0.1)
    return False


def raw_request(srv, body):
    s = socket.create_connection(("127.0.0.1", srv.port))
    data = json.dumps(body).encode()
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
              b"\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
    return s


@pytest.mark.parametrize("stream", [True, False])
def test_disconnect_at_each_stage_frees_everything(stream):
    long_body = {"model": MODEL_NAME, "messages": prompt(1), "max_tokens": 4000,
                 "ignore_eos": True, "stream": stream}
    with running_server("--max-num-seqs", "2") as srv:
        socks = [raw_request(srv, long_body) for _ in range(6)]  # 2 running, 4 queued
        time.sleep(1.0)
        if stream:
            socks[0].recv(4096)  # mid-stream for the first one
        for s in socks:
            s.close()
        assert wait_idle(srv), srv.metrics()
        aborted = [v for k, v in srv.metrics().items()
                   if k.startswith("vllm:request_success_total") and 'reason="abort"' in k]
        assert aborted and aborted[0] >= 6


def test_cached_tokens_for_repeated_system_prompt(client):
    system = {"role": "system", "content": "You are a careful phone agent. " * 40}
    usage = []
    for q in ("first question", "second question"):
        r = client.chat.completions.create(
            model=MODEL_NAME, messages=[system, {"role": "user", "content": q}], max_tokens=2,
            temperature=0)
        usage.append(r.usage)
    assert usage[1].prompt_tokens_details.cached_tokens > 0
    assert usage[1].prompt_tokens_details.cached_tokens < usage[1].prompt_tokens


def test_agent_pattern_reuses_cache_up_to_the_change(server, client):
    """Open-AutoGLM re-sends the whole history each step and drops the previous screenshot from
    the last user turn, so step k+1 differs from step k right after that turn's `<|user|>` tag.
    (Text stands in for the screenshot until image input lands.) The prefix cache must serve
    every full block before that point, and nothing after it."""
    import httpx
    system = {"role": "system", "content": "You are a phone agent. " + "Rules: tap, swipe, type. " * 40}
    shot = "[screenshot 1: " + "pixels " * 60 + "]"
    step1 = [system, {"role": "user", "content": shot + "Open WeChat"}]
    r1 = client.chat.completions.create(model=MODEL_NAME, messages=step1, max_tokens=4,
                                        temperature=0, extra_body={"top_p": 0.85,
                                                                   "frequency_penalty": 0.2})
    answer = r1.choices[0].message.content
    step2 = [system, {"role": "user", "content": "Open WeChat"},
             {"role": "assistant", "content": answer},
             {"role": "user", "content": "[screenshot 2]** Screen Info **"}]
    r2 = client.chat.completions.create(model=MODEL_NAME, messages=step2, max_tokens=4,
                                        temperature=0)
    # Tokens up to and including the diverging turn's <|user|> tag are shared.
    common = httpx.post(server.root + "/tokenize", json={
        "prompt": "[gMASK]<sop><|system|>\n" + system["content"] + "<|user|>"}).json()["count"]
    cached = r2.usage.prompt_tokens_details.cached_tokens
    block = 16
    assert common // block * block <= cached <= common + block, (common, cached)
    assert cached < r2.usage.prompt_tokens
