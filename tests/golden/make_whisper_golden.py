#!/usr/bin/env python3
"""Golden data for autoglm.cpp's Whisper model: tiny random WhisperForConditionalGeneration
checkpoints (f32, save_pretrained) and what transformers computes with them.

    /tmp/goldvenv/bin/python tests/golden/make_whisper_golden.py [--out tests/golden/models]

Per model directory, whisper_golden.json (not golden.json: the GLM suites read those) holds:
  mel_formula   the log-mel input, mel[c][t] = 0.5·sin(0.013·(t+1)·(c+1)) + 0.25·cos(0.37·c + 0.011·t)
                in float64, cast to float32 ([num_mel_bins, 2·max_source_positions]);
  encoder_rows  {row index: encoder last_hidden_state row} for a few rows, plus
  encoder_sum / encoder_abs_sum over the whole output;
  tokens, logits  decoder logits at every position of `tokens` (a prompt that starts with
                decoder_start_token_id) given that encoder output;
  greedy        argmax continuation (no logits processors) of `tokens` for N_NEW steps.
ct2_whisper_tiny80/{float16,int8}: whisper_tiny80_f32 through ct2-transformers-converter.
Deterministic (fixed seeds, eager attention, CPU). Not run in CI.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import torch
from transformers import WhisperConfig, WhisperForConditionalGeneration

HERE = Path(__file__).resolve().parent
N_NEW = 12

MODELS = {
    # Whisper's real window (1500 encoder frames, 3000 mel frames), 80 mel bins.
    "whisper_tiny80_f32": dict(num_mel_bins=80, d_model=64, encoder_layers=2,
                               encoder_attention_heads=4, encoder_ffn_dim=128, decoder_layers=2,
                               decoder_attention_heads=4, decoder_ffn_dim=128, vocab_size=512,
                               max_source_positions=1500, max_target_positions=64),
    # large-v3's 128 mel bins, a short window, head_dim 16, one encoder layer; scale_embedding
    # set (transformers defines embed_scale but never applies it, so neither do we).
    "whisper_tiny128_f32": dict(num_mel_bins=128, d_model=96, encoder_layers=1,
                                encoder_attention_heads=6, encoder_ffn_dim=160, decoder_layers=2,
                                decoder_attention_heads=6, decoder_ffn_dim=192, vocab_size=384,
                                max_source_positions=200, max_target_positions=48,
                                scale_embedding=True),
}


def mel_input(n_mels: int, n_frames: int) -> np.ndarray:
    c = np.arange(n_mels, dtype=np.float64)[:, None]
    t = np.arange(n_frames, dtype=np.float64)[None, :]
    m = 0.5 * np.sin(0.013 * (t + 1) * (c + 1)) + 0.25 * np.cos(0.37 * c + 0.011 * t)
    return m.astype(np.float32)


def make(name: str, kw: dict, out: Path) -> None:
    torch.manual_seed(1234)
    cfg = WhisperConfig(**kw, decoder_start_token_id=1, eos_token_id=2, pad_token_id=0,
                        bos_token_id=1, activation_function="gelu", dropout=0.0,
                        attention_dropout=0.0, activation_dropout=0.0, init_std=0.15,
                        attn_implementation="eager", begin_suppress_tokens=None,
                        suppress_tokens=None)
    model = WhisperForConditionalGeneration(cfg).eval()
    # Random init leaves the LayerNorms at 1/0 and biases at 0: perturb them so the goldens test
    # that every bias and norm parameter is read.
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "layer_norm" in n or n.endswith(".bias"):
                p.add_(torch.randn_like(p) * 0.1)
    d = out / name
    if d.exists():
        shutil.rmtree(d)
    model.save_pretrained(d, safe_serialization=True)
    frames = 2 * cfg.max_source_positions
    mel = torch.from_numpy(mel_input(cfg.num_mel_bins, frames))[None]
    tokens = [1, 7, 300 % cfg.vocab_size, 42, 5, 99]
    with torch.no_grad():
        enc = model.model.encoder(mel).last_hidden_state[0]
        ids = torch.tensor([tokens])
        logits = model(encoder_outputs=(enc[None],), decoder_input_ids=ids).logits[0]
        seq = list(tokens)
        for _ in range(N_NEW):
            nxt = model(encoder_outputs=(enc[None],),
                        decoder_input_ids=torch.tensor([seq])).logits[0, -1].argmax().item()
            seq.append(int(nxt))
    L = enc.shape[0]
    rows = sorted({0, 1, 2, L // 2, L - 2, L - 1})
    golden = {
        "transformers": __import__("transformers").__version__,
        "torch": torch.__version__,
        "mel_formula": "0.5*sin(0.013*(t+1)*(c+1)) + 0.25*cos(0.37*c + 0.011*t), f64 -> f32",
        "n_frames": frames,
        "encoder_rows": {str(r): enc[r].tolist() for r in rows},
        "encoder_sum": float(enc.double().sum()),
        "encoder_abs_sum": float(enc.double().abs().sum()),
        "tokens": tokens,
        "logits": logits.tolist(),
        "greedy": seq[len(tokens):],
    }
    (d / "whisper_golden.json").write_text(json.dumps(golden))
    print(f"{name}: encoder {tuple(enc.shape)}, greedy {golden['greedy']}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=HERE / "models")
    args = ap.parse_args()
    torch.set_num_threads(2)
    for name, kw in MODELS.items():
        make(name, kw, args.out)
    # The 80-bin model converted by CTranslate2's own converter (faster-whisper's format), in the
    # two compute types users have: float16 and int8 (needs `pip install ctranslate2`).
    import subprocess
    import sys
    conv = Path(sys.executable).with_name("ct2-transformers-converter")
    for q in ("float16", "int8"):
        dst = args.out / "ct2_whisper_tiny80" / q
        subprocess.run([str(conv), "--model", str(args.out / "whisper_tiny80_f32"),
                        "--output_dir", str(dst), "--quantization", q, "--force"], check=True)


if __name__ == "__main__":
    main()
