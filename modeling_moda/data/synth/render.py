"""Rendering one synthetic product photo: light background, one centred item, soft shadow, camera effects.

The item is drawn at 2x and reduced (anti-aliasing). Its base colour fills the silhouette and stays the
dominant colour: patterns, construction details, usage cues and printed words cover a small share of it.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from .cues import GENDER_LOOK, usage_cue
from .pen import Pen
from .sample import ItemSpec
from .shapes import SHAPES
from .vocabulary import ARTICLES_BY_NAME, COLOURS

WIDTH, HEIGHT = 240, 320  # portrait, like catalog photos
SUPERSAMPLE = 2
RGB = tuple[int, int, int]


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def _luminance(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def paints(base: RGB) -> dict[str, RGB]:
    """The named detail paints for an item of this base colour."""
    lum = _luminance(base)
    contrast = (245, 245, 245) if lum < 140 else (30, 30, 32)
    return {
        "dark": _mix(base, (255, 255, 255), 0.22) if lum < 50 else _mix(base, (0, 0, 0), 0.35),
        "light": _mix(base, (255, 255, 255), 0.45) if lum < 225 else (206, 206, 206),
        "contrast": contrast,
        "metal": (186, 189, 194),
        "gold": (212, 172, 64),
        "sole": (238, 238, 234) if lum < 200 else (60, 60, 62),
        "stitch": (214, 150, 70),
        "lens": _mix(base, (0, 0, 0), 0.5),
        "face": contrast,
        "outline": _mix(base, (0, 0, 0), 0.45) if lum > 60 else (80, 80, 84),
    }


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _item_box(spec: ItemSpec, width: int, height: int) -> Pen:
    aspect = ARTICLES_BY_NAME[spec.article].aspect
    if spec.gender_cue and spec.gender in GENDER_LOOK:
        aspect *= GENDER_LOOK[spec.gender][0]  # slimmer / boxier cut
    box_w = min(spec.scale * width, spec.scale * height * aspect)
    box_h = box_w / aspect
    x0 = (width - box_w) / 2 + spec.dx * width
    y0 = (height - box_h) / 2 + spec.dy * height
    return Pen(x0, y0, box_w, box_h)


def _silhouette(pen: Pen, size: tuple[int, int]) -> Image.Image:
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for op in pen.body_ops:
        if op[0] == "polygon":
            draw.polygon(op[1], fill=255)
        elif op[0] == "ellipse":
            draw.ellipse(op[1], fill=255)
        elif op[0] == "rounded":
            draw.rounded_rectangle(op[1], radius=op[2], fill=255)
        else:
            draw.line(op[1], fill=255, width=op[2], joint="curve")
    return mask


def _pattern(spec: ItemSpec, pen: Pen, base: RGB, colour: RGB, size: tuple[int, int]) -> Image.Image:
    """The base-colour fill of the item, with its pattern drawn over it (thin: the base colour dominates)."""
    fill = Image.new("RGB", size, base)
    if spec.pattern == "solid":
        return fill
    draw = ImageDraw.Draw(fill)
    period = max(4.0, spec.pattern_period * pen.height)
    x0, y0, x1, y1 = pen.x0, pen.y0, pen.x0 + pen.width, pen.y0 + pen.height
    rows = int(pen.height / period) + 2
    cols = int(pen.width / period) + 2
    if spec.pattern == "striped":
        for i in range(rows):
            y = y0 + i * period
            draw.rectangle([x0, y, x1, y + 0.25 * period], fill=colour)
    elif spec.pattern == "checked":
        line = max(1, round(0.14 * period))
        for i in range(rows):
            draw.line([(x0, y0 + i * period), (x1, y0 + i * period)], fill=colour, width=line)
        for j in range(cols):
            draw.line([(x0 + j * period, y0), (x0 + j * period, y1)], fill=colour, width=line)
    else:  # dotted
        r = 0.16 * period
        for i in range(rows):
            shift = period / 2 if i % 2 else 0.0
            for j in range(cols):
                cx, cy = x0 + j * period + shift, y0 + i * period
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    return fill


@lru_cache(maxsize=8)
def _gradient(angle: int, size: tuple[int, int]) -> Image.Image:
    return Image.linear_gradient("L").rotate(angle).resize(size)


def _shading(spec: ItemSpec, size: tuple[int, int]) -> Image.Image:
    """A mask darkening one side of the item, as a directional light would."""
    return _gradient(spec.shading_angle, size).point(lambda p: round(p * spec.shading))


def _usage_cue(
    spec: ItemSpec, pen: Pen, paint: dict[str, RGB], size: tuple[int, int]
) -> list[tuple[Image.Image, RGB]]:
    """The usage cue as (mask, colour) layers, clipped to the item later (cues.py names them)."""
    cue = usage_cue(spec.usage, ARTICLES_BY_NAME[spec.article].master, spec.usage_cue)
    if cue is None:
        return []
    layers = []

    def layer(colour: RGB) -> ImageDraw.ImageDraw:
        mask = Image.new("L", size, 0)
        layers.append((mask, colour))
        return ImageDraw.Draw(mask)

    rng = np.random.default_rng(int(spec.id))
    if spec.usage == "Sports":
        draw = layer(paint["contrast"])
        for u in (0.14, 0.86):
            draw.rectangle(pen.box(u - 0.06, 0.0, u + 0.06, 1.0), fill=255)
        draw = layer(paint["dark"])  # mesh: a grid of small holes on the middle panel
        r = 0.022 * pen.width
        for u in np.arange(0.3, 0.71, 0.08):
            for v in np.arange(0.55, 0.9, 0.08 * pen.width / pen.height):
                x, y = pen.xy([(u, v)])[0]
                draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    elif spec.usage == "Formal":  # sheen: two glossy diagonal bands
        draw = layer(_mix(COLOURS[spec.colour], (255, 255, 255), 0.6))
        for t, w in ((0.22, 0.14), (0.46, 0.07)):
            draw.polygon(pen.xy([(t, 0.0), (t + w, 0.0), (t + w + 0.5, 1.0), (t + 0.5, 1.0)]), fill=255)
    elif spec.usage == "Party":  # sequins: dense light and gold sparkles
        for colour, count in ((_mix(COLOURS[spec.colour], (255, 255, 255), 0.7), 110), (paint["gold"], 90)):
            draw = layer(colour)
            r = 0.03 * pen.width
            for u, v in rng.uniform(0.03, 0.97, size=(count, 2)):
                x, y = pen.xy([(u, v)])[0]
                draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    elif spec.usage == "Ethnic":  # gold borders with embroidered dots
        draw = layer(paint["gold"])
        for v0, v1 in ((0.86, 0.95), (0.03, 0.1)):
            draw.rectangle(pen.box(0.0, v0, 1.0, v1), fill=255)
        draw = layer(paint["dark"])
        r = 0.012 * pen.width
        for v in (0.065, 0.905):
            for u in np.arange(0.03, 1.0, 0.07):
                x, y = pen.xy([(u, v)])[0]
                draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    elif spec.usage == "Smart Casual":  # a contrast pocket
        layer(paint["contrast"]).rectangle(pen.box(0.54, 0.24, 0.86, 0.5), fill=255)
    elif spec.usage == "Travel":  # a luggage tag with its strap
        draw = layer(paint["contrast"])
        draw.rectangle(pen.box(0.56, 0.16, 0.9, 0.4), fill=255)
        draw.line(pen.xy([(0.58, 0.28), (0.34, 0.1)]), fill=255, width=pen.px(0.045))
    return layers


def _trim(spec: ItemSpec, mask: Image.Image, pen: Pen, paint: dict[str, RGB]) -> tuple[Image.Image, RGB]:
    """The item's outline: gendered piping (cues.py) or the plain thin outline."""
    edges = mask.filter(ImageFilter.FIND_EDGES)
    look = GENDER_LOOK.get(spec.gender) if spec.gender_cue else None
    if look is None:
        return edges, paint["outline"]
    near_edge = mask.filter(ImageFilter.BoxBlur(pen.px(look[2] / 2))).point(lambda p: 255 if p < 250 else 0)
    return ImageChops.multiply(near_edge, mask), look[1]  # a band of the trim width inside the outline


def _draw_details(pen: Pen, image: Image.Image, paint: dict[str, RGB]) -> None:
    draw = ImageDraw.Draw(image)
    for op in pen.detail_ops:
        kind, coords, name = op[0], op[1], op[2]
        if kind == "polygon":
            draw.polygon(coords, fill=paint[name])
        elif kind == "ellipse":
            draw.ellipse(coords, fill=paint[name])
        elif kind == "ring":
            draw.ellipse(coords, outline=paint[name], width=op[3])
        else:
            draw.line(coords, fill=paint[name], width=op[3], joint="curve")


def _print_words(spec: ItemSpec, pen: Pen, image: Image.Image, paint: dict[str, RGB]) -> None:
    """Print the item's words centred in its print area, as large as fits."""
    u0, v0, u1, v1 = pen.print_area
    x0, y0, x1, y1 = pen.box(u0, v0, u1, v1)
    size = max(6, int((y1 - y0) * 0.7))
    while size > 6 and _font(size).getlength(spec.printed) > (x1 - x0):
        size -= 2
    font = _font(size)
    draw = ImageDraw.Draw(image)
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), spec.printed, font=font, fill=paint["contrast"], anchor="mm")


_YS, _XS = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32) / np.float32(0.5 * math.hypot(WIDTH, HEIGHT))
_YS -= _YS.mean()
_XS -= _XS.mean()


def _camera(spec: ItemSpec, image: Image.Image) -> Image.Image:
    """Exposure, uneven light and sensor noise."""
    pixels = np.asarray(image, dtype=np.float32)  # [H, W, 3]
    direction = _XS * math.cos(spec.light_angle) + _YS * math.sin(spec.light_angle)  # [H, W]
    noise = np.random.default_rng(int(spec.id)).standard_normal(size=pixels.shape, dtype=np.float32)
    pixels = pixels * spec.brightness + (spec.light_gradient * direction)[..., None] + spec.noise * noise
    return Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8))


def render_item(spec: ItemSpec) -> Image.Image:
    """The product photo of one item (RGB, WIDTH x HEIGHT)."""
    size = (WIDTH * SUPERSAMPLE, HEIGHT * SUPERSAMPLE)
    base = COLOURS[spec.colour]
    paint = paints(base)
    pen = _item_box(spec, *size)
    SHAPES[spec.article](pen, spec.gender)
    mask = _silhouette(pen, size)

    image = Image.new("RGB", size, spec.background)
    small = mask.reduce(8).filter(ImageFilter.GaussianBlur(3))
    shadow = ImageChops.offset(small, 1, 2).resize(size).point(lambda p: p * 0.35)
    image.paste(_mix(spec.background, (0, 0, 0), 0.5), mask=shadow)

    fill = _pattern(spec, pen, base, _mix(base, paint["contrast"], 0.7), size)
    fill.paste(_mix(base, (0, 0, 0), 0.5), mask=_shading(spec, size))
    image.paste(fill, mask=mask)
    for cue_mask, colour in _usage_cue(spec, pen, paint, size):
        image.paste(colour, mask=ImageChops.multiply(cue_mask, mask))
    trim_mask, trim_colour = _trim(spec, mask, pen, paint)
    image.paste(trim_colour, mask=trim_mask)
    _draw_details(pen, image, paint)
    if spec.printed and pen.print_area:
        _print_words(spec, pen, image, paint)
    return _camera(spec, image.reduce(SUPERSAMPLE))
