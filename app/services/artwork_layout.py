"""Geometry of the badge medallion: every shape and text line placed once, for both formats.

``layout`` computes the boxes that the PNG and the SVG drawings in ``artwork`` both draw from.
Text is measured with the DejaVu fonts shipped in ``app/static/fonts`` (never a system font):
the title in bold, wrapped on up to four lines and shrunk to fit the safe circle; « Niveau N »
and five pips on the ribbon; the tier's name when there is room; « badge numérique » at the
bottom.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from app.services.artwork_markup import _clean

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FONT_FAMILY = "DejaVu Sans, sans-serif"

LEVELS = (3, 4, 5)
PIP_COUNT = 5  # the mastery scale runs from 1 to 5; a badge shows its level as filled pips
MIN_SIZE = 160
MAX_SIZE = 1024
TAGLINE = "badge numérique"
MAX_TITLE_LINES = 4
MAX_LABEL_LINES = 2

INK = "#1b1f24"  # title
MUTED = "#4a5360"  # tier name, tagline
PAPER = "#f7faf8"  # the light disc
BRAND = "#0b5c4a"  # ring, ribbon, star
BRAND_DARK = "#073d31"  # ribbon tails, inner rule
ON_BRAND = "#ffffff"  # text and pips on the ribbon

_FLOOR_PX = 6  # smallest font size tried before giving up (only absurdly long titles get there)
_MIN_READABLE_PX = 9  # smaller titles only as a last resort; a smaller tier name is left out
_MIN_TAGLINE_PX = 8


@dataclass(frozen=True)
class TextLine:
    """One line of text: drawn from (x, baseline); box is the ink and advance extent."""

    text: str
    x: int
    baseline: int
    width: float
    font_size: int
    bold: bool
    colour: str
    box: tuple[float, float, float, float]  # left, top, right, bottom


@dataclass(frozen=True)
class Pip:
    cx: float
    cy: float
    r: float
    filled: bool


@dataclass(frozen=True)
class Layout:
    """Where everything goes on a ``size`` × ``size`` medallion (pixels, origin top left)."""

    size: int
    centre: float
    outer_radius: float
    inner_radius: float
    rule_radius: float
    safe_radius: float  # every text box lies inside this circle
    emblem: tuple[float, float, float]  # centre x, centre y, side of its square
    ribbon: tuple[float, float, float, float]  # band left, top, right, bottom
    title: tuple[TextLine, ...]
    level: TextLine
    pips: tuple[Pip, ...]
    label: tuple[TextLine, ...]
    tagline: TextLine

    @property
    def lines(self) -> tuple[TextLine, ...]:
        return (*self.title, self.level, *self.label, self.tagline)


def layout(*, title: str, level: int, level_label: str | None, size: int = 400) -> Layout:
    """Compute the medallion's geometry and every text line, fitted inside the safe circle."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE}, not {size!r}")
    words = _clean(title).split()
    if not words:
        raise ValueError("the title is empty")
    s = float(size)
    centre = s / 2
    geometry = _Circle(centre, 0.405 * s)
    emblem = (centre, 0.2 * s, 0.15 * s)
    ribbon = (0.055 * s, 0.585 * s, 0.945 * s, 0.69 * s)

    level_line, pips = _level_group(level, ribbon, s)
    tagline = _tagline(geometry, s)
    title_lines = _fit_title(words, geometry, top=0.29 * s, bottom=ribbon[1] - 0.02 * s, s=s)
    label_words = _clean(level_label or "").split()
    label = _fit_label(label_words, geometry, ribbon[3] + 0.025 * s, tagline.box[1] - 0.015 * s, s)
    return Layout(
        size=size,
        centre=centre,
        outer_radius=0.485 * s,
        inner_radius=0.44 * s,
        rule_radius=0.42 * s,
        safe_radius=geometry.radius,
        emblem=emblem,
        ribbon=ribbon,
        title=title_lines,
        level=level_line,
        pips=pips,
        label=label,
        tagline=tagline,
    )


# --- text fitting -----------------------------------------------------------------------------


@lru_cache(maxsize=256)
def font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    """The shipped DejaVu Sans (bold or regular) at ``size`` pixels."""
    path = FONT_BOLD if bold else FONT_REGULAR
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)


@dataclass(frozen=True)
class _Circle:
    centre: float
    radius: float

    def width_between(self, top: float, bottom: float, margin: float = 0.0) -> float:
        """Widest centred span that stays inside the circle from ``top`` to ``bottom``."""
        far = max(abs(top - self.centre), abs(bottom - self.centre))
        if far >= self.radius:
            return 0.0
        return 2 * math.sqrt(self.radius**2 - far**2) - 2 * margin


def _line_height(f: ImageFont.FreeTypeFont) -> int:
    ascent, descent = f.getmetrics()
    return ascent + descent


def _line(text: str, bold: bool, size: int, centre_x: float, top: float, colour: str) -> TextLine:
    """A line centred on ``centre_x`` whose line box starts at ``top``."""
    f = font(bold, size)
    ascent, descent = f.getmetrics()
    width = f.getlength(text)
    x = round(centre_x - width / 2)
    baseline = round(top + ascent)
    ink = f.getbbox(text, anchor="ls")
    box = (
        min(x, x + ink[0]),
        min(baseline - ascent, baseline + ink[1]),
        max(x + width, x + ink[2]),
        max(baseline + descent, baseline + ink[3]),
    )
    return TextLine(text, x, baseline, width, size, bold, colour, box)


_SOFT = "\u00ad"  # ends a piece of a cut word: glued to the next piece, or shown as "-"


@lru_cache(maxsize=16384)
def _length(f: ImageFont.FreeTypeFont, text: str) -> float:
    return f.getlength(text)


def _join(tokens: Sequence[str]) -> str:
    """Words separated by spaces; pieces of a cut word glued back, or hyphenated at line end."""
    parts: list[str] = []
    for token in tokens:
        if parts and parts[-1].endswith(_SOFT):
            parts[-1] = parts[-1][:-1] + token
        else:
            parts.append(token)
    text = " ".join(parts)
    return text[:-1] + "-" if text.endswith(_SOFT) else text


def _wrap(
    words: Sequence[str], limits: Sequence[float], f: ImageFont.FreeTypeFont
) -> list[str] | None:
    """Words on exactly ``len(limits)`` lines, each within its limit, as balanced as possible."""
    parts = len(limits)
    if parts > len(words):
        return None
    if len(words) > 18:  # too many break choices to try them all: fill lines greedily
        return _greedy(words, limits, f)
    best: tuple[float, float] | None = None
    chosen: list[str] | None = None
    for cuts in itertools.combinations(range(1, len(words)), parts - 1):
        bounds = (0, *cuts, len(words))
        lines = [_join(words[a:b]) for a, b in itertools.pairwise(bounds)]
        ratios = [_length(f, line) / limit for line, limit in zip(lines, limits, strict=True)]
        if max(ratios) > 1:
            continue
        score = (max(ratios), sum(r * r for r in ratios))
        if best is None or score < best:
            best, chosen = score, lines
    return chosen


def _greedy(
    words: Sequence[str], limits: Sequence[float], f: ImageFont.FreeTypeFont
) -> list[str] | None:
    """Fill each line in turn; None unless the words take exactly ``len(limits)`` lines."""
    lines: list[list[str]] = [[]]
    for word in words:
        if _length(f, _join([*lines[-1], word])) <= limits[len(lines) - 1]:
            lines[-1].append(word)
            continue
        if not lines[-1] or len(lines) == len(limits):
            return None
        lines.append([word])
        if _length(f, _join([word])) > limits[len(lines) - 1]:
            return None
    return [_join(line) for line in lines] if len(lines) == len(limits) else None


def _chop(words: Sequence[str], limit: float, f: ImageFont.FreeTypeFont) -> list[str]:
    """Cut any word wider than ``limit`` into pieces that fit, each but the last hyphenated."""
    pieces: list[str] = []
    for word in words:
        while len(word) > 1 and _length(f, word) > limit:
            low, high = 1, len(word) - 1  # longest head that fits with its hyphen
            while low < high:
                middle = (low + high + 1) // 2
                if _length(f, word[:middle] + "-") <= limit:
                    low = middle
                else:
                    high = middle - 1
            pieces.append(word[:low] + _SOFT)
            word = word[low:]
        pieces.append(word)
    return pieces


def _fit_block(
    words: Sequence[str],
    circle: _Circle,
    *,
    top: float,
    bottom: float,
    bold: bool,
    sizes: range,
    max_lines: int,
    colour: str,
    margin: float,
    chop: bool = False,
) -> tuple[TextLine, ...]:
    """Largest font, then fewest lines, that fits ``words`` between ``top`` and ``bottom``."""
    for size in sizes:
        f = font(bold, size)
        pitch = _line_height(f)
        fitting = min(max_lines, int((bottom - top) // pitch))
        for count in range(1, fitting + 1):
            block_top = top + ((bottom - top) - count * pitch) / 2
            tops = [block_top + i * pitch for i in range(count)]
            limits = [circle.width_between(t, t + pitch, margin) for t in tops]
            if min(limits) <= 0:
                break  # more lines would reach the edge of the circle
            candidates = _chop(words, min(limits), f) if chop else words
            lines = _wrap(candidates, limits, f)
            if lines:
                return tuple(
                    _line(text, bold, size, circle.centre, t, colour)
                    for text, t in zip(lines, tops, strict=True)
                )
    return ()


def _fit_title(
    words: list[str], circle: _Circle, *, top: float, bottom: float, s: float
) -> tuple[TextLine, ...]:
    """Whole words if they fit legibly, else cut words, else tiny type, else an ellipsis."""
    largest = max(round(0.085 * s), _FLOOR_PX)
    legible = range(largest, max(round(0.05 * s), _MIN_READABLE_PX) - 1, -1)
    tiny = range(largest, _FLOOR_PX - 1, -1)
    common = dict(top=top, bottom=bottom, bold=True, colour=INK, margin=0.01 * s)
    attempts = [
        dict(sizes=legible, max_lines=MAX_TITLE_LINES),
        dict(sizes=legible, max_lines=MAX_TITLE_LINES, chop=True),
        dict(sizes=tiny, max_lines=99, chop=True),
    ]
    for attempt in attempts:
        lines = _fit_block(words, circle, **attempt, **common)
        if lines:
            return lines
    # Only a title far longer than any badge name gets here: keep as much of it as fits.
    text = " ".join(words)
    low, high, best = 1, len(text) - 1, ()
    while low <= high:
        keep = (low + high) // 2
        cut = (text[:keep].rstrip() + "…").split()
        lines = _fit_block(cut, circle, sizes=tiny[-1:], max_lines=99, chop=True, **common)
        if lines:
            low, best = keep + 1, lines
        else:
            high = keep - 1
    if not best:
        raise ValueError("the title cannot be drawn on the badge")
    return best


def _fit_label(
    words: list[str], circle: _Circle, top: float, bottom: float, s: float
) -> tuple[TextLine, ...]:
    if not words:
        return ()
    largest = max(round(0.036 * s), _MIN_READABLE_PX)
    sizes = range(largest, _MIN_READABLE_PX - 1, -1)
    common = dict(top=top, bottom=bottom, bold=False, colour=MUTED, margin=0.01 * s)
    return _fit_block(words, circle, sizes=sizes, max_lines=MAX_LABEL_LINES, **common)


def _tagline(circle: _Circle, s: float) -> TextLine:
    """« badge numérique », as low in the disc as its width allows."""
    for size in range(max(round(0.038 * s), 10), _MIN_TAGLINE_PX - 1, -1):
        f = font(False, size)
        half = f.getlength(TAGLINE) / 2 + 0.01 * s
        lowest = circle.centre + math.sqrt(max(circle.radius**2 - half**2, 0.0))
        bottom = min(lowest, 0.86 * s)
        top = bottom - _line_height(f)
        if top > 0.72 * s:
            return _line(TAGLINE, False, size, circle.centre, top, MUTED)
    raise ValueError("the badge is too small for its texts")  # not reached from MIN_SIZE up


def _level_group(
    level: int, ribbon: tuple[float, ...], s: float
) -> tuple[TextLine, tuple[Pip, ...]]:
    """« Niveau N » followed by the pips, centred on the ribbon."""
    left, top, right, bottom = ribbon
    text = f"Niveau {level}"
    size = max(round(0.062 * s), 11)
    f = font(True, size)
    radius = max(0.019 * s, 3.0)
    step = 2.9 * radius
    gap = 0.045 * s
    pips_width = (PIP_COUNT - 1) * step + 2 * radius
    total = f.getlength(text) + gap + pips_width
    start = (left + right) / 2 - total / 2
    line_top = (top + bottom) / 2 - _line_height(f) / 2
    line = _line(text, True, size, start + f.getlength(text) / 2, line_top, ON_BRAND)
    # Centre the pips on the digits' height, not on the line box (which includes the descent).
    ink = f.getbbox("0123456789", anchor="ls")
    cy = line.baseline + (ink[1] + ink[3]) / 2
    first = line.x + line.width + gap + radius
    pips = tuple(Pip(first + i * step, cy, radius, i < level) for i in range(PIP_COUNT))
    return line, pips
