"""The `image-to-text` pipeline for MODA, saved with every model (config.custom_pipelines).

Remote code: imports only transformers. In a fresh process:
`pipeline("image-to-text", model=DIR, trust_remote_code=True)(image | path | [images...])`
-> `[{"generated_text": ...}]` per image.

`return_token_scores=True` adds `token_ids` (the new tokens, up to EOS) and `token_scores` (each one's
probability: softmax of the step's scores at the chosen token); `token_sets={name: [ids]}` adds
`token_set_scores`: per name, each chosen token's probability among those ids and itself. With the sets of
`modeling_moda.inference.attributes.attribute_token_sets(tokenizer)`, `described_from_tokens(tokenizer,
out["token_ids"], out["token_scores"], within=out["token_set_scores"])` reads the attributes with the
confidence `describe_detailed` gives. The reading needs MODA's lexicon, which remote code cannot import.
"""

from __future__ import annotations

import torch
from transformers import AutoModelForImageTextToText, GenerationConfig, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY


class ModaImageToTextPipeline(Pipeline):
    """Describe images: each image (PIL, path or numpy array) + optional `prompt` -> generated text."""

    _load_processor = True
    _load_image_processor = False
    _load_feature_extractor = False
    _load_tokenizer = False
    _pipeline_calls_generate = True
    _default_generation_config = GenerationConfig(max_new_tokens=48)

    def _sanitize_parameters(
        self,
        prompt=None,
        max_new_tokens=None,
        generate_kwargs=None,
        return_token_scores=None,
        token_sets=None,
        **kwargs,
    ):
        generate_kwargs = dict(generate_kwargs or {})
        if max_new_tokens is not None:
            generate_kwargs["max_new_tokens"] = max_new_tokens
        preprocess = {"prompt": prompt} if prompt is not None else {}
        scores = {"return_token_scores": True} if return_token_scores or token_sets else {}
        forward = {"generate_kwargs": generate_kwargs, **scores}
        if token_sets:
            forward["token_sets"] = [list(ids) for ids in token_sets.values()]
            scores = {**scores, "token_set_names": list(token_sets)}
        return preprocess, forward, scores

    def preprocess(self, image, prompt: str | None = None):
        return self.processor(images=image, text=prompt or "", return_tensors="pt").to(self.dtype)

    def _forward(self, model_inputs, generate_kwargs=None, return_token_scores=False, token_sets=None):
        generate_kwargs = self._prepare_generate_kwargs(generate_kwargs or {})
        prompt_length = model_inputs["input_ids"].shape[1]
        if not return_token_scores:
            generated = self.model.generate(**model_inputs, **generate_kwargs)  # [B, T + new]
            return {"new_tokens": generated[:, prompt_length:]}
        generate_kwargs.update(output_scores=True, return_dict_in_generate=True)
        output = self.model.generate(**model_inputs, **generate_kwargs)
        new_tokens = output.sequences[:, prompt_length:]
        probs = torch.stack(output.scores, dim=1).float().softmax(-1)  # [B, T_new, V]
        chosen = probs.gather(-1, new_tokens[..., None])[..., 0]  # [B, T_new]
        outputs = {"new_tokens": new_tokens, "token_scores": chosen}
        within = []
        for ids in token_sets or []:
            ids = torch.tensor(ids, dtype=torch.long, device=probs.device)
            outside = ~torch.isin(new_tokens, ids)
            within.append(chosen / (probs[..., ids].sum(-1) + chosen * outside).clamp_min(1e-30))
        if within:  # one tensor [B, T_new, sets]: the pipeline's batching splits tensors, not dicts
            outputs["token_set_scores"] = torch.stack(within, dim=-1)
        return outputs

    def postprocess(self, model_outputs, return_token_scores=False, token_set_names=()):
        texts = self.processor.batch_decode(model_outputs["new_tokens"], skip_special_tokens=True)
        if not return_token_scores:
            return [{"generated_text": text.strip()} for text in texts]
        eos = self.model.generation_config.eos_token_id
        eos = {eos} if isinstance(eos, int) else set(eos or ())
        outputs = []
        within = model_outputs.get("token_set_scores")
        for b, (text, ids) in enumerate(zip(texts, model_outputs["new_tokens"].tolist(), strict=True)):
            end = next((i for i, token in enumerate(ids) if token in eos), len(ids))
            row = {
                "generated_text": text.strip(),
                "token_ids": ids[:end],
                "token_scores": model_outputs["token_scores"][b, :end].tolist(),
            }
            if within is not None:
                row["token_set_scores"] = {
                    name: within[b, :end, k].tolist() for k, name in enumerate(token_set_names)
                }
            outputs.append(row)
        return outputs


PIPELINE_REGISTRY.register_pipeline(
    "image-to-text",
    pipeline_class=ModaImageToTextPipeline,
    pt_model=AutoModelForImageTextToText,
    type="multimodal",
)

__all__ = ["ModaImageToTextPipeline"]
