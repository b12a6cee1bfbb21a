"""Pictograms (REQUIREMENTS ACC-02): one safe, small SVG file per slug named in the referentials.

Reads the YAML files and the static folder directly: no app and no database.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
REFERENTIALS = ROOT / "referentials"
PICTOS = ROOT / "app" / "web" / "static" / "pictos"
SVG_NS = "{http://www.w3.org/2000/svg}"
MAX_BYTES = 2048
# Dark ink, the one accent colour, and white to mask lines behind a shape.
PALETTE = {"#1b1f24", "#0b5c4a", "#fff", "#ffffff", "none"}
SHAPES = {"svg", "g", "path", "circle", "ellipse", "rect", "line", "polyline", "polygon"}
COLOUR_ATTRS = ("fill", "stroke", "color", "stop-color")


def _pictograms_in(node: object) -> Iterator[str]:
    """Yield every `pictogram` value found at any depth of a parsed YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pictogram":
                yield value
            else:
                yield from _pictograms_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _pictograms_in(item)


def referenced_slugs() -> set[str]:
    """Every pictogram slug used by the shipped referentials, scale choices included."""
    slugs: set[str] = set()
    for path in sorted(REFERENTIALS.rglob("*.yaml")):
        slugs.update(_pictograms_in(yaml.safe_load(path.read_text(encoding="utf-8"))))
    return slugs


def _scale(transform: str | None) -> float:
    """The uniform scale factor of an element's transform (rotations and moves keep 1)."""
    factor = 1.0
    for match in re.finditer(r"scale\(([-\d.]+)(?:[ ,]+([-\d.]+))?\)", transform or ""):
        sx = abs(float(match.group(1)))
        sy = abs(float(match.group(2) or sx))
        factor *= min(sx, sy)
    return factor


SLUGS = sorted(referenced_slugs())
FILES = sorted(PICTOS.glob("*.svg"))


def test_the_referentials_name_pictograms_including_the_self_assessment_ones() -> None:
    # 16 bunk + packs + trades + 3 self-assessment choices: a walk that missed a file
    # or a nesting level would find far fewer.
    assert len(SLUGS) >= 60
    assert {"clock", "team", "alarm-clock", "helmet", "seedling", "thumbs-up", "star"} <= set(SLUGS)
    assert all(isinstance(s, str) and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s) for s in SLUGS)


def test_every_referenced_pictogram_has_a_file() -> None:
    missing = [s for s in SLUGS if not (PICTOS / f"{s}.svg").is_file()]
    assert missing == []


def test_every_file_is_referenced() -> None:
    orphans = [p.name for p in FILES if p.stem not in SLUGS]
    assert orphans == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_is_small_and_has_no_active_or_external_content(path: Path) -> None:
    raw = path.read_bytes()
    assert len(raw) < MAX_BYTES
    text = raw.decode("utf-8").lower().replace('xmlns="http://www.w3.org/2000/svg"', "", 1)
    for forbidden in (
        "<script",
        "<text",
        "<image",
        "<use",
        "<foreignobject",
        "<style",
        "href",
        "url(",
        "http:",
        "https:",
        "javascript:",
        "data:",
        "<!doctype",
        "<!entity",
        "@import",
    ):
        assert forbidden not in text, forbidden
    assert not re.search(r"\son[a-z]+\s*=", text), "event handler attribute"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_is_an_svg_drawn_with_plain_shapes_in_the_palette(path: Path) -> None:
    root = ET.fromstring(path.read_bytes())
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("viewBox") == "0 0 48 48"
    for element in root.iter():
        assert element.tag.startswith(SVG_NS), element.tag
        assert element.tag.removeprefix(SVG_NS) in SHAPES, element.tag
        for attr in COLOUR_ATTRS:
            value = element.get(attr)
            assert value is None or value.lower() in PALETTE, (attr, value)
        width = element.get("stroke-width")
        if width is not None:
            assert float(width) * _scale(element.get("transform")) >= 3, width


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_draws_in_ink_so_it_survives_black_and_white_printing(path: Path) -> None:
    text = path.read_text(encoding="utf-8").lower()
    assert "#1b1f24" in text
    assert "opacity" not in text
