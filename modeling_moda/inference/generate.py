"""The one batched generation loop: images (or precomputed vision features) in, descriptions out.

Everything that describes images (`moda describe`, evaluation, training's sample generations) calls
`generate_descriptions`, so the settings that make generation fast live here once: `torch.inference_mode`,
batched left-padded prompts, the model's KV cache, and only the new tokens decoded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from modeling_moda.inference.attributes import step_scores
from modeling_moda.inference.batch_inputs import batch_inputs


def _model_inputs(
    processor: Any, model: Any, images: Sequence[Any] | None, n: int, prompt: str | None
) -> dict:
    # without images the processor still needs the batch size to lay out the image placeholders
    inputs = batch_inputs(processor, images, [prompt or ""] * n, num_threads=torch.get_num_threads())
    inputs = {k: v.to(model.device) for k, v in inputs.items() if isinstance(v, torch.Tensor)}
    if "pixel_values" in inputs:
        inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
    return inputs


def _generate(
    model: Any,
    processor: Any,
    images: Sequence[Any] | None,
    vision_embeds: torch.Tensor | None,
    max_new_tokens: int | None,
    prompt: str | None,
    generate_kwargs: dict[str, Any],
) -> tuple[Any, int] | None:
    """`model.generate`'s output for one batch and the prompt length; None for an empty batch."""
    if (images is None) == (vision_embeds is None):
        raise ValueError("pass exactly one of images= or vision_embeds=")
    n = len(images) if images is not None else vision_embeds.shape[0]
    if n == 0:
        return None
    inputs = _model_inputs(processor, model, images, n, prompt)
    if vision_embeds is not None:
        inputs["vision_embeds"] = vision_embeds.to(device=model.device, dtype=model.dtype)
    generate_kwargs.setdefault("pad_token_id", processor.tokenizer.pad_token_id)  # as the pipeline does
    if max_new_tokens is not None:
        generate_kwargs["max_new_tokens"] = max_new_tokens
    return model.generate(**inputs, **generate_kwargs), inputs["input_ids"].shape[1]


@torch.inference_mode()
def describe_batch(
    model: Any,
    processor: Any,
    images: Sequence[Any] | None = None,
    *,
    vision_embeds: torch.Tensor | None = None,
    max_new_tokens: int | None = None,
    prompt: str | None = None,
    **generate_kwargs: Any,
) -> list[str]:
    """Describe one batch: `images` (PIL images, paths or arrays) or `vision_embeds` [B, N_v, D_v].

    `max_new_tokens=None` takes the model's generation config.
    """
    generated = _generate(model, processor, images, vision_embeds, max_new_tokens, prompt, generate_kwargs)
    if generated is None:
        return []
    output_ids, prompt_len = generated  # [B, T + new]
    texts = processor.batch_decode(output_ids[:, prompt_len:], skip_special_tokens=True)
    return [t.strip() for t in texts]


@torch.inference_mode()
def generate_scored(
    model: Any,
    processor: Any,
    images: Sequence[Any],
    token_sets: Mapping[str, Sequence[int]],
    *,
    max_new_tokens: int | None = None,
    prompt: str | None = None,
    **generate_kwargs: Any,
) -> tuple[np.ndarray, list[tuple[np.ndarray, dict[str, np.ndarray]]]]:
    """`describe_batch`'s generation, returning the new token ids [B, T_new] and `attributes.step_scores`
    of each step (from the step's processed scores, as greedy decoding chose from them)."""
    generate_kwargs.update(output_scores=True, return_dict_in_generate=True)
    generated = _generate(model, processor, images, None, max_new_tokens, prompt, generate_kwargs)
    if generated is None:
        return np.zeros((0, 0), dtype=np.int64), []
    output, prompt_len = generated
    new_tokens = output.sequences[:, prompt_len:].cpu().numpy()
    steps = [
        step_scores(scores.float().cpu(), new_tokens[:, t], token_sets)
        for t, scores in enumerate(output.scores)
    ]
    return new_tokens, steps


def iter_descriptions(
    model: Any,
    processor: Any,
    images: Sequence[Any] | None = None,
    *,
    vision_embeds: torch.Tensor | None = None,
    batch_size: int = 16,
    max_new_tokens: int | None = None,
    prompt: str | None = None,
    progress: bool = True,
    **generate_kwargs: Any,
) -> Iterator[str]:
    """`generate_descriptions`, one description at a time as each batch finishes."""
    n = len(images) if images is not None else len(vision_embeds)
    with tqdm(total=n, desc="describe", unit="img", disable=not progress) as bar:
        for start in range(0, n, batch_size):
            batch = dict(
                images=None if images is None else images[start : start + batch_size],
                vision_embeds=None if vision_embeds is None else vision_embeds[start : start + batch_size],
            )
            texts = describe_batch(
                model, processor, **batch, max_new_tokens=max_new_tokens, prompt=prompt, **generate_kwargs
            )
            bar.update(len(texts))
            yield from texts


def generate_descriptions(
    model: Any,
    processor: Any,
    images: Sequence[Any] | None = None,
    batch_size: int = 16,
    max_new_tokens: int | None = None,
    prompt: str | None = None,
    progress: bool = True,
    *,
    vision_embeds: torch.Tensor | None = None,
    **generate_kwargs: Any,
) -> list[str]:
    """Describe `images` (PIL images, paths or arrays) or precomputed `vision_embeds` [N, N_v, D_v]
    in batches of `batch_size`; returns one description per input, in order.

    Extra keyword arguments go to `model.generate` (e.g. `num_beams`, `do_sample`); the model's saved
    generation config supplies the rest, as in `pipeline("image-to-text")`.
    """
    return list(
        iter_descriptions(
            model,
            processor,
            images,
            vision_embeds=vision_embeds,
            batch_size=batch_size,
            max_new_tokens=max_new_tokens,
            prompt=prompt,
            progress=progress,
            **generate_kwargs,
        )
    )
