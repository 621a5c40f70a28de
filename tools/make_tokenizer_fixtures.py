#!/usr/bin/env python3
"""Train small byte-level BPE tokenizers with HF `tokenizers` and record golden encode/decode data.

Not run in CI. Regenerate with (from the repo root):

    /tmp/goldvenv/bin/python tools/make_tokenizer_fixtures.py

Writes, for each tokenizer <name> in {glm4, gpt2, splitmix}:
    tests/fixtures/tokenizers/<name>/tokenizer.json
    tests/fixtures/tokenizers/<name>/tokenizer_config.json   (glm4 only)
    tests/fixtures/tokenizers/<name>/encode_cases.jsonl      one JSON object per line:
        {"in": base64 of the raw input bytes (may be invalid UTF-8),
         "ids": HF encode(in.decode('utf-8', 'replace'), add_special_tokens=False).ids,
         "dec": HF decode(ids), "dec_skip": HF decode(ids, skip_special_tokens=True)}
    tests/fixtures/tokenizers/<name>/decode_cases.jsonl      random id sequences:
        {"ids": [...], "dec": ..., "dec_skip": ...}
and copies glm4 to assets/builtin/tokenizer.json + tokenizer_config.json.
Everything is deterministic for a given `tokenizers` version (fixed seeds, fixed corpus order).
"""

import base64
import glob
import json
import os
import random
import shutil
import sys

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tokenizers")
BUILTIN = os.path.join(ROOT, "assets", "builtin")

GLM_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
             r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

GLM_SPECIAL = ["<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>",
               "<|user|>", "<|assistant|>", "<|observation|>", "<|begin_of_image|>",
               "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>", "<|image|>",
               "<|video|>"]
GLM_ADDED = ["<think>", "</think>", "<answer>", "</answer>", "<|begin_of_box|>", "<|end_of_box|>"]

CHINESE = """
人工智能是计算机科学的一个分支，它企图了解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器。
该领域的研究包括机器人、语言识别、图像识别、自然语言处理和专家系统等。今天天气很好，我们去公园散步吧。
请打开设置，然后点击“显示”选项。手机屏幕上有一个搜索框，输入“外卖”并点击搜索按钮。
北京是中华人民共和国的首都，也是全国的政治中心、文化中心。上海是中国的经济中心之一。
我喜欢读书、写字、画画和听音乐。他说：“你好！欢迎来到我们的应用程序。”
模型需要先思考，然后给出答案。第一步：打开微信；第二步：找到联系人；第三步：发送消息。
数据显示，二〇二四年第三季度的销售额增长了百分之十二点五。価格は１２３４円です。日本語の文章も少し。
한국어 문장도 조금 있습니다. Привет, как дела? Γειά σου κόσμε. مرحبا بالعالم. नमस्ते दुनिया. สวัสดีชาวโลก
"""

EMOJI = ["😀", "😂", "🥲", "👍", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇨🇳", "🇺🇸", "❤️", "🔥", "✨", "🤖",
         "👩🏻‍💻", "🧑‍🚀", "☕", "✅", "❌", "⭐", "🎉", "🙏", "💯", "🐍", "📱", "🫠", "🇯🇵", "👁️‍🗨️"]

WHITESPACE = [" ", " ", " ", "\t", "\n", "\n", "\r", "\r\n", "\u3000", "\u00a0", "\u2028", "\u2029",
              "\u180e", "\u200b", "\u0085", "\v", "\f", "\u2003", "\u202f", "\ufeff"]

CONTRACTIONS = ["I'M", "DON'T", "WE'LL", "'S", "'Re", "THEY'VE", "SHE'D", "it's", "It'S", "'ll",
                "can't", "O'NEIL", "'T", "'m", "''s", "' s", "'VE'D"]

CODE = [
    "def f(x):\n    return x ** 2  # square\n",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }\n",
    "if __name__ == '__main__':\n\tmain()\n",
    "std::vector<int32_t> ids = tok.encode(\"hello\");",
    "x = {\"key\": [1, 2, 3], 'b': None}\r\n",
    "    \n\n   \t\t  \n",
    "SELECT * FROM users WHERE id=42;",
    "do(action=\"Tap\", element=[500,120])",
    "finish(message=\"完成了\")",
    "<think>\n先打开设置\n</think>\n<answer>\ndo(action=\"Launch\", app=\"微信\")\n</answer>",
]

INVALID = [b"\xff", b"\xfe", b"\xc0\xaf", b"\xe4\xb8", b"\xe4", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
           b"\x80", b"\xbf\xbf", b"\xf0\x9f\x98", b"\xf0\x9f", b"\xc3", b"\xe0\x80\xaf",
           b"\xf8\x88\x80\x80\x80", b"\xc2\x41", b"\xe2\x82", b"\xf5"]


def corpus_texts():
    files = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py")))
    texts = []
    total = 0
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            texts.append(f.read())
        total += len(texts[-1])
        if total > 2_500_000:
            break
    for path in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                texts.append(f.read())
    for _ in range(30):
        texts.append(CHINESE)
        texts.append(" ".join(EMOJI))
    return texts


def train(pre_tokenizer, vocab_size, special_tokens, corpus):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(corpus, trainer=trainer)
    return tok


def make_glm4(corpus):
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(GLM_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok = train(pre, 3000, [], corpus)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in GLM_SPECIAL])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in GLM_ADDED])
    config = {
        "added_tokens_decoder": {},
        "clean_up_tokenization_spaces": False,
        "do_lower_case": False,
        "eos_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "model_max_length": 65536,
        "padding_side": "left",
        "remove_space": False,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "chat_template": "[gMASK]<sop>{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}"
                         "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}",
    }
    for t in GLM_SPECIAL + GLM_ADDED:
        config["added_tokens_decoder"][str(tok.token_to_id(t))] = {
            "content": t, "lstrip": False, "normalized": False, "rstrip": False,
            "single_word": False, "special": t in GLM_SPECIAL}
    return tok, config, GLM_SPECIAL + GLM_ADDED


def make_gpt2(corpus):
    pre = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    tok = train(pre, 2000, ["<|endoftext|>"], corpus)
    return tok, None, ["<|endoftext|>"]


def make_splitmix(corpus):
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\p{N}"), behavior="isolated"),
        pre_tokenizers.Split(Regex(r"[\p{L}\p{N}\s]"), behavior="contiguous", invert=True),
        pre_tokenizers.Split(Regex(r"\s"), behavior="merged_with_next"),
        pre_tokenizers.Split("||", behavior="removed"),
        pre_tokenizers.Split(".", behavior="merged_with_previous"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok = train(pre, 1500, ["<pad>", "<s>", "</s>"], corpus)
    tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False),
                            AddedToken("[SEP]", special=True, rstrip=True, normalized=False)])
    tok.add_tokens([AddedToken("hello world", special=False, single_word=True, normalized=True),
                    AddedToken("<x>", special=False, normalized=True),
                    AddedToken("<x>y", special=False, normalized=False),
                    AddedToken("Ω≈", special=False, normalized=False)])
    return tok, None, ["<pad>", "<s>", "</s>", "<mask>", "[SEP]", "hello world", "<x>", "<x>y",
                       "Ω≈"]


def random_unicode(rng):
    blocks = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x3ff), (0x400, 0x4ff), (0x590, 0x6ff),
              (0x900, 0x97f), (0xe00, 0xe7f), (0x1100, 0x11ff), (0x2000, 0x206f), (0x2190, 0x22ff),
              (0x3000, 0x303f), (0x3040, 0x30ff), (0x4e00, 0x9fff), (0xac00, 0xd7a3),
              (0xe000, 0xe0ff), (0xff00, 0xffef), (0x1f300, 0x1faff), (0x10000, 0x1007f),
              (0x20000, 0x2a6df), (0x300, 0x36f), (0xfe00, 0xfe0f)]
    lo, hi = rng.choice(blocks)
    return chr(rng.randint(lo, hi))


def gen_piece(rng, corpus_text, added):
    kind = rng.randrange(14)
    if kind == 0:
        start = rng.randrange(len(corpus_text) - 200)
        return corpus_text[start:start + rng.randint(1, 120)]
    if kind == 1:
        start = rng.randrange(len(CHINESE) - 40)
        return CHINESE[start:start + rng.randint(1, 40)]
    if kind == 2:
        return "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4)))
    if kind == 3:
        return "".join(rng.choice(WHITESPACE) for _ in range(rng.randint(1, 12)))
    if kind == 4:
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20)))
        return digits if rng.random() < 0.6 else f"{digits[:3]},{digits[3:]}.{rng.randint(0, 99)}"
    if kind == 5:
        return rng.choice(added)
    if kind == 6:
        t = rng.choice(added)
        return t[:rng.randint(1, len(t))]
    if kind == 7:
        return rng.choice(CONTRACTIONS)
    if kind == 8:
        return "".join(random_unicode(rng) for _ in range(rng.randint(1, 8)))
    if kind == 9:
        return rng.choice(CODE)
    if kind == 10:
        return rng.choice(["a", "b", "hello", " world", "The", "THE", "Hello World", "x", "_", "."])
    if kind == 11:
        return "".join(rng.choice(" .,;:!?-_'\"()[]{}<>|/\\@#$%^&*+=~`") for _ in
                       range(rng.randint(1, 6)))
    if kind == 12:
        return rng.choice(["||", "|||", ".", "..", "...", "hello world", " hello world ",
                           "xhello world", "<x>y", "<x>", "Ω≈", "Ω"])
    return " "


def gen_cases(rng, corpus_text, added, n):
    cases = []
    fixed = ["", " ", "\n", "a<|user|>b", "<|user|>", "<|user|><|assistant|>", "<|user|\n>",
             "[gMASK]<sop><|user|>\nHello<|assistant|>\n", "<<|user|>>", "<|endoftext|><|endoftext|>",
             "hello world", "hello worlds", " hello world", "a<mask>b", "a  <mask>  b", "a [SEP]  b",
             "[SEP]\n\nx", "<x>yz", "<x>", "I'M HERE", "we'LL see", "x" * 300, " " * 200,
             "\n" * 50, "1234567890" * 10, "  \t\n\r\n  x", "Hello, world!", "你好，世界！",
             "👨‍👩‍👧‍👦👨‍👩‍👧‍👦", "Ω≈Ω", "a||b||||c", "....a...", "\u180e\u3000\u00a0x"]
    fixed += added
    for s in fixed:
        cases.append(s.encode("utf-8"))
    while len(cases) < n:
        parts = [gen_piece(rng, corpus_text, added) for _ in range(rng.randint(1, 6))]
        raw = "".join(parts).encode("utf-8")
        if rng.random() < 0.08:
            pos = rng.randint(0, len(raw))
            raw = raw[:pos] + rng.choice(INVALID) + raw[pos:]
        if rng.random() < 0.03:
            raw = raw + rng.choice(INVALID)
        cases.append(raw)
    for _ in range(6):
        parts = [gen_piece(rng, corpus_text, added) for _ in range(60)]
        cases.append("".join(parts).encode("utf-8"))
    return cases


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def emit(name, tok, config, added, corpus_text, seed, n_cases, legacy_merges=False,
         ignore_merges=False):
    out_dir = os.path.join(FIXTURES, name)
    os.makedirs(out_dir, exist_ok=True)
    data = json.loads(tok.to_str())
    if legacy_merges:
        data["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m
                                   for m in data["model"]["merges"]]
    data["model"]["ignore_merges"] = ignore_merges
    text = json.dumps(data, ensure_ascii=False, indent=1)
    tok = Tokenizer.from_str(text)  # re-load so the recorded outputs come from the written file
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(text)
    if config is not None:
        with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=2)

    rng = random.Random(seed)
    rows = []
    for raw in gen_cases(rng, corpus_text, added, n_cases):
        s = raw.decode("utf-8", "replace")
        ids = tok.encode(s, add_special_tokens=False).ids
        rows.append({"in": base64.b64encode(raw).decode("ascii"), "ids": ids,
                     "dec": tok.decode(ids, skip_special_tokens=False),
                     "dec_skip": tok.decode(ids, skip_special_tokens=True)})
    write_jsonl(os.path.join(out_dir, "encode_cases.jsonl"), rows)

    n_vocab = tok.get_vocab_size(with_added_tokens=True)
    special_ids = [tok.token_to_id(t) for t in added]
    drows = []
    for _ in range(400):
        ids = []
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            ids.append(rng.choice(special_ids) if r < 0.15 else
                       rng.randrange(0, 256 if r < 0.5 else n_vocab))
        drows.append({"ids": ids, "dec": tok.decode(ids, skip_special_tokens=False),
                      "dec_skip": tok.decode(ids, skip_special_tokens=True)})
    write_jsonl(os.path.join(out_dir, "decode_cases.jsonl"), drows)
    print(f"{name}: vocab {n_vocab}, {len(rows)} encode cases, {len(drows)} decode cases")
    return out_dir


def main():
    print("tokenizers", tokenizers.__version__, file=sys.stderr)
    corpus = corpus_texts()
    corpus_text = "".join(corpus[:40])

    tok, config, added = make_glm4(corpus)
    glm_dir = emit("glm4", tok, config, added, corpus_text, seed=1, n_cases=2200)
    tok, config, added = make_gpt2(corpus)
    emit("gpt2", tok, config, added, corpus_text, seed=2, n_cases=2100, legacy_merges=True)
    tok, config, added = make_splitmix(corpus)
    emit("splitmix", tok, config, added, corpus_text, seed=3, n_cases=2100, ignore_merges=True)

    os.makedirs(BUILTIN, exist_ok=True)
    shutil.copyfile(os.path.join(glm_dir, "tokenizer.json"), os.path.join(BUILTIN, "tokenizer.json"))
    shutil.copyfile(os.path.join(glm_dir, "tokenizer_config.json"),
                    os.path.join(BUILTIN, "tokenizer_config.json"))


if __name__ == "__main__":
    main()
