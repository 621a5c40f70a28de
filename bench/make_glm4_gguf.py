#!/usr/bin/env python3
"""Writes a GLM-4-shaped text model with random weights as a llama.cpp `glm4` GGUF file.

The file has what llama.cpp's convert_hf_to_gguf.py writes for Glm4ForCausalLM (architecture
`glm4`, the same tensor names, shapes and hyper-parameter keys) and a stand-in BPE vocabulary of
the right size (byte tokens, placeholders, GLM-4's special tokens at their real ids), so
llama.cpp and autoglm load the same file. 2-D weights are stored in the requested type, quantized
with the `gguf` package's numpy quantizers; norms and biases stay f32 (as llama-quantize keeps
1-D tensors). Weights are N(0, 0.02²), norms 1, biases N(0, 0.02²): numbers for speed, not text.

    python bench/make_glm4_gguf.py --type q4_0 --out bench/models/glm4-1.9b-q4_0.gguf
    python bench/make_glm4_gguf.py --preset 9b --type q4_0 --out ...
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT

PRESETS = {
    # GLM-4-shaped 1.86 B model of issue 5 (GLM-4-9B's vocabulary and head layout, smaller).
    "1.9b": dict(hidden=2048, layers=24, heads=16, kv_heads=2, head_dim=128, ffn=6848, vocab=151552),
    # AutoGLM-Phone-9B's language model dimensions.
    "9b": dict(hidden=4096, layers=40, heads=32, kv_heads=2, head_dim=128, ffn=13696, vocab=151552),
}

TYPES = {"f16": QT.F16, "q8_0": QT.Q8_0, "q4_0": QT.Q4_0, "f32": QT.F32}
# llama_ftype values (general.file_type) for the types above.
FILE_TYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 7}

# GLM-4's special tokens (tokenizer.json of THUDM/glm-4-9b-0414 and AutoGLM-Phone-9B).
SPECIALS = ["<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>",
            "<|user|>", "<|assistant|>", "<|observation|>", "<|begin_of_image|>",
            "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>"]
FIRST_SPECIAL = 151329


def byte_tokens() -> list[str]:
    """GPT-2's byte-to-unicode alphabet: the 256 single-byte tokens of a byte-level BPE."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    order = sorted(range(256), key=lambda i: bs[i])
    return [chr(cs[i]) for i in order]


def add_vocab(w: gguf.GGUFWriter, vocab: int) -> None:
    tokens = byte_tokens()
    types = [gguf.TokenType.NORMAL] * len(tokens)
    first_special = FIRST_SPECIAL if vocab > FIRST_SPECIAL + len(SPECIALS) else vocab - len(SPECIALS)
    while len(tokens) < first_special:
        tokens.append(f"tok{len(tokens)}")
        types.append(gguf.TokenType.NORMAL)
    for s in SPECIALS:
        tokens.append(s)
        types.append(gguf.TokenType.CONTROL)
    while len(tokens) < vocab:
        tokens.append(f"[PAD{len(tokens)}]")
        types.append(gguf.TokenType.UNUSED)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("glm4")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(["Ġ Ġ", "t o", "Ġ t"])
    eos = first_special  # <|endoftext|>
    w.add_eos_token_id(eos)
    w.add_unk_token_id(eos)
    w.add_bos_token_id(eos)
    w.add_eot_token_id(first_special + SPECIALS.index("<|user|>"))
    w.add_add_bos_token(False)


def tensor_plan(p: dict) -> list[tuple[str, tuple[int, ...]]]:
    """(name, numpy shape [rows, cols]) in convert_hf_to_gguf's order."""
    d, f, v = p["hidden"], p["ffn"], p["vocab"]
    q, kv = p["heads"] * p["head_dim"], p["kv_heads"] * p["head_dim"]
    out = [("token_embd.weight", (v, d))]
    for i in range(p["layers"]):
        b = f"blk.{i}."
        out += [(b + "attn_norm.weight", (d,)),
                (b + "attn_q.weight", (q, d)), (b + "attn_q.bias", (q,)),
                (b + "attn_k.weight", (kv, d)), (b + "attn_k.bias", (kv,)),
                (b + "attn_v.weight", (kv, d)), (b + "attn_v.bias", (kv,)),
                (b + "attn_output.weight", (d, q)),
                (b + "post_attention_norm.weight", (d,)),
                (b + "ffn_norm.weight", (d,)),
                (b + "ffn_up.weight", (2 * f, d)),  # gate | up, fused as in HF gate_up_proj
                (b + "ffn_down.weight", (d, f)),
                (b + "post_ffw_norm.weight", (d,))]
    out += [("output_norm.weight", (d,)), ("output.weight", (v, d))]
    return out


def stored(shape: tuple[int, ...], qt: QT) -> tuple[QT, tuple[int, ...]]:
    """The type a tensor is stored in and the shape of its numpy buffer (bytes for block types)."""
    if len(shape) == 1 or qt == QT.F32:
        return QT.F32, shape
    if qt == QT.F16:
        return QT.F16, shape
    return qt, tuple(gguf.quant_shape_to_byte_shape(shape, qt))


def encode(x: np.ndarray, qt: QT) -> np.ndarray:
    if qt == QT.F32:
        return x.astype(np.float32)
    if qt == QT.F16:
        return x.astype(np.float16)
    return gguf.quants.quantize(x, qt)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--type", choices=sorted(TYPES), default="q4_0")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="1.9b")
    for k in PRESETS["1.9b"]:
        ap.add_argument("--" + k.replace("_", "-"), type=int, help="override the preset")
    ap.add_argument("--ctx", type=int, default=131072, help="glm4.context_length")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    p = dict(PRESETS[a.preset])
    for k in p:
        if getattr(a, k) is not None:
            p[k] = getattr(a, k)
    qt = TYPES[a.type]

    tmp = a.out + ".part"
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    w = gguf.GGUFWriter(tmp, "glm4")
    w.add_name(f"GLM-4-shaped random {a.preset}")
    w.add_block_count(p["layers"])
    w.add_context_length(a.ctx)
    w.add_embedding_length(p["hidden"])
    w.add_feed_forward_length(p["ffn"])
    w.add_head_count(p["heads"])
    w.add_head_count_kv(p["kv_heads"])
    w.add_key_length(p["head_dim"])
    w.add_value_length(p["head_dim"])
    w.add_rope_dimension_count(p["head_dim"] // 2)  # partial_rotary_factor 0.5
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(FILE_TYPES[a.type])
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    add_vocab(w, p["vocab"])

    plan = tensor_plan(p)
    for name, shape in plan:
        t, bshape = stored(shape, qt)
        nbytes = int(np.prod(bshape)) * {QT.F32: 4, QT.F16: 2}.get(t, 1)
        if t == QT.F32:
            w.add_tensor_info(name, shape, np.dtype(np.float32), nbytes)
        elif t == QT.F16:
            w.add_tensor_info(name, shape, np.dtype(np.float16), nbytes)
        else:
            w.add_tensor_info(name, bshape, np.dtype(np.uint8), nbytes, raw_dtype=t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()

    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    n_params = 0
    for name, shape in plan:
        t, bshape = stored(shape, qt)
        n_params += int(np.prod(shape))
        if len(shape) == 1:
            if name.endswith(".bias"):
                data = (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)
            else:
                data = np.ones(shape, dtype=np.float32)
            w.write_tensor_data(data)
            continue
        rows, cols = shape
        out = np.empty(bshape, dtype=np.uint8 if t not in (QT.F32, QT.F16) else
                       (np.float32 if t == QT.F32 else np.float16))
        step = max(1, (1 << 22) // cols)  # ~4 M values (16 MiB of f32) at a time
        for r0 in range(0, rows, step):
            r1 = min(rows, r0 + step)
            x = rng.standard_normal((r1 - r0, cols), dtype=np.float32)
            x *= 0.02
            out[r0:r1] = encode(x, t)
        w.write_tensor_data(out)
    w.close()
    os.replace(tmp, a.out)
    print(f"wrote {a.out}: {n_params / 1e9:.3f} B parameters, {a.type}, "
          f"{os.path.getsize(a.out) / 2**30:.2f} GiB in {time.time() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
