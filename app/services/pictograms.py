"""Sanitising a badge's pictogram before it is embedded in the SVG artwork.

Pictograms are SVG files; only plain shapes and presentation attributes survive, parsed with
defusedxml (no entities, no DTDs) and within size and element budgets.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree

from app.services.artwork_markup import _SVG_NS, _escape, _num

_MAX_PICTO_BYTES = 64 * 1024
_MAX_PICTO_ELEMENTS = 400
_PICTO_SHAPES = {"g", "path", "circle", "ellipse", "rect", "line", "polyline", "polygon"}
_PICTO_ATTRIBUTES = {
    "d", "cx", "cy", "r", "rx", "ry", "x", "y", "width", "height", "x1", "y1", "x2", "y2",
    "points", "transform", "fill", "stroke", "stroke-width", "stroke-linecap",
    "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset",
    "fill-rule", "clip-rule", "opacity", "fill-opacity", "stroke-opacity",
}  # fmt: skip
_INHERITED = {
    "fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
    "fill-rule", "opacity",
}  # fmt: skip
_SAFE_VALUE = re.compile(r"[#0-9A-Za-z\s.,%+\-()]*")
_FUNCTIONS = {"matrix", "translate", "scale", "rotate", "skewx", "skewy", "rgb", "rgba"}
_NUMBER = r"\s*(-?\d+(?:\.\d+)?)"
_VIEWBOX = re.compile(rf"{_NUMBER}[\s,]{_NUMBER}[\s,]{_NUMBER}[\s,]{_NUMBER}\s*")


def _safe_value(value: str) -> bool:
    if not _SAFE_VALUE.fullmatch(value):
        return False
    calls = re.findall(r"([A-Za-z-]+)\s*\(", value)
    return all(name.lower() in _FUNCTIONS for name in calls) and value.count("(") == len(calls)


def _local(tag: str) -> str | None:
    """The SVG element name, or None for an element outside the SVG namespace."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return name if namespace == _SVG_NS else None
    return tag


def _attributes(element: Element, allowed: set[str]) -> str:
    kept = []
    for name, value in element.attrib.items():
        if name in allowed and _safe_value(value):
            kept.append(f' {name}="{_escape(value)}"')
    return "".join(kept)


def _children(element: Element, budget: list[int]) -> str:
    out = []
    for child in element:
        name = _local(child.tag) if isinstance(child.tag, str) else None
        if name not in _PICTO_SHAPES:
            continue  # scripts, links, images, text, styles, foreign markup: dropped whole
        budget[0] -= 1
        if budget[0] < 0:
            raise ValueError("pictogram too complex")
        inner = _children(child, budget)
        attributes = _attributes(child, _PICTO_ATTRIBUTES)
        out.append(f"<{name}{attributes}>{inner}</{name}>" if inner else f"<{name}{attributes}/>")
    return "".join(out)


def _sanitise_picto(picto_svg: str | None) -> str | None:
    """The pictogram's ``viewBox`` attribute and content, or None if unusable.

    Only plain shapes and presentation attributes are kept: no scripts, no links, no styles,
    no external references. A pictogram that does not parse safely is left out.
    """
    if not picto_svg or len(picto_svg.encode()) > _MAX_PICTO_BYTES:
        return None
    try:
        root = SafeElementTree.fromstring(picto_svg)
        if _local(root.tag) != "svg":
            return None
        box = _VIEWBOX.fullmatch(root.get("viewBox", ""))
        if box:
            view = [float(v) for v in box.groups()]
        else:
            view = [0.0, 0.0, float(root.get("width", "")), float(root.get("height", ""))]
        if view[2] <= 0 or view[3] <= 0:
            return None
        body = _children(root, [_MAX_PICTO_ELEMENTS])
    except (ParseError, DefusedXmlException, ValueError):
        return None  # not well-formed, entities or DTDs, bad sizes, too many elements
    if not body:
        return None
    viewbox = " ".join(_num(v) for v in view)
    group = _attributes(root, _INHERITED)
    return f'viewBox="{viewbox}"><g{group}>{body}</g>'
