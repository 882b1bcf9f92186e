"""The `image-to-text` pipeline for MODA, saved with every model (config.custom_pipelines).

Remote code: imports only transformers. In a fresh process:
`pipeline("image-to-text", model=DIR, trust_remote_code=True)(image | path | [images...])`
-> `[{"generated_text": ...}]` per image.
"""

from __future__ import annotations

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

    def _sanitize_parameters(self, prompt=None, max_new_tokens=None, generate_kwargs=None, **kwargs):
        generate_kwargs = dict(generate_kwargs or {})
        if max_new_tokens is not None:
            generate_kwargs["max_new_tokens"] = max_new_tokens
        preprocess = {"prompt": prompt} if prompt is not None else {}
        return preprocess, {"generate_kwargs": generate_kwargs}, {}

    def preprocess(self, image, prompt: str | None = None):
        return self.processor(images=image, text=prompt or "", return_tensors="pt").to(self.dtype)

    def _forward(self, model_inputs, generate_kwargs=None):
        generate_kwargs = self._prepare_generate_kwargs(generate_kwargs or {})
        prompt_length = model_inputs["input_ids"].shape[1]
        generated = self.model.generate(**model_inputs, **generate_kwargs)  # [B, T + new]
        return {"new_tokens": generated[:, prompt_length:]}

    def postprocess(self, model_outputs):
        texts = self.processor.batch_decode(model_outputs["new_tokens"], skip_special_tokens=True)
        return [{"generated_text": text.strip()} for text in texts]


PIPELINE_REGISTRY.register_pipeline(
    "image-to-text",
    pipeline_class=ModaImageToTextPipeline,
    pt_model=AutoModelForImageTextToText,
    type="multimodal",
)

__all__ = ["ModaImageToTextPipeline"]
