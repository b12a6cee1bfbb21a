"""SVG text for the badge artwork: what XML can hold, escaping, compact numbers (internal).

Shared by the layout (titles are cleaned before they are measured), the SVG drawing in
``artwork`` and the pictogram sanitiser in ``pictograms``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_SVG_NS = "http://www.w3.org/2000/svg"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\u00ad\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    """Drop characters XML cannot hold (and soft hyphens), collapse whitespace."""
    words = (_XML_INVALID.sub("", word) for word in text.split())
    return " ".join(word for word in words if word)


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _points(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
