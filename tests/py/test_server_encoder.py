"""Image encoding off the engine thread, the encoder cache and prefix-cache skipping (issue #10).

Counters come from the server's /metrics: autoglm:mm_images_encoded_total (vision-tower runs),
autoglm:mm_encoder_cache_hits_total and autoglm:mm_images_prefix_cached_total.
"""
import base64
import struct
import threading
import time
import zlib

import numpy as np
import pytest

from server_fixture import MODEL_NAME, BackgroundStream, running_server

ENCODED = "autoglm:mm_images_encoded_total"
ENC_HITS = "autoglm:mm_encoder_cache_hits_total"
PREFIX_SKIPS = "autoglm:mm_images_prefix_cached_total"
ENCODING = "autoglm:num_requests_encoding"


def screenshot(width, height, seed):
    """A smooth RGB PNG (compresses well, so a 1080x2400 data URL stays small)."""
    y, x = np.mgrid[0:height, 0:width]
    img = np.stack([(x * 7 + y * 3 + seed * 50) % 256, (x // 4 + y // 8 + seed * 13) % 256,
                    (255 - y // 2 + seed) % 256], axis=-1).astype(np.uint8)
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(height))

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 6)) +
           chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def screen_messages(url, text="Task: open Settings"):
    return [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}},
                                         {"type": "text", "text": text}]}]


def client_for(srv):
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=srv.base_url, api_key="EMPTY", max_retries=0, timeout=600)


def greedy(client, messages, max_tokens=8):
    r = client.chat.completions.create(model=MODEL_NAME, messages=messages, temperature=0,
                                       max_tokens=max_tokens)
    return r.choices[0].message.content, r.usage


def counters(srv):
    return {name: srv.metric(name) for name in (ENCODED, ENC_HITS, PREFIX_SKIPS)}


def delta(after, before):
    return {k: after[k] - before[k] for k in after}


@pytest.mark.parametrize("flags, path", [
    (["--mm-encoder-cache-gb", "0"], PREFIX_SKIPS),      # only the prefix cache can help
    (["--no-enable-prefix-caching"], ENC_HITS),           # only the encoder cache can help
    ([], None),                                          # defaults: either, never an encode
])
def test_same_screenshot_twice_encodes_once(flags, path):
    with running_server(*flags) as srv:
        client = client_for(srv)
        msgs = screen_messages(screenshot(540, 1200, seed=1))
        c0 = counters(srv)
        text1, usage1 = greedy(client, msgs)
        c1 = counters(srv)
        assert delta(c1, c0) == {ENCODED: 1, ENC_HITS: 0, PREFIX_SKIPS: 0}
        text2, usage2 = greedy(client, msgs)
        d = delta(counters(srv), c1)
        assert d[ENCODED] == 0, d
        assert d[ENC_HITS] + d[PREFIX_SKIPS] == 1, d
        if path is not None:
            assert d[path] == 1, d
        # The reused embeddings / KV give exactly the first answer.
        assert text2 == text1
        assert usage2.prompt_tokens == usage1.prompt_tokens
        # A different screenshot of the same size is encoded.
        greedy(client, screen_messages(screenshot(540, 1200, seed=2)))
        assert counters(srv)[ENCODED] == c1[ENCODED] + 1


def test_abort_while_encoding_keeps_serving():
    with running_server() as srv:
        client = client_for(srv)
        short = client.with_options(timeout=0.05)
        with pytest.raises(Exception):
            greedy(short, screen_messages(screenshot(1080, 2400, seed=11)))
        # The server still answers, and the engine ends idle (the aborted request is gone).
        text, _ = greedy(client, [{"role": "user", "content": "hi"}])
        assert isinstance(text, str) and text
        deadline = time.time() + 120
        while time.time() < deadline and (srv.metric(ENCODING) or
                                          srv.metric("vllm:num_requests_running")):
            time.sleep(0.1)
        assert srv.metric(ENCODING) == 0
        assert srv.metric("vllm:num_requests_running") == 0


def test_running_stream_keeps_decoding_while_screenshots_are_encoded():
    """Issue #10: the inter-token gap of a running stream stays under 1 s while other requests'
    screenshots are encoded. The encode window is read from the server's own gauge. Small prefill
    chunks (--max-num-batched-tokens 256) keep the steps in which an encoded screenshot's prompt
    is prefilled short too, as a latency-minded deployment would set them."""
    with running_server("--limit-mm-per-prompt", '{"image": 2}',
                        "--max-num-batched-tokens", "256") as srv:
        client = client_for(srv)
        stream = BackgroundStream(client)
        # Three screenshot requests at once: the encoder takes them one after another.
        urls = [screenshot(1080, 2400, seed=20 + i) for i in range(3)]
        results = []
        bs = [threading.Thread(target=lambda u=u: results.append(greedy(client,
                                                                        screen_messages(u), 2)))
              for u in urls]
        encoded0 = srv.metric(ENCODED)
        for b in bs:
            b.start()
        window = []  # times at which the gauge said a request was waiting for the encoder
        while any(b.is_alive() for b in bs):
            if srv.metric(ENCODING) > 0:
                window.append(time.monotonic())
            time.sleep(0.02)
        for b in bs:
            b.join()
        stream.stop()
        assert len(results) == 3
        assert srv.metric(ENCODED) - encoded0 == 3
        assert window, "no encode was observed"
        lo, hi = window[0], window[-1]
        n_during, max_gap = stream.gaps_within(lo, hi)
        # The stream went on while screenshots were encoded, with no stall: every gap inside
        # the window (and across its edges) is short.
        assert n_during >= 2, (n_during, hi - lo)
        assert max_gap < 1.0, (max_gap, hi - lo)
