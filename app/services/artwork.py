"""Artwork of badge classes: one round medallion, drawn as PNG (Pillow) and as SVG.

Pure module: no database, no Flask. Text is drawn with the DejaVu fonts shipped in
``app/static/fonts`` (never a system font). `layout` computes every box once and both renderers
draw from it, so the PNG and the SVG place the same text at the same place; the tests check
the boxes against the medallion's safe circle.

The medallion: a dark ring around a light disc; the badge's pictogram on top (SVG only; the PNG
draws a star instead, Pillow cannot rasterise SVG); the title in bold, wrapped on up to four
lines and shrunk to fit; a dark ribbon with « Niveau N » and five pips, N of them filled (the
level reads without colour); the tier's name when there is room; « badge numérique » at the
bottom. Every colour pair keeps a contrast of at least 4.5:1, in colour and in greyscale.

This module draws the PNG and the SVG. The geometry and text fitting live in
``artwork_layout`` (``layout``, ``font``, the sizes and colours are re-exported here), the
pictogram sanitiser in ``pictograms`` and the SVG text helpers in ``artwork_markup``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from app.services.artwork_layout import (
    BRAND,
    BRAND_DARK,
    FONT_BOLD,
    FONT_DIR,
    FONT_FAMILY,
    FONT_REGULAR,
    INK,
    LEVELS,
    MAX_LABEL_LINES,
    MAX_SIZE,
    MAX_TITLE_LINES,
    MIN_SIZE,
    MUTED,
    ON_BRAND,
    PAPER,
    PIP_COUNT,
    TAGLINE,
    Layout,
    Pip,
    TextLine,
    font,
    layout,
)
from app.services.artwork_markup import _SVG_NS, _clean, _escape, _num, _points
from app.services.pictograms import _sanitise_picto

__all__ = [
    "BRAND",
    "BRAND_DARK",
    "FONT_BOLD",
    "FONT_DIR",
    "FONT_FAMILY",
    "FONT_REGULAR",
    "INK",
    "LEVELS",
    "MAX_LABEL_LINES",
    "MAX_SIZE",
    "MAX_TITLE_LINES",
    "MIN_SIZE",
    "MUTED",
    "ON_BRAND",
    "PAPER",
    "PIP_COUNT",
    "TAGLINE",
    "Artwork",
    "Layout",
    "Pip",
    "TextLine",
    "font",
    "layout",
    "render_artwork",
]


@dataclass(frozen=True)
class Artwork:
    """One badge image in both formats."""

    png: bytes
    svg: str


def render_artwork(
    *,
    title: str,
    level: int,
    level_label: str | None,
    picto_svg: str | None = None,
    size: int = 400,
) -> Artwork:
    """Draw the badge medallion as a PNG and an SVG (same inputs, same bytes)."""
    plan = layout(title=title, level=level, level_label=level_label, size=size)
    description = _description(title, level, level_label)
    return Artwork(png=_png(plan), svg=_svg(plan, description, _sanitise_picto(picto_svg)))


# --- PNG ----------------------------------------------------------------------------------------


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def _star(cx: float, cy: float, outer: float, inner: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _ribbon_shapes(
    plan: Layout,
) -> tuple[list[list[tuple[float, float]]], list[tuple[float, float]]]:
    """The two tails (behind) and the band, as polygons."""
    s = plan.size
    left, top, right, bottom = plan.ribbon
    drop = 0.045 * s
    notch = 0.035 * s
    fold = 0.06 * s
    outer = 0.008 * s
    tails = []
    for side in (-1, 1):
        edge = left if side < 0 else right
        end = outer if side < 0 else s - outer
        inner = edge - side * fold
        tails.append(
            [
                (inner, top + drop),
                (end, top + drop),
                (end - side * notch, (top + bottom) / 2 + drop),
                (end, bottom + drop),
                (inner, bottom + drop),
            ]
        )
    band = [(left, top), (right, top), (right, bottom), (left, bottom)]
    return tails, band


def _png(plan: Layout) -> bytes:
    s = plan.size
    k = 4 if s <= 512 else 2  # draw shapes large, then shrink: smooth edges without antialias
    canvas = Image.new("RGBA", (s * k, s * k), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    c = plan.centre * k

    def disc(radius: float, **kwargs: object) -> None:
        r = radius * k
        draw.ellipse((c - r, c - r, c + r, c + r), **kwargs)

    def scaled(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * k, y * k) for x, y in points]

    disc(plan.outer_radius, fill=_rgb(BRAND))
    disc(plan.inner_radius, fill=_rgb(PAPER))
    disc(plan.rule_radius, outline=_rgb(BRAND_DARK), width=max(round(0.006 * s * k), 1))
    ex, ey, side = plan.emblem
    draw.polygon(scaled(_star(ex, ey, side / 2, side / 5)), fill=_rgb(BRAND))
    tails, band = _ribbon_shapes(plan)
    for tail in tails:
        draw.polygon(scaled(tail), fill=_rgb(BRAND_DARK))
    draw.polygon(scaled(band), fill=_rgb(BRAND))
    for pip in plan.pips:
        box = [v * k for v in (pip.cx - pip.r, pip.cy - pip.r, pip.cx + pip.r, pip.cy + pip.r)]
        width = max(round(pip.r * 0.42 * k), 1)
        if pip.filled:
            draw.ellipse(box, fill=_rgb(ON_BRAND))
        else:
            draw.ellipse(box, outline=_rgb(ON_BRAND), width=width)
    image = canvas.resize((s, s), Image.Resampling.LANCZOS)
    # Text at final size: hinted glyphs are sharper than shrunk ones.
    text = ImageDraw.Draw(image)
    for line in plan.lines:
        f = font(line.bold, line.font_size)
        text.text((line.x, line.baseline), line.text, font=f, fill=_rgb(line.colour), anchor="ls")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


# --- SVG ----------------------------------------------------------------------------------------


def _description(title: str, level: int, level_label: str | None) -> str:
    label = _clean(level_label or "")
    level_text = f"Niveau {level}" + (f" ({label})" if label else "")
    return f"{_clean(title)} — {level_text} — {TAGLINE}"


def _svg(plan: Layout, description: str, picto: str | None) -> str:
    s = plan.size
    c = _num(plan.centre)
    out = [
        f'<svg xmlns="{_SVG_NS}" width="{s}" height="{s}" viewBox="0 0 {s} {s}" '
        f'role="img" aria-label="{_escape(description)}">',
        f"<title>{_escape(description)}</title>",
        f'<circle cx="{c}" cy="{c}" r="{_num(plan.outer_radius)}" fill="{BRAND}"/>',
        f'<circle cx="{c}" cy="{c}" r="{_num(plan.inner_radius)}" fill="{PAPER}"/>',
        f'<circle cx="{c}" cy="{c}" r="{_num(plan.rule_radius)}" fill="none" '
        f'stroke="{BRAND_DARK}" stroke-width="{_num(max(0.006 * s, 1))}"/>',
    ]
    ex, ey, side = plan.emblem
    if picto:
        out.append(
            f'<svg aria-hidden="true" x="{_num(ex - side / 2)}" y="{_num(ey - side / 2)}" '
            f'width="{_num(side)}" height="{_num(side)}" {picto}</svg>'
        )
    else:
        star = _points(_star(ex, ey, side / 2, side / 5))
        out.append(f'<polygon aria-hidden="true" points="{star}" fill="{BRAND}"/>')
    tails, band = _ribbon_shapes(plan)
    out.append('<g aria-hidden="true">')
    out += [f'<polygon points="{_points(tail)}" fill="{BRAND_DARK}"/>' for tail in tails]
    out.append(f'<polygon points="{_points(band)}" fill="{BRAND}"/>')
    for pip in plan.pips:
        common = f'cx="{_num(pip.cx)}" cy="{_num(pip.cy)}"'
        if pip.filled:
            out.append(f'<circle {common} r="{_num(pip.r)}" fill="{ON_BRAND}"/>')
        else:
            stroke = pip.r * 0.42
            out.append(
                f'<circle {common} r="{_num(pip.r - stroke / 2)}" fill="none" '
                f'stroke="{ON_BRAND}" stroke-width="{_num(stroke)}"/>'
            )
    out.append("</g>")
    out.append(f'<g font-family="{FONT_FAMILY}">')
    for line in plan.lines:
        weight = ' font-weight="bold"' if line.bold else ""
        out.append(
            f'<text x="{line.x}" y="{line.baseline}" font-size="{line.font_size}"{weight} '
            f'fill="{line.colour}" textLength="{_num(line.width)}" '
            f'lengthAdjust="spacingAndGlyphs">{_escape(line.text)}</text>'
        )
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
