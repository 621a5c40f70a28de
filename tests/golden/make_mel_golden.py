#!/usr/bin/env python3
"""Golden data for autoglm.cpp's audio front end (src/audio): Whisper log-mel spectrograms and
mel filter banks as transformers' WhisperFeatureExtractor computes them (numpy path, no torch).

    /tmp/melvenv/bin/python tests/golden/make_mel_golden.py [--out tests/golden/audio/mel_golden.json]

The input is a deterministic synthetic signal (see `signal()`; the C++ test evaluates the same
formula) of 0.5, 29.99, 30 and 47 s at 16 kHz, for 80 and 128 mel bins:
  window   WhisperFeatureExtractor(feature_size=n_mels)(x): x padded with zeros / truncated to
           480000 samples, [n_mels, 3000] (for 47 s: the first 30 s);
  whole    openai-whisper / faster-whisper style: the whole signal followed by 480000 zeros
           through the same transformers spectrogram() and the same post-processing (global max
           - 8 clamp, (x + 4) / 4), [n_mels, (n + 480000) / 160]; stored for 0.5 s and 47 s.
Per case: one full row, ~10 full columns, the mean of every row and of every column, and the
overall mean (values rounded to 1e-6). Filters: mel_filter_bank(201, n_mels, 0, 8000, 16000,
"slaney", "slaney") stored as [n_mels, 201]: a few full filters and every filter's sum.
Deterministic; not run in CI.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import transformers
from transformers import WhisperFeatureExtractor
from transformers.audio_utils import spectrogram, window_function

HERE = Path(__file__).resolve().parent
SR = 16000
SECONDS = [0.5, 29.99, 30.0, 47.0]
WHOLE_SECONDS = [0.5, 47.0]
N_MELS = [80, 128]
PAD = 30 * SR


def signal(n: int) -> np.ndarray:
    """x[i], t = i / 16000, T = n / 16000, computed in float64 and rounded to float32:
    0.3 sin(2 pi 440 t) + 0.15 sin(2 pi 1234.5 t + 0.3) (0.6 + 0.4 sin(2 pi 0.7 t))
    + 0.1 sin(2 pi (60 t + 7840 t^2 / (2 T)))  (a 60 Hz -> 7900 Hz chirp over the signal)
    + 0.02 (h(i) / 2^32 - 0.5)                  (integer hash noise, see below)
    then x = 0 for t in [0.40 T, 0.45 T) and x *= 1e-3 for t in [0.60 T, 0.65 T).
    h(i) on uint32: h = i * 0x9E3779B1; h ^= h >> 15; h *= 0x85EBCA77; h ^= h >> 13."""
    i = np.arange(n, dtype=np.uint64)
    m = np.uint64(0xFFFFFFFF)
    h = (i * np.uint64(0x9E3779B1)) & m
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(0x85EBCA77)) & m
    h ^= h >> np.uint64(13)
    t = np.arange(n, dtype=np.float64) / SR
    T = n / SR
    x = (0.3 * np.sin(2 * np.pi * 440.0 * t)
         + 0.15 * np.sin(2 * np.pi * 1234.5 * t + 0.3) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t))
         + 0.1 * np.sin(2 * np.pi * (60.0 * t + 7840.0 * t * t / (2.0 * T)))
         + 0.02 * (h.astype(np.float64) / 4294967296.0 - 0.5))
    x[(t >= 0.40 * T) & (t < 0.45 * T)] = 0.0
    x[(t >= 0.60 * T) & (t < 0.65 * T)] *= 1e-3
    return x.astype(np.float32)


def r6(a) -> list:
    return [round(float(v), 6) for v in np.asarray(a).ravel()]


def summarise(mel: np.ndarray, n_signal_frames: int) -> dict:
    n_mels, n_frames = mel.shape
    rows = [n_mels // 3]
    cols = [0, 1, 2, 101, n_signal_frames - 1, n_signal_frames, n_signal_frames + 1,
            n_frames // 2, n_frames - 2, n_frames - 1]
    cols = sorted({c for c in cols if 0 <= c < n_frames})
    m64 = mel.astype(np.float64)
    return {
        "n_mels": n_mels, "n_frames": n_frames,
        "rows": {str(r): r6(mel[r]) for r in rows},
        "cols": {str(c): r6(mel[:, c]) for c in cols},
        "row_mean": r6(m64.mean(axis=1)),
        "col_mean": r6(m64.mean(axis=0)),
        "mean": round(float(m64.mean()), 6),
    }


def whole_log_mel(x: np.ndarray, fe: WhisperFeatureExtractor) -> np.ndarray:
    xp = np.concatenate([x, np.zeros(PAD, dtype=np.float32)])
    s = spectrogram(xp, window_function(400, "hann"), frame_length=400, hop_length=160,
                    power=2.0, mel_filters=fe.mel_filters, log_mel="log10")
    s = s[:, :-1]
    s = np.maximum(s, s.max() - 8.0)
    return (s + 4.0) / 4.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(HERE / "audio" / "mel_golden.json"))
    args = ap.parse_args()
    assert not transformers.utils.is_torch_available(), "run without torch (numpy path)"
    out = {"transformers_version": transformers.__version__, "numpy_version": np.__version__,
           "sample_rate": SR, "filters": {}, "cases": []}
    for n_mels in N_MELS:
        fe = WhisperFeatureExtractor(feature_size=n_mels)
        f = fe.mel_filters.T  # [n_mels, 201]
        keep = sorted({0, 1, n_mels // 2, n_mels - 1})
        out["filters"][str(n_mels)] = {
            "rows": {str(r): [float(v) for v in f[r]] for r in keep},
            "row_sum": [float(v) for v in f.sum(axis=1)],
        }
        for sec in SECONDS:
            n = int(round(sec * SR))
            x = signal(n)
            win = fe(x, sampling_rate=SR, return_tensors="np").input_features[0]
            assert win.shape == (n_mels, 3000), win.shape
            case = {"seconds": sec, "n_samples": n, "kind": "window"}
            case.update(summarise(win, min(n, 480000) // 160))
            out["cases"].append(case)
            if sec in WHOLE_SECONDS:
                whole = whole_log_mel(x, fe)
                assert whole.shape == (n_mels, (n + PAD) // 160), whole.shape
                case = {"seconds": sec, "n_samples": n, "kind": "whole", "pad_samples": PAD}
                case.update(summarise(whole, n // 160))
                out["cases"].append(case)
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, {len(out['cases'])} cases)")


if __name__ == "__main__":
    main()
