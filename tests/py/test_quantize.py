"""`autoglm quantize` and `--model FILE.gguf`: the files are checked with the `gguf` package
(llama.cpp's own reader) for the names, shapes, types and metadata llama.cpp's glm4 loader
expects, and the GGUF models must give the safetensors models' logits."""
import json
import struct

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

from conftest import ROOT  # noqa: E402
from test_cli import assert_clean_failure  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "models"
Q = gguf.GGMLQuantizationType
LAYER = ["attn_norm.weight", "attn_q.weight", "attn_q.bias", "attn_k.weight", "attn_k.bias",
         "attn_v.weight", "attn_v.bias", "attn_output.weight", "post_attention_norm.weight",
         "ffn_norm.weight", "ffn_up.weight", "ffn_down.weight", "post_ffw_norm.weight"]
HF = {"attn_norm.weight": "input_layernorm.weight", "attn_q.weight": "self_attn.q_proj.weight",
      "attn_q.bias": "self_attn.q_proj.bias", "attn_k.weight": "self_attn.k_proj.weight",
      "attn_k.bias": "self_attn.k_proj.bias", "attn_v.weight": "self_attn.v_proj.weight",
      "attn_v.bias": "self_attn.v_proj.bias", "attn_output.weight": "self_attn.o_proj.weight",
      "post_attention_norm.weight": "post_self_attn_layernorm.weight",
      "ffn_norm.weight": "post_attention_layernorm.weight",
      "ffn_up.weight": "mlp.gate_up_proj.weight", "ffn_down.weight": "mlp.down_proj.weight",
      "post_ffw_norm.weight": "post_mlp_layernorm.weight"}
TYPES = {"f32": Q.F32, "f16": Q.F16, "bf16": Q.BF16, "q8_0": Q.Q8_0, "q4_0": Q.Q4_0,
         "q4_k": Q.Q4_K}
FILE_TYPE = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 7, "q4_k": 14, "bf16": 32}


def read_safetensors(model_dir):
    """name -> float32 array, from every *.safetensors file of a checkpoint directory."""
    out = {}
    for f in sorted(model_dir.glob("*.safetensors")):
        b = f.read_bytes()
        n = struct.unpack("<Q", b[:8])[0]
        header = json.loads(b[8:8 + n])
        for name, e in header.items():
            if name == "__metadata__":
                continue
            s, t = e["data_offsets"]
            raw = b[8 + n + s:8 + n + t]
            if e["dtype"] == "F32":
                a = np.frombuffer(raw, np.float32)
            elif e["dtype"] == "BF16":
                a = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
            else:
                a = np.frombuffer(raw, np.float16).astype(np.float32)
            out[name] = a.reshape(e["shape"])
    return out


def quantize(autoglm, model, typ, out, *extra):
    p = autoglm("quantize", "--model", model, "--type", typ, "--out", out, *extra)
    assert p.returncode == 0, p.stderr
    return p


def logits(autoglm, model, ids, out):
    p = autoglm("logits", "--model", model, "--ids", ",".join(map(str, ids)), "--out", out)
    assert p.returncode == 0, p.stderr
    return np.fromfile(out, dtype=np.float32)


@pytest.mark.parametrize("typ", sorted(TYPES))
def test_quantize_writes_llamacpp_glm4(autoglm, tmp_path, typ):
    model = GOLDEN / "glm4_f32"
    cfg = json.loads((model / "config.json").read_text())
    out = tmp_path / f"m-{typ}.gguf"
    p = quantize(autoglm, model, typ, out)
    r = gguf.GGUFReader(str(out))
    f = r.fields

    def val(key):
        return f[key].contents()

    assert val("general.architecture") == "glm4"
    assert val("general.file_type") == FILE_TYPE[typ]
    assert val("glm4.embedding_length") == cfg["hidden_size"]
    assert val("glm4.block_count") == cfg["num_hidden_layers"]
    assert val("glm4.feed_forward_length") == cfg["intermediate_size"]
    assert val("glm4.attention.head_count") == cfg["num_attention_heads"]
    assert val("glm4.attention.head_count_kv") == cfg["num_key_value_heads"]
    assert val("glm4.attention.key_length") == cfg["head_dim"]
    assert val("glm4.context_length") == cfg["max_position_embeddings"]
    assert val("glm4.rope.dimension_count") == cfg["head_dim"] // 2
    assert val("glm4.rope.freq_base") == pytest.approx(10000.0)
    assert val("glm4.attention.layer_norm_rms_epsilon") == pytest.approx(1e-5)
    assert "glm4.rope.dimension_sections" not in f  # 1-D rope: llama.cpp's ROPE_TYPE_NORM

    tensors = {t.name: t for t in r.tensors}
    expected = {"token_embd.weight", "output_norm.weight", "output.weight"}
    expected |= {f"blk.{i}.{n}" for i in range(cfg["num_hidden_layers"]) for n in LAYER}
    assert set(tensors) == expected
    st = read_safetensors(model)
    d, F, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    assert list(tensors["token_embd.weight"].shape) == [d, V]  # ggml order: ne[0] innermost
    assert list(tensors["blk.0.ffn_up.weight"].shape) == [d, 2 * F]
    assert list(tensors["blk.0.ffn_down.weight"].shape) == [F, d]
    four_bit = typ in ("q4_0", "q4_k")
    for name, t in tensors.items():
        if len(t.shape) == 1:
            assert t.tensor_type == Q.F32, name
            continue
        k = int(t.shape[0])
        want = Q.Q8_0 if (four_bit and name == "output.weight") else TYPES[typ]
        block = gguf.GGML_QUANT_SIZES[want][0]
        if k % block != 0:
            want = Q.Q4_0 if (want == Q.Q4_K and k % 32 == 0) else Q.F16
            assert f"{name}: row length {k}" in p.stderr
            assert f"written as {want.name}" in p.stderr
        assert t.tensor_type == want, (name, t.tensor_type, want)
        # The values: dequantized by gguf-py, against the checkpoint's weights.
        if name == "output.weight":
            hf = "lm_head.weight"
        elif name == "token_embd.weight":
            hf = "model.embed_tokens.weight"
        else:
            _, layer, rest = name.split(".", 2)
            hf = f"model.layers.{layer}.{HF[rest]}"
        w = st[hf]
        got = gguf.quants.dequantize(t.data, t.tensor_type).reshape(w.shape)
        tol = {Q.F32: 0, Q.F16: 1e-3, Q.BF16: 1e-2, Q.Q8_0: 1e-2, Q.Q4_0: 0.15,
               Q.Q4_K: 0.15}[t.tensor_type]
        assert np.abs(got - w).max() <= tol * max(1.0, np.abs(w).max()), name


@pytest.mark.parametrize("src,typ", [("glm4_f32", "f32"), ("glm4_bf16", "bf16")])
def test_gguf_logits_equal_safetensors(autoglm, tmp_path, src, typ):
    model = GOLDEN / src
    out = tmp_path / "m.gguf"
    quantize(autoglm, model, typ, out)
    ids = json.loads((model / "golden.json").read_text())["cases"][2]["ids"]
    a = logits(autoglm, model, ids, tmp_path / "a.f32")
    b = logits(autoglm, out, ids, tmp_path / "b.f32")
    assert a.shape == b.shape
    assert np.array_equal(a, b)


@pytest.mark.parametrize("typ,tol,min_top1", [("f16", 2e-2, 1.0), ("q8_0", 0.1, 0.9)])
def test_gguf_logits_close(autoglm, tmp_path, typ, tol, min_top1):
    model = GOLDEN / "glm4_f32"
    vocab = json.loads((model / "config.json").read_text())["vocab_size"]
    out = tmp_path / "m.gguf"
    quantize(autoglm, model, typ, out)
    ids = json.loads((model / "golden.json").read_text())["cases"][4]["ids"]
    a = logits(autoglm, model, ids, tmp_path / "a.f32").reshape(-1, vocab)
    b = logits(autoglm, out, ids, tmp_path / "b.f32").reshape(-1, vocab)
    assert np.abs(a - b).max() <= tol * np.abs(a).max()
    assert (a.argmax(1) == b.argmax(1)).mean() >= min_top1


def test_builtin_gguf_has_tokenizer_and_generates_the_same(autoglm, tmp_path):
    """The built-in model (GLM-4.1V with a GLM-4-style tokenizer): the GGUF holds the language
    model and the tokenizer; text generation matches the checkpoint directory."""
    d = tmp_path / "builtin"
    assert autoglm("export-builtin", "--out", d).returncode == 0
    out = tmp_path / "b.gguf"
    p = quantize(autoglm, d, "f32", out)
    assert "vision-tower tensors written" in p.stderr
    r = gguf.GGUFReader(str(out))
    f = r.fields
    tj = json.loads((d / "tokenizer.json").read_text())
    cfg = json.loads((d / "config.json").read_text())
    vocab = cfg.get("text_config", cfg)["vocab_size"]
    tokens = f["tokenizer.ggml.tokens"].contents()
    types = f["tokenizer.ggml.token_type"].contents()
    assert f["tokenizer.ggml.model"].contents() == "gpt2"
    assert f["tokenizer.ggml.pre"].contents() == "glm4"
    assert len(tokens) == len(types) == vocab
    for tok, i in list(tj["model"]["vocab"].items())[:200]:
        assert tokens[i] == tok and types[i] == 1
    for a in tj["added_tokens"]:
        assert tokens[a["id"]] == a["content"] and types[a["id"]] == (3 if a["special"] else 4)
    assert len(f["tokenizer.ggml.merges"].contents()) == len(tj["model"]["merges"])
    eos = f["tokenizer.ggml.eos_token_id"].contents()
    assert tokens[eos] == "<|endoftext|>"
    assert "tokenizer.chat_template" in f
    assert not any(t.name.startswith("v.") or "visual" in t.name for t in r.tensors)

    args = ("--prompt", "Hello world, 你好", "--max-tokens", "8", "--temperature", "0",
            "--ignore-eos", "--json")
    a = autoglm("generate", "--model", d, *args)
    b = autoglm("generate", "--model", out, *args)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert json.loads(a.stdout) == json.loads(b.stdout)
    c = autoglm("generate", "--model", out, "--chat", "--prompt", "hi", "--max-tokens", "4")
    assert c.returncode == 0, c.stderr


def test_glm4v_vision_tower_beside_the_gguf(autoglm, tmp_path):
    """GLM-4.1V: the language model goes to OUT.gguf (llama.cpp glm4, no vision tensors) and the
    vision tower beside it to OUT-mmproj-<type>.gguf (Hugging Face names, config.json kept);
    `--model OUT.gguf` then takes images, and with f32 weights answers exactly as the checkpoint
    directory does."""
    d = tmp_path / "builtin"
    assert autoglm("export-builtin", "--out", d).returncode == 0
    st = read_safetensors(d)
    vision = {n for n in st if "visual" in n}
    assert vision
    out = tmp_path / "b.gguf"
    quantize(autoglm, d, "f32", out, "--vision-type", "f32")
    mm = tmp_path / "b-mmproj-f32.gguf"
    r = gguf.GGUFReader(str(mm))
    assert r.fields["general.architecture"].contents() == "autoglm-glm4v-vision"
    assert json.loads(r.fields["autoglm.hf_config"].contents()) == json.loads((d / "config.json").read_text())
    assert {t.name for t in r.tensors} == vision
    for t in r.tensors:
        assert np.array_equal(np.asarray(t.data, dtype=np.float32).reshape(-1), st[t.name].reshape(-1)), t.name
    text = gguf.GGUFReader(str(out))
    assert text.fields["autoglm.mmproj"].contents() == mm.name
    assert not any("visual" in t.name for t in text.tensors)

    img = ROOT / "tests" / "fixtures" / "images" / "down_250x280.png"
    args = ("--image", img, "--chat", "--prompt", "What is in the picture?", "--max-tokens", "6",
            "--temperature", "0", "--ignore-eos", "--json")
    a = autoglm("generate", "--model", d, *args)
    b = autoglm("generate", "--model", out, *args)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert json.loads(a.stdout) == json.loads(b.stdout)

    # Default: the tower in f16 next to a quantized language model.
    out2 = tmp_path / "c.gguf"
    quantize(autoglm, d, "q8_0", out2)
    mm2 = tmp_path / "c-mmproj-f16.gguf"
    types = {t.name: t.tensor_type for t in gguf.GGUFReader(str(mm2)).tensors}
    assert all(types[n] == (Q.F16 if st[n].ndim >= 2 else Q.F32) for n in vision)
    c = autoglm("generate", "--model", out2, *args)
    assert c.returncode == 0, c.stderr
    # Without the tower file: a warning, the language model still works; images are refused.
    mm2.unlink()
    e = autoglm("generate", "--model", out2, "--prompt", "hi", "--max-tokens", "2")
    assert e.returncode == 0 and "vision tower file" in e.stderr, e.stderr
    assert_clean_failure(autoglm("generate", "--model", out2, *args), "image")


def test_gguf_without_tokenizer(autoglm, tmp_path):
    out = tmp_path / "m.gguf"
    quantize(autoglm, GOLDEN / "glm4_f32", "q8_0", out)
    assert "tokenizer.ggml.tokens" not in gguf.GGUFReader(str(out)).fields
    assert_clean_failure(autoglm("generate", "--model", out, "--prompt", "x"), "no tokenizer")


def test_quantize_bad_input(autoglm, tmp_path):
    assert_clean_failure(autoglm("quantize", "--model", GOLDEN / "glm4_f32", "--type", "q5_k",
                                 "--out", tmp_path / "x.gguf"), "q5_k")
    assert not (tmp_path / "x.gguf").exists()
    assert_clean_failure(autoglm("quantize", "--model", tmp_path / "missing", "--type", "q8_0",
                                 "--out", tmp_path / "x.gguf"), "missing")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 16)
    assert_clean_failure(autoglm("logits", "--model", bad, "--ids", "1", "--out", tmp_path / "o"),
                         "bad.gguf")


def neox_rows(w, n_heads, head_dim, rot):
    """llama.cpp's convert_hf_to_gguf Glm4Model.normal_to_neox: per head, the rotary rows in
    NeoX order (evens, then odds), then the rest."""
    shape = w.shape
    h = w.reshape(n_heads, head_dim, -1)
    r = np.concatenate([h[:, :rot:2], h[:, 1:rot:2], h[:, rot:]], axis=1)
    return r.reshape(shape)


@pytest.mark.parametrize("src,qtype", [("glm4_f32", "F32"), ("glm4_f32", "Q8_0"),
                                       ("glm4v_f32", "F32")])
def test_gguf_written_like_llamacpp_converter_loads(autoglm, tmp_path, src, qtype):
    """A glm4 GGUF written independently with gguf-py the way llama.cpp's convert_hf_to_gguf.py
    does (for GLM-4.1V: M-RoPE sections and NeoX-permuted q/k) gives the checkpoint's logits."""
    model = GOLDEN / src
    cfg = json.loads((model / "config.json").read_text())
    tc = cfg.get("text_config", cfg)
    st = read_safetensors(model)
    prefix = "model.language_model." if "text_config" in cfg else "model."
    nh, nkv = tc["num_attention_heads"], tc["num_key_value_heads"]
    hd = tc.get("head_dim", tc["hidden_size"] // nh)
    rot = hd // 2
    mrope = "mrope_section" in tc.get("rope_parameters", {})
    out = tmp_path / "ll.gguf"
    w = gguf.GGUFWriter(str(out), "glm4")
    w.add_context_length(tc["max_position_embeddings"])
    w.add_embedding_length(tc["hidden_size"])
    w.add_block_count(tc["num_hidden_layers"])
    w.add_feed_forward_length(tc["intermediate_size"])
    w.add_head_count(nh)
    w.add_head_count_kv(nkv)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(tc["rms_norm_eps"])
    w.add_rope_dimension_count(rot)
    if mrope:
        w.add_rope_dimension_sections(tc["rope_parameters"]["mrope_section"] + [0])

    def put(name, a):
        a = np.ascontiguousarray(a.astype(np.float32))
        if a.ndim == 2 and qtype != "F32":
            qt = getattr(Q, qtype)
            w.add_tensor(name, gguf.quants.quantize(a, qt), raw_dtype=qt)
        else:
            w.add_tensor(name, a)

    put("token_embd.weight", st[prefix + "embed_tokens.weight"])
    for i in range(tc["num_hidden_layers"]):
        for g, h in HF.items():
            a = st[f"{prefix}layers.{i}.{h}"]
            if mrope and g.startswith(("attn_q.", "attn_k.")):
                a = neox_rows(a, nh if g.startswith("attn_q") else nkv, hd, rot)
            put(f"blk.{i}.{g}", a)
    put("output_norm.weight", st[prefix + "norm.weight"])
    put("output.weight", st["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    ids = json.loads((model / "golden.json").read_text())["cases"][3]["ids"]
    a = logits(autoglm, model, ids, tmp_path / "a.f32")
    b = logits(autoglm, out, ids, tmp_path / "b.f32")
    if qtype == "F32":
        assert np.abs(a - b).max() <= 1e-5 * np.abs(a).max()
    else:
        # gguf-py's Q8_0 quantizer is ggml's, and so is ours: the same file content, so
        # exactly the logits of `autoglm quantize --type q8_0`.
        ours = tmp_path / "ours.gguf"
        quantize(autoglm, model, "q8_0", ours)
        c = logits(autoglm, ours, ids, tmp_path / "c.f32")
        assert np.array_equal(b, c)
        assert np.abs(a - b).max() <= 0.1 * np.abs(a).max()
