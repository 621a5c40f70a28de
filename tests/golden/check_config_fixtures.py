#!/usr/bin/env python3
"""Load every tests/fixtures/configs/*.json with transformers and print the values the C++ loader must parse.

Usage: /tmp/goldvenv/bin/python tests/golden/check_config_fixtures.py
Fails (exit 1) if the GLM-4.1V layouts disagree with each other.
"""
import json
import sys
from pathlib import Path

from transformers import Glm4Config, Glm4vConfig

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "configs"


def text_values(path: Path) -> dict:
    raw = json.loads(path.read_text())
    if raw["model_type"] == "glm4v":
        cfg = Glm4vConfig.from_json_file(str(path))
        t = cfg.text_config
        rp = t.rope_parameters
        head_dim = t.hidden_size // t.num_attention_heads  # Glm4vTextAttention
        extra = dict(image_token_id=cfg.image_token_id, video_token_id=cfg.video_token_id,
                     image_start_token_id=cfg.image_start_token_id, image_end_token_id=cfg.image_end_token_id,
                     vision=dict(depth=cfg.vision_config.depth, hidden_size=cfg.vision_config.hidden_size,
                                 num_heads=cfg.vision_config.num_heads,
                                 out_hidden_size=cfg.vision_config.out_hidden_size,
                                 intermediate_size=cfg.vision_config.intermediate_size,
                                 image_size=cfg.vision_config.image_size, patch_size=cfg.vision_config.patch_size))
    else:
        t = cfg = Glm4Config.from_json_file(str(path))
        rp = t.rope_parameters
        head_dim = t.head_dim  # Glm4Attention honours head_dim (class default 128 when absent)
        extra = {}
    return dict(vocab_size=t.vocab_size, hidden_size=t.hidden_size, num_hidden_layers=t.num_hidden_layers,
                num_attention_heads=t.num_attention_heads, num_key_value_heads=t.num_key_value_heads,
                head_dim=head_dim, intermediate_size=t.intermediate_size, rms_norm_eps=t.rms_norm_eps,
                rope_theta=float(rp["rope_theta"]), partial_rotary_factor=rp.get("partial_rotary_factor"),
                mrope_section=rp.get("mrope_section"), rope_type=rp.get("rope_type"),
                max_position_embeddings=t.max_position_embeddings,
                eos_token_id=getattr(t, "eos_token_id", None), pad_token_id=t.pad_token_id,
                tie_word_embeddings=cfg.tie_word_embeddings, **extra)


def main() -> int:
    vals = {}
    for p in sorted(FIX.glob("*.json")):
        vals[p.stem] = v = text_values(p)
        print(f"{p.name}:\n  {json.dumps(v)}")
    v_names = [n for n in vals if n.startswith("glm41v_")]
    ok = all(vals[n] == vals[v_names[0]] for n in v_names)
    g4 = [n for n in vals if n.startswith("glm4_0414")]
    ok &= all(vals[n] == vals[g4[0]] for n in g4)
    print("GLM-4.1V layouts agree:" if ok else "MISMATCH between layouts!", v_names, g4)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
