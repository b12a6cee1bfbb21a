"""The progress chart: an accessible inline SVG drawn on the server (ASM-06).

One small panel per competence, stacked: x is time, y the five levels, labelled with
words. Observations are filled circles, self-assessments hollow squares (with a bar when
the answer covers two levels), so the chart reads without colour; a legend says so.
The page shows the same points as a data table, the chart's text alternative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

OBSERVATION = "observation"
SELF = "self"

WIDTH = 360
PAD_X = 14
LEGEND_H = 44
PANEL_TITLE_H = 22
BAND_H = 24
PANEL_GAP = 14
AXIS_H = 42


@dataclass(frozen=True)
class ChartPoint:
    """One mark: an observation (one level) or a self-assessment (a range of levels)."""

    competence: str
    at: date
    kind: str
    level_min: int
    level_max: int


def _x(day: date, start: date, end: date) -> float:
    span = (end - start).days
    left, right = PAD_X + 6, WIDTH - PAD_X - 6
    if span <= 0:
        return (left + right) / 2
    return left + (right - left) * (day - start).days / span


def _y(level: float, top: float) -> float:
    """The centre line of ``level`` (1 at the bottom, 5 at the top) in a panel at ``top``."""
    return top + PANEL_TITLE_H + (5 - level) * BAND_H + BAND_H * 0.7


def _text(x: float, y: float, content: str, cls: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">'
        f"{escape(content)}</text>"
    )


def _mark(point: ChartPoint, x: float, top: float) -> str:
    if point.kind == OBSERVATION:
        cy = _y(point.level_min, top)
        return f'<circle class="mark-observation" cx="{x:.1f}" cy="{cy:.1f}" r="5"/>'
    middle = (point.level_min + point.level_max) / 2
    parts = []
    if point.level_max > point.level_min:
        parts.append(
            f'<line class="mark-range" x1="{x:.1f}" x2="{x:.1f}" '
            f'y1="{_y(point.level_min, top):.1f}" y2="{_y(point.level_max, top):.1f}"/>'
        )
    cy = _y(middle, top)
    parts.append(
        f'<rect class="mark-self" x="{x - 5:.1f}" y="{cy - 5:.1f}" width="10" height="10"/>'
    )
    return "".join(parts)


def _panel(
    key: str,
    points: Sequence[ChartPoint],
    top: float,
    name: str,
    level_names: Mapping[int, str],
    start: date,
    end: date,
) -> str:
    parts = [_text(PAD_X, top + 15, name, "chart-competence")]
    for level in range(1, 6):
        y = _y(level, top)
        parts.append(
            f'<line class="chart-grid" x1="{PAD_X}" x2="{WIDTH - PAD_X}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(_text(PAD_X + 2, y - 4, level_names.get(level, ""), "chart-level"))
    parts += [_mark(p, _x(p.at, start, end), top) for p in points if p.competence == key]
    return "".join(parts)


def chart_height(panels: int) -> int:
    """The height of a chart with ``panels`` competences."""
    panel = PANEL_TITLE_H + 5 * BAND_H + PANEL_GAP
    return LEGEND_H + panels * panel + AXIS_H


def progress_svg(
    points: Sequence[ChartPoint],
    *,
    title: str,
    competence_names: Mapping[str, str],
    level_names: Mapping[int, str],
    legend: tuple[str, str],
    description: str,
    baseline: date | None = None,
    start_label: str = "",
    date_format: str = "%d/%m/%Y",
    chart_id: str = "progression",
) -> Markup:
    """The chart of ``points`` as inline SVG markup, or an empty string without points.

    ``competence_names`` maps competence keys to names, in drawing order; ``legend`` names
    the observations and the self-assessments; ``baseline`` (the entry self-assessment)
    starts the time axis, marked ``start_label``.
    """
    keys = [k for k in competence_names if any(p.competence == k for p in points)]
    if not keys:
        return Markup("")
    days = [p.at for p in points if p.competence in keys]
    start = min(days + ([baseline] if baseline else []))
    end = max(days)
    height = chart_height(len(keys))
    observed_label, self_label = legend
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="progress-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        '<g class="chart-legend">',
        f'<circle class="mark-observation" cx="{PAD_X + 5}" cy="14" r="5"/>',
        _text(PAD_X + 16, 19, observed_label, "chart-label"),
        f'<rect class="mark-self" x="{PAD_X}" y="{29}" width="10" height="10"/>',
        _text(PAD_X + 16, 39, self_label, "chart-label"),
        "</g>",
    ]
    panel_h = PANEL_TITLE_H + 5 * BAND_H + PANEL_GAP
    for index, key in enumerate(keys):
        top = LEGEND_H + index * panel_h
        parts.append(_panel(key, points, top, competence_names[key], level_names, start, end))
    axis_y = LEGEND_H + len(keys) * panel_h + 4
    parts.append(
        f'<line class="chart-axis" x1="{PAD_X}" x2="{WIDTH - PAD_X}" '
        f'y1="{axis_y:.1f}" y2="{axis_y:.1f}"/>'
    )
    parts.append(_text(PAD_X, axis_y + 18, start.strftime(date_format), "chart-label"))
    if end != start:
        parts.append(
            _text(WIDTH - PAD_X, axis_y + 18, end.strftime(date_format), "chart-label", "end")
        )
    if baseline is not None and start_label:
        x = _x(baseline, start, end)
        parts.append(
            f'<line class="chart-baseline" x1="{x:.1f}" x2="{x:.1f}" '
            f'y1="{LEGEND_H:.1f}" y2="{axis_y:.1f}"/>'
        )
        anchor = "start" if x < WIDTH / 2 else "end"
        parts.append(_text(x, axis_y + 30, start_label, "chart-label", anchor))
    parts.append("</svg>")
    return Markup("".join(parts))
