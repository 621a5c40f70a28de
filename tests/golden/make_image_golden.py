#!/usr/bin/env python3
"""Writes the image-preprocessing goldens used by tests/unit/multimodal (GLM-4.1V / AutoGLM).

Run with a Python that has transformers (5.x), pillow and numpy, e.g.
    /tmp/goldvenv/bin/python tests/golden/make_image_golden.py
It (re)writes tests/fixtures/images/:
    <name>.<png|jpg|webp>     the test image (small, deterministic)
    <name>.hf.png             HF's resized uint8 image, recovered exactly from pixel_values
    <name>.rows.f32           two full pixel_values rows (first, last) as raw little-endian float32
    golden.json               per image: size, budget, grid_thw, tokens, rows; plus smart_resize cases

The truth is transformers' Glm4vImageProcessorPil (the Pillow backend; this venv has no
torchvision). The script checks that the uint8 image it stores reproduces HF's pixel_values
bit for bit, so the C++ test can compare every value.
"""
import io
import json
import math
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

import transformers
from transformers.models.glm4v.image_processing_pil_glm4v import Glm4vImageProcessorPil, smart_resize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "images")
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
MIN_PIXELS = 112 * 112
MAX_PIXELS = 14 * 14 * 2 * 2 * 2 * 6144  # GLM-4.1V preprocessor_config.json size.longest_edge


def ui_like(h, w, seed, mode="RGB"):
    """A screenshot-like picture: gradient background, flat boxes, thin strokes (compresses well)."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)),
                     ((xx + yy) * 127 // max(h + w - 2, 1)) + 64], -1).astype(np.uint8)
    im = Image.fromarray(base, "RGB")
    d = ImageDraw.Draw(im)
    for _ in range(6):
        x0, y0 = rng.randint(0, w), rng.randint(0, h)
        x1, y1 = x0 + rng.randint(1, max(2, w // 2)), y0 + rng.randint(1, max(2, h // 2))
        d.rectangle([x0, y0, x1, y1], fill=tuple(int(v) for v in rng.randint(0, 256, 3)))
    for _ in range(8):
        pts = [(int(rng.randint(0, w)), int(rng.randint(0, h))) for _ in range(2)]
        d.line(pts, fill=tuple(int(v) for v in rng.choice([0, 255], 3)), width=1)
    # A few isolated extreme pixels: bicubic overshoot must clip exactly like Pillow.
    arr = np.array(im)
    for _ in range(10):
        arr[rng.randint(0, h), rng.randint(0, w)] = rng.choice([0, 255], 3)
    im = Image.fromarray(arr, "RGB")
    return im if mode == "RGB" else im.convert(mode)


def make_images():
    """(name, extension, PIL image to save, save kwargs, max_pixels)."""
    imgs = []
    imgs.append(("rgb_200x150", "png", ui_like(150, 200, 1), {}, MAX_PIXELS))
    imgs.append(("odd_57x101", "png", ui_like(101, 57, 2), {}, MAX_PIXELS))
    imgs.append(("wide_30x700", "png", ui_like(30, 700, 3), {}, MAX_PIXELS))
    imgs.append(("tall_600x24", "png", ui_like(600, 24, 4), {}, MAX_PIXELS))  # < 28 wide: upscale rule
    imgs.append(("tiny_10x13", "png", ui_like(13, 10, 5), {}, MAX_PIXELS))
    imgs.append(("exact_140x112", "png", ui_like(112, 140, 6), {}, MAX_PIXELS))  # no resize at all
    imgs.append(("down_250x280", "png", ui_like(280, 250, 7), {}, 2 * 28 * 28 * 20))  # strong shrink
    imgs.append(("down_wide_300x90", "png", ui_like(90, 300, 8), {}, 2 * 28 * 28 * 12))
    imgs.append(("grey_123x77", "png", ui_like(77, 123, 9, "L"), {}, MAX_PIXELS))
    rgba = ui_like(96, 150, 10).convert("RGBA")
    a = np.array(rgba)
    yy, xx = np.mgrid[0:96, 0:150]
    a[..., 3] = np.clip((xx * 255) // 149, 0, 255).astype(np.uint8)  # 0 (transparent) .. 255
    a[:10, :10, 3] = 0
    imgs.append(("rgba_150x96", "png", Image.fromarray(a, "RGBA"), {}, MAX_PIXELS))
    la = ui_like(60, 44, 11, "L").convert("LA")
    la.putalpha(Image.fromarray((np.arange(60 * 44).reshape(60, 44) % 256).astype(np.uint8), "L"))
    imgs.append(("la_44x60", "png", la, {}, MAX_PIXELS))
    pal = ui_like(64, 64, 12).quantize(colors=16)
    imgs.append(("palette_trns_64x64", "png", pal, {"transparency": 3}, MAX_PIXELS))
    g16 = (np.arange(50 * 40).reshape(50, 40) * 7 % 600).astype(np.uint16)  # some values > 255
    imgs.append(("grey16_40x50", "png", Image.fromarray(g16), {}, MAX_PIXELS))
    imgs.append(("photo_160x120", "jpg", ui_like(120, 160, 13), {"quality": 92}, MAX_PIXELS))
    imgs.append(("photo444_90x70", "jpg", ui_like(70, 90, 14), {"quality": 95, "subsampling": 0}, MAX_PIXELS))
    imgs.append(("grey_jpeg_66x50", "jpg", ui_like(50, 66, 16, "L"), {"quality": 90}, MAX_PIXELS))
    imgs.append(("cmyk_48x40", "jpg", ui_like(40, 48, 17).convert("CMYK"), {"quality": 90}, MAX_PIXELS))
    imgs.append(("lossless_70x90", "webp", ui_like(90, 70, 15), {"lossless": True}, MAX_PIXELS))
    lossy = ui_like(64, 80, 18).convert("RGBA")
    la = np.array(lossy)
    la[..., 3] = (np.arange(80)[None, :] * 3).astype(np.uint8)
    imgs.append(("lossy_alpha_80x64", "webp", Image.fromarray(la, "RGBA"), {"quality": 80}, MAX_PIXELS))
    return imgs


def unpatchify(pv, gh, gw, p=14, m=2, t=2):
    """Inverse of the documented merge-window order; returns the t=0 slice as (C, H, W)."""
    x = pv.reshape(gh // m, gw // m, m, m, 3, t, p, p)[:, :, :, :, :, 0]
    x = x.transpose(4, 0, 2, 5, 1, 3, 6)  # C, by, iy, y, bx, ix, x
    return x.reshape(3, gh * p, gw * p)


def smart_resize_cases():
    cases = []
    sizes = [(2400, 1080), (2340, 1080), (1600, 720), (3200, 1440), (3000, 4000), (4000, 6000), (1920, 1080),
             (336, 336), (224, 224), (56, 84), (28, 28), (126, 1000), (1, 1), (27, 5000), (14, 2800), (42, 42),
             (70, 70), (98, 154), (1080, 2400), (720, 1600)]
    rng = np.random.RandomState(0)
    for _ in range(300):
        h, w = int(rng.randint(1, 5000)), int(rng.randint(1, 5000))
        if max(h, w) / min(h, w) <= 150:
            sizes.append((h, w))
    for k in range(1, 40):  # exact .5 ties: h/28 = k + 0.5
        sizes.append((28 * k + 14, 28 * (k + 3) + 14))
    for h, w in sizes:
        for mx in (MAX_PIXELS, 5000000, 2 * 28 * 28 * 100):
            for mn in (MIN_PIXELS, 2 * 28 * 28 * 16):
                hb, wb = smart_resize(2, h, w, 2, 28, mn, mx)
                cases.append([h, w, mn, mx, int(hb), int(wb)])
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    entries = []
    for name, ext, im, kw, max_pixels in make_images():
        path = os.path.join(OUT, f"{name}.{ext}")
        im.save(path, **kw)
        src = Image.open(path)
        proc = Glm4vImageProcessorPil(size={"shortest_edge": MIN_PIXELS, "longest_edge": max_pixels})
        out = proc(images=[src], return_tensors="np")
        pv = np.asarray(out["pixel_values"], dtype=np.float32)
        grid = [int(v) for v in np.asarray(out["image_grid_thw"])[0]]
        _, gh, gw = grid
        assert pv.shape == (gh * gw, 1176), pv.shape
        # Both temporal slices are equal.
        r = pv.reshape(gh * gw, 3, 2, 196)
        assert np.array_equal(r[:, :, 0], r[:, :, 1])
        chw = unpatchify(pv, gh, gw)
        u8 = np.rint((chw * STD[:, None, None] + MEAN[:, None, None]) * 255.0).astype(np.int64)
        assert u8.min() >= 0 and u8.max() <= 255
        u8 = u8.astype(np.uint8)
        # Forward again exactly as numpy/HF does; must reproduce pixel_values bit for bit.
        fwd = ((u8.astype(np.float64) * (1 / 255)).astype(np.float32).T - MEAN) / STD
        fwd = fwd.T
        assert np.array_equal(fwd, chw), "uint8 reconstruction does not reproduce pixel_values"
        Image.fromarray(u8.transpose(1, 2, 0), "RGB").save(os.path.join(OUT, f"{name}.hf.png"), optimize=True)
        rows = [0, gh * gw - 1]
        pv[rows].astype("<f4").tofile(os.path.join(OUT, f"{name}.rows.f32"))
        entries.append({
            "name": name, "file": f"{name}.{ext}", "mode": src.mode, "width": src.size[0], "height": src.size[1],
            "min_pixels": MIN_PIXELS, "max_pixels": max_pixels, "grid_thw": grid,
            "resized_height": gh * 14, "resized_width": gw * 14, "num_tokens": gh * gw // 4, "rows": rows,
        })
        print(f"{name:22s} {src.mode:5s} {src.size[0]}x{src.size[1]} -> {gw * 14}x{gh * 14} grid {grid} "
              f"{os.path.getsize(path)} B", file=sys.stderr)

    # Documented behaviour check: transformers 5.x ignores a bare max_pixels kwarg.
    probe = Image.open(os.path.join(OUT, "rgb_200x150.png"))
    p = Glm4vImageProcessorPil(size={"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS})
    try:
        g = np.asarray(p(images=[probe], max_pixels=2 * 28 * 28 * 4, return_tensors="np")["image_grid_thw"])[0]
        max_pixels_kwarg = f"accepted, grid {g.tolist()} (honoured: {g.tolist() != entries[0]['grid_thw']})"
    except Exception as e:  # noqa: BLE001
        max_pixels_kwarg = f"error: {type(e).__name__}: {e}"
    print("max_pixels kwarg:", max_pixels_kwarg, file=sys.stderr)

    golden = {
        "generator": "tests/golden/make_image_golden.py",
        "transformers": transformers.__version__,
        "pillow": Image.__version__,
        "processor": "Glm4vImageProcessorPil",
        "max_pixels_kwarg_in_hf": max_pixels_kwarg,
        "images": entries,
        "smart_resize_cases_h_w_min_max_hbar_wbar": smart_resize_cases(),
    }
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
