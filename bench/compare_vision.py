#!/usr/bin/env python3
"""GLM-4.1V vision-tower encode time: autoglm (`autoglm bench image`) vs llama.cpp (libmtmd's
GLM4V clip graph through llama-cpp-python's ctypes bindings) on the same random-weight
checkpoint, the same patch grid and the same thread count, in one invocation. Called by
bench/compare_vision.sh (which makes the venv and finds the converter).

Steps:
  1. bench/models/glm4v-vision9b-f16/: a Hugging Face Glm4vForConditionalGeneration directory
     whose vision tower has GLM-4.1V-9B-Thinking's (= AutoGLM-Phone-9B's) dimensions (depth 24,
     hidden 1536, 12 heads, ViT MLP = out_hidden_size 4096, merger 4096/13696, patch 14,
     temporal patch 2, merge 2), random N(0, 0.02²) f16 weights, norms 1; a tiny text decoder
     (hidden 4096 as the merger needs, 1 layer, FFN 256) and the built-in model's tokenizer
     (`autoglm export-builtin`), so that autoglm loads it as a whole model.
  2. llama.cpp's convert_hf_to_gguf.py --mmproj --outtype f16 on that directory -> mmproj GGUF
     (f16 weights as the checkpoint; norms/biases f32 as the converter writes them).
  3. A 1-layer GLM-4 text GGUF with n_embd 4096 (bench/make_glm4_gguf.py), which libmtmd needs
     for its n_embd check and for tokenizing the image start/end markers; loaded vocab-only.
  4. Per image size: `autoglm bench image` (warm-up runs, then R timed encodes), then
     llama.cpp: mtmd_tokenize (preprocessing, untimed) + mtmd_encode_chunk (timed; warm-up
     runs, then R). llama.cpp is fed an image already of the size autoglm's smart resize chose
     (grid · 14 pixels per side) so both encode exactly the same patches; the grid llama.cpp's own
     resize picks for the original size is reported too.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODELS = HERE / "models"

VISION = {
    "model_type": "glm4v_vision", "depth": 24, "hidden_size": 1536, "num_heads": 12,
    "intermediate_size": 13696, "out_hidden_size": 4096, "hidden_act": "silu",
    "attention_bias": False, "attention_dropout": 0.0, "image_size": 336, "patch_size": 14,
    "temporal_patch_size": 2, "spatial_merge_size": 2, "in_channels": 3, "rms_norm_eps": 1e-5,
    "initializer_range": 0.02,
}
TEXT_HIDDEN, TEXT_LAYERS, TEXT_HEADS, TEXT_KV, TEXT_FFN = 4096, 1, 32, 2, 256


def log(msg: str) -> None:
    print(f"[compare-vision] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# 1. checkpoint


def write_safetensors(path: Path, tensors: list[tuple[str, tuple[int, ...]]], make) -> None:
    """Streams f16 tensors (make(name, shape) -> np.float16 array) into one safetensors file."""
    header, off = {}, 0
    for name, shape in tensors:
        n = int(np.prod(shape)) * 2
        header[name] = {"dtype": "F16", "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    header["__metadata__"] = {"format": "pt"}
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for name, shape in tensors:
            a = make(name, shape)
            assert a.dtype == np.float16 and a.shape == tuple(shape), name
            f.write(a.tobytes())
    tmp.rename(path)


def tensor_plan(vocab: int) -> list[tuple[str, tuple[int, ...]]]:
    d, o, F = VISION["hidden_size"], VISION["out_hidden_size"], VISION["intermediate_size"]
    P, T, m = VISION["patch_size"], VISION["temporal_patch_size"], VISION["spatial_merge_size"]
    side = VISION["image_size"] // P
    h, hd = TEXT_HIDDEN, TEXT_HIDDEN // TEXT_HEADS
    t = []
    p = "model.language_model."
    t.append((p + "embed_tokens.weight", (vocab, h)))
    for l in range(TEXT_LAYERS):
        lp = f"{p}layers.{l}."
        t += [(lp + "self_attn.q_proj.weight", (TEXT_HEADS * hd, h)),
              (lp + "self_attn.q_proj.bias", (TEXT_HEADS * hd,)),
              (lp + "self_attn.k_proj.weight", (TEXT_KV * hd, h)),
              (lp + "self_attn.k_proj.bias", (TEXT_KV * hd,)),
              (lp + "self_attn.v_proj.weight", (TEXT_KV * hd, h)),
              (lp + "self_attn.v_proj.bias", (TEXT_KV * hd,)),
              (lp + "self_attn.o_proj.weight", (h, TEXT_HEADS * hd)),
              (lp + "mlp.gate_up_proj.weight", (2 * TEXT_FFN, h)),
              (lp + "mlp.down_proj.weight", (h, TEXT_FFN))]
        t += [(lp + n + ".weight", (h,)) for n in ("input_layernorm", "post_self_attn_layernorm",
                                                   "post_attention_layernorm", "post_mlp_layernorm")]
    t += [(p + "norm.weight", (h,)), ("lm_head.weight", (vocab, h))]
    v = "model.visual."
    t += [(v + "patch_embed.proj.weight", (d, 3, T, P, P)), (v + "patch_embed.proj.bias", (d,)),
          (v + "post_conv_layernorm.weight", (d,)),
          (v + "embeddings.position_embedding.weight", (side * side, d))]
    for j in range(VISION["depth"]):
        bp = f"{v}blocks.{j}."
        t += [(bp + "norm1.weight", (d,)), (bp + "attn.qkv.weight", (3 * d, d)),
              (bp + "attn.proj.weight", (d, d)), (bp + "norm2.weight", (d,)),
              (bp + "mlp.gate_proj.weight", (o, d)), (bp + "mlp.up_proj.weight", (o, d)),
              (bp + "mlp.down_proj.weight", (d, o))]
    t += [(v + "post_layernorm.weight", (d,)), (v + "downsample.weight", (o, d, m, m)),
          (v + "downsample.bias", (o,)), (v + "merger.proj.weight", (o, o)),
          (v + "merger.post_projection_norm.weight", (o,)),
          (v + "merger.post_projection_norm.bias", (o,)),
          (v + "merger.gate_proj.weight", (F, o)), (v + "merger.up_proj.weight", (F, o)),
          (v + "merger.down_proj.weight", (o, F))]
    return t


def ensure_checkpoint(autoglm: str, out: Path) -> Path:
    if (out / "config.json").exists():
        return out
    log(f"making {out} (random f16 weights, 9B-shaped vision tower)")
    builtin = out.parent / (out.name + "-tokenizer")
    subprocess.run([autoglm, "export-builtin", "--out", str(builtin)], check=True,
                   stdout=subprocess.DEVNULL)
    out.mkdir(parents=True, exist_ok=True)
    for f in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
              "generation_config.json", "preprocessor_config.json"):
        (out / f).write_bytes((builtin / f).read_bytes())
    cfg = json.loads((builtin / "config.json").read_text())
    vocab = cfg["text_config"]["vocab_size"]
    rng = np.random.default_rng(0)

    def make(name: str, shape):
        if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
            return np.ones(shape, np.float16)
        if name.endswith("post_projection_norm.bias"):
            return np.zeros(shape, np.float16)
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float16)

    plan = tensor_plan(vocab)
    write_safetensors(out / "model.safetensors", plan, make)
    text = dict(cfg["text_config"])
    text.pop("rope_parameters", None)
    text.update({"hidden_size": TEXT_HIDDEN, "num_hidden_layers": TEXT_LAYERS,
                 "num_attention_heads": TEXT_HEADS, "num_key_value_heads": TEXT_KV,
                 "intermediate_size": TEXT_FFN, "dtype": "float16", "torch_dtype": "float16",
                 # 4.5x layout (as GLM-4.1V-9B-Thinking's config.json): read by both sides
                 "rope_theta": 10000.0, "partial_rotary_factor": 0.5,
                 "rope_scaling": {"type": "default", "mrope_section": [8, 12, 12]}})
    cfg["text_config"] = text
    cfg["vision_config"] = dict(VISION)
    cfg.pop("autoglm_builtin_version", None)
    cfg["torch_dtype"] = "float16"
    (out / "config.json").write_text(json.dumps(cfg, indent=2))
    n = sum(int(np.prod(s)) for name, s in plan if name.startswith("model.visual."))
    log(f"vision tower parameters: {n / 1e9:.3f} B")
    return out


# ---------------------------------------------------------------------------------------------
# 2./3. GGUF files


def ensure_mmproj(ckpt: Path, converter: str) -> Path:
    out = MODELS / (ckpt.name + "-mmproj-f16.gguf")
    if not out.exists():
        log(f"converting {ckpt.name} -> {out.name} with {converter} --mmproj --outtype f16")
        tmp = out.with_suffix(".part.gguf")
        subprocess.run([sys.executable, converter, str(ckpt), "--mmproj", "--outtype", "f16",
                        "--outfile", str(tmp)], check=True)
        tmp.rename(out)
    return out


def ensure_text_gguf() -> Path:
    out = MODELS / "glm4-h4096-l1-q4_0.gguf"
    if not out.exists():
        log(f"making {out.name} (libmtmd's text model: n_embd 4096, 1 layer)")
        subprocess.run([sys.executable, str(HERE / "make_glm4_gguf.py"), "--hidden",
                        str(TEXT_HIDDEN), "--layers", "1", "--heads", "32", "--kv-heads", "2",
                        "--ffn", "256", "--type", "q4_0", "--out", str(out)], check=True)
    return out


def gguf_summary(path: Path) -> dict:
    from gguf import GGUFReader
    r = GGUFReader(str(path))
    types: dict[str, int] = {}
    for t in r.tensors:
        types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
    proj = r.fields.get("clip.projector_type")
    ptype = bytes(proj.parts[proj.data[0]]).decode() if proj else None
    return {"tensors": len(r.tensors), "tensor_types": types, "projector_type": ptype}


# ---------------------------------------------------------------------------------------------
# 4. timing


def synthetic_rgb(w: int, h: int) -> bytes:
    """The same pattern as autoglm bench image (content does not change the cost)."""
    y, x = np.mgrid[0:h, 0:w]
    im = np.stack([(x * 7 + y) & 255, (y * 3) & 255, (x ^ y) & 255], axis=-1).astype(np.uint8)
    return im.tobytes()


def run_autoglm(autoglm: str, ckpt: Path, w: int, h: int, threads: int, reps: int,
                warmup: int) -> dict:
    cmd = [autoglm, "bench", "image", "--model", str(ckpt), "--threads", str(threads),
           "--width", str(w), "--height", str(h), "--repetitions", str(reps), "--warmup",
           str(warmup)]
    log(" ".join(cmd))
    t0 = time.time()
    p = subprocess.run(cmd, check=True, capture_output=True, text=True)
    j = json.loads(p.stdout[p.stdout.index("{"):])
    j["wall_s"] = time.time() - t0
    return j


class Mtmd:
    def __init__(self, mmproj: Path, text_gguf: Path, threads: int, flash_attn: str):
        import llama_cpp
        import llama_cpp.mtmd_cpp as mtmd
        self.llama, self.m = llama_cpp, mtmd
        llama_cpp.llama_backend_init()
        mp = llama_cpp.llama_model_default_params()
        mp.n_gpu_layers = 0
        mp.vocab_only = True
        self.model = llama_cpp.llama_model_load_from_file(str(text_gguf).encode(), mp)
        if not self.model:
            raise RuntimeError(f"llama_model_load_from_file({text_gguf}) failed")
        cp = mtmd.mtmd_context_params_default()
        cp.use_gpu = False
        cp.n_threads = threads
        cp.print_timings = False
        cp.warmup = False
        cp.flash_attn_type = {"auto": -1, "off": 0, "on": 1}[flash_attn]
        self.ctx = mtmd.mtmd_init_from_file(str(mmproj).encode(), self.model, cp)
        if not self.ctx:
            raise RuntimeError(f"mtmd_init_from_file({mmproj}) failed (see llama.cpp's log above)")

    def tokenize(self, w: int, h: int):
        m = self.m
        data = bytearray(synthetic_rgb(w, h))
        buf = (ctypes.c_uint8 * len(data)).from_buffer(data)
        bmp = m.mtmd_bitmap_init(w, h, buf)
        chunks = m.mtmd_input_chunks_init()
        marker = m.mtmd_default_marker()
        txt = m.mtmd_input_text(text=marker, text_len=len(marker), add_special=False,
                                parse_special=True)
        arr = (m.mtmd_bitmap_p_ctypes * 1)(bmp)
        t0 = time.perf_counter()
        rc = m.mtmd_tokenize(self.ctx, chunks, ctypes.byref(txt), arr, 1)
        pre_ms = (time.perf_counter() - t0) * 1e3
        m.mtmd_bitmap_free(bmp)
        if rc != 0:
            raise RuntimeError(f"mtmd_tokenize returned {rc}")
        for i in range(m.mtmd_input_chunks_size(chunks)):
            c = m.mtmd_input_chunks_get(chunks, i)
            if m.mtmd_input_chunk_get_type(c) == m.MTMD_INPUT_CHUNK_TYPE_IMAGE:
                info = {"tokens": m.mtmd_input_chunk_get_n_tokens(c), "preprocess_ms": pre_ms}
                return chunks, c, info
        raise RuntimeError("no image chunk")

    def encode(self, chunk) -> float:
        t0 = time.perf_counter()
        rc = self.m.mtmd_encode_chunk(self.ctx, chunk)
        dt = (time.perf_counter() - t0) * 1e3
        if rc != 0:
            raise RuntimeError(f"mtmd_encode_chunk returned {rc}")
        return dt


def mean_sd(xs: list[float]) -> tuple[float, float]:
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--autoglm", required=True)
    ap.add_argument("--converter", required=True, help="llama.cpp's convert_hf_to_gguf.py")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="448x1036,1080x2400",
                    help="WxH screenshots (comma-separated)")
    ap.add_argument("--repetitions", type=int, default=2, help="timed encodes per size and engine")
    ap.add_argument("--warmup", type=int, default=1, help="untimed encodes before them")
    ap.add_argument("--flash-attn", choices=["auto", "on", "off"], default="auto",
                    help="llama.cpp clip flash attention (mtmd_context_params.flash_attn_type)")
    ap.add_argument("--prepare-only", action="store_true", help="make the files, time nothing")
    ap.add_argument("--json-out")
    a = ap.parse_args()

    MODELS.mkdir(exist_ok=True)
    ckpt = ensure_checkpoint(a.autoglm, MODELS / "glm4v-vision9b-f16")
    mmproj = ensure_mmproj(ckpt, a.converter)
    text = ensure_text_gguf()
    summary = gguf_summary(mmproj)
    log(f"mmproj: {summary}")
    if a.prepare_only:
        return 0
    mt = Mtmd(mmproj, text, a.threads, a.flash_attn)

    rows = []
    for size in a.sizes.split(","):
        w, h = (int(v) for v in size.lower().split("x"))
        ours = run_autoglm(a.autoglm, ckpt, w, h, a.threads, a.repetitions, a.warmup)
        _, gh, gw = ours["grid_thw"]
        # llama.cpp's own resize of the original size (reported, not encoded)
        ch0, _, own = mt.tokenize(w, h)
        mt.m.mtmd_input_chunks_free(ch0)
        # the same patches as autoglm: an image already at autoglm's resized size
        P = VISION["patch_size"]
        chunks, chunk, info = mt.tokenize(gw * P, gh * P)
        same = info["tokens"] == ours["image_tokens"]
        log(f"{w}x{h}: autoglm grid {gh}x{gw} ({ours['image_tokens']} tokens); llama.cpp on "
            f"{gw * P}x{gh * P}: {info['tokens']} tokens; llama.cpp's own resize of {w}x{h}: "
            f"{own['tokens']} tokens")
        if not same:
            log("WARNING: token counts differ; the ratio below compares different work")
        runs = []
        for r in range(a.warmup + a.repetitions):
            dt = mt.encode(chunk)
            log(f"llama.cpp encode {'warm-up' if r < a.warmup else 'run'} {r}: {dt:.0f} ms")
            if r >= a.warmup:
                runs.append(dt)
        mt.m.mtmd_input_chunks_free(chunks)
        o_mean, o_sd = mean_sd(ours["encode_ms_runs"])
        l_mean, l_sd = mean_sd(runs)
        rows.append({
            "size": f"{w}x{h}", "grid_h": gh, "grid_w": gw, "patches": gh * gw,
            "image_tokens": ours["image_tokens"], "llamacpp_image_tokens": info["tokens"],
            "llamacpp_own_resize_tokens": own["tokens"],
            "same_patches": same,
            "autoglm_encode_ms": o_mean, "autoglm_encode_ms_sd": o_sd,
            "autoglm_encode_ms_runs": ours["encode_ms_runs"],
            "autoglm_preprocess_ms": ours["preprocess_ms"],
            "autoglm_9b_estimate_s": ours["autoglm_9b_encode_s_estimate"],
            "llamacpp_encode_ms": l_mean, "llamacpp_encode_ms_sd": l_sd,
            "llamacpp_encode_ms_runs": runs, "llamacpp_preprocess_ms": info["preprocess_ms"],
            "speedup_vs_llamacpp": l_mean / o_mean,
        })

    print(f"\nGLM-4.1V 9B-shaped vision tower (depth 24, hidden 1536), f16 weights, "
          f"{a.threads} threads, {a.repetitions} timed runs after {a.warmup} warm-up")
    print("| screenshot | grid (h×w patches) | patches | image tokens | autoglm encode s | "
          "llama.cpp encode s | llama.cpp / autoglm |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['size']} | {r['grid_h']}×{r['grid_w']} | {r['patches']} | {r['image_tokens']}"
              f"{'' if r['same_patches'] else ' (llama.cpp: ' + str(r['llamacpp_image_tokens']) + ')'} | "
              f"{r['autoglm_encode_ms'] / 1e3:.2f} ± {r['autoglm_encode_ms_sd'] / 1e3:.2f} | "
              f"{r['llamacpp_encode_ms'] / 1e3:.2f} ± {r['llamacpp_encode_ms_sd'] / 1e3:.2f} | "
              f"{r['speedup_vs_llamacpp']:.2f} |")
    if a.json_out:
        meta = {"threads": a.threads, "repetitions": a.repetitions, "warmup": a.warmup,
                "flash_attn": a.flash_attn, "weights": "f16 (both)", "mmproj": summary,
                "nproc": os.cpu_count(), "load_average_at_end": os.getloadavg()}
        Path(a.json_out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
