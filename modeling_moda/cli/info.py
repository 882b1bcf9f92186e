"""`moda info DIR | --reference`: architecture, parameter counts per part, frozen/trainable.

Counts come from the config alone (the model is built on the meta device), so this is instant even for the
reference model and needs no weights.
"""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", nargs="?", help="a saved MODA folder (config.json)")
    parser.add_argument(
        "--reference", action="store_true", help="the seed's reference config (FashionCLIP + OPT-125M)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def clip_text_tower_count(projection_dim: int) -> int:
    """Parameters of a default (ViT-B/32-sized) CLIP text tower + text projection + logit scale."""
    import torch
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    with torch.device("meta"):
        text = CLIPTextModelWithProjection(CLIPTextConfig(projection_dim=projection_dim))
    return sum(p.numel() for p in text.parameters()) + 1  # + CLIPModel.logit_scale


def model_info(config) -> dict:
    """Architecture summary and parameter counts of the model a ModaConfig describes."""
    import torch

    from modeling_moda.builder import parameter_counts
    from modeling_moda.configuration_moda import CLIP_VIT_B32
    from modeling_moda.modeling_moda import ModaForConditionalGeneration

    with torch.device("meta"):
        model = ModaForConditionalGeneration(config)
    vc, tc = config.vision_config, config.text_config
    proj = [m for m in model.projector.net.modules() if isinstance(m, torch.nn.Linear)]
    info = {
        "classes": {  # the one that describes first: AutoModel is the head-less base model
            "generate": "AutoModelForImageTextToText -> ModaForConditionalGeneration",
            "base": "AutoModel -> ModaModel (hidden states, no LM head, no generate)",
        },
        "vision": {
            "model_type": vc.model_type,
            "image_size": vc.image_size,
            "patch_size": getattr(vc, "patch_size", None),
            "hidden_size": vc.hidden_size,
            "layers": vc.num_hidden_layers,
            "feature": config.vision_feature,
            "clip_visual_projection": config.uses_clip_projection,
            "embed_dim": config.vision_embed_dim,
            "frozen": config.freeze_vision,
        },
        "projector": {
            "type": config.projector_type,
            "shapes": " -> ".join([str(proj[0].in_features)] + [str(m.out_features) for m in proj]),
            "activation": config.projector_act if config.projector_type == "mlp" else None,
            "num_image_tokens": config.num_image_tokens,
        },
        "language_model": {
            "model_type": tc.model_type,
            "hidden_size": tc.hidden_size,
            "layers": tc.num_hidden_layers,
            "vocab_size": model.get_input_embeddings().num_embeddings,
            "image_token_id": config.image_token_id,
        },
        "parameters": parameter_counts(model),
    }
    if config.uses_clip_projection and all(getattr(vc, k) == v for k, v in CLIP_VIT_B32.items()):
        # the seed's "~280 M" counted FashionCLIP whole: its text tower is not part of MODA
        text_tower = clip_text_tower_count(vc.projection_dim)
        info["parameters"]["clip_text_tower_not_in_moda"] = text_tower
        info["parameters"]["total_with_clip_text_tower"] = info["parameters"]["total"] + text_tower
    return info


def format_info(info: dict) -> str:
    lines = []
    for section in ("classes", "vision", "projector", "language_model"):
        fields = ", ".join(f"{k}={v}" for k, v in info[section].items() if v is not None)
        lines.append(f"{section:15s} {fields}")
    lines.append("parameters:")
    for name, value in info["parameters"].items():
        lines.append(f"  {name:36s} {value:>14,d}  ({value / 1e6:.1f} M)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from modeling_moda.builder import build_reference_config
    from modeling_moda.configuration_moda import ModaConfig

    if args.reference == bool(args.model_dir):
        print("give a model folder or --reference")
        return 2
    config = build_reference_config() if args.reference else ModaConfig.from_pretrained(args.model_dir)
    info = model_info(config)
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0
