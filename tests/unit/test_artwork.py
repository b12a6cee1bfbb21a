"""Badge class artwork (app.services.artwork): layout, PNG and SVG.

No app and no database: renders from the badge_templates/*.yaml names and the shipped pictograms.
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
import yaml
from defusedxml import ElementTree as SafeElementTree
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from app.services import artwork
from app.services.artwork import Layout, TextLine, font, layout, render_artwork

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "badge_templates").glob("*.yaml"))
PICTOS = ROOT / "app" / "web" / "static" / "pictos"
SVG = "{http://www.w3.org/2000/svg}"
SIZES = (200, 400)


def _tiers() -> Iterator[tuple[str, int, str | None]]:
    for path in TEMPLATES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for tier in data.get("levels", []):
            yield data["name"]["fr"], tier["level"], tier.get("name", {}).get("fr")


TIERS = list(_tiers())
SAMPLE = {
    "title": "S’adapter à l’organisation",
    "level": 4,
    "level_label": "Mise en œuvre autonome",
}


def _inside(plan: Layout, line: TextLine) -> bool:
    left, top, right, bottom = line.box
    return all(
        math.hypot(x - plan.centre, y - plan.centre) <= plan.safe_radius
        for x in (left, right)
        for y in (top, bottom)
    )


def _grey(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    white.alpha_composite(image)
    return white.convert("L")


def _luminance(grey: int) -> float:
    """WCAG relative luminance of an sRGB grey 0–255."""
    c = grey / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _ratio(a: float, b: float) -> float:
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


def _colour_luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _as_grey(colour: str) -> int:
    """What Pillow's convert("L") makes of a colour."""
    image = Image.new("RGB", (1, 1), colour).convert("L")
    return image.getpixel((0, 0))


def _png_chunks(png: bytes) -> list[bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        chunks.append(png[offset + 4 : offset + 8])
        offset += 12 + length
    return chunks


def _svg_root(svg: str) -> Element:
    return SafeElementTree.fromstring(svg)


def _texts(root: Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


# --- determinism and format ---------------------------------------------------------------------


def test_same_inputs_give_identical_bytes() -> None:
    picto = (PICTOS / "team.svg").read_text(encoding="utf-8")
    first = render_artwork(**SAMPLE, picto_svg=picto, size=200)
    second = render_artwork(**SAMPLE, picto_svg=picto, size=200)
    assert first.png == second.png
    assert first.svg == second.svg
    assert render_artwork(**{**SAMPLE, "level": 5}, size=200).png != first.png


@pytest.mark.parametrize("size", SIZES)
def test_png_decodes_at_the_requested_size_without_metadata(size: int) -> None:
    png = render_artwork(**SAMPLE, size=size).png
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    assert image.size == (size, size)
    assert image.mode in {"RGB", "RGBA"}
    # Only image data: no time stamp or text chunk that could vary between runs.
    assert set(_png_chunks(png)) == {b"IHDR", b"IDAT", b"IEND"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": 2}, "level"),
        ({"level": 6}, "level"),
        ({"size": 100}, "size"),
        ({"size": 4000}, "size"),
        ({"size": 200.0}, "size"),
        ({"title": "  \n "}, "title"),
    ],
)
def test_bad_inputs_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_artwork(**{**SAMPLE, **kwargs})  # type: ignore[arg-type]


# --- layout ------------------------------------------------------------------------------------


def test_the_templates_were_found() -> None:
    assert len(TEMPLATES) >= 17
    assert max(len(title) for title, _, _ in TIERS) >= 40


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("title", "level", "label"), TIERS)
def test_every_template_name_fits_inside_the_medallion(
    title: str, level: int, label: str | None, size: int
) -> None:
    plan = layout(title=title, level=level, level_label=label, size=size)
    assert plan.safe_radius < plan.rule_radius < plan.inner_radius < plan.outer_radius
    assert plan.outer_radius <= size / 2
    for line in plan.lines:
        assert _inside(plan, line), (line.text, line.box)
    # Whole words, nothing dropped, nothing cut, at most four lines, and legible at 200 px.
    assert 1 <= len(plan.title) <= artwork.MAX_TITLE_LINES
    assert " ".join(line.text for line in plan.title) == " ".join(title.split())
    assert min(line.font_size for line in plan.title) >= 0.05 * size
    assert plan.level.text == f"Niveau {level}"
    assert plan.tagline.text == "badge numérique"
    if plan.label:
        assert " ".join(line.text for line in plan.label) == label


@pytest.mark.parametrize("size", SIZES)
def test_the_blocks_do_not_overlap(size: int) -> None:
    title, level, label = max(TIERS, key=lambda tier: len(tier[0]) + len(tier[2] or ""))
    plan = layout(title=title, level=level, level_label=label, size=size)
    ex, ey, side = plan.emblem
    _, ribbon_top, _, ribbon_bottom = plan.ribbon
    assert ey + side / 2 <= plan.title[0].box[1]
    assert plan.title[-1].box[3] <= ribbon_top
    assert ribbon_top <= plan.level.box[1] and plan.level.box[3] <= ribbon_bottom
    below = [*plan.label, plan.tagline]
    assert ribbon_bottom <= below[0].box[1]
    for upper, lower in zip(below, below[1:], strict=False):
        assert upper.box[3] <= lower.box[1]
    for pip in plan.pips:
        assert ribbon_top < pip.cy - pip.r and pip.cy + pip.r < ribbon_bottom
        assert plan.level.box[2] < pip.cx - pip.r


def test_the_tier_name_shows_when_there_is_room() -> None:
    plan = layout(**SAMPLE, size=400)
    assert [line.text for line in plan.label] == ["Mise en œuvre autonome"]
    assert plan.label[0].font_size < plan.level.font_size
    assert layout(**{**SAMPLE, "level_label": None}, size=400).label == ()


@pytest.mark.parametrize("level", artwork.LEVELS)
def test_the_level_shows_as_filled_pips(level: int) -> None:
    plan = layout(**{**SAMPLE, "level": level}, size=200)
    assert len(plan.pips) == 5
    assert [pip.filled for pip in plan.pips] == [i < level for i in range(5)]
    assert plan.level.text == f"Niveau {level}"
    assert plan.level.font_size >= 12  # prominent even at 200 px


@settings(max_examples=40, deadline=None)
@given(
    title=st.text(
        alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzàéèêœWM’'- "), min_size=1, max_size=160
    ).filter(str.strip),
    size=st.sampled_from(SIZES),
)
def test_any_name_is_kept_inside_the_medallion(title: str, size: int) -> None:
    plan = layout(
        title=title, level=3, level_label="Mobilisable en situation de travail", size=size
    )
    assert plan.title
    for line in plan.lines:
        assert _inside(plan, line), (line.text, line.box)
    assert plan.title[-1].box[3] <= plan.ribbon[1]


def test_a_word_too_long_for_a_line_is_cut_not_clipped() -> None:
    word = "Anticonstitutionnellementissimement"
    plan = layout(title=word, level=4, level_label=None, size=200)
    assert len(plan.title) > 1
    assert all(line.text.endswith("-") for line in plan.title[:-1])
    assert "".join(line.text.removesuffix("-") for line in plan.title) == word
    assert all(_inside(plan, line) for line in plan.title)


# --- contrast ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ink", "ground"),
    [
        (artwork.INK, artwork.PAPER),
        (artwork.MUTED, artwork.PAPER),
        (artwork.ON_BRAND, artwork.BRAND),
        (artwork.BRAND, artwork.PAPER),
    ],
)
def test_palette_keeps_contrast_in_colour_and_in_greyscale(ink: str, ground: str) -> None:
    assert _ratio(_colour_luminance(ink), _colour_luminance(ground)) >= 4.5
    assert _ratio(_luminance(_as_grey(ink)), _luminance(_as_grey(ground))) >= 4.5


@pytest.mark.parametrize("size", SIZES)
def test_text_reads_in_greyscale(size: int) -> None:
    plan = layout(**SAMPLE, size=size)
    grey = _grey(render_artwork(**SAMPLE, size=size).png)
    paper, ribbon = _as_grey(artwork.PAPER), _as_grey(artwork.BRAND)
    for line in plan.lines:
        box = tuple(round(v) for v in line.box)
        crop = grey.crop(box)
        histogram = crop.histogram()
        background = max(range(256), key=histogram.__getitem__)
        expected = ribbon if line is plan.level else paper
        assert abs(background - expected) <= 2, line.text
        darkest, lightest = crop.getextrema()
        ink = lightest if background < 128 else darkest
        assert _ratio(_luminance(ink), _luminance(background)) >= 4.5, line.text


def test_the_border_is_dark_and_the_disc_light_in_greyscale() -> None:
    plan = layout(**SAMPLE, size=400)
    grey = _grey(render_artwork(**SAMPLE, size=400).png)
    c = plan.centre
    ring = grey.getpixel((c, c - (plan.outer_radius + plan.inner_radius) / 2))
    disc = grey.getpixel((c - plan.safe_radius + 4, c))
    assert ring < 100 < 200 < disc


# --- fonts ----------------------------------------------------------------------------------------


def test_fonts_are_the_shipped_dejavu_files() -> None:
    fonts = ROOT / "app" / "static" / "fonts"
    assert Path(font(False, 20).path) == fonts / "DejaVuSans.ttf"
    assert Path(font(True, 20).path) == fonts / "DejaVuSans-Bold.ttf"
    assert "Bitstream" in (fonts / "LICENSE.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("bold", [True, False])
@pytest.mark.parametrize("char", ["’", "œ", "é", "è", "à", "ç", "ê", "«", "»", "…"])
def test_french_glyphs_exist_in_the_font(char: str, bold: bool) -> None:
    f = font(bold, 24)
    missing = bytes(f.getmask("\U000e0001"))  # a code point DejaVu has no glyph for
    mask = f.getmask(char)
    assert mask.getbbox() is not None
    assert f.getbbox(char)[2] > 0
    assert bytes(mask) != missing


# --- SVG --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_svg_is_well_formed_accessible_and_self_contained(size: int) -> None:
    svg = render_artwork(**SAMPLE, size=size).svg
    root = _svg_root(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == str(size) and root.get("height") == str(size)
    assert root.get("viewBox") == f"0 0 {size} {size}"
    assert root.get("role") == "img"
    label = root.get("aria-label")
    assert label and "S’adapter à l’organisation" in label and "Niveau 4" in label
    assert "badge numérique" in label
    assert root[0].tag == f"{SVG}title" and root[0].text == label
    texts = _texts(root)
    assert " ".join(texts[: len(layout(**SAMPLE, size=size).title)]) == SAMPLE["title"]
    assert "Niveau 4" in texts and "badge numérique" in texts
    assert "Mise en œuvre autonome" in " ".join(texts) or size < 400
    families = {g.get("font-family") for g in root.iter(f"{SVG}g") if g.get("font-family")}
    assert families == {"DejaVu Sans, sans-serif"}
    lowered = svg.lower()
    for word in ("diplôme", "diplome", "certification", "<script", "href", "url(", "<image"):
        assert word not in lowered
    assert lowered.count("http") == 1  # the namespace declaration, not a reference


def test_hostile_title_is_escaped() -> None:
    title = '<script>alert("x")</script> & <b onload="y">'
    svg = render_artwork(title=title, level=3, level_label="A & <i>", size=400).svg
    root = _svg_root(svg)
    assert "<script" not in svg and "<b " not in svg and "<i>" not in svg
    assert not [node for node in root.iter() if node.tag in {f"{SVG}script", f"{SVG}b", "script"}]
    assert root[0].text.startswith(title)
    assert "A & <i>" in root[0].text
    assert "&amp;" in svg and "&lt;script&gt;" in svg


def test_control_characters_do_not_break_the_svg() -> None:
    svg = render_artwork(
        title="Tra\x00vailler\x0ben\x1féquipe\ufffe", level=3, level_label=None
    ).svg
    assert _svg_root(svg)[0].text.startswith("Travailler en équipe")


# --- pictogram --------------------------------------------------------------------------------


def test_pictogram_is_nested_in_the_svg_and_skipped_by_the_png() -> None:
    picto = (PICTOS / "team.svg").read_text(encoding="utf-8")
    with_picto = render_artwork(**SAMPLE, picto_svg=picto)
    without = render_artwork(**SAMPLE)
    root = _svg_root(with_picto.svg)
    nested = [node for node in root.iter(f"{SVG}svg") if node is not root]
    assert len(nested) == 1
    assert nested[0].get("viewBox") == "0 0 48 48"
    assert nested[0].get("aria-hidden") == "true"
    assert len(list(nested[0].iter(f"{SVG}circle"))) == 3
    assert len(list(nested[0].iter(f"{SVG}path"))) == 2
    assert with_picto.png == without.png
    assert "<polygon aria-hidden" in without.svg  # the star stands in


@pytest.mark.parametrize("path", sorted(PICTOS.glob("*.svg")), ids=lambda p: p.stem)
def test_every_shipped_pictogram_is_kept(path: Path) -> None:
    svg = render_artwork(**SAMPLE, picto_svg=path.read_text(encoding="utf-8"), size=200).svg
    root = _svg_root(svg)
    assert [node for node in root.iter(f"{SVG}svg") if node is not root]


HOSTILE = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
  viewBox="0 0 48 48" onload="alert(1)">
  <script>alert(2)</script>
  <style>path { fill: url(http://evil.example/x.svg#p) }</style>
  <image href="http://evil.example/tracker.png" width="10" height="10"/>
  <use xlink:href="http://evil.example/sprite.svg#a"/>
  <a href="javascript:alert(3)"><path d="M0 0h10"/></a>
  <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
  <path d="M1 1h10" fill="url(http://evil.example/g)" stroke="#0b5c4a" onclick="alert(4)"
        style="fill: red"/>
  <circle cx="24" cy="24" r="4" transform="rotate(45 24 24)"/>
</svg>"""


def test_hostile_pictogram_is_sanitised() -> None:
    svg = render_artwork(**SAMPLE, picto_svg=HOSTILE).svg
    root = _svg_root(svg)
    lowered = svg.lower()
    for word in ("script", "alert", "evil", "onload", "onclick", "style", "image", "use", "href"):
        assert word not in lowered, word
    assert "foreignobject" not in lowered and "javascript" not in lowered
    assert lowered.count("http://") == 1
    nested = [node for node in root.iter(f"{SVG}svg") if node is not root]
    path = next(nested[0].iter(f"{SVG}path"))
    assert path.get("d") == "M1 1h10" and path.get("stroke") == "#0b5c4a"
    assert path.get("fill") is None
    circle = next(nested[0].iter(f"{SVG}circle"))
    assert circle.get("transform") == "rotate(45 24 24)"


@pytest.mark.parametrize(
    "picto",
    [
        "not xml at all",
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 48 48'><path d='M0 0'/>",
        "<html><body/></html>",
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><path d="&b;"/></svg>',
        '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><path d="&x;"/></svg>',
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 0 48'><path d='M0 0h4'/></svg>",
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 48 48'><script>x</script></svg>",
        "",
    ],
)
def test_unusable_pictogram_falls_back_to_the_star(picto: str) -> None:
    svg = render_artwork(**SAMPLE, picto_svg=picto).svg
    root = _svg_root(svg)
    assert not [node for node in root.iter(f"{SVG}svg") if node is not root]
    assert "<polygon aria-hidden" in svg
    assert "passwd" not in svg and "aaaa" not in svg and "<script" not in svg
