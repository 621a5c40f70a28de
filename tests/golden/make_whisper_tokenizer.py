#!/usr/bin/env python3
"""A tiny Whisper-shaped tokenizer.json for the random 512-token Whisper goldens (ASR tests).

    python3 tests/golden/make_whisper_tokenizer.py [--out tests/fixtures/tokenizers/whisper_tiny]

Byte-level BPE like Whisper's (GPT-2 byte alphabet at ids 0..255, 144 merges learned here by a
plain deterministic pair count over a fixed English text -> ids 256..399), then Whisper's special
tokens in Whisper's order:
  400 <|endoftext|>  401 <|startoftranscript|>  402 <|en|>  403 <|zh|>  404 <|de|>
  405 <|translate|>  406 <|transcribe|>  407 <|startoflm|>  408 <|startofprev|>
  409 <|nospeech|>  410 <|notimestamps|>
Timestamps are not listed (as in the real tokenizer.json): ids 411..511 of the model's vocab.
Deterministic; needs only the standard library.
"""
import argparse
import json
from collections import Counter
from pathlib import Path

TEXT = """the quick brown fox jumps over the lazy dog. she sells sea shells by the sea shore.
a journey of a thousand miles begins with a single step. to be or not to be, that is the
question. all that glitters is not gold. the weather is nice today and the sun is shining.
please call me when you arrive at the station. we are testing the speech recognition system.
the rain in spain stays mainly in the plain. an apple a day keeps the doctor away."""
N_MERGES = 144
SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|zh|>", "<|de|>",
            "<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>",
            "<|nospeech|>", "<|notimestamps|>"]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] /
                                         "fixtures/tokenizers/whisper_tiny"))
    args = ap.parse_args()
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: b for b in range(256)}
    words = Counter()
    for w in TEXT.replace("\n", " ").split(" "):
        if w:
            words[tuple(b2u[b] for b in (" " + w).encode())] += 1
    merges = []
    for _ in range(N_MERGES):
        pairs = Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        (a, b), _ = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        merges.append(f"{a} {b}")
        vocab[a + b] = len(vocab)
        new = Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] += c
        words = new
    assert len(vocab) == 400, len(vocab)
    added = [{"id": 400 + i, "content": s, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True}
             for i, s in enumerate(SPECIALS)]
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": merges},
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False, indent=1) + "\n")
    print(out / "tokenizer.json")


if __name__ == "__main__":
    main()
