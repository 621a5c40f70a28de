"""GGUF files as llama.cpp's llama-quantize writes them mix K-quant types: Q4_K_M keeps
output.weight and about half of attn_v / ffn_down in Q6_K (and even `llama-quantize ... Q4_0`
keeps output.weight in Q6_K); Q4_K_S uses Q5_K for some. A tiny glm4 GGUF with Q6_K and Q5_K
tensors (and the Q5_0 / Q5_1 that those mixes use where a row is not a multiple of 256), written
with gguf-py, must load and run, and its logits are checked against the same
model with those tensors stored as F32 values from gguf-py's own dequantizers (the outside truth
for the formats).

gguf-py 0.17.1 dequantizes Q6_K and Q5_K but has no quantizer for them, so the blocks are packed
here from the formats' layouts (plain per-sub-block fits); the packing is checked against gguf-py's
dequantizer before use. Q5_0 / Q5_1 blocks come from gguf-py's own quantizer."""
import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

from test_quantize import logits  # noqa: E402

Q = gguf.GGMLQuantizationType
D, F, V, N_LAYER, N_HEAD, N_KV, HEAD_DIM = 256, 256, 320, 2, 4, 2, 64
# ffn_down in Q5_0 / Q5_1 as llama-quantize stores GLM-4-9B's (its rows of 13696 are not a
# multiple of 256, so the K-quant mixes fall back to those 32-value formats).
QUANT = {"output.weight": Q.Q6_K, "blk.0.attn_output.weight": Q.Q6_K, "blk.1.attn_v.weight": Q.Q6_K,
         "blk.1.attn_output.weight": Q.Q5_K, "blk.0.attn_v.weight": Q.Q5_K,
         "blk.0.ffn_down.weight": Q.Q5_0, "blk.1.ffn_down.weight": Q.Q5_1,
         "token_embd.weight": Q.Q6_K}


def quantize_q6_k(x):
    """float32 [rows, k] (k a multiple of 256) -> Q6_K bytes [rows, k / 256 * 210]. Sub-block
    scales alternate in sign so that negative int8 scales are exercised too."""
    rows, k = x.shape
    b = x.reshape(-1, 16, 16).astype(np.float32)  # (blocks, sub-blocks, 16)
    amax = np.abs(b).max(axis=2)
    s = amax / 31.0
    d = (s.max(axis=1) / 127.0).astype(np.float16)
    df = d.astype(np.float32)[:, None]
    sign = np.where(np.arange(16) % 2 == 0, 1, -1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = np.where(df > 0, np.clip(np.rint(s / df), 0, 127), 0).astype(np.int32) * sign
        step = df * sc
        q = np.where(step[:, :, None] != 0, np.rint(b / step[:, :, None]), 0)
    u = (np.clip(q, -32, 31) + 32).astype(np.uint8).reshape(-1, 2, 4, 32)  # e = 128h + 32g + l
    ql = (u[:, :, 0:2, :] & 15) | ((u[:, :, 2:4, :] & 15) << 4)  # (blocks, h, 2, 32)
    qh = sum(((u[:, :, g, :] >> 4) << (2 * g)) for g in range(4)).astype(np.uint8)  # (blocks, h, 32)
    nb = u.shape[0]
    raw = np.concatenate([ql.reshape(nb, 128), qh.reshape(nb, 64),
                          sc.astype(np.int8).view(np.uint8).reshape(nb, 16),
                          d.view(np.uint8).reshape(nb, 2)], axis=1)
    return raw.reshape(rows, k // 256 * 210)


def quantize_q5_k(x):
    """float32 [rows, k] -> Q5_K bytes [rows, k / 256 * 176]: per sub-block of 32, x ≈ d·sc·q −
    dmin·m with q in 0..31 and 6-bit sc, m (packed as ggml's get_scale_min_k4 reads them)."""
    rows, k = x.shape
    b = x.reshape(-1, 8, 32).astype(np.float32)
    lo = np.minimum(b.min(axis=2), 0)
    s = (b.max(axis=2) - lo) / 31.0
    mn = -lo
    d = (s.max(axis=1) / 63.0).astype(np.float16)
    dmin = (mn.max(axis=1) / 63.0).astype(np.float16)
    df, dmf = d.astype(np.float32)[:, None], dmin.astype(np.float32)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = np.where(df > 0, np.clip(np.rint(s / df), 0, 63), 0).astype(np.uint8)
        m = np.where(dmf > 0, np.clip(np.rint(mn / dmf), 0, 63), 0).astype(np.uint8)
        step = (df * sc)[:, :, None]
        q = np.where(step > 0, np.rint((b + (dmf * m)[:, :, None]) / step), 0)
    q = np.clip(q, 0, 31).astype(np.uint8)  # (blocks, 8, 32)
    nb = q.shape[0]
    scales = np.zeros((nb, 12), np.uint8)
    scales[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
    scales[:, 4:8] = m[:, 0:4] | ((m[:, 4:8] >> 4) << 6)
    scales[:, 8:12] = (sc[:, 4:8] & 15) | ((m[:, 4:8] & 15) << 4)
    qh = sum(((q[:, j, :] >> 4) << j) for j in range(8)).astype(np.uint8)  # (blocks, 32)
    qs = (q[:, 0::2, :] & 15) | ((q[:, 1::2, :] & 15) << 4)  # (blocks, 4, 32)
    raw = np.concatenate([d.view(np.uint8).reshape(nb, 2), dmin.view(np.uint8).reshape(nb, 2),
                          scales, qh, qs.reshape(nb, 128)], axis=1)
    return raw.reshape(rows, k // 256 * 176)


PACK = {Q.Q6_K: quantize_q6_k, Q.Q5_K: quantize_q5_k,
        Q.Q5_0: lambda a: gguf.quants.quantize(a, Q.Q5_0), Q.Q5_1: lambda a: gguf.quants.quantize(a, Q.Q5_1)}


def roundtrip(a, qt):
    """gguf-py's dequantization of our packing of a."""
    return gguf.quants.dequantize(PACK[qt](a), qt).reshape(a.shape).astype(np.float32)


def random_model(seed=5):
    rng = np.random.default_rng(seed)

    def mat(rows, cols, scale):
        return (rng.standard_normal((rows, cols)) * scale).astype(np.float32)

    t = {"token_embd.weight": mat(V, D, 1.0), "output_norm.weight": 1 + mat(1, D, 0.1)[0],
         "output.weight": mat(V, D, 0.08)}
    qd, kvd = N_HEAD * HEAD_DIM, N_KV * HEAD_DIM
    for i in range(N_LAYER):
        p = f"blk.{i}."
        t[p + "attn_norm.weight"] = 1 + mat(1, D, 0.1)[0]
        t[p + "attn_q.weight"] = mat(qd, D, 0.06)
        t[p + "attn_q.bias"] = mat(1, qd, 0.05)[0]
        t[p + "attn_k.weight"] = mat(kvd, D, 0.06)
        t[p + "attn_k.bias"] = mat(1, kvd, 0.05)[0]
        t[p + "attn_v.weight"] = mat(kvd, D, 0.06)
        t[p + "attn_v.bias"] = mat(1, kvd, 0.05)[0]
        t[p + "attn_output.weight"] = mat(D, qd, 0.06)
        t[p + "post_attention_norm.weight"] = 1 + mat(1, D, 0.1)[0]
        t[p + "ffn_norm.weight"] = 1 + mat(1, D, 0.1)[0]
        t[p + "ffn_up.weight"] = mat(2 * F, D, 0.06)
        t[p + "ffn_down.weight"] = mat(D, F, 0.06)
        t[p + "post_ffw_norm.weight"] = 1 + mat(1, D, 0.1)[0]
    return t


def write_glm4(path, tensors, quant=None):
    """tensors: name -> float32 array; quant: name -> K-quant type to store it in."""
    quant = quant or {}
    w = gguf.GGUFWriter(str(path), "glm4")
    w.add_context_length(512)
    w.add_embedding_length(D)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(F)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_KV)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(HEAD_DIM // 2)
    for name, a in tensors.items():
        if name in quant:
            w.add_tensor(name, PACK[quant[name]](a), raw_dtype=quant[name])
        else:
            w.add_tensor(name, np.ascontiguousarray(a, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Files of one model: `kq` (the QUANT tensors in Q6_K / Q5_K / Q5_0 / Q5_1), `f32` (those
    tensors as gguf-py's dequantized values in F32), `embd_q6_k` / `embd_q5_k` / `embd_q5_0` (the
    f32 file's values with token_embd stored in that type; for Q5_K and Q5_0 the reference
    `f32_e5` / `f32_e50` holds that type's round trip of the embedding)."""
    d = tmp_path_factory.mktemp("kq")
    t = random_model()
    deq = dict(t)
    for n, qt in QUANT.items():
        deq[n] = roundtrip(t[n], qt)
        # The packing is a real quantization of the weights (per the gguf-py dequantizer).
        step = np.abs(t[n]).max() / (31 if qt == Q.Q6_K else 15)  # Q5_*: 32 levels
        assert np.abs(deq[n] - t[n]).max() <= step, n
    files = {"kq": d / "kq.gguf", "f32": d / "f32.gguf", "f32_e5": d / "f32_e5.gguf",
             "embd_q6_k": d / "embd_q6.gguf", "embd_q5_k": d / "embd_q5.gguf",
             "f32_e50": d / "f32_e50.gguf", "embd_q5_0": d / "embd_q50.gguf"}
    write_glm4(files["kq"], t, quant=QUANT)
    write_glm4(files["f32"], deq)
    e = t["token_embd.weight"]
    write_glm4(files["embd_q6_k"], deq | {"token_embd.weight": e},
               quant={"token_embd.weight": Q.Q6_K})
    write_glm4(files["f32_e5"], deq | {"token_embd.weight": roundtrip(e, Q.Q5_K)})
    write_glm4(files["embd_q5_k"], deq | {"token_embd.weight": e},
               quant={"token_embd.weight": Q.Q5_K})
    write_glm4(files["f32_e50"], deq | {"token_embd.weight": roundtrip(e, Q.Q5_0)})
    write_glm4(files["embd_q5_0"], deq | {"token_embd.weight": e},
               quant={"token_embd.weight": Q.Q5_0})
    return files


def test_k_quant_file_is_what_gguf_py_reads(models):
    r = gguf.GGUFReader(str(models["kq"]))
    types = {t.name: t.tensor_type for t in r.tensors}
    for n, qt in QUANT.items():
        assert types[n] == qt, n
    assert types["blk.0.ffn_up.weight"] == Q.F32


IDS = [3, 17, 250, 9, 101, 64, 300, 2, 45, 199, 7, 318]


@pytest.mark.parametrize("ref,qfile", [("f32", "embd_q6_k"), ("f32_e5", "embd_q5_k"),
                                         ("f32_e50", "embd_q5_0")])
def test_k_quant_embeddings_are_exactly_gguf_py_dequantized(autoglm, tmp_path, models, ref, qfile):
    """Embedding rows are dequantized on lookup: with every other tensor equal, the logits are
    bit-identical to the file holding gguf-py's dequantized values."""
    a = logits(autoglm, models[ref], IDS, tmp_path / "a.f32")
    b = logits(autoglm, models[qfile], IDS, tmp_path / "b.f32")
    assert a.size == len(IDS) * V
    assert np.array_equal(a, b)


def test_k_quant_matmuls_close_to_dequantized_f32(autoglm, tmp_path, models):
    """Q6_K / Q5_K matmuls (x quantized to Q8_K per 256 values, as llama.cpp does) and Q5_0 / Q5_1
    ffn_down (x quantized to Q8_0 per 32) against the same weights in F32: only the activation
    rounding differs."""
    a = logits(autoglm, models["f32"], IDS, tmp_path / "a.f32").reshape(-1, V)
    b = logits(autoglm, models["kq"], IDS, tmp_path / "b.f32").reshape(-1, V)
    assert np.isfinite(b).all()
    assert np.abs(a - b).max() <= 0.03 * np.abs(a).max()
    assert (a.argmax(1) == b.argmax(1)).mean() >= 0.9


def test_k_quant_model_benches(autoglm, models):
    """Prompt and single-token decode (GEMV) through the Q6_K / Q5_K / Q5_0 / Q5_1 matmuls."""
    p = autoglm("bench", "model", "--model", models["kq"], "--prompt-len", "8", "--gen-len", "4",
                "-r", "1", "--bandwidth-runs", "0", "--json")
    assert p.returncode == 0, p.stderr
    assert '"gen_tokens_per_s"' in p.stdout
