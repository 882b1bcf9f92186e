"""Test images for the INFERENCE tests: one flat colour per learned description."""

from __future__ import annotations

from PIL import Image

COLOURS = {"red": (220, 20, 30), "blue": (20, 40, 220), "green": (20, 180, 40), "yellow": (240, 220, 20)}
DESCRIPTIONS = {
    "red": "Red cotton t-shirt for men, casual.",
    "blue": "Blue denim jeans for women.",
    "green": "Green sports shoes, unisex.",
    "yellow": "Yellow summer dress for girls.",
}


def colour_image(name: str, size: tuple[int, int] = (40, 48)) -> Image.Image:
    return Image.new("RGB", size, COLOURS[name])
