"""ModaProcessor: image loading (modes, EXIF, bad files), prompt layout, chat template."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from transformers.processing_utils import MultiModalData

from modeling_moda.processing_moda import MAX_IMAGE_PIXELS, ModaProcessor, load_image

from .conftest import make_images


def _rgba() -> Image.Image:
    image = Image.new("RGBA", (8, 6), (255, 0, 0, 255))
    image.putpixel((0, 0), (0, 0, 255, 0))  # fully transparent pixel -> white background
    return image


def _palette() -> Image.Image:
    image = Image.new("P", (8, 6), 1)
    image.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    image.info["transparency"] = 0
    image.putpixel((0, 0), 0)
    return image


def _i16() -> Image.Image:
    array = np.full((6, 8), 65535, dtype=np.uint16)
    array[0, 0] = 0
    image = Image.fromarray(array)
    assert image.mode == "I;16"
    return image


@pytest.mark.parametrize(
    ("make", "pixel", "corner"),
    [
        (_rgba, (255, 0, 0), (255, 255, 255)),
        (_palette, (0, 255, 0), (255, 255, 255)),
        (lambda: Image.new("L", (8, 6), 200), (200, 200, 200), (200, 200, 200)),
        (lambda: Image.new("CMYK", (8, 6), (0, 255, 255, 0)), (255, 0, 0), (255, 0, 0)),
        (_i16, (255, 255, 255), (0, 0, 0)),
        (lambda: Image.new("1", (8, 6), 1), (255, 255, 255), (255, 255, 255)),
    ],
    ids=["RGBA", "P", "L", "CMYK", "I;16", "1"],
)
def test_every_mode_becomes_rgb(tmp_path, make, pixel, corner):
    image = make()
    fmt = "TIFF" if image.mode in ("CMYK", "I;16") else "PNG"
    path = tmp_path / f"img.{fmt.lower()}"
    image.save(path, format=fmt)
    for source in (image, path, str(path), path.read_bytes()):
        rgb = load_image(source)
        assert rgb.mode == "RGB" and rgb.size == (8, 6)
        assert rgb.getpixel((3, 3)) == pixel and rgb.getpixel((0, 0)) == corner


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (20, 10), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 10, 10))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif, quality=95)
    upright = load_image(path)
    assert upright.size == (10, 20)
    assert upright.getpixel((5, 2))[0] > 200  # the red half is now on top


def test_numpy_arrays():
    hwc = np.zeros((6, 8, 3), dtype=np.uint8)
    assert load_image(hwc).size == (8, 6)
    assert load_image(np.full((6, 8), 0.5, dtype=np.float32)).getpixel((0, 0)) == (127, 127, 127)
    chw = np.ones((3, 6, 8), dtype=np.float32)
    assert load_image(chw).getpixel((0, 0)) == (255, 255, 255)


def test_bad_inputs_raise_clear_errors(tmp_path):
    good = tmp_path / "good.jpg"
    make_images(1, size=(64, 64))[0].save(good)
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("this is not an image")
    huge = tmp_path / "huge.png"
    Image.new("1", (10_000, 9_000)).save(huge)  # 90 M pixels in a small file: a decompression bomb
    assert 10_000 * 9_000 > MAX_IMAGE_PIXELS

    for path, reason in [
        (truncated, "truncated"),
        (not_image, "not an image"),
        (huge, "decompression.bomb"),
        (tmp_path / "missing.jpg", "no such image"),
    ]:
        with pytest.raises(ValueError, match=reason) as err:
            load_image(path)
        assert str(path) in str(err.value)
    assert load_image(good, max_pixels=64 * 64).size == (64, 64)
    with pytest.raises(ValueError, match="exceeds the limit of 100"):
        load_image(good, max_pixels=100)


def test_processor_names_the_bad_file(tiny, tmp_path):
    processor = tiny[1]
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(ValueError, match="broken.png"):
        processor(images=[make_images(1)[0], bad])


def test_generation_prompt_layout(tiny):
    processor = tiny[1]
    tok = processor.tokenizer
    batch = processor(images=make_images(2), text=["", "a red"])
    assert "labels" not in batch and batch["pixel_values"].shape == (2, 3, 32, 32)
    red = tok("a red", add_special_tokens=False)["input_ids"]
    assert batch["input_ids"][1].tolist() == [tok.bos_token_id, processor.image_token_id, *red]
    pad = len(red)
    start = [tok.bos_token_id, processor.image_token_id]
    assert batch["input_ids"][0].tolist() == [tok.pad_token_id] * pad + start
    assert batch["attention_mask"][0].tolist() == [0] * pad + [1, 1]
    # a prompt that places <image> itself gets it expanded, not duplicated
    assert processor(images=make_images(1), text="<image>a red")["input_ids"][0].tolist() == [
        tok.bos_token_id,
        processor.image_token_id,
        *red,
    ]


def test_chat_template_matches_plain_prompt(tiny):
    processor = tiny[1]
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "a red"}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True)
    assert prompt == "</s><image>a red"  # led by the BOS the tokenizer puts first
    images = make_images(1)
    # what vLLM's chat API does: tokenize the rendered prompt without special tokens
    vllm_ids = processor.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert vllm_ids == processor(images=images, text="a red")["input_ids"][0].tolist()
    via_chat = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image", "image": images[0]}, messages[0]["content"][1]]}],
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
    )
    plain = processor(images=images, text="a red")
    assert via_chat["input_ids"].tolist() == plain["input_ids"].tolist()
    assert np.allclose(via_chat["pixel_values"].numpy(), plain["pixel_values"].numpy())


def _processor_with(tiny, num_image_tokens: int) -> ModaProcessor:
    processor = tiny[1]
    return ModaProcessor(processor.image_processor, processor.tokenizer, num_image_tokens=num_image_tokens)


def test_truncation_keeps_the_image_tokens_and_ends_with_eos(tiny):
    processor = _processor_with(tiny, num_image_tokens=3)
    tok = processor.tokenizer
    long = "A navy blue cotton t-shirt for men with a round neck and short sleeves, for casual wear."
    full = processor(images=make_images(1), suffix=long)
    assert full["input_ids"].shape[1] > 12
    batch = processor(
        images=make_images(2), text=["", "a red"], suffix=[long, long], truncation=True, max_length=12
    )
    ids, labels = batch["input_ids"], batch["labels"]
    assert ids.shape == (2, 12) and bool(batch["attention_mask"].all())
    for row in range(2):
        assert ids[row].tolist().count(processor.image_token_id) == 3
        assert ids[row, -1] == tok.eos_token_id and labels[row, -1] == tok.eos_token_id
    # the description's start survives, only its end is cut
    described = labels[0][labels[0] != -100].tolist()
    assert described[:-1] == full["labels"][0][full["labels"][0] != -100].tolist()[: len(described) - 1]
    assert (
        processor(images=make_images(1), suffix="A red dress.", truncation=False, max_length=4)[
            "input_ids"
        ].shape[1]
        > 4
    )
    with pytest.raises(ValueError, match="sample 0: max_length=4 leaves no room"):
        processor(images=make_images(1), suffix="A red dress.", truncation=True, max_length=4)
    with pytest.raises(ValueError, match="prompts are never truncated"):
        processor(images=make_images(1), text="a red dress", truncation=True, max_length=3)


def test_padding_max_length_and_pad_to_multiple_of(tiny):
    processor = tiny[1]
    tok = processor.tokenizer
    train = processor(
        images=make_images(2), suffix=["A belt.", "A red floral dress."], padding="max_length", max_length=16
    )
    assert train["input_ids"].shape == (2, 16) and train["labels"].shape == (2, 16)
    short = int(train["attention_mask"][0].sum())
    assert train["input_ids"][0, short:].tolist() == [tok.pad_token_id] * (16 - short)  # training rows: right
    assert train["labels"][0, short:].tolist() == [-100] * (16 - short)
    prompts = processor(images=make_images(1), text="a red", padding="max_length", max_length=8)
    assert prompts["attention_mask"][0].tolist() == [0] * 4 + [1] * 4  # prompts: left
    assert processor(images=make_images(1), text="a red", pad_to_multiple_of=8)["input_ids"].shape == (1, 8)
    red = len(tok("a red", add_special_tokens=False)["input_ids"])
    right = processor(images=make_images(2), text=["", "a red"], padding_side="right")
    assert right["attention_mask"][0].tolist() == [1, 1] + [0] * red  # an explicit side wins
    ragged = processor(text=["<image>", "<image>a red"], padding=False, return_tensors=None)
    assert [len(row) for row in ragged["input_ids"]] == [
        2,
        2 + len(tok("a red", add_special_tokens=False)["input_ids"]),
    ]


def test_image_kwargs_reach_the_image_processor(tiny):
    processor = tiny[1]
    images = make_images(2)
    normalized = processor(images=images)["pixel_values"]
    raw = processor(images=images, do_normalize=False)["pixel_values"]
    assert float(raw.min()) >= 0.0 and float(raw.max()) <= 1.0 and float(normalized.min()) < 0.0
    resized = processor(
        images=images, images_kwargs={"size": {"shortest_edge": 16}, "crop_size": {"height": 16, "width": 16}}
    )
    assert resized["pixel_values"].shape == (2, 3, 16, 16)


def test_unknown_kwarg_is_ignored_with_a_warning_like_transformers_processors(tiny):
    from transformers.testing_utils import CaptureLogger
    from transformers.utils import logging

    processor = tiny[1]
    with CaptureLogger(logging.get_logger("transformers.processing_utils")) as captured:
        batch = processor(images=make_images(1), text="a red", moda_unknown_option=3)
    assert (
        "`moda_unknown_option` is not a valid argument for this processor and will be ignored" in captured.out
    )
    assert batch["input_ids"].tolist() == processor(images=make_images(1), text="a red")["input_ids"].tolist()
    with pytest.raises(
        ValueError, match="does not support the text keyword argument.*return_offsets_mapping"
    ):
        processor(images=make_images(1), return_offsets_mapping=True)


def test_mm_token_type_ids_mark_exactly_the_image_positions(tiny):
    processor = _processor_with(tiny, num_image_tokens=4)
    batch = processor(
        images=make_images(2), text=["", "Describe: <image> now"], return_mm_token_type_ids=True
    )
    ids, kinds = batch["input_ids"], batch["mm_token_type_ids"]
    assert kinds.shape == ids.shape and kinds.sum(dim=1).tolist() == [4, 4]
    assert torch.equal(kinds.bool(), ids == processor.image_token_id)
    assert "mm_token_type_ids" not in processor(images=make_images(1))  # only on request, as in transformers


def test_get_num_multimodal_tokens_and_replacement_offsets(tiny):
    processor = _processor_with(tiny, num_image_tokens=3)
    counts = processor._get_num_multimodal_tokens(image_sizes=[[40, 48], [1000, 600]])
    assert isinstance(counts, MultiModalData)
    assert counts.num_image_tokens == [3, 3] and counts.num_image_patches == [1, 1]
    assert "num_image_tokens" not in processor._get_num_multimodal_tokens()
    out = processor(images=make_images(1), text="Describe: <image>", return_text_replacement_offsets=True)
    [[offset]] = out["text_replacement_offsets"]
    assert offset["type"] == "image" and offset["replacement"] == "<image>" * 3 and offset["span"] == (10, 17)


def test_two_images_in_one_prompt_are_refused_clearly(tiny):
    _, processor = tiny
    with pytest.raises(ValueError, match=r"one image per prompt\): 2 text\(s\) but 4 images"):
        processor(images=make_images(4), text=["<image><image> two photos"] * 2)


def test_text_only_prompt_is_tokenized_as_written(tiny):
    """No image and no description: the tokenizer's ids (a chat template decides where images go)."""
    _, processor = tiny
    text = "a red dress"
    assert processor(text=text)["input_ids"].tolist() == [processor.tokenizer(text)["input_ids"]]
    with_image = processor(images=make_images(1), text=text)["input_ids"][0].tolist()
    assert with_image.count(processor.image_token_id) == processor.num_image_tokens
