"""core.images: the data pipeline's image checks read images exactly as the processor does."""

import io

from PIL import Image

from modeling_moda.core.images import image_bytes, image_problem, load_image


def _png(size=(8, 6), mode="RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 10, 10, 128)[: len(mode)]).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_good_image_has_no_problem_and_loads_as_rgb(tmp_path):
    path = tmp_path / "red.png"
    path.write_bytes(_png())
    assert image_problem(str(path)) is None and image_problem(_png()) is None
    image = load_image(str(path))
    assert image.mode == "RGB" and image.size == (8, 6)
    assert image_bytes(str(path)) == path.read_bytes() == image_bytes(path.read_bytes())


def test_missing_truncated_and_non_image_inputs_are_named(tmp_path):
    (tmp_path / "text.jpg").write_text("not a jpeg")
    (tmp_path / "cut.png").write_bytes(_png((64, 64))[:60])
    assert "no such image file" in image_problem(str(tmp_path / "gone.jpg"))
    assert image_problem(str(tmp_path / "text.jpg")).startswith(f"{tmp_path / 'text.jpg'}: not an image")
    assert image_problem(str(tmp_path / "cut.png")).startswith(str(tmp_path / "cut.png"))
    assert image_problem(b"\x89PNG broken") is not None
