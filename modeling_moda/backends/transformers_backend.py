"""A local transformers model behind the same `.chat` / `.chat_many` interface as the OpenAI client.

Causal LMs (e.g. Phi-3-mini, SmolLM2) take text through the tokenizer's chat template; image-text-to-text
models (e.g. Phi-3.5-vision, SmolVLM, Qwen2-VL) take OpenAI-style messages with `image_url` parts (base64 data
URLs from `image_to_data_url`) through the processor's chat template. A local folder or a Hub id; a GGUF file
with `gguf_file=`. `chat_many` generates in left-padded batches; a failing batch is retried item by item so
one bad conversation costs only its own reply.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .base import BackendError, ChatReply, data_url_to_image

__all__ = ["TransformersChat"]

IMAGE_TEXT_TO_TEXT = "image-text-to-text"
CAUSAL_LM = "causal-lm"
# OpenAI request options that have no meaning for local generation and are accepted silently.
_OPTIONS = {"max_tokens", "max_new_tokens", "temperature", "top_p", "seed", "stop"}
_IGNORED_OPTIONS = {"response_format", "n", "user", "stream", "presence_penalty", "frequency_penalty"}


class TransformersChat:
    """`TransformersChat("HuggingFaceTB/SmolLM2-135M-Instruct")`, or a folder, or `(dir, gguf_file="x.gguf")`.

    `kind` is detected from the config (`"causal-lm"` or `"image-text-to-text"`); pass it to override.
    Generation options use OpenAI names: `max_tokens`, `temperature` (0 = greedy), `top_p`, `seed`, `stop`.
    """

    name = "transformers"

    def __init__(
        self,
        model: str,
        gguf_file: str | None = None,
        device: str = "cpu",
        dtype: str | None = None,
        kind: str | None = None,
        trust_remote_code: bool = False,
        batch_size: int = 8,
    ):
        import torch
        from transformers import AutoConfig

        self.model = f"{model}:{gguf_file}" if gguf_file else str(model)
        self.device = device
        self.batch_size = batch_size
        self._lock = threading.Lock()
        load = {"gguf_file": gguf_file, "trust_remote_code": trust_remote_code}
        load = {k: v for k, v in load.items() if v}
        try:
            config = AutoConfig.from_pretrained(model, **load)
        except (OSError, ValueError) as exc:
            raise BackendError(f"cannot load model config from {model!r}: {exc}") from exc
        self.kind = kind or _detect_kind(config)
        torch_dtype = getattr(torch, dtype) if isinstance(dtype, str) and dtype != "auto" else dtype
        if self.kind == IMAGE_TEXT_TO_TEXT:
            from transformers import AutoModelForImageTextToText, AutoProcessor

            self.processor = AutoProcessor.from_pretrained(model, **load)
            self.tokenizer = self.processor.tokenizer
            auto_cls = AutoModelForImageTextToText
        elif self.kind == CAUSAL_LM:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            self.processor = self.tokenizer = AutoTokenizer.from_pretrained(model, **load)
            auto_cls = AutoModelForCausalLM
        else:
            raise ValueError(f"kind must be {CAUSAL_LM!r} or {IMAGE_TEXT_TO_TEXT!r}, got {kind!r}")
        self.tokenizer.padding_side = "left"  # batched generation must pad on the left
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.lm = auto_cls.from_pretrained(model, dtype=torch_dtype or "auto", **load).to(device).eval()

    def chat(self, messages: list[dict], **gen: Any) -> ChatReply:
        """One reply; `BackendError` if the conversation cannot be run (e.g. an image for a text model)."""
        return self._generate([messages], **gen)[0]

    def chat_many(
        self, batch: list[list[dict]], progress: bool = False, **gen: Any
    ) -> list[ChatReply | Exception]:
        """Replies in input order, `batch_size` conversations per `generate`; failures come back as errors."""
        from tqdm.auto import tqdm

        _generation_options(gen, self.tokenizer)  # a bad option is the caller's bug: raise it, once
        results: list[ChatReply | Exception] = []
        for start in tqdm(
            range(0, len(batch), self.batch_size), disable=not progress, desc=f"{self.model} chat"
        ):
            group = batch[start : start + self.batch_size]
            try:
                results.extend(self._generate(group, **gen))
            except Exception:  # isolate the bad conversation(s): run the group one by one
                for messages in group:
                    try:
                        results.append(self._generate([messages], **gen)[0])
                    except Exception as exc:  # noqa: BLE001 - a batch job records the failure and goes on
                        results.append(exc if isinstance(exc, BackendError) else BackendError(f"{exc!r}"))
        return results

    def _generate(self, conversations: list[list[dict]], **gen: Any) -> list[ChatReply]:
        import torch

        options = _generation_options(gen, self.tokenizer)
        seed = options.pop("seed", None)
        conversations = [self._to_hf_messages(m) for m in conversations]
        # Tokenizers take `padding` directly, processors inside `processor_kwargs`.
        pad = {"padding": True} if self.kind == CAUSAL_LM else {"processor_kwargs": {"padding": True}}
        inputs = self.processor.apply_chat_template(
            conversations,
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            **pad,
        ).to(self.device)
        if self.kind == IMAGE_TEXT_TO_TEXT:
            inputs = inputs.to(self.lm.dtype)  # pixel values in the model's dtype (floats only are cast)
        prompt_len = inputs["input_ids"].shape[1]  # [B, T] left-padded
        with self._lock, torch.inference_mode():
            if seed is not None:
                torch.manual_seed(seed)
            start = time.perf_counter()
            output = self.lm.generate(**inputs, **options)
            latency = time.perf_counter() - start
        new_tokens = output[:, prompt_len:]  # [B, T_new]
        end_ids = _end_ids(self.lm.generation_config, self.tokenizer)
        replies = []
        for row, mask in zip(new_tokens.tolist(), inputs["attention_mask"].tolist(), strict=True):
            n_new = next((i for i, t in enumerate(row) if t in end_ids), len(row))
            finish = "length" if n_new >= options["max_new_tokens"] else "stop"
            text = self.tokenizer.decode(row[:n_new], skip_special_tokens=True)
            usage = {"prompt_tokens": int(sum(mask)), "completion_tokens": n_new}
            usage["total_tokens"] = usage["prompt_tokens"] + n_new
            replies.append(ChatReply(text.strip(), usage, self.model, finish, latency / len(conversations)))
        return replies

    def _to_hf_messages(self, messages: list[dict]) -> list[dict]:
        """OpenAI-format messages -> what this model's chat template expects."""
        converted = []
        for message in messages:
            content = message.get("content")
            if isinstance(content, list):
                parts = [_to_hf_part(part) for part in content]
                if self.kind == CAUSAL_LM:
                    if any(p["type"] != "text" for p in parts):
                        raise BackendError(f"{self.model} is a text-only model and cannot take image content")
                    content = "\n".join(p["text"] for p in parts)
                else:
                    content = parts
            elif self.kind == IMAGE_TEXT_TO_TEXT and isinstance(content, str):
                content = [{"type": "text", "text": content}]
            converted.append({**message, "content": content})
        return converted


def _detect_kind(config: Any) -> str:
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    auto_map = getattr(config, "auto_map", None) or {}
    if (
        config.model_type in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES
        or "AutoModelForImageTextToText" in auto_map
    ):
        return IMAGE_TEXT_TO_TEXT
    return CAUSAL_LM


def _to_hf_part(part: dict) -> dict:
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "text": part["text"]}
    if kind == "image_url":
        info = part["image_url"]
        url = info.get("url", "") if isinstance(info, dict) else info
        if url.startswith("data:"):
            return {"type": "image", "image": data_url_to_image(url)}
        return {"type": "image", "url": url}
    if kind == "image":
        return part
    raise BackendError(f"unsupported message content part type {kind!r}")


def _generation_options(gen: dict, tokenizer: Any) -> dict:
    gen = dict(gen)
    unknown = set(gen) - _OPTIONS - _IGNORED_OPTIONS
    if unknown:
        raise TypeError(f"unsupported generation options for a local model: {sorted(unknown)}")
    temperature = gen.get("temperature", 0.0) or 0.0
    options: dict[str, Any] = {
        "max_new_tokens": gen.get("max_new_tokens", gen.get("max_tokens", 256)),
        "do_sample": temperature > 0,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if temperature > 0:
        options["temperature"] = temperature
        if gen.get("top_p") is not None:
            options["top_p"] = gen["top_p"]
    if gen.get("seed") is not None:
        options["seed"] = gen["seed"]
    if gen.get("stop"):
        stop = gen["stop"]
        options["stop_strings"] = [stop] if isinstance(stop, str) else list(stop)
        options["tokenizer"] = tokenizer
    return options


def _end_ids(generation_config: Any, tokenizer: Any) -> set[int]:
    """Token ids that end a reply in the generated rows: EOS (one or several) and padding."""
    eos = generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    ids |= {i for i in (tokenizer.eos_token_id, tokenizer.pad_token_id) if i is not None}
    return ids
