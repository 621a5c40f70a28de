"""Every error status the server produces, in OpenAI's nested shape, through raw HTTP and
through the openai SDK's exception classes."""
import concurrent.futures
import json

import httpx
import pytest

from server_fixture import MODEL_NAME, client, running_server, server  # noqa: F401

openai = pytest.importorskip("openai")

CHAT = {"model": MODEL_NAME, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


def assert_error(resp, status):
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["type"], str) and "param" in err and err["code"] == status
    return err


def post(server, path, body=None, **kw):
    return httpx.post(server.root + path, json=body, timeout=60, **kw)


def test_400_invalid_json(server):
    r = httpx.post(server.root + "/v1/chat/completions", content=b"{oops",
                   headers={"Content-Type": "application/json"})
    assert_error(r, 400)


@pytest.mark.parametrize("field,value", [
    ("temperature", -1), ("top_p", 0), ("top_p", 2), ("n", 0), ("max_tokens", 0),
    ("max_tokens", "9"), ("stop", 3), ("frequency_penalty", 3), ("logprobs", "yes"),
    ("top_logprobs", 50), ("messages", []), ("messages", "hi"), ("stop_token_ids", [-1]),
])
def test_400_bad_fields(server, field, value):
    assert_error(post(server, "/v1/chat/completions", {**CHAT, field: value}), 400)


def test_400_stream_options_without_stream(server):
    body = {**CHAT, "stream_options": {"include_usage": True}}
    assert_error(post(server, "/v1/chat/completions", body), 400)


def test_400_video_parts_not_supported(server):
    parts = [{"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAA"}},
             {"type": "text", "text": "what is this?"}]
    body = {**CHAT, "messages": [{"role": "user", "content": parts}]}
    err = assert_error(post(server, "/v1/chat/completions", body), 400)
    assert "not supported" in err["message"]
    assert "messages[0].content[0]" in err["message"]


def test_400_audio_parts_without_a_speech_model_say_how_to_enable_it(server):
    parts = [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
             {"type": "text", "text": "what is this?"}]
    body = {**CHAT, "messages": [{"role": "user", "content": parts}]}
    err = assert_error(post(server, "/v1/chat/completions", body), 400)
    assert "--asr-model" in err["message"]


def test_400_image_that_is_not_an_image(server):
    parts = [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
             {"type": "text", "text": "what is on the screen?"}]
    body = {**CHAT, "messages": [{"role": "user", "content": parts}]}
    err = assert_error(post(server, "/v1/chat/completions", body), 400)
    assert err["message"].startswith("image 0:")


def test_400_context_too_long(server, client):
    max_len = client.models.list().data[0].model_extra["max_model_len"]
    err = assert_error(post(server, "/v1/chat/completions", {**CHAT, "max_tokens": max_len}), 400)
    assert f"maximum context length is {max_len} tokens" in err["message"]
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL_NAME, messages=CHAT["messages"],
                                       max_tokens=max_len)


def test_unknown_fields_are_accepted(server):
    r = post(server, "/v1/chat/completions", {**CHAT, "foo": 1, "return_reasoning": True,
                                              "chat_template_kwargs": {"enable_thinking": False}})
    assert r.status_code == 200, r.text


def test_404_model_and_route(server, client):
    err = assert_error(post(server, "/v1/chat/completions", {**CHAT, "model": "gpt-4o"}), 404)
    assert "gpt-4o" in err["message"]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=CHAT["messages"], max_tokens=2)
    assert_error(httpx.get(server.root + "/v2/nothing"), 404)


def test_405_wrong_method(server):
    assert_error(httpx.get(server.root + "/v1/chat/completions"), 405)
    assert_error(httpx.post(server.root + "/health"), 405)


def test_413_body_too_large(server):
    big = json.dumps({**CHAT, "pad": "x" * (65 << 20)})
    r = httpx.post(server.root + "/v1/chat/completions", content=big,
                   headers={"Content-Type": "application/json"}, timeout=60)
    assert_error(r, 413)


def test_401_api_key():
    with running_server("--api-key", "sekrit") as srv:
        assert_error(httpx.get(srv.root + "/v1/models"), 401)
        assert_error(httpx.get(srv.root + "/v1/models",
                               headers={"Authorization": "Bearer wrong"}), 401)
        ok = httpx.get(srv.root + "/v1/models", headers={"Authorization": "Bearer sekrit"})
        assert ok.status_code == 200
        for public in ("/health", "/version", "/metrics"):
            assert httpx.get(srv.root + public).status_code == 200
        bad = openai.OpenAI(base_url=srv.base_url, api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()


def test_503_queue_full():
    with running_server("--max-num-seqs", "1", "--max-num-queued-reqs", "1") as srv:
        body = {**CHAT, "max_tokens": 256, "ignore_eos": True}
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            resps = list(pool.map(lambda _: post(srv, "/v1/chat/completions", body), range(16)))
        busy = [r for r in resps if r.status_code == 503]
        assert busy, [r.status_code for r in resps]
        assert_error(busy[0], 503)
        assert busy[0].headers.get("Retry-After")
        assert all(r.status_code in (200, 503) for r in resps)
