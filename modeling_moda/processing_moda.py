"""MODA processor: image loading + image processor + tokenizer, `<image>` expansion and the label mask.

Remote code: imports only torch, transformers (and PIL/numpy, which transformers' image processors need).
A sample is: [tokenizer's start tokens] <image> x N [prompt] [description EOS]. Labels are -100 everywhere
except the description and its EOS. Without a description the sample is a generation prompt, left-padded.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from transformers import BatchFeature, ProcessorMixin

IMAGE_TOKEN = "<image>"
MAX_IMAGE_PIXELS = 89_478_485  # PIL's decompression-bomb threshold (~ 9459 x 9459)

# Plain MODA format: image token(s), the user's text, then the assistant's text + EOS (training) or nothing.
PLAIN_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['content'] is string %}{% set parts = [{'type': 'text', 'text': message['content']}] %}"
    "{% else %}{% set parts = message['content'] %}{% endif %}"
    "{% for part in parts %}"
    "{% if part['type'] == 'image' %}<image>{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}"
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


def _as_list(value, n: int | None = None) -> list | None:
    if value is None:
        return None
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if n is not None and len(values) == 1 and n > 1:
        values = values * n
    return values


class ModaProcessor(ProcessorMixin):
    """Wraps an image processor and a tokenizer; see the module docstring for the sample layout."""

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

    def _encode_prefix(self, text: str) -> list[int]:
        """Tokenizer start tokens, then text with each <image> expanded to N ids (prepended if absent)."""
        start = self.tokenizer("", add_special_tokens=True)["input_ids"]  # e.g. OPT's </s> BOS
        pieces = text.split(self.image_token)
        if len(pieces) == 1:
            pieces = ["", text]
        ids = list(start)
        for i, piece in enumerate(pieces):
            if i > 0:
                ids += [self.image_token_id] * self.num_image_tokens
            if piece:
                ids += self.tokenizer(piece, add_special_tokens=False)["input_ids"]
        return ids

    def __call__(
        self,
        images=None,
        text: str | list[str] | None = None,
        suffix: str | list[str] | None = None,
        return_tensors: str | None = "pt",
        **kwargs,
    ) -> BatchFeature:
        """Images + optional prompt text (+ optional description `suffix`) -> model inputs.

        Returns input_ids, attention_mask, pixel_values (when images are given) and labels (when suffix is).
        Rows are always padded to the longest one; other tokenizer kwargs (e.g. `padding=True`) are ignored.
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
        for name, values in (("suffix", suffixes), ("images", images)):
            if values is not None and len(values) != len(texts):
                raise ValueError(f"{len(texts)} text(s) but {len(values)} {name}")

        rows, labels = [], []
        for i, prompt in enumerate(texts):
            prefix = self._encode_prefix(prompt or "")
            target = []
            if suffixes is not None:
                target = self.tokenizer(suffixes[i], add_special_tokens=False)["input_ids"]
                target = target + [self.tokenizer.eos_token_id]
            rows.append(prefix + target)
            labels.append([-100] * len(prefix) + target)
        # training rows pad on the right; generation prompts on the left (batched == single)
        side = "right" if suffixes is not None else "left"
        width = max(len(r) for r in rows)
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0

        def pad(seq: list[int], value: int) -> list[int]:
            fill = [value] * (width - len(seq))
            return seq + fill if side == "right" else fill + seq

        data = {
            "input_ids": [pad(r, pad_id) for r in rows],
            "attention_mask": [pad([1] * len(r), 0) for r in rows],
        }
        if suffixes is not None:
            data["labels"] = [pad(lab, -100) for lab in labels]
        if images is not None:
            pixels = self.image_processor([self.load_image(im) for im in images], return_tensors="pt")
            data["pixel_values"] = pixels["pixel_values"]  # [B, 3, H, W]
        if return_tensors == "pt":
            data = {k: v if isinstance(v, torch.Tensor) else torch.tensor(v) for k, v in data.items()}
        return BatchFeature(data=data)

    def post_process_image_text_to_text(self, generated_outputs, skip_special_tokens: bool = True, **kwargs):
        return self.tokenizer.batch_decode(
            generated_outputs, skip_special_tokens=skip_special_tokens, **kwargs
        )

    @property
    def model_input_names(self) -> list[str]:
        return ["input_ids", "attention_mask", "pixel_values", "labels"]


ModaProcessor.register_for_auto_class()

__all__ = ["IMAGE_TOKEN", "ModaProcessor", "load_image"]
