"""The server through the official openai SDK: non-stream and stream, usage, stop, n, seed,
logprobs, completions, models, tokenize."""
import httpx
import pytest

from server_fixture import MODEL_NAME, client, server  # noqa: F401 (fixtures)

openai = pytest.importorskip("openai")

MESSAGES = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Tell me about the weather today."}]


def greedy(client, **kw):
    args = dict(model=MODEL_NAME, messages=MESSAGES, max_tokens=16, temperature=0)
    args.update(kw)
    return client.chat.completions.create(**args)


def stream_text(client, **kw):
    chunks = list(greedy(client, stream=True, **kw))
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks


def test_non_stream_shape_and_usage(server, client):
    r = greedy(client)
    assert r.object == "chat.completion" and r.model == MODEL_NAME
    assert r.id.startswith("chatcmpl-")
    c = r.choices[0]
    assert c.message.role == "assistant" and isinstance(c.message.content, str)
    assert c.finish_reason in ("stop", "length")
    u = r.usage
    assert u.prompt_tokens > 0 and 0 < u.completion_tokens <= 16
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens
    assert u.prompt_tokens_details.cached_tokens >= 0
    # The content is the greedy continuation of the rendered prompt: the same tokens through
    # /v1/completions give the same text, and prompt_tokens is /tokenize's count.
    tok = httpx.post(server.root + "/tokenize", json={"messages": MESSAGES}).json()
    assert u.prompt_tokens == tok["count"]
    prompt = httpx.post(server.root + "/detokenize",
                        json={"tokens": tok["tokens"]}).json()["prompt"]
    plain = client.completions.create(model=MODEL_NAME, prompt=prompt, max_tokens=16,
                                      temperature=0)
    assert plain.usage.prompt_tokens == u.prompt_tokens
    assert c.message.content == plain.choices[0].text and c.message.content


def test_stream_matches_non_stream(client):
    text, chunks = stream_text(client)
    first = chunks[0]
    assert first.choices[0].delta.role == "assistant" and first.choices[0].delta.content == ""
    assert len({c.id for c in chunks}) == 1
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    assert text == greedy(client).choices[0].message.content


def test_stream_include_usage(client):
    chunks = list(greedy(client, stream=True, stream_options={"include_usage": True}))
    last = chunks[-1]
    assert last.choices == [] and last.usage.completion_tokens > 0
    assert last.usage.prompt_tokens_details.cached_tokens >= 0
    assert all(c.usage is None for c in chunks[:-1])


def test_max_completion_tokens(client):
    r = greedy(client, max_tokens=None, max_completion_tokens=3, extra_body={"ignore_eos": True})
    assert r.usage.completion_tokens == 3 and r.choices[0].finish_reason == "length"


def test_stop_string_is_not_emitted(client):
    full = greedy(client, max_tokens=32, extra_body={"ignore_eos": True}).choices[0].message.content
    if len(full) < 8:
        pytest.skip("generation too short to pick a stop string")
    stop = full[len(full) // 2:len(full) // 2 + 3]
    r = greedy(client, max_tokens=32, stop=[stop], extra_body={"ignore_eos": True})
    text = r.choices[0].message.content
    assert stop not in text and full.startswith(text)
    assert r.choices[0].finish_reason == "stop"
    streamed, _ = stream_text(client, max_tokens=32, stop=[stop], extra_body={"ignore_eos": True})
    assert streamed == text


def test_n_choices(client):
    r = greedy(client, n=3, temperature=1.0, seed=7)
    assert sorted(c.index for c in r.choices) == [0, 1, 2]
    chunks = list(greedy(client, n=2, stream=True))
    assert {c.choices[0].index for c in chunks if c.choices} == {0, 1}


def test_seed_reproducible(client):
    a = greedy(client, temperature=1.0, top_p=0.9, seed=1234).choices[0].message.content
    b = greedy(client, temperature=1.0, top_p=0.9, seed=1234).choices[0].message.content
    assert a == b


def test_logprobs(client):
    r = greedy(client, logprobs=True, top_logprobs=3, max_tokens=4)
    content = r.choices[0].logprobs.content
    assert len(content) == r.usage.completion_tokens
    for e in content:
        assert isinstance(e.token, str) and e.logprob <= 0 and isinstance(e.bytes, list)
        assert len(e.top_logprobs) == 3
        assert abs(e.logprob - e.top_logprobs[0].logprob) < 1e-3  # greedy: chosen is top-1


def test_completions(client):
    r = client.completions.create(model=MODEL_NAME, prompt="Hello", max_tokens=5, temperature=0,
                                  logprobs=2)
    assert r.object == "text_completion" and isinstance(r.choices[0].text, str)
    assert r.choices[0].text
    assert r.choices[0].finish_reason == ("length" if r.usage.completion_tokens == 5 else "stop")
    assert len(r.choices[0].logprobs.tokens) == r.usage.completion_tokens
    chunks = list(client.completions.create(model=MODEL_NAME, prompt="Hello", max_tokens=5,
                                            temperature=0, stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == r.choices[0].text


def test_models(client):
    models = client.models.list().data
    assert [m.id for m in models] == [MODEL_NAME]


def test_tokenize_detokenize(server):
    t = httpx.post(server.root + "/tokenize", json={"prompt": "Hello world"}).json()
    assert t["count"] == len(t["tokens"]) > 0 and t["max_model_len"] > 0
    d = httpx.post(server.root + "/detokenize", json={"tokens": t["tokens"]}).json()
    assert d["prompt"] == "Hello world"
    m = httpx.post(server.root + "/tokenize", json={"messages": MESSAGES}).json()
    assert m["count"] > t["count"]


def test_health_version_status(server):
    assert httpx.get(server.root + "/health").status_code == 200
    assert httpx.get(server.root + "/health").text == ""
    assert "version" in httpx.get(server.root + "/version").json()
    page = httpx.get(server.root + "/")
    assert page.status_code == 200 and "<html" in page.text
    assert httpx.get(server.root + "/status").json()["ready"] is True
