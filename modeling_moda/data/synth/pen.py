"""A recorder of drawing operations in item-box coordinates (u, v in [0, 1]), replayed by the renderer.

`body` shapes form the item's silhouette, filled with the base colour (and pattern); `detail` shapes are drawn
on top in a named paint ("dark", "light", "contrast", "metal", "sole", "gold", "lens", "stitch", "face").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Point = tuple[float, float]


@dataclass
class Pen:
    x0: float
    y0: float
    width: float
    height: float
    body_ops: list[tuple] = field(default_factory=list)
    detail_ops: list[tuple] = field(default_factory=list)
    print_area: tuple[float, float, float, float] | None = None  # (u0, v0, u1, v1) where words may be printed

    def xy(self, points: list[Point]) -> list[tuple[float, float]]:
        return [(self.x0 + u * self.width, self.y0 + v * self.height) for u, v in points]

    def box(self, u0: float, v0: float, u1: float, v1: float) -> list[float]:
        (a, b), (c, d) = self.xy([(u0, v0), (u1, v1)])
        return [a, b, c, d]

    def px(self, fraction: float) -> int:
        """A stroke width given as a fraction of the item width, in pixels (at least 1)."""
        return max(1, round(fraction * self.width))

    # silhouette
    def body(self, points: list[Point]) -> None:
        self.body_ops.append(("polygon", self.xy(points)))

    def body_ellipse(self, u0: float, v0: float, u1: float, v1: float) -> None:
        self.body_ops.append(("ellipse", self.box(u0, v0, u1, v1)))

    def body_round(self, u0: float, v0: float, u1: float, v1: float, radius: float) -> None:
        self.body_ops.append(("rounded", self.box(u0, v0, u1, v1), radius * self.width))

    def body_line(self, points: list[Point], width: float) -> None:
        self.body_ops.append(("line", self.xy(points), self.px(width)))

    # details
    def poly(self, points: list[Point], paint: str) -> None:
        self.detail_ops.append(("polygon", self.xy(points), paint))

    def line(self, points: list[Point], paint: str, width: float) -> None:
        self.detail_ops.append(("line", self.xy(points), paint, self.px(width)))

    def ellipse(self, u0: float, v0: float, u1: float, v1: float, paint: str) -> None:
        self.detail_ops.append(("ellipse", self.box(u0, v0, u1, v1), paint))

    def ring(self, u0: float, v0: float, u1: float, v1: float, paint: str, width: float) -> None:
        self.detail_ops.append(("ring", self.box(u0, v0, u1, v1), paint, self.px(width)))

    def dots(self, centres: list[Point], radius: float, paint: str) -> None:
        for u, v in centres:
            r_u, r_v = radius, radius * self.width / self.height
            self.ellipse(u - r_u, v - r_v, u + r_u, v + r_v, paint)


def arc_points(
    cu: float, cv: float, ru: float, rv: float, start_deg: float, end_deg: float, n: int = 24
) -> list[Point]:
    """Points along an elliptical arc (angles in degrees, 0 = +u, 90 = +v)."""
    step = (end_deg - start_deg) / (n - 1)
    return [
        (
            cu + ru * math.cos(math.radians(start_deg + i * step)),
            cv + rv * math.sin(math.radians(start_deg + i * step)),
        )
        for i in range(n)
    ]
