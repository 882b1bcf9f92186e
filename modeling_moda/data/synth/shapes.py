"""Silhouettes and construction details of every article type, drawn with a `Pen` in its item box.

Each function takes the pen and the gender the item is cut for: women's garments are drawn with a narrower
waist and shoulders, men's boxier; the silhouettes of different articles differ in outline, not just detail.
"""

from __future__ import annotations

from collections.abc import Callable

from .pen import Pen, arc_points


def _mirror(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The left half of a symmetric outline (listed top to bottom) completed with its mirror image."""
    return points + [(1.0 - u, v) for u, v in reversed(points)]


def _waist(gender: str) -> float:
    return 0.06 if gender == "Women" else 0.0


def tshirt(pen: Pen, gender: str) -> None:
    w = _waist(gender)
    pen.body(_mirror([(0.5, 0.12), (0.37, 0.04), (0.16, 0.09), (0.0, 0.29), (0.11, 0.39), (0.22, 0.31),
                      (0.22 + w, 0.62), (0.21 + w / 2, 0.97)]))  # fmt: skip
    pen.line([(0.37, 0.04), (0.5, 0.12), (0.63, 0.04)], "dark", 0.025)
    pen.line([(0.0, 0.29), (0.11, 0.39)], "dark", 0.02)
    pen.line([(1.0, 0.29), (0.89, 0.39)], "dark", 0.02)
    pen.print_area = (0.33, 0.24, 0.67, 0.46)


def shirt(pen: Pen, gender: str) -> None:
    w = _waist(gender)
    pen.body(_mirror([(0.5, 0.1), (0.38, 0.04), (0.17, 0.08), (0.06, 0.25), (0.0, 0.84), (0.11, 0.86),
                      (0.2, 0.38), (0.2 + w, 0.62), (0.2 + w / 2, 0.97)]))  # fmt: skip
    pen.poly([(0.38, 0.03), (0.5, 0.13), (0.41, 0.19), (0.33, 0.07)], "light")
    pen.poly([(0.62, 0.03), (0.5, 0.13), (0.59, 0.19), (0.67, 0.07)], "light")
    pen.line([(0.5, 0.13), (0.5, 0.97)], "dark", 0.012)
    pen.dots([(0.525, v) for v in (0.25, 0.39, 0.53, 0.67, 0.81)], 0.013, "light")
    pen.line([(0.0, 0.79), (0.105, 0.81)], "dark", 0.03)
    pen.line([(1.0, 0.79), (0.895, 0.81)], "dark", 0.03)
    pen.line([(0.28, 0.3), (0.41, 0.3), (0.41, 0.43), (0.28, 0.43), (0.28, 0.3)], "dark", 0.008)


def top(pen: Pen, gender: str) -> None:
    pen.body(_mirror([(0.5, 0.17), (0.41, 0.15), (0.37, 0.02), (0.29, 0.02), (0.25, 0.27), (0.21, 0.33),
                      (0.27, 0.6), (0.19, 0.97)]))  # fmt: skip
    pen.line([(0.41, 0.15), (0.5, 0.17), (0.59, 0.15)], "dark", 0.02)
    pen.print_area = (0.3, 0.3, 0.7, 0.5)


def sweatshirt(pen: Pen, gender: str) -> None:
    w = _waist(gender) / 2
    pen.body_ellipse(0.31, 0.0, 0.69, 0.2)
    pen.body(_mirror([(0.5, 0.14), (0.36, 0.08), (0.15, 0.12), (0.05, 0.3), (0.0, 0.86), (0.12, 0.88),
                      (0.21, 0.4), (0.21 + w, 0.62), (0.2, 0.97)]))  # fmt: skip
    pen.ellipse(0.38, 0.05, 0.62, 0.17, "dark")
    pen.poly([(0.21, 0.9), (0.79, 0.9), (0.8, 0.97), (0.2, 0.97)], "dark")
    pen.line([(0.0, 0.83), (0.12, 0.85)], "dark", 0.035)
    pen.line([(1.0, 0.83), (0.88, 0.85)], "dark", 0.035)
    pen.line([(0.33, 0.88), (0.37, 0.66), (0.63, 0.66), (0.67, 0.88)], "dark", 0.012)
    pen.print_area = (0.32, 0.32, 0.68, 0.5)


def jacket(pen: Pen, gender: str) -> None:
    w = _waist(gender) / 2
    pen.body(_mirror([(0.5, 0.1), (0.36, 0.03), (0.15, 0.08), (0.04, 0.28), (0.0, 0.88), (0.12, 0.9),
                      (0.2, 0.4), (0.2 + w, 0.62), (0.18, 0.98)]))  # fmt: skip
    pen.poly([(0.36, 0.02), (0.5, 0.1), (0.64, 0.02), (0.66, 0.09), (0.5, 0.16), (0.34, 0.09)], "dark")
    pen.line([(0.5, 0.14), (0.5, 0.98)], "metal", 0.014)
    pen.line([(0.27, 0.62), (0.35, 0.72)], "dark", 0.015)
    pen.line([(0.73, 0.62), (0.65, 0.72)], "dark", 0.015)
    pen.poly([(0.18, 0.93), (0.82, 0.93), (0.82, 0.98), (0.18, 0.98)], "dark")
    pen.print_area = (0.56, 0.26, 0.76, 0.36)


def kurta(pen: Pen, gender: str) -> None:
    w = _waist(gender) / 2
    pen.body(_mirror([(0.5, 0.08), (0.4, 0.02), (0.17, 0.07), (0.03, 0.3), (0.0, 0.56), (0.13, 0.58),
                      (0.2, 0.34), (0.2 + w, 0.55), (0.17, 0.99)]))  # fmt: skip
    pen.poly([(0.42, 0.0), (0.58, 0.0), (0.58, 0.04), (0.42, 0.04)], "dark")
    pen.line([(0.5, 0.05), (0.5, 0.3)], "dark", 0.015)
    pen.line([(0.19, 0.8), (0.19, 0.99)], "dark", 0.015)
    pen.line([(0.81, 0.8), (0.81, 0.99)], "dark", 0.015)


def dress(pen: Pen, gender: str) -> None:
    pen.body(_mirror([(0.5, 0.1), (0.38, 0.02), (0.3, 0.03), (0.29, 0.14), (0.33, 0.36), (0.24, 0.6),
                      (0.08, 0.97)]))  # fmt: skip
    pen.line([(0.33, 0.36), (0.67, 0.36)], "dark", 0.03)
    pen.line([(0.38, 0.02), (0.5, 0.1), (0.62, 0.02)], "dark", 0.015)


def skirt(pen: Pen, gender: str) -> None:
    pen.body(_mirror([(0.5, 0.02), (0.27, 0.02), (0.05, 0.97)]))
    pen.poly([(0.27, 0.0), (0.73, 0.0), (0.74, 0.09), (0.26, 0.09)], "dark")
    for u_top, u_bottom in ((0.38, 0.28), (0.5, 0.5), (0.62, 0.72)):
        pen.line([(u_top, 0.1), (u_bottom, 0.97)], "dark", 0.008)


def _trousers(pen: Pen, gender: str, spread: float) -> None:
    w = _waist(gender) / 2
    pen.body(
        _mirror([(0.5, 0.33), (0.5 - spread, 0.99), (0.15 - w, 0.99), (0.19 + w, 0.35), (0.19 + w, 0.0)])
    )
    pen.poly([(0.19 + w, 0.0), (0.81 - w, 0.0), (0.81 - w, 0.06), (0.19 + w, 0.06)], "dark")
    pen.line([(0.5, 0.06), (0.5, 0.3)], "dark", 0.012)


def jeans(pen: Pen, gender: str) -> None:
    _trousers(pen, gender, 0.05)
    pen.line([(0.22, 0.12), (0.3, 0.2), (0.4, 0.1)], "stitch", 0.012)
    pen.line([(0.78, 0.12), (0.7, 0.2), (0.6, 0.1)], "stitch", 0.012)
    pen.line([(0.2, 0.4), (0.18, 0.98)], "stitch", 0.01)
    pen.line([(0.8, 0.4), (0.82, 0.98)], "stitch", 0.01)
    for u in (0.25, 0.5, 0.75):
        pen.line([(u, 0.0), (u, 0.07)], "stitch", 0.015)


def trousers(pen: Pen, gender: str) -> None:
    _trousers(pen, gender, 0.04)
    pen.line([(0.3, 0.1), (0.3, 0.98)], "light", 0.01)
    pen.line([(0.7, 0.1), (0.7, 0.98)], "light", 0.01)
    pen.line([(0.22, 0.1), (0.3, 0.18)], "dark", 0.01)
    pen.line([(0.78, 0.1), (0.7, 0.18)], "dark", 0.01)


def shorts(pen: Pen, gender: str) -> None:
    pen.body(_mirror([(0.5, 0.5), (0.54, 0.98), (0.02, 0.94), (0.11, 0.0)]))
    pen.poly([(0.11, 0.0), (0.89, 0.0), (0.89, 0.1), (0.11, 0.1)], "dark")
    pen.line([(0.5, 0.1), (0.5, 0.45)], "dark", 0.01)
    pen.print_area = (0.12, 0.6, 0.38, 0.78)


def _laces(pen: Pen, u0: float, u1: float, v_low: float, v_high: float, n: int) -> None:
    for i in range(n):
        t = i / max(1, n - 1)
        u, v = u0 + t * (u1 - u0), v_low + t * (v_high - v_low)
        pen.line([(u - 0.035, v + 0.03), (u + 0.035, v - 0.03)], "light", 0.012)


def casual_shoes(pen: Pen, gender: str) -> None:
    pen.body([(0.04, 0.6), (0.1, 0.4), (0.36, 0.34), (0.46, 0.14), (0.68, 0.08), (0.8, 0.12), (0.82, 0.45),
              (0.97, 0.58), (0.98, 0.8), (0.03, 0.8)])  # fmt: skip
    pen.poly([(0.02, 0.78), (0.99, 0.78), (0.98, 0.92), (0.04, 0.92)], "sole")
    pen.line([(0.1, 0.6), (0.36, 0.52)], "dark", 0.006)
    _laces(pen, 0.4, 0.62, 0.36, 0.16, 4)


def sports_shoes(pen: Pen, gender: str) -> None:
    pen.body([(0.04, 0.55), (0.12, 0.36), (0.36, 0.3), (0.46, 0.1), (0.7, 0.04), (0.84, 0.1), (0.84, 0.42),
              (0.97, 0.52), (0.98, 0.74), (0.03, 0.74)])  # fmt: skip
    pen.poly([(0.02, 0.72), (0.99, 0.72), (0.97, 0.96), (0.06, 0.96)], "sole")
    pen.line([(0.08, 0.84), (0.97, 0.84)], "dark", 0.01)
    pen.line([(0.28, 0.62), (0.5, 0.5), (0.78, 0.3)], "contrast", 0.035)
    pen.poly([(0.8, 0.06), (0.88, 0.1), (0.86, 0.36), (0.8, 0.34)], "dark")
    _laces(pen, 0.38, 0.64, 0.32, 0.12, 5)


def formal_shoes(pen: Pen, gender: str) -> None:
    pen.body([(0.01, 0.74), (0.06, 0.56), (0.38, 0.46), (0.55, 0.28), (0.8, 0.24), (0.95, 0.3), (0.97, 0.84),
              (0.02, 0.84)])  # fmt: skip
    pen.poly([(0.01, 0.83), (0.98, 0.83), (0.98, 0.88), (0.02, 0.88)], "dark")
    pen.poly([(0.78, 0.86), (0.97, 0.86), (0.96, 0.98), (0.79, 0.98)], "dark")
    pen.ellipse(0.08, 0.58, 0.26, 0.66, "light")
    pen.line([(0.36, 0.5), (0.52, 0.46)], "dark", 0.01)
    _laces(pen, 0.47, 0.56, 0.4, 0.32, 2)


def heels(pen: Pen, gender: str) -> None:
    pen.body([(0.0, 0.78), (0.08, 0.6), (0.36, 0.52), (0.62, 0.34), (0.84, 0.1), (0.97, 0.06), (0.99, 0.22),
              (0.9, 0.3), (0.84, 0.5), (0.6, 0.68), (0.3, 0.8)])  # fmt: skip
    pen.body([(0.86, 0.28), (0.95, 0.28), (0.9, 0.98), (0.87, 0.98)])
    pen.line([(0.0, 0.79), (0.3, 0.81), (0.6, 0.69)], "dark", 0.012)
    pen.ellipse(0.08, 0.62, 0.22, 0.68, "light")


def flip_flops(pen: Pen, gender: str) -> None:
    for u0 in (0.03, 0.53):
        pen.body_ellipse(u0, 0.02, u0 + 0.42, 0.98)
        mid = u0 + 0.21
        pen.line([(u0 + 0.04, 0.55), (mid, 0.18), (u0 + 0.38, 0.55)], "dark", 0.04)
        pen.ellipse(mid - 0.025, 0.15, mid + 0.025, 0.21, "dark")


def sandals(pen: Pen, gender: str) -> None:
    pen.body([(0.02, 0.82), (0.98, 0.8), (0.98, 0.95), (0.03, 0.95)])
    pen.body_line([(0.12, 0.82), (0.3, 0.4), (0.48, 0.82)], 0.06)
    pen.body_line([(0.55, 0.82), (0.7, 0.3), (0.85, 0.82)], 0.06)
    pen.body_line([(0.7, 0.3), (0.95, 0.55)], 0.05)
    pen.ellipse(0.66, 0.26, 0.74, 0.34, "metal")


def handbag(pen: Pen, gender: str) -> None:
    pen.body([(0.12, 0.38), (0.88, 0.38), (0.98, 0.98), (0.02, 0.98)])
    pen.body_line(arc_points(0.5, 0.4, 0.3, 0.36, 180, 360), 0.045)
    pen.poly([(0.12, 0.38), (0.88, 0.38), (0.85, 0.6), (0.15, 0.6)], "dark")
    pen.poly([(0.46, 0.56), (0.54, 0.56), (0.54, 0.66), (0.46, 0.66)], "metal")
    pen.print_area = (0.25, 0.7, 0.75, 0.88)


def backpack(pen: Pen, gender: str) -> None:
    pen.body_round(0.1, 0.1, 0.9, 0.99, 0.22)
    pen.body_line(arc_points(0.5, 0.12, 0.12, 0.1, 180, 360), 0.05)
    pen.ring(0.22, 0.55, 0.78, 0.95, "dark", 0.02)
    pen.line([(0.26, 0.62), (0.74, 0.62)], "metal", 0.015)
    pen.line([(0.16, 0.3), (0.84, 0.3)], "dark", 0.012)
    pen.print_area = (0.28, 0.7, 0.72, 0.86)


def watch(pen: Pen, gender: str) -> None:
    strap = 0.12 if gender == "Women" else 0.16
    pen.body([(0.5 - strap, 0.0), (0.5 + strap, 0.0), (0.5 + strap, 1.0), (0.5 - strap, 1.0)])
    radius = 0.3 if gender == "Women" else 0.4
    v_radius = radius * pen.width / pen.height
    pen.body_ellipse(0.5 - radius, 0.5 - v_radius, 0.5 + radius, 0.5 + v_radius)
    pen.ring(0.5 - radius, 0.5 - v_radius, 0.5 + radius, 0.5 + v_radius, "metal", 0.07)
    pen.line([(0.5, 0.5), (0.5, 0.5 - 0.7 * v_radius)], "face", 0.035)
    pen.line([(0.5, 0.5), (0.5 + 0.5 * radius, 0.5 + 0.1 * v_radius)], "face", 0.035)
    for v in (0.08, 0.16, 0.84, 0.92):
        pen.line([(0.5 - strap, v), (0.5 + strap, v)], "dark", 0.02)


def cap(pen: Pen, gender: str) -> None:
    pen.body(arc_points(0.4, 0.72, 0.38, 0.66, 180, 360) + [(0.78, 0.72), (0.02, 0.72)])
    pen.body([(0.6, 0.62), (0.99, 0.74), (0.95, 0.84), (0.55, 0.74)])
    pen.line([(0.4, 0.07), (0.4, 0.72)], "dark", 0.01)
    pen.line([(0.4, 0.07), (0.18, 0.72)], "dark", 0.008)
    pen.ellipse(0.37, 0.04, 0.43, 0.1, "dark")
    pen.line([(0.02, 0.72), (0.78, 0.72)], "dark", 0.015)
    pen.print_area = (0.44, 0.34, 0.74, 0.54)


def belt(pen: Pen, gender: str) -> None:
    pen.body_round(0.1, 0.3, 0.99, 0.7, 0.03)
    pen.ring(0.0, 0.18, 0.16, 0.82, "metal", 0.025)
    pen.line([(0.08, 0.5), (0.2, 0.5)], "metal", 0.012)
    pen.dots([(u, 0.5) for u in (0.55, 0.63, 0.71, 0.79)], 0.01, "dark")


def sunglasses(pen: Pen, gender: str) -> None:
    for u0 in (0.05, 0.55):
        pen.body_ellipse(u0, 0.12, u0 + 0.4, 0.92)
        pen.ellipse(u0 + 0.035, 0.22, u0 + 0.365, 0.82, "lens")
    pen.body_line([(0.44, 0.35), (0.5, 0.28), (0.56, 0.35)], 0.03)
    pen.body_line([(0.06, 0.3), (0.0, 0.2)], 0.03)
    pen.body_line([(0.94, 0.3), (1.0, 0.2)], 0.03)


def tie(pen: Pen, gender: str) -> None:
    pen.body([(0.25, 0.0), (0.75, 0.0), (0.64, 0.12), (0.36, 0.12)])
    pen.body([(0.38, 0.12), (0.62, 0.12), (0.95, 0.86), (0.5, 0.99), (0.05, 0.86)])
    pen.line([(0.36, 0.12), (0.64, 0.12)], "dark", 0.03)


def socks(pen: Pen, gender: str) -> None:
    pen.body([(0.22, 0.0), (0.62, 0.0), (0.62, 0.58), (0.96, 0.76), (0.92, 0.98), (0.42, 0.98), (0.22, 0.76)])
    pen.poly([(0.22, 0.0), (0.62, 0.0), (0.62, 0.12), (0.22, 0.12)], "dark")
    pen.poly([(0.84, 0.7), (0.96, 0.76), (0.92, 0.98), (0.84, 0.98)], "dark")
    for u in (0.3, 0.38, 0.46, 0.54):
        pen.line([(u, 0.01), (u, 0.11)], "light", 0.01)


SHAPES: dict[str, Callable[[Pen, str], None]] = {
    "Tshirts": tshirt,
    "Shirts": shirt,
    "Tops": top,
    "Sweatshirts": sweatshirt,
    "Jackets": jacket,
    "Kurtas": kurta,
    "Dresses": dress,
    "Skirts": skirt,
    "Jeans": jeans,
    "Trousers": trousers,
    "Shorts": shorts,
    "Casual Shoes": casual_shoes,
    "Sports Shoes": sports_shoes,
    "Formal Shoes": formal_shoes,
    "Heels": heels,
    "Flip Flops": flip_flops,
    "Sandals": sandals,
    "Handbags": handbag,
    "Backpacks": backpack,
    "Watches": watch,
    "Caps": cap,
    "Belts": belt,
    "Sunglasses": sunglasses,
    "Ties": tie,
    "Socks": socks,
}
