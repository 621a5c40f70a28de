#!/usr/bin/env python3
"""Generate Hugging Face golden reference data for autoglm.cpp.

Creates tiny random Glm4ForCausalLM / Glm4vForConditionalGeneration checkpoints under
tests/golden/models/<name>/ (saved with save_pretrained, safetensors) plus golden outputs
computed with transformers on CPU. See tests/golden/README.md for the file formats.

Usage:  /tmp/goldvenv/bin/python tests/golden/make_golden.py [--out tests/golden/models] [--only NAME ...]

Deterministic: fixed seeds, eager attention, CPU only. Not run in CI.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

import transformers
from transformers import (
    GenerationConfig,
    Glm4Config,
    Glm4ForCausalLM,
    Glm4vConfig,
    Glm4vForConditionalGeneration,
)

HERE = Path(__file__).resolve().parent
N_NEW = 32  # greedy continuation length
ATTN = "eager"  # softmax in f32, identical maths on every machine

# ----------------------------------------------------------------------------------------------
# Model definitions
# ----------------------------------------------------------------------------------------------

VISION_TINY = dict(
    hidden_size=32,
    depth=2,
    num_heads=2,
    intermediate_size=96,
    patch_size=14,
    temporal_patch_size=2,
    spatial_merge_size=2,
    image_size=56,
    in_channels=3,
    rms_norm_eps=1e-5,
    hidden_act="silu",
    attention_bias=False,
)

GLM4V_SPECIAL = dict(
    image_token_id=310,
    video_token_id=311,
    image_start_token_id=305,
    image_end_token_id=306,
    video_start_token_id=307,
    video_end_token_id=308,
)


def glm4_config(*, vocab, hidden, layers, heads, kv, head_dim, inter, eos, pad):
    return Glm4Config(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        head_dim=head_dim,
        intermediate_size=inter,
        partial_rotary_factor=0.5,
        attention_bias=True,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        max_position_embeddings=512,
        tie_word_embeddings=False,
        eos_token_id=eos,
        pad_token_id=pad,
        hidden_act="silu",
        initializer_range=0.2,
    )


def glm4v_config(*, hidden, layers, heads, kv, inter, mrope):
    text = dict(
        vocab_size=320,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        intermediate_size=inter,
        rope_parameters=dict(
            rope_type="default", rope_theta=10000.0, partial_rotary_factor=0.5, mrope_section=mrope
        ),
        attention_bias=True,
        rms_norm_eps=1e-5,
        max_position_embeddings=512,
        eos_token_id=[300, 303],
        pad_token_id=300,
        tie_word_embeddings=False,
        hidden_act="silu",
        initializer_range=0.2,
    )
    vision = dict(VISION_TINY, out_hidden_size=hidden, initializer_range=0.2)
    return Glm4vConfig(text_config=text, vision_config=vision, tie_word_embeddings=False, **GLM4V_SPECIAL)


MODELS = {
    "glm4_f32": dict(
        cls=Glm4ForCausalLM,
        dtype=torch.float32,
        shard=None,
        config=lambda: glm4_config(vocab=320, hidden=64, layers=2, heads=4, kv=2, head_dim=16, inter=96,
                                   eos=[300, 303], pad=300),
        seed=1001,
        max_text_id=300,
    ),
    "glm4_bf16": dict(
        cls=Glm4ForCausalLM,
        dtype=torch.bfloat16,
        shard="200KB",
        # head_dim 32 != hidden/heads (16): transformers' Glm4Attention honours config.head_dim.
        config=lambda: glm4_config(vocab=300, hidden=96, layers=3, heads=6, kv=1, head_dim=32, inter=160,
                                   eos=[280, 283], pad=280),
        seed=1002,
        max_text_id=280,
    ),
    "glm4v_f32": dict(
        cls=Glm4vForConditionalGeneration,
        dtype=torch.float32,
        shard=None,
        # head_dim = 64/4 = 16, rotary dim 8 -> 4 pairs, mrope [2,1,1] sums to 4
        config=lambda: glm4v_config(hidden=64, layers=2, heads=4, kv=2, inter=96, mrope=[2, 1, 1]),
        seed=1003,
        max_text_id=300,
    ),
    "glm4v_bf16": dict(
        cls=Glm4vForConditionalGeneration,
        dtype=torch.bfloat16,
        shard="200KB",
        # head_dim = 96/6 = 16, rotary dim 8 -> 4 pairs, mrope [1,2,1]
        config=lambda: glm4v_config(hidden=96, layers=3, heads=6, kv=2, inter=128, mrope=[1, 2, 1]),
        seed=1004,
        max_text_id=300,
    ),
}

CASE_LENGTHS = [1, 2, 5, 9, 16, 24]
HIDDEN_DUMP_CASE = 3  # length-9 case
MIN_MARGIN = 0.01  # min top1-top2 logit gap along every f32 greedy path


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def init_weights(model: torch.nn.Module, seed: int) -> None:
    """Re-initialise every parameter so that logits are far from flat.

    text/lm_head/embedding matrices: N(0, 0.2); norm weights: 1 + N(0, 0.1); biases: N(0, 0.1);
    vision matrices/convs: N(0, 1/sqrt(fan_in)) so the ViT activations stay O(1).
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            shape = tuple(p.shape)
            if "norm" in name and name.endswith(".weight"):
                v = 1.0 + 0.1 * torch.randn(shape, generator=g)
            elif name.endswith(".bias"):
                v = 0.1 * torch.randn(shape, generator=g)
            elif ".visual." in name or name.startswith("visual."):
                fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
                v = torch.randn(shape, generator=g) / np.sqrt(fan_in)
            else:
                v = 0.2 * torch.randn(shape, generator=g)
            p.copy_(v.to(p.dtype))


def text_model(model):
    """(embed, layers, final_norm) modules of either architecture."""
    if isinstance(model, Glm4vForConditionalGeneration):
        lm = model.model.language_model
    else:
        lm = model.model
    return lm.embed_tokens, lm.layers, lm.norm


def forward_logits(model, ids: list[int]) -> torch.Tensor:
    x = torch.tensor([ids], dtype=torch.long)
    with torch.no_grad():
        out = model(input_ids=x, use_cache=False)
    return out.logits[0].float()


def hidden_dump(model, ids: list[int]) -> np.ndarray:
    """[num_layers + 2, len, hidden]: embeddings, output of each layer, output of the final norm."""
    embed, layers, norm = text_model(model)
    caps: list[torch.Tensor] = []
    hooks = [embed.register_forward_hook(lambda m, i, o: caps.append(o.detach()))]
    for layer in layers:
        hooks.append(layer.register_forward_hook(
            lambda m, i, o: caps.append((o[0] if isinstance(o, tuple) else o).detach())))
    hooks.append(norm.register_forward_hook(lambda m, i, o: caps.append(o.detach())))
    try:
        forward_logits(model, ids)
    finally:
        for h in hooks:
            h.remove()
    assert len(caps) == len(layers) + 2, len(caps)
    return torch.stack([c[0].float() for c in caps]).numpy()


def greedy_generate(model, ids: list[int]) -> list[int]:
    """HF generate, greedy, exactly N_NEW tokens, eos never stops it and is never suppressed."""
    saved = model.generation_config
    gc = GenerationConfig(do_sample=False, max_new_tokens=N_NEW, min_new_tokens=N_NEW,
                          eos_token_id=None, pad_token_id=0, bos_token_id=None)
    model.generation_config = gc
    try:
        x = torch.tensor([ids], dtype=torch.long)
        with torch.no_grad():
            out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), generation_config=gc)
    finally:
        model.generation_config = saved
    new = out[0, len(ids):].tolist()
    assert len(new) == N_NEW, (len(new), new)
    return new


def greedy_manual(model, ids: list[int]) -> tuple[list[int], float]:
    """Cache-free greedy reference (full forward per step). Returns tokens and min top1-top2 margin."""
    seq = list(ids)
    margin = float("inf")
    for _ in range(N_NEW):
        last = forward_logits(model, seq)[-1]
        top2 = torch.topk(last, 2)
        margin = min(margin, float(top2.values[0] - top2.values[1]))
        seq.append(int(top2.indices[0]))
    return seq[len(ids):], margin


def write_f32(path: Path, arr) -> None:
    a = np.ascontiguousarray(np.asarray(arr, dtype="<f4"))
    path.write_bytes(a.tobytes())


def load(cls, path: Path, dtype):
    m = cls.from_pretrained(path, dtype=dtype, attn_implementation=ATTN)
    m.eval()
    return m


# ----------------------------------------------------------------------------------------------
# Image cases (GLM-4.1V only)
# ----------------------------------------------------------------------------------------------

# Patch grids (t, h, w) per case; the position table of the tiny ViT is 4x4 (image_size 56 / 14), so
# these exercise identity (4x4), up-sampling (6x8, 4x10, 6x4) and down-sampling (2x2) of the
# bicubic position-embedding resampling. The last case has two images in one prompt.
IMAGE_CASES = [
    [[1, 4, 4]],
    [[1, 6, 8]],
    [[1, 4, 10]],
    [[1, 2, 2], [1, 6, 4]],
]


def image_case(model, native, cfg, rng: np.random.Generator, out_dir: Path, idx: int, grids) -> dict:
    """One prompt: 4 text ids, then per image <|begin_of_image|> + N placeholders + <|end_of_image|> +
    2-3 text ids. Pixel values are random in the normalised range. Text ids are redrawn until the 8-token
    greedy continuation is robust (margin >= MIN_MARGIN, generate() == cache-free loop, no placeholder
    ids generated)."""
    v = cfg.vision_config
    merge = v.spatial_merge_size
    patch_dim = v.in_channels * v.temporal_patch_size * v.patch_size * v.patch_size
    n_patches = [g[0] * g[1] * g[2] for g in grids]
    n_toks = [n // (merge ** 2) for n in n_patches]
    # values in the normalised-pixel range
    pix = torch.from_numpy(rng.uniform(-1.8, 2.1, size=(sum(n_patches), patch_dim)).astype(np.float32))
    thw = torch.tensor(grids, dtype=torch.long)
    forbidden = {cfg.image_token_id, cfg.video_token_id}
    gcfg = GenerationConfig(do_sample=False, max_new_tokens=8, min_new_tokens=8, eos_token_id=None, pad_token_id=0)
    with torch.no_grad():
        feats = model.model.get_image_features(pix, thw, return_dict=True).pooler_output
        feats = torch.cat(list(feats), dim=0) if isinstance(feats, (list, tuple)) else feats
        feats_native = None
        if native is not model:
            fn = native.model.get_image_features(pix.to(native.dtype), thw, return_dict=True).pooler_output
            feats_native = torch.cat(list(fn), dim=0) if isinstance(fn, (list, tuple)) else fn
        for attempt in range(200):
            ids = [int(t) for t in rng.integers(0, 300, size=4)]
            for k in range(len(grids)):
                ids += [cfg.image_start_token_id] + [cfg.image_token_id] * n_toks[k] + [cfg.image_end_token_id]
                ids += [int(t) for t in rng.integers(0, 300, size=3 - (k % 2))]
            x = torch.tensor([ids], dtype=torch.long)
            tt = (x == cfg.image_token_id).int()
            model.model.rope_deltas = None
            gen = model.generate(input_ids=x, attention_mask=torch.ones_like(x), pixel_values=pix.to(model.dtype),
                                 image_grid_thw=thw, mm_token_type_ids=tt, generation_config=gcfg)
            model.model.rope_deltas = None
            greedy8 = gen[0, len(ids):].tolist()
            # cache-free cross-check of the 8 greedy tokens (3-D positions recomputed each step)
            seq, margin = list(ids), float("inf")
            for _ in range(8):
                xs = torch.tensor([seq], dtype=torch.long)
                lg = model(input_ids=xs, pixel_values=pix.to(model.dtype), image_grid_thw=thw,
                           mm_token_type_ids=(xs == cfg.image_token_id).int(), use_cache=False).logits[0, -1]
                model.model.rope_deltas = None
                top2 = torch.topk(lg.float(), 2)
                margin = min(margin, float(top2.values[0] - top2.values[1]))
                seq.append(int(top2.indices[0]))
            if seq[len(ids):] == greedy8 and margin >= MIN_MARGIN and not (set(greedy8) & forbidden):
                break
        else:
            raise RuntimeError(f"image case {idx}: no robust prompt found")
        pos, delta = model.model.get_rope_index(x, mm_token_type_ids=tt, image_grid_thw=thw)
        model.model.rope_deltas = None
        out = model(input_ids=x, pixel_values=pix.to(model.dtype), image_grid_thw=thw, mm_token_type_ids=tt,
                    use_cache=False)
        model.model.rope_deltas = None
    assert feats.shape[0] == sum(n_toks), (feats.shape, n_toks)
    pre = f"image{idx}"
    write_f32(out_dir / f"{pre}_pixel_values.f32", pix.numpy())
    write_f32(out_dir / f"{pre}_features.f32", feats.float().numpy())
    write_f32(out_dir / f"{pre}_logits_f32.f32", out.logits[0].float().numpy())
    case = dict(
        ids=ids,
        image_grid_thw=[list(g) for g in grids],
        pixel_values_file=f"{pre}_pixel_values.f32",
        pixel_values_shape=list(pix.shape),
        image_features_file=f"{pre}_features.f32",
        image_features_shape=list(feats.shape),
        position_ids=pos[:, 0, :].tolist(),
        rope_delta=int(delta.reshape(-1)[0]),
        logits_f32_file=f"{pre}_logits_f32.f32",
        logits_shape=[len(ids), int(out.logits.shape[-1])],
        greedy8=greedy8,
        greedy8_min_margin_f32=round(margin, 6),
        prompt_draws=attempt + 1,
    )
    if feats_native is not None:
        write_f32(out_dir / f"{pre}_features_native.f32", feats_native.float().numpy())
        case["image_features_native_file"] = f"{pre}_features_native.f32"
        case["features_native_vs_f32_max_abs_diff"] = float((feats_native.float() - feats.float()).abs().max())
    case["features_f32_std"] = float(feats.float().std())
    print(f"  image case {idx} grids={grids} len={len(ids)} draws={attempt + 1} margin={margin:.4f} "
          f"delta={case['rope_delta']} greedy8={greedy8}")
    return case


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------


def make_model(name: str, spec: dict, root: Path) -> dict:
    out_dir = root / name
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    seed = spec["seed"]
    torch.manual_seed(seed)
    cfg = spec["config"]()
    model = spec["cls"](cfg).eval()
    init_weights(model, seed)
    model = model.to(spec["dtype"])
    # generation_config.json: eos list, greedy
    eos = cfg.text_config.eos_token_id if hasattr(cfg, "text_config") else cfg.eos_token_id
    pad = cfg.text_config.pad_token_id if hasattr(cfg, "text_config") else cfg.pad_token_id
    model.generation_config = GenerationConfig(eos_token_id=list(eos), pad_token_id=pad, do_sample=False)
    kw = {"max_shard_size": spec["shard"]} if spec["shard"] else {}
    model.save_pretrained(out_dir, safe_serialization=True, **kw)
    del model

    native = load(spec["cls"], out_dir, spec["dtype"])
    f32 = native if spec["dtype"] == torch.float32 else load(spec["cls"], out_dir, torch.float32)
    # sanity: the upcast weights are exactly the stored bf16 values
    for (n1, p1), (n2, p2) in zip(native.named_parameters(), f32.named_parameters()):
        assert n1 == n2 and torch.equal(p1.float(), p2), n1
    lm_w = native.lm_head.weight
    emb_w = text_model(native)[0].weight
    assert lm_w.data_ptr() != emb_w.data_ptr() and not torch.equal(lm_w, emb_w), "lm_head tied?"

    rng = np.random.default_rng(seed)
    vocab = int(f32.lm_head.weight.shape[0])
    cases = []
    forbidden = set()
    if isinstance(native, Glm4vForConditionalGeneration):
        # a generated <|image|>/<|video|> id would be a placeholder without an image: keep them out
        forbidden = {native.config.image_token_id, native.config.video_token_id}
    for ci, n in enumerate(CASE_LENGTHS):
        # Draw prompts until the f32 greedy path is robust: no near-ties (min top1-top2 margin
        # >= MIN_MARGIN over all 32 steps), no collapse into one repeated token, generate() equal
        # to a cache-free greedy loop, and no image/video placeholder ids in the continuation.
        for attempt in range(200):
            ids = [int(t) for t in rng.integers(0, spec["max_text_id"], size=n)]
            greedy = greedy_generate(f32, ids)
            manual, margin = greedy_manual(f32, ids)
            ok = (manual == greedy and margin >= MIN_MARGIN and len(set(greedy)) >= 12
                  and len(set(greedy[16:])) >= 6 and not (set(greedy) & forbidden))
            if ok and native is not f32:
                greedy_nat = greedy_generate(native, ids)
                ok = not (set(greedy_nat) & forbidden)
            if ok:
                break
        else:
            raise RuntimeError(f"{name} case {ci}: no robust prompt found")
        lg32 = forward_logits(f32, ids)
        f32_file = f"case{ci}_logits_f32.f32"
        write_f32(out_dir / f32_file, lg32.numpy())
        case = dict(ids=ids)
        if native is f32:
            case["logits_file"] = f32_file
            lgn = lg32
        else:
            lgn = forward_logits(native, ids)
            case["logits_file"] = f"case{ci}_logits_native.f32"
            write_f32(out_dir / case["logits_file"], lgn.numpy())
        case["logits_f32_file"] = f32_file
        case["logits_shape"] = [n, vocab]
        case["greedy"] = greedy
        case["greedy_native"] = greedy_nat if native is not f32 else greedy
        case["greedy_min_margin_f32"] = round(margin, 6)
        case["native_vs_f32_max_abs_diff"] = float((lgn - lg32).abs().max())
        case["logits_f32_std"] = float(lg32.std())
        case["last_top5_f32"] = torch.topk(lg32[-1], 5).indices.tolist()
        cases.append(case)
        case["prompt_draws"] = attempt + 1
        print(f"  {name} case{ci} len={n:2d} draws={attempt + 1} std={case['logits_f32_std']:.3f} "
              f"margin={margin:.4f} native_diff={case['native_vs_f32_max_abs_diff']:.4f} "
              f"distinct={len(set(greedy))} native_eq={case['greedy_native'] == greedy}")
        print(f"    greedy={greedy}")

    hd_ids = cases[HIDDEN_DUMP_CASE]["ids"]
    hd = hidden_dump(f32, hd_ids)
    write_f32(out_dir / "hidden_f32.f32", hd)
    n_layers = hd.shape[0] - 2
    golden = dict(
        model=name,
        architecture=type(native).__name__,
        dtype="float32" if spec["dtype"] == torch.float32 else "bfloat16",
        vocab_size=vocab,
        n_new_tokens=N_NEW,
        transformers_version=transformers.__version__,
        torch_version=torch.__version__,
        attn_implementation=ATTN,
        cases=cases,
        hidden_dump=dict(
            case=HIDDEN_DUMP_CASE,
            ids=hd_ids,
            file="hidden_f32.f32",
            shape=list(hd.shape),
            rows=f"0 = embedding output; i = 1..{n_layers} = output of decoder layer i-1 (residual stream, "
                 f"before the final norm); {n_layers + 1} = output of the final norm",
        ),
    )
    if isinstance(native, Glm4vForConditionalGeneration):
        img_rng = np.random.default_rng(seed + 7)
        golden["image_cases"] = [image_case(f32, native, f32.config, img_rng, out_dir, i, grids)
                                 for i, grids in enumerate(IMAGE_CASES)]
    (out_dir / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
    for f in out_dir.iterdir():
        f.chmod(0o644)
    return golden


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(HERE / "models"))
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    for name, spec in MODELS.items():
        if args.only and name not in args.only:
            continue
        print(f"== {name}")
        make_model(name, spec, root)
    total = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    print(f"total size under {root}: {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
