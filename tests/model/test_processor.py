"""ModaProcessor: image loading (modes, EXIF, bad files), prompt layout, chat template."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from modeling_moda.processing_moda import MAX_IMAGE_PIXELS, load_image

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
    assert prompt == "<image>a red"
    images = make_images(1)
    via_chat = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image", "image": images[0]}, messages[0]["content"][1]]}],
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
    )
    plain = processor(images=images, text="a red")
    assert via_chat["input_ids"].tolist() == plain["input_ids"].tolist()
    assert np.allclose(via_chat["pixel_values"].numpy(), plain["pixel_values"].numpy())
