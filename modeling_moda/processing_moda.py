"""MODA processor: image loading + image processor + tokenizer, `<image>` expansion and the label mask.

Remote code: imports only transformers (and PIL/numpy, which transformers' image processors need).
A sample is: [tokenizer's start tokens] <image> x N [prompt] [description EOS]. Labels are -100 everywhere
except the description and its EOS. Without a description the sample is a generation prompt, left-padded.
Keyword arguments follow transformers' ProcessingKwargs; `image_token`, `replace_image_token`,
`_get_num_multimodal_tokens` and `text_replacement_offsets` are what vLLM's Transformers backend reads.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Unpack

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from transformers import BatchFeature, ProcessorMixin
from transformers.image_utils import ImageInput
from transformers.processing_utils import MultiModalData, ProcessingKwargs

IMAGE_TOKEN = "<image>"
MAX_IMAGE_PIXELS = 89_478_485  # PIL's decompression-bomb threshold (~ 9459 x 9459)

# Plain MODA format: image token(s), the user's text, then the assistant's text + EOS (training) or nothing.
# The loop runs over message['content'] itself: that is how vLLM detects a template that takes image parts.
PLAIN_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}"
    "{% endfor %}"
)
# ChatML (SmolLM2, Qwen): the same parts inside <|im_start|>role ... <|im_end|> turns.
CHATML_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB; transparency is composited on white (product-photo background)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / top * 255.0, 0, 255).astype(np.uint8))  # mode L
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def load_image(src, max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """PIL image, path, bytes or numpy array -> RGB PIL image with EXIF orientation applied.

    Raises ValueError naming the source for a missing, truncated, non-image or oversized input.
    """
    if isinstance(src, Image.Image):
        name, image = "<PIL image>", src
    elif isinstance(src, np.ndarray):
        name, image = f"<numpy array {src.shape} {src.dtype}>", _array_to_image(src)
    elif isinstance(src, (bytes, bytearray)):
        name, image = "<bytes>", None
    elif isinstance(src, (str, os.PathLike)):
        name, image = str(src), None
    else:
        raise ValueError(f"cannot load an image from {type(src).__name__}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if image is None:
                image = Image.open(io.BytesIO(src) if isinstance(src, (bytes, bytearray)) else Path(src))
            width, height = image.size
            if width * height > max_pixels:
                raise ValueError(
                    f"{name}: image of {width}x{height} = {width * height} pixels exceeds the limit of "
                    f"{max_pixels} (decompression-bomb guard)"
                )
            image = ImageOps.exif_transpose(image)
            image.load()
            return _to_rgb(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ValueError(f"{name}: refused as a decompression bomb ({err})") from err
    except FileNotFoundError as err:
        raise ValueError(f"{name}: no such image file") from err
    except UnidentifiedImageError as err:
        raise ValueError(f"{name}: not an image file PIL can read") from err
    except (OSError, SyntaxError) as err:  # truncated / corrupt data
        raise ValueError(f"{name}: corrupt or truncated image ({err})") from err


def _array_to_image(array: np.ndarray) -> Image.Image:
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = array.transpose(1, 2, 0)  # CHW -> HWC
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.dtype != np.uint8:
        scale = 255.0 if array.max() <= 1.0 else 1.0
        array = np.clip(array.astype(np.float64) * scale, 0, 255).astype(np.uint8)
    if array.ndim not in (2, 3):
        raise ValueError(f"<numpy array {array.shape}>: expected HxW, HxWxC or CxHxW")
    return Image.fromarray(array)


class ModaProcessorKwargs(ProcessingKwargs, total=False):
    """transformers' ProcessingKwargs (text_kwargs, images_kwargs and flat kwargs); MODA adds no key."""

    # lowest-priority defaults (call kwargs override them); `_defaults` is read by every transformers 5.x
    _defaults = {
        "text_kwargs": {"padding": "longest", "return_tensors": "pt"},
        "images_kwargs": {"return_tensors": "pt"},
    }


# text kwargs that `tokenizer.pad` takes as they are
_PAD_KWARGS = ("padding", "max_length", "pad_to_multiple_of", "return_attention_mask", "verbose")


def _as_list(value, n: int | None = None) -> list | None:
    if value is None:
        return None
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if n is not None and len(values) == 1 and n > 1:
        values = values * n
    return values


class ModaProcessor(ProcessorMixin):
    """Wraps an image processor and a tokenizer; see the module docstring for the sample layout."""

    valid_processor_kwargs = ModaProcessorKwargs

    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        num_image_tokens: int = 1,
        image_token: str = IMAGE_TOKEN,
        chat_template: str | None = None,
        **kwargs,
    ):
        self.num_image_tokens = num_image_tokens
        self.image_token = image_token
        super().__init__(image_processor, tokenizer, chat_template=chat_template)
        self.image_token_id = tokenizer.convert_tokens_to_ids(image_token)

    @staticmethod
    def load_image(src, max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
        return load_image(src, max_pixels=max_pixels)

    def replace_image_token(self, image_inputs: dict | None = None, image_idx: int = 0, **kwargs) -> str:
        """What one `<image>` in the text expands to (transformers' placeholder-expansion hook)."""
        return self.image_token * self.num_image_tokens

    def __call__(
        self,
        images: ImageInput | None = None,
        text: str | list[str] | None = None,
        suffix: str | list[str] | None = None,
        **kwargs: Unpack[ModaProcessorKwargs],
    ) -> BatchFeature:
        """Images + optional prompt text (+ optional description `suffix`) -> model inputs.

        Returns input_ids, attention_mask, pixel_values (when images are given), labels (when suffix is) and
        mm_token_type_ids (1 at image positions) with `return_mm_token_type_ids=True`. Keyword arguments
        follow transformers' ProcessingKwargs: text ones (padding, truncation, max_length, pad_to_multiple_of,
        padding_side, ...) go to the tokenizer, image ones (size, do_normalize, ...) to the image processor.
        Truncation cuts the end of the description and keeps its EOS; the prompt and its image tokens are
        never cut. Defaults: pad to the longest row, on the right for training rows, on the left for prompts.
        """
        images = _as_list(images)
        if images is not None and any(isinstance(im, (list, tuple)) for im in images):
            images = [im for sample in images for im in _as_list(sample)]  # chat templates nest per sample
        n = len(images) if images is not None else None
        suffixes = _as_list(suffix, n)
        n = n or (len(suffixes) if suffixes is not None else None)
        texts = _as_list(text, n) or ([""] * n if n else None)
        if texts is None:
            raise ValueError("give images, text or suffix")
        if suffixes is not None and len(suffixes) != len(texts):
            raise ValueError(f"{len(texts)} text(s) but {len(suffixes)} suffix")
        if images is not None and len(images) != len(texts):
            raise ValueError(
                f"the number of {self.image_token} tokens in the prompts should be the same as the number of "
                f"images, one per prompt (MODA describes one image per prompt): {len(texts)} text(s) but "
                f"{len(images)} images"
            )

        explicit_side = kwargs.get("padding_side", kwargs.get("text_kwargs", {}).get("padding_side"))
        merged = self._merge_kwargs(
            ModaProcessorKwargs, tokenizer_init_kwargs=self.tokenizer.init_kwargs, **kwargs
        )
        text_kwargs = merged["text_kwargs"]
        return_tensors = text_kwargs.pop("return_tensors", None)
        # a flat processor kwarg in transformers >= 5.20, a text kwarg before
        return_mm_token_type_ids = bool(
            text_kwargs.pop("return_mm_token_type_ids", None) or merged.get("return_mm_token_type_ids")
        )
        return_text_replacement_offsets = bool(
            text_kwargs.pop("return_text_replacement_offsets", None)
            or merged.get("return_text_replacement_offsets")
        )
        return_token_type_ids = text_kwargs.pop("return_token_type_ids", None)
        add_special_tokens = text_kwargs.pop("add_special_tokens", None) is not False
        truncation = text_kwargs.pop("truncation", None)
        max_length = text_kwargs.get("max_length")
        text_kwargs.pop("padding_side", None)  # the tokenizer's own side; ours depends on the row kind
        pad_kwargs = {key: text_kwargs.pop(key) for key in _PAD_KWARGS if key in text_kwargs}
        unsupported = sorted(key for key, value in text_kwargs.items() if value not in (None, False))
        if unsupported:
            raise ValueError(f"ModaProcessor does not support the text keyword argument(s) {unsupported}")

        # truncation=True without max_length means the tokenizer's model_max_length, as in tokenizers
        limit = max_length if max_length is not None else self.tokenizer.model_max_length
        truncate = truncation not in (None, False, "do_not_truncate")
        # a row with an image (or a description to learn, also from cached vision_embeds) gets its <image>
        # first when the prompt has none; a text-only prompt is tokenized as written, as the tokenizer would
        lay_out_image = images is not None or suffixes is not None
        prompts = [
            self.image_token + (p or "") if lay_out_image and self.image_token not in (p or "") else p or ""
            for p in texts
        ]
        replacements = [self.replace_image_token()] * sum(p.count(self.image_token) for p in prompts)
        prompts, replacement_offsets = self.get_text_with_replacements(prompts, replacements)
        prefixes = self.tokenizer(prompts, add_special_tokens=add_special_tokens)["input_ids"]
        rows, is_target = [], []
        for i, prefix in enumerate(prefixes):
            target = []
            if suffixes is not None:
                target = self.tokenizer(suffixes[i], add_special_tokens=False)["input_ids"]
                if truncate:
                    room = limit - len(prefix) - 1  # - 1: the EOS always stays
                    if room < 0:
                        raise ValueError(
                            f"sample {i}: max_length={limit} leaves no room for the description: the prompt "
                            f"with its {self.num_image_tokens} image token(s) takes {len(prefix)} tokens"
                        )
                    target = target[:room]
                target = target + [self.tokenizer.eos_token_id]
            elif truncate and len(prefix) > limit:
                raise ValueError(
                    f"sample {i}: the prompt with its {self.num_image_tokens} image token(s) takes "
                    f"{len(prefix)} tokens, more than max_length={limit} (prompts are never truncated)"
                )
            rows.append(prefix + target)
            is_target.append([0] * len(prefix) + [1] * len(target))

        # training rows pad on the right; generation prompts on the left (batched == single)
        pad_kwargs["padding_side"] = explicit_side or ("right" if suffixes is not None else "left")
        # token_type_ids mark the description (1) as in PaliGemma; the tokenizer pads them with 0
        data = dict(self.tokenizer.pad({"input_ids": rows, "token_type_ids": is_target}, **pad_kwargs))
        token_type_ids = data.pop("token_type_ids")
        if suffixes is not None:
            data["labels"] = [
                [t if keep else -100 for t, keep in zip(ids, kinds, strict=True)]
                for ids, kinds in zip(data["input_ids"], token_type_ids, strict=True)
            ]
        if return_token_type_ids:
            data["token_type_ids"] = token_type_ids
        if return_mm_token_type_ids:  # 1 = image position (transformers' modality ids)
            data["mm_token_type_ids"] = [
                [int(t == self.image_token_id) for t in ids] for ids in data["input_ids"]
            ]
        if return_text_replacement_offsets:  # where each <image> went (vLLM locates placeholders with them)
            data["text_replacement_offsets"] = replacement_offsets
        if images is not None:
            pixels = self.image_processor([self.load_image(im) for im in images], **merged["images_kwargs"])
            data["pixel_values"] = pixels["pixel_values"]  # [B, 3, H, W]
        return BatchFeature(
            data=data, tensor_type=return_tensors, skip_tensor_conversion=["text_replacement_offsets"]
        )

    def _get_num_multimodal_tokens(
        self, image_sizes: list[list[int]] | None = None, **kwargs
    ) -> MultiModalData:
        """Placeholder tokens per image of (height, width) `image_sizes`: always `num_image_tokens` (vLLM)."""
        if image_sizes is None:
            return MultiModalData()
        count = len(image_sizes)
        return MultiModalData(num_image_tokens=[self.num_image_tokens] * count, num_image_patches=[1] * count)

    def post_process_image_text_to_text(self, generated_outputs, skip_special_tokens: bool = True, **kwargs):
        return self.tokenizer.batch_decode(
            generated_outputs, skip_special_tokens=skip_special_tokens, **kwargs
        )

    @property
    def model_input_names(self) -> list[str]:
        return ["input_ids", "attention_mask", "pixel_values"]  # `labels` too, when called with a suffix

    def save_pretrained(self, save_directory, **kwargs):
        saved = super().save_pretrained(save_directory, **kwargs)
        # transformers leaves the auto_map it wrote on the instance; a reloaded processor has none
        self.__dict__.pop("auto_map", None)
        return saved


ModaProcessor.register_for_auto_class()

__all__ = ["IMAGE_TOKEN", "ModaProcessor", "load_image"]
