"""Inference benchmark: seed-shaped MODA against peer captioners, on this machine, in one run.

Every model is built from a config with its published sizes and random weights (nothing is downloaded):
- MODA: CLIP ViT-B/32 (224 px) -> MLP 512->3072->768 -> OPT-125M, one image token (`build_reference_config`);
  timed as plain transformers generation, and through `generate_descriptions` in fp32 and with int8
  dynamic quantization (what `moda describe --quantize int8` runs);
- GIT-base (`GitConfig()` defaults = microsoft/git-base: ViT-B/16 224 px + 6-layer BERT-style decoder);
- BLIP-base (`BlipConfig()` defaults = Salesforce/blip-image-captioning-base: ViT-B/16 at 384 px + BERT-base);
- ViT-GPT2 (VisionEncoderDecoder: ViT-base/16 224 px + GPT-2 124M with cross-attention);
- the same MODA exported with `moda export onnx --quantize int8 q4` and run by ONNX Runtime (`OnnxDescriber`):
  fp32 graphs, int8 graphs, and the 4-bit decoder with the int8 vision graph (q4). The export happens once
  per run (or reuse one with `--onnx-dir`), and a check compares the greedy tokens for 16 varied images:
  ONNX Runtime fp32 / int8 / q4 and PyTorch int8 against PyTorch fp32.

Each model runs in its own subprocess (clean peak RSS, no shared caches), generates exactly 32 new tokens
(greedy, KV cache on, EOS suppressed with `min_new_tokens`) for the same image, preprocessing and decoding
included, and reports the median of `--runs` timed runs after one warm-up: batch-1 latency and batch-16
throughput, with ratios to GIT-base. Numbers are only comparable within one run on one machine; the load
average is printed because other processes on a shared machine make them noisy. Each model starts after
`--cooldown` idle seconds: a virtual machine can slow down under sustained load (measured on the 2-core dev
machine: after a 150-s burn on both cores the q4 row took 0.26 s per image, after 60 s idle 0.19 s), which
would otherwise favour whichever model runs first.

    python recipes/benchmark_inference.py                       # all models
    python recipes/benchmark_inference.py --models moda-int8 git-base --runs 5 --threads 2
    python recipes/benchmark_inference.py --models moda-fp32 moda-int8 moda-onnx-fp32 moda-onnx-int8 git-base
    python recipes/benchmark_inference.py --save-reference DIR  # for `moda describe` RSS on the seed shape
    python recipes/benchmark_inference.py --agreement           # int8 vs fp32 token agreement (reference)
    python recipes/benchmark_inference.py --quality DIR --dataset DS [--onnx-export OUT]  # rules judge
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

TOKENS = 32
PEERS = ("git-base", "blip-base", "vit-gpt2")
MODAS = ("moda-plain", "moda-fp32", "moda-int8")
ONNX = {"moda-onnx-fp32": "fp32", "moda-onnx-int8": "int8", "moda-onnx-q4": "q4"}  # ORT on `moda export onnx`
ALL = MODAS + tuple(ONNX) + PEERS
PRECISION = {
    "moda-int8": "int8 dyn.",
    "moda-onnx-fp32": "fp32 ORT",
    "moda-onnx-int8": "int8 dyn. ORT",
    "moda-onnx-q4": "4-bit LM ORT",
}


def test_image():
    """One product-photo-like image (a garment silhouette on white), 600x800 like catalog photos."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 800), "white")
    draw = ImageDraw.Draw(image)
    draw.polygon([(150, 150), (450, 150), (520, 300), (440, 330), (440, 700), (160, 700), (160, 330),
                  (80, 300)], fill=(180, 30, 40))  # fmt: skip
    return image


def reference_moda():
    """Seed-shaped MODA with random weights + a processor (tokenizer trained offline, CLIP preprocessing)."""
    import torch
    from transformers import CLIPImageProcessorPil

    from modeling_moda.builder import build_reference_config, train_tokenizer
    from modeling_moda.configuration_moda import IMAGE_TOKEN
    from modeling_moda.modeling_moda import ModaForConditionalGeneration
    from modeling_moda.processing_moda import ModaProcessor

    tokenizer = train_tokenizer()
    torch.manual_seed(0)
    model = ModaForConditionalGeneration(
        build_reference_config(image_token_id=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN))
    ).eval()
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}
    )
    return model, ModaProcessor(image_processor=image_processor, tokenizer=tokenizer)


def varied_images(n: int = 16) -> list:
    """`n` different garment photos for the greedy check: colours, backgrounds and proportions vary."""
    from PIL import Image, ImageDraw

    images = []
    for i in range(n):
        image = Image.new("RGB", (600, 800), (255 - 9 * i, 255 - 5 * i, 250))
        colour = ((37 * i) % 256, (91 * i + 40) % 256, (153 * i + 80) % 256)
        w = 120 + 15 * i
        ImageDraw.Draw(image).rectangle([300 - w, 120 + 10 * i, 300 + w, 720 - 12 * i], fill=colour)
        images.append(image)
    return images


def prepare_onnx(out: str) -> dict:
    """Save the seed-shaped random MODA to OUT/torch and export it to OUT/onnx (fp32, int8, q4)."""
    from modeling_moda.inference.onnx_export import export_onnx

    model, processor = reference_moda()
    model.save_pretrained(os.path.join(out, "torch"))
    processor.save_pretrained(os.path.join(out, "torch"))
    start = time.perf_counter()
    info = export_onnx(os.path.join(out, "torch"), os.path.join(out, "onnx"), quantize=["int8", "q4"])
    return {"export_s": round(time.perf_counter() - start, 1), "validation": info["validation"]}


def greedy_check(onnx_dir: str, threads: int | None) -> dict:
    """Share of the varied images whose 32 greedy tokens equal PyTorch fp32's. Token ids, not text: the
    random-weight model writes ids beyond the small offline tokenizer, which decode to nothing."""
    import torch

    from modeling_moda.inference.onnx_runtime import OnnxDescriber
    from modeling_moda.inference.runtime import load_for_inference, quantize_int8

    images = varied_images()
    force = {"max_new_tokens": TOKENS, "min_new_tokens": TOKENS, "do_sample": False, "num_beams": 1}
    model, processor = load_for_inference(os.path.join(onnx_dir, "torch"), device="cpu", dtype="float32")
    inputs = processor(images=images, text=[""] * len(images), return_tensors="pt")
    prompt = inputs["input_ids"].shape[1]
    with torch.inference_mode():
        reference = model.generate(**inputs, **force)[:, prompt:].tolist()
        tokens = {"torch int8": quantize_int8(model).generate(**inputs, **force)[:, prompt:].tolist()}
    for name, dtype in ONNX.items():
        describer = OnnxDescriber(os.path.join(onnx_dir, "onnx"), dtype=dtype, num_threads=threads)
        tokens[name] = describer.generate_ids(images, max_new_tokens=TOKENS, min_new_tokens=TOKENS).tolist()
    same = {k: sum(a == b for a, b in zip(v, reference, strict=True)) for k, v in tokens.items()}
    out = {f"{k} == torch fp32": f"{n}/{len(images)}" for k, n in same.items()}
    return {**out, "distinct torch fp32 sequences": len({tuple(r) for r in reference})}


def build_runner(name: str, onnx_dir: str | None = None) -> tuple[Callable[[list], int], int]:
    """(describe(images) -> new tokens per image, parameter count) for one benchmarked model."""
    import torch

    torch.manual_seed(0)
    force = {"max_new_tokens": TOKENS, "min_new_tokens": TOKENS, "do_sample": False, "num_beams": 1}
    if name in ONNX:
        from modeling_moda.inference.onnx_runtime import OnnxDescriber

        export = os.path.join(onnx_dir, "onnx")
        describer = OnnxDescriber(export, dtype=ONNX[name], num_threads=torch.get_num_threads())
        with open(os.path.join(export, "onnx_export.json")) as f:
            params = json.load(f)["source_parameters"]

        def onnx_runner(images: list) -> int:
            ids = describer.generate_ids(images, max_new_tokens=TOKENS, min_new_tokens=TOKENS)
            describer.processor.batch_decode(ids, skip_special_tokens=True)
            return ids.shape[1]

        return onnx_runner, params
    if name in MODAS:
        from modeling_moda.inference.generate import describe_batch
        from modeling_moda.inference.runtime import prepare_model

        model, processor = reference_moda()
        params = sum(p.numel() for p in model.parameters())
        if name == "moda-plain":  # what a user gets from transformers without our loop

            def plain(images: list) -> int:
                inputs = processor(images=images, return_tensors="pt")
                out = model.generate(**inputs, **force)
                processor.batch_decode(out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
                return out.shape[1] - inputs["input_ids"].shape[1]

            return plain, params
        model = prepare_model(
            model, device="cpu", dtype="float32", quantize="int8" if "int8" in name else None
        )

        # describe_batch returns text only: count the new tokens once with the same inputs and settings
        probe = processor(images=[test_image()], text=[""], return_tensors="pt")
        with torch.inference_mode():
            new_tokens = model.generate(**probe, **force).shape[1] - probe["input_ids"].shape[1]

        def ours(images: list) -> int:
            describe_batch(model, processor, images, **force)  # what `moda describe` runs per batch
            return new_tokens

        return ours, params

    if name == "git-base":
        from transformers import CLIPImageProcessorPil, GitConfig, GitForCausalLM

        model = GitForCausalLM(GitConfig()).eval()
        image_processor = CLIPImageProcessorPil(
            size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}
        )
        start = model.config.bos_token_id
    elif name == "blip-base":
        from transformers import BlipConfig, BlipForConditionalGeneration, BlipImageProcessorPil

        model = BlipForConditionalGeneration(BlipConfig()).eval()
        image_processor = BlipImageProcessorPil(size={"height": 384, "width": 384})
        start = None
    elif name == "vit-gpt2":
        from transformers import (
            GPT2Config,
            VisionEncoderDecoderConfig,
            VisionEncoderDecoderModel,
            ViTConfig,
            ViTImageProcessorPil,
        )

        config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(
            ViTConfig(), GPT2Config(add_cross_attention=True, is_decoder=True)
        )
        config.decoder_start_token_id = config.pad_token_id = config.eos_token_id = 50256
        model = VisionEncoderDecoderModel(config=config).eval()
        model.generation_config.decoder_start_token_id = model.generation_config.pad_token_id = 50256
        image_processor = ViTImageProcessorPil(size={"height": 224, "width": 224})
        start = None
    else:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(ALL)}")
    params = sum(p.numel() for p in model.parameters())

    def peer(images: list) -> int:
        pixels = image_processor(images, return_tensors="pt")["pixel_values"]
        kwargs = dict(force)
        if start is not None:  # GIT: start from [CLS] like its processor's empty prompt
            kwargs["input_ids"] = torch.full((len(images), 1), start, dtype=torch.long)
        out = model.generate(pixel_values=pixels, **kwargs)
        prompt = kwargs["input_ids"].shape[1] if start is not None else 1  # decoder start token
        return out.shape[1] - prompt

    return peer, params


def time_runs(describe: Callable[[list], int], batch: int, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `runs` calls after one warm-up; checks that exactly TOKENS tokens
    came out. CPU seconds with `--threads 1` stay comparable on a busy machine, where wall time does not."""
    images = [test_image() for _ in range(batch)]
    new = describe(images)
    if new != TOKENS:
        raise RuntimeError(f"generated {new} tokens, expected {TOKENS}")
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        describe(images)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), statistics.median(cpu)


def worker(name: str, runs: int, batch_sizes: list[int], onnx_dir: str | None = None) -> dict:
    import torch

    describe, params = build_runner(name, onnx_dir)
    result = {"model": name, "params_m": params / 1e6, "threads": torch.get_num_threads()}
    with torch.inference_mode():
        for batch in batch_sizes:
            result[f"b{batch}_s"], result[f"b{batch}_cpu_s"] = time_runs(describe, batch, runs)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def run_child(argv: list[str], threads: int | None) -> dict | None:
    """Run this script in a subprocess (clean peak RSS); its last stdout line is JSON. None on failure."""
    cmd = [sys.executable, __file__, *argv] + (["--threads", str(threads)] if threads else [])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"{' '.join(argv)}: failed\n{done.stderr[-3000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(results: list[dict], batch_sizes: list[int]) -> None:
    base = next((r for r in results if r["model"] == "git-base"), None)
    head = ["model", "precision", "params (M)"]
    for b in batch_sizes:
        head += [f"batch-{b} s/img" if b == 1 else f"batch-{b} img/s", "vs GIT-base"]
    rows = [head]
    for r in results:
        row = [r["model"], PRECISION.get(r["model"], "fp32"), f"{r['params_m']:.0f}"]
        for b in batch_sizes:
            seconds = r[f"b{b}_s"]
            if b == 1:  # latency: GIT's / ours, > 1 = faster
                row += [f"{seconds:.3f}", f"{base['b1_s'] / seconds:.2f}x" if base else "-"]
            else:  # throughput: ours / GIT's
                row += [f"{b / seconds:.2f}", f"{base[f'b{b}_s'] / seconds:.2f}x" if base else "-"]
        rows.append(row + [f"{r['peak_rss_mb']:.0f}"])
    rows[0].append("peak RSS (MB)")
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print(" | ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
        if i == 0:
            print("-|-".join("-" * w for w in widths))


def agreement(images: int = 8) -> dict:
    """int8 vs fp32 on the reference shape (random weights): greedy-token agreement and logit error.

    Random weights give near-uniform logits, so near-ties flip easily: this is a lower bound on agreement.
    """
    import copy

    import torch

    from modeling_moda.inference.runtime import quantize_int8

    model, processor = reference_moda()
    int8 = quantize_int8(copy.deepcopy(model))
    torch.manual_seed(1)
    pixels = torch.rand(images, 3, 224, 224) * 2 - 1
    inputs = processor(text=[""] * images, return_tensors="pt")
    force = {"max_new_tokens": TOKENS, "min_new_tokens": TOKENS, "do_sample": False}
    with torch.inference_mode():
        ref = model.generate(**inputs, pixel_values=pixels, **force)
        q = int8.generate(**inputs, pixel_values=pixels, **force)
        # logits of both models on the fp32 model's sequence (teacher forcing): same inputs, compare outputs
        mask = torch.ones_like(ref)
        a = model(input_ids=ref, attention_mask=mask, pixel_values=pixels).logits.float()
        b = int8(input_ids=ref, attention_mask=mask, pixel_values=pixels).logits.float()
    prompt = inputs["input_ids"].shape[1]
    new_ref, new_q = ref[:, prompt:], q[:, prompt:]
    same_prefix = (new_ref == new_q).int().cumprod(dim=1).sum(dim=1).float()
    return {
        "images": images,
        "token_agreement": (new_ref == new_q).float().mean().item(),
        "identical_prefix_tokens_mean": same_prefix.mean().item(),
        "teacher_forced_argmax_agreement": (a.argmax(-1) == b.argmax(-1)).float().mean().item(),
        "logit_max_abs_err": (a - b).abs().max().item(),
        "logit_rel_err": ((a - b).norm() / a.norm()).item(),
    }


def quality(model_dir: str, dataset: str, split: str, limit: int | None, onnx_dir: str | None) -> dict:
    """Rules-judge metrics of a trained MODA: PyTorch fp32 and int8, and with `onnx_dir` (a `moda export onnx`
    of the same model) every ONNX dtype it holds; each variant's share of descriptions identical to
    PyTorch fp32's."""
    from modeling_moda.core.datasets import load_split
    from modeling_moda.evaluation import aggregate, get_judge
    from modeling_moda.evaluation.run import references_of
    from modeling_moda.inference.describer import load_describer
    from modeling_moda.inference.onnx_runtime import GRAPH_SUFFIXES, GRAPHS, graph_path

    rows = load_split(dataset, split, limit=limit)
    images = [img.convert("RGB") for img in rows["image"]]
    references = references_of(rows)
    judge = get_judge("rules")
    variants = [("torch", "fp32"), ("torch", "int8")]
    if onnx_dir:
        variants += [
            ("onnxruntime", dtype)
            for dtype in GRAPH_SUFFIXES
            if all(graph_path(onnx_dir, g, dtype).is_file() for g in GRAPHS)
        ]
    out, texts = {}, {}
    for runtime, dtype in variants:
        describer = load_describer(onnx_dir if runtime == "onnxruntime" else model_dir, runtime, dtype=dtype)
        start = time.perf_counter()
        name = f"{runtime} {dtype}"
        texts[name] = [t for i in range(0, len(images), 16) for t in describer.describe(images[i : i + 16])]
        seconds = time.perf_counter() - start
        metrics = aggregate(judge.score(texts[name], references))
        means = {k: round(v["mean"], 4) for k, v in metrics.items() if isinstance(v, dict) and "mean" in v}
        same = sum(a == b for a, b in zip(texts[name], texts["torch fp32"], strict=True))
        out[name] = {
            **means,
            "identical_to_torch_fp32": f"{same}/{len(images)}",
            "describe_s": round(seconds, 1),
        }
    out["samples"] = len(images)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(ALL), choices=ALL)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measurement (median)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--cooldown", type=float, default=60.0, help="idle seconds before each model")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument(
        "--agreement", action="store_true", help="int8 vs fp32 agreement on the reference shape"
    )
    parser.add_argument(
        "--quality", metavar="MODEL_DIR", help="rules-judge metrics and text agreement, fp32 vs quantized"
    )
    parser.add_argument("--dataset", help="dataset folder for --quality")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--save-reference", metavar="DIR", help="save the seed-shaped random MODA and exit")
    parser.add_argument("--onnx-export", help="for --quality: `moda export onnx` of MODEL_DIR")
    parser.add_argument("--onnx-dir", help="folder for the ONNX rows' export (reused if it holds one)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--prepare-onnx", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.prepare_onnx:
        print(json.dumps(prepare_onnx(args.prepare_onnx)))
        return 0
    if args.worker == "greedy-check":
        print(json.dumps(greedy_check(args.onnx_dir, args.threads)))
        return 0
    if args.worker:
        print(json.dumps(worker(args.worker, args.runs, args.batch_sizes, args.onnx_dir)))
        return 0
    if args.save_reference:  # e.g. to measure `moda describe` on the seed shape
        model, processor = reference_moda()
        model.save_pretrained(args.save_reference)
        processor.save_pretrained(args.save_reference)
        print(f"saved the seed-shaped MODA (random weights) to {args.save_reference}")
        return 0
    if args.agreement or args.quality:
        result = (
            agreement()
            if args.agreement
            else quality(args.quality, args.dataset, args.split, args.limit, args.onnx_export)
        )
        print(json.dumps(result, indent=2))
        return 0

    print(f"{TOKENS} new tokens, greedy, KV cache; median of {args.runs} runs after a warm-up and "
          f"{args.cooldown:g} s idle; load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
          flush=True)  # fmt: skip
    onnx_dir = None
    if any(name in ONNX for name in args.models):
        onnx_dir = args.onnx_dir or tempfile.mkdtemp(prefix="moda-bench-onnx-")
        if not os.path.isfile(os.path.join(onnx_dir, "onnx", "onnx_export.json")):
            prepared = run_child(["--prepare-onnx", onnx_dir], args.threads)
            if prepared is None:
                return 1
            print(f"  ONNX export: {json.dumps(prepared)}", flush=True)
    results = []
    for name in args.models:
        time.sleep(args.cooldown)
        cmd = ["--worker", name, "--runs", str(args.runs), "--batch-sizes", *map(str, args.batch_sizes)]
        results.append(run_child(cmd + (["--onnx-dir", onnx_dir] if onnx_dir else []), args.threads))
        if results[-1] is None:
            return 1
        summary = {k: round(v, 3) for k, v in results[-1].items() if k != "model"}
        print(f"  {name}: {json.dumps(summary)}", flush=True)
    if onnx_dir:
        check = run_child(["--worker", "greedy-check", "--onnx-dir", onnx_dir], args.threads)
        print(f"  greedy tokens, {TOKENS} per image, {len(varied_images())} images: {json.dumps(check)}")
        if not args.onnx_dir:
            shutil.rmtree(onnx_dir)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print_table(results, args.batch_sizes)
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(results, f, indent=2)
        os.replace(args.json + ".tmp", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
