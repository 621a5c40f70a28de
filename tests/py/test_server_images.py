"""Image input against a real `autoglm serve` on the built-in GLM-4.1V-shaped model (real
preprocessor settings: patch 14, merge 2, temporal patch 2): an Open-AutoGLM-shaped conversation
with the `openai` SDK, image token accounting, the image-aware prefix cache, and every bad-image
case answering 400 with a clear message."""
import base64
import json
import math
import struct
import tempfile
import urllib.error
import urllib.request
import zlib

import pytest

from conftest import run_autoglm
from server_fixture import MODEL_NAME, running_server

SYSTEM = ("You are a phone-operating agent. Each step you see a screenshot and the task, think "
          "in <think></think> and answer in <answer>do(action=...)</answer>. " * 8)


def png(width, height, seed=0, channels=3):
    """A smooth RGB(A) PNG (stdlib only)."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            px = [(x * 7 + y * 3 + seed * 50) % 256, (x * y + seed * 13) % 256,
                  (255 - y * 2 + seed) % 256, 255][:channels]
            row += bytes(px)
        rows.append(bytes(row))
    color_type = {3: 2, 4: 6}[channels]

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def data_url(data, mime="image/png"):
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def image_part(url):
    return {"type": "image_url", "image_url": {"url": url}}


def n_image_tokens(width, height, factor=28, min_pixels=112 * 112,
                   max_pixels=14 * 14 * 2 * 2 * 2 * 6144):
    """transformers' smart_resize for one still image (t = temporal patch 2) -> merged tokens."""
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if 2 * h_bar * w_bar > max_pixels:
        beta = math.sqrt(2 * height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif 2 * h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (2 * height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return (h_bar // 14) * (w_bar // 14) // 4


@pytest.fixture(scope="module")
def media_dir():
    with tempfile.TemporaryDirectory() as d:
        yield d


@pytest.fixture(scope="module")
def server(media_dir):
    with running_server("--limit-mm-per-prompt", '{"image": 3}',
                        "--allowed-local-media-path", media_dir) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=server.base_url, api_key="EMPTY", max_retries=0, timeout=300)


def post(server, body):
    req = urllib.request.Request(server.base_url + "/chat/completions",
                                 data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def chat(client, messages, **kw):
    return client.chat.completions.create(model=MODEL_NAME, messages=messages, temperature=0,
                                          max_tokens=kw.pop("max_tokens", 8), **kw)


def agent_step(client, messages):
    stream = client.chat.completions.create(
        model=MODEL_NAME, messages=messages, max_tokens=12, temperature=0.0, top_p=0.85,
        frequency_penalty=0.2, stream=True, stream_options={"include_usage": True})
    text, usage = "", None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        if chunk.choices and chunk.choices[0].delta.content is not None:
            text += chunk.choices[0].delta.content
    return text, usage


def test_open_autoglm_conversation(client):
    shot1, shot2 = png(270, 600, seed=1), png(270, 600, seed=2)
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": [image_part(data_url(shot1)),
                                             {"type": "text", "text": "Task: open Settings"}]}]
    reply1, usage1 = agent_step(client, messages)
    assert usage1.prompt_tokens > n_image_tokens(270, 600)
    # Open-AutoGLM removes the screenshot from the previous user turn, then sends the next one.
    messages[1]["content"] = [{"type": "text", "text": "Task: open Settings"}]
    messages += [{"role": "assistant", "content": f"<think>tap</think><answer>{reply1}</answer>"},
                 {"role": "user", "content": [image_part(data_url(shot2)),
                                              {"type": "text", "text": "** Screen Info **"}]}]
    reply2, usage2 = agent_step(client, messages)
    assert isinstance(reply2, str)
    # The system prompt (and what precedes the first change) comes from the prefix cache.
    assert usage2.prompt_tokens_details.cached_tokens >= 64


def test_image_tokens_counted_in_usage(client):
    text = [{"type": "text", "text": "describe"}]
    base = chat(client, [{"role": "user", "content": text}]).usage.prompt_tokens
    for w, h in [(270, 600), (100, 37), (333, 120)]:
        u = chat(client, [{"role": "user",
                           "content": [image_part(data_url(png(w, h)))] + text}]).usage
        # + the image run and <|begin_of_image|>, <|end_of_image|>, and the "\n"-free layout
        assert u.prompt_tokens - base == n_image_tokens(w, h) + 2, (w, h)


def test_stream_equals_non_stream_with_image(client):
    messages = [{"role": "user", "content": [image_part(data_url(png(120, 200, seed=3))),
                                             {"type": "text", "text": "what is shown?"}]}]
    full = chat(client, messages, max_tokens=10).choices[0].message.content
    streamed = "".join(c.choices[0].delta.content or "" for c in
                       chat(client, messages, max_tokens=10, stream=True) if c.choices)
    assert streamed == full


def test_repeated_screenshot_hits_cache_and_new_one_does_not(client):
    shot = data_url(png(300, 300, seed=7))
    msgs = [{"role": "user", "content": [image_part(shot), {"type": "text", "text": "tap it"}]}]
    first = chat(client, msgs).usage
    again = chat(client, msgs).usage
    assert again.prompt_tokens_details.cached_tokens >= first.prompt_tokens - 16
    other = [{"role": "user", "content": [image_part(data_url(png(300, 300, seed=8))),
                                          {"type": "text", "text": "tap it"}]}]
    changed = chat(client, other).usage
    # Same token ids, different pixels: only the blocks before the image may be reused.
    assert changed.prompt_tokens_details.cached_tokens < 16


def test_several_images_across_turns(client):
    msgs = [{"role": "user", "content": [image_part(data_url(png(60, 90, seed=1))),
                                         image_part(data_url(png(90, 60, seed=2))),
                                         {"type": "text", "text": "compare"}]},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [image_part(data_url(png(56, 56, seed=3))),
                                         {"type": "text", "text": "and this?"}]}]
    r = chat(client, msgs)
    assert r.choices[0].finish_reason in ("stop", "length")


def test_local_file_inside_allowed_dir(client, media_dir):
    path = f"{media_dir}/shot.png"
    with open(path, "wb") as f:
        f.write(png(80, 80, seed=4))
    a = chat(client, [{"role": "user", "content": [image_part("file://" + path),
                                                   {"type": "text", "text": "x"}]}])
    b = chat(client, [{"role": "user", "content": [image_part(data_url(png(80, 80, seed=4))),
                                                   {"type": "text", "text": "x"}]}])
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.usage.prompt_tokens == b.usage.prompt_tokens


def bomb_png():
    """A valid PNG signature and IHDR claiming 60000 x 60000 pixels, no image data."""
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    c = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    c += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + c


BAD_IMAGES = {
    "garbage": (data_url(b"this is not an image at all"), "image"),
    "bad_base64": ("data:image/png;base64,@@@not-base64@@@", "base64"),
    "truncated_png": (data_url(png(64, 64)[:60]), "PNG"),
    "pixel_bomb": (data_url(bomb_png()), "60000"),
    "wrong_mime": (data_url(png(32, 32), mime="image/jpeg"), "image/jpeg"),
    "outside_allowed_dir": ("file:///etc/hostname", "outside"),
    "http_url": ("https://example.com/a.png", "network"),
    "unknown_scheme": ("ftp://host/a.png", "data:"),
}


@pytest.mark.parametrize("case", sorted(BAD_IMAGES))
def test_bad_image_is_400(server, case):
    url, needle = BAD_IMAGES[case]
    status, body = post(server, {"model": MODEL_NAME, "max_tokens": 4, "messages": [
        {"role": "user", "content": [image_part(url), {"type": "text", "text": "hi"}]}]})
    assert status == 400, body
    msg = body["error"]["message"]
    assert needle.lower() in msg.lower(), msg
    assert body["error"]["type"] == "BadRequestError"


def test_over_the_per_prompt_limit_is_400(server):
    parts = [image_part(data_url(png(30, 30, seed=i))) for i in range(4)]
    status, body = post(server, {"model": MODEL_NAME, "max_tokens": 4, "messages": [
        {"role": "user", "content": parts + [{"type": "text", "text": "hi"}]}]})
    assert status == 400
    assert "At most 3 image(s)" in body["error"]["message"]


def test_server_still_healthy_after_bad_images(server, client):
    assert chat(client, [{"role": "user", "content": "still alive?"}]).choices


def test_cli_generate_with_image_equals_server(client, tmp_path):
    path = tmp_path / "s.png"
    path.write_bytes(png(140, 252, seed=5))
    cli = run_autoglm("generate", "--chat", "--image", path, "--prompt", "next action?",
                      "--temperature", "0", "--max-tokens", "8", "--json", "--ignore-eos")
    assert cli.returncode == 0, cli.stderr
    out = json.loads(cli.stdout)
    r = chat(client, [{"role": "user", "content": [image_part(data_url(path.read_bytes())),
                                                   {"type": "text", "text": "next action?"}]}],
             max_tokens=8, extra_body={"ignore_eos": True, "skip_special_tokens": False})
    # Same tokens through the engine (batched, paged KV) and through the CLI's generator.
    assert r.usage.completion_tokens == len(out["ids"]) == 8
    assert r.choices[0].message.content == out["text"]
