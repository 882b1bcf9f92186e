"""`moda init`: assemble an untrained MODA and save it (model + processor + remote code) to a folder.

moda init --vision patrickjohncyh/fashion-clip --text facebook/opt-125m --out DIR   # pretrained backbones
moda init --tiny --out DIR          # small, offline, from configs (tokenizer trained on the fly)
moda init --reference --out DIR     # the seed's exact shapes from configs, random weights, offline
"""

from __future__ import annotations

import argparse
import dataclasses
from types import UnionType
from typing import Literal, Union, get_args, get_origin

from modeling_moda.training.config import ModaOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--vision", help="vision backbone: Hub id or local folder (CLIP, SigLIP, ViT, ...)")
    source.add_argument("--tiny", action="store_true", help="tiny CLIP tower + tiny OPT from configs")
    source.add_argument("--reference", action="store_true", help="FashionCLIP + OPT-125M shapes, random")
    parser.add_argument("--text", help="causal LM: Hub id or local folder (with --vision)")
    parser.add_argument("--gguf-file", help="GGUF file inside the --text folder/repo (e.g. SmolLM2)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--tiny-corpus", help="text file, one line per text, for the tiny tokenizer")
    options = parser.add_argument_group("model options (ModaConfig's fields)")
    for f in dataclasses.fields(ModaOptions):
        flag, kwargs = "--" + f.name.replace("_", "-"), {"default": f.default, "help": f.metadata["help"]}
        kind = f.type
        if get_origin(kind) in (Union, UnionType):  # X | None -> X
            kind = next(t for t in get_args(kind) if t is not type(None))
        if kind is bool:
            options.add_argument(flag, action=argparse.BooleanOptionalAction, **kwargs)
        elif get_origin(kind) is Literal:
            options.add_argument(flag, choices=get_args(kind), **kwargs)
        else:
            options.add_argument(flag, type=kind, **kwargs)


def run(args: argparse.Namespace) -> int:
    from modeling_moda.builder import build_moda, build_reference_config, build_tiny_moda
    from modeling_moda.cli.info import format_info, model_info
    from modeling_moda.modeling_moda import ModaForConditionalGeneration

    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(ModaOptions)}
    processor = None
    if args.tiny:
        texts = None
        if args.tiny_corpus:
            with open(args.tiny_corpus, encoding="utf-8") as f:
                texts = [line.strip() for line in f if line.strip()]
        model, processor = build_tiny_moda(texts=texts, **overrides)
    elif args.reference:
        model = ModaForConditionalGeneration(build_reference_config(**overrides))
    else:
        if not args.text:
            print("--vision needs --text")
            return 2
        text_kwargs = {"gguf_file": args.gguf_file} if args.gguf_file else {}
        model, processor = build_moda(args.vision, args.text, text_kwargs=text_kwargs, **overrides)
    model.save_pretrained(args.out)
    if processor is not None:
        processor.save_pretrained(args.out)
    else:
        print("note: --reference saves no processor (tokenizer and image processor come from the backbones)")
    print(format_info(model_info(model.config)))
    print(f"saved to {args.out}")
    return 0
