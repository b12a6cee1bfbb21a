"""Baking PNG and SVG badges (issue #8): round trips, byte fidelity, corrupt and unsafe input.

The PNG chunk stream is re-walked here with ``struct``/``zlib`` independently of the library,
so "every other byte unchanged" and "correct CRC" are checked against the original file.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from app.openbadges import (
    BakingError,
    OpenBadgesError,
    PngLayouts,
    bake_png,
    bake_svg,
    baked_png_parts,
    check_png,
    unbake_png,
    unbake_svg,
)

PROPS = settings(max_examples=100, deadline=None, derandomize=True, database=None)
PICTOS = Path(__file__).resolve().parents[3] / "app" / "web" / "static" / "pictos"
SIGNATURE = b"\x89PNG\r\n\x1a\n"
JWS = "eyJhbGciOiJSUzI1NiJ9.eyJpZCI6Imh0dHBzOi8vZXhhbXBsZS5vcmcvYSJ9.c2lnbmF0dXJl"
JSON_PAYLOAD = '{"@context": "https://w3id.org/openbadges/v2", "id": "https://ex.org/a/1"}'
XML_TEXT = st.characters(
    codec="utf-8",
    exclude_categories=("Cs",),
    exclude_characters="".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r")
    + "\ufffe\uffff",
)


def make_png(size: tuple[int, int] = (16, 8)) -> bytes:
    image = Image.new("RGBA", size, (11, 92, 74, 255))
    image.putpixel((1, 1), (255, 0, 0, 128))
    buffer = io.BytesIO()
    info = PngInfo()
    info.add_text("Software", "jalon-tests")  # an unrelated tEXt chunk that must survive
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def chunks(png: bytes) -> list[tuple[bytes, bytes, int]]:
    """``[(type, data, crc)]`` walked independently of the library."""
    assert png.startswith(SIGNATURE)
    pos, found = len(SIGNATURE), []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        found.append((kind, data, crc))
        pos += 12 + length
    return found


def strip_openbadges(png: bytes) -> bytes:
    """The PNG without its openbadges iTXt chunk(s), rebuilt byte for byte from raw slices."""
    pos, out = len(SIGNATURE), [SIGNATURE]
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        raw = png[pos : pos + 12 + length]
        if not (raw[4:8] == b"iTXt" and raw[8:].startswith(b"openbadges\0")):
            out.append(raw)
        pos += 12 + length
    return b"".join(out)


def artwork_svg() -> bytes:
    return (PICTOS / "broom.svg").read_bytes()


# ---------------------------------------------------------------------------------------- PNG


def test_png_round_trip_puts_one_itxt_right_after_ihdr_with_a_correct_crc():
    original = make_png()
    baked = bake_png(original, JWS)
    assert unbake_png(baked) == JWS
    walked = chunks(baked)
    assert [kind for kind, _, _ in walked[:2]] == [b"IHDR", b"iTXt"]
    kind, data, crc = walked[1]
    assert data == b"openbadges\0\0\0\0\0" + JWS.encode()
    assert crc == zlib.crc32(kind + data)
    assert all(crc == zlib.crc32(kind + data) for kind, data, crc in walked)


def test_png_every_other_byte_is_unchanged():
    original = make_png()
    baked = bake_png(original, JSON_PAYLOAD)
    assert len(baked) == len(original) + 12 + len(b"openbadges\0\0\0\0\0") + len(JSON_PAYLOAD)
    assert strip_openbadges(baked) == original
    assert Image.open(io.BytesIO(baked)).tobytes() == Image.open(io.BytesIO(original)).tobytes()


def test_png_rebaking_replaces_the_earlier_payload():
    original = make_png()
    rebaked = bake_png(bake_png(original, "first"), JWS)
    assert unbake_png(rebaked) == JWS
    assert [kind for kind, _, _ in chunks(rebaked)].count(b"iTXt") == 1
    assert rebaked == bake_png(original, JWS)


def test_png_legacy_text_chunk_is_read_and_then_replaced():
    original = make_png()
    legacy_data = b"openbadges\0https://ex.org/a/1"
    legacy = struct.pack(">I", len(legacy_data)) + b"tEXt" + legacy_data
    legacy += struct.pack(">I", zlib.crc32(b"tEXt" + legacy_data))
    ihdr_end = len(SIGNATURE) + 25
    with_legacy = original[:ihdr_end] + legacy + original[ihdr_end:]
    assert unbake_png(with_legacy) == "https://ex.org/a/1"
    assert bake_png(with_legacy, JWS) == bake_png(original, JWS)


def test_png_without_the_chunk_gives_none():
    assert unbake_png(make_png()) is None


@PROPS
@given(payload=st.text(min_size=1).filter(lambda text: text.strip(" \t\n\r")))
def test_png_round_trips_any_unicode_payload(payload):
    original = make_png((3, 2))
    baked = bake_png(original, payload)
    assert unbake_png(baked) == payload
    assert strip_openbadges(baked) == original


def _with_bad_crc(png: bytes) -> bytes:
    position = len(SIGNATURE) + 8 + 13  # IHDR's CRC
    return png[:position] + bytes([png[position] ^ 0xFF]) + png[position + 1 :]


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda png: b"GIF89a" + png[6:], "signature"),
        (lambda png: b"", "signature"),
        (lambda png: png[:40], "truncated"),
        (lambda png: png[: len(png) - 12], "truncated"),
        (_with_bad_crc, "CRC"),
        (lambda png: png[:12] + b"IH?R" + png[16:], "chunk type"),
    ],
    ids=["bad-signature", "empty", "cut-in-chunk", "no-iend", "bad-crc", "bad-type"],
)
@pytest.mark.parametrize("operation", [unbake_png, lambda png: bake_png(png, JWS)])
def test_corrupt_png_raises_a_clear_baking_error(corrupt, message, operation):
    with pytest.raises(BakingError, match=message):
        operation(corrupt(make_png()))


def test_png_payload_must_not_be_empty_and_errors_share_one_root():
    with pytest.raises(BakingError, match="non-empty"):
        bake_png(make_png(), "")
    assert issubclass(BakingError, OpenBadgesError)


# ---------------------------------------------------------------------------------------- SVG


def test_svg_round_trip_of_a_signed_badge_on_real_artwork():
    original = artwork_svg()
    baked = bake_svg(original, JWS)
    assert unbake_svg(baked) == JWS
    text = baked.decode()
    assert 'xmlns:openbadges="http://openbadges.org"' in text.split(">", 1)[0]
    assert text.split(">", 1)[1].startswith(
        f'<openbadges:assertion verify="{JWS}"><![CDATA[{JWS}]]></openbadges:assertion>'
    )


def test_svg_hosted_badge_verify_is_the_assertion_url_and_json_is_in_cdata():
    url = "https://ex.org/a/1?x=1&y=2"
    baked = bake_svg(artwork_svg(), JSON_PAYLOAD, assertion_url=url)
    assert 'verify="https://ex.org/a/1?x=1&amp;y=2"' in baked.decode()
    assert f"<![CDATA[{JSON_PAYLOAD}]]>" in baked.decode()
    assert unbake_svg(baked) == JSON_PAYLOAD


def test_svg_bake_keeps_the_artwork_bytes_and_replaces_an_earlier_bake():
    original = artwork_svg()
    once = bake_svg(original, "first.second.third")
    twice = bake_svg(once, JWS)
    assert twice == bake_svg(original, JWS)
    assert twice.count(b"openbadges:assertion") == 2  # one start tag, one end tag
    assert twice.count(b"xmlns:openbadges") == 1
    assert original.split(b">", 1)[1] in twice


def test_svg_without_assertion_gives_none_and_self_closing_root_is_handled():
    assert unbake_svg(artwork_svg()) is None
    baked = bake_svg(b'<svg xmlns="http://www.w3.org/2000/svg"/>', JWS)
    assert baked.endswith(b"</openbadges:assertion></svg>")
    assert unbake_svg(baked) == JWS


def test_svg_unbakes_other_bakers_indented_cdata_and_verify_only():
    indented = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">\n'
        f'<openbadges:assertion verify="https://ex.org/a/1">\n  <![CDATA[ {JSON_PAYLOAD} ]]>\n'
        "</openbadges:assertion></svg>"
    ).encode()
    assert unbake_svg(indented) == JSON_PAYLOAD
    verify_only = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
        f'<openbadges:assertion verify="{JWS}"/></svg>'
    ).encode()
    assert unbake_svg(verify_only) == JWS
    assert unbake_svg(bake_svg(verify_only, "a.b.c")) == "a.b.c"


@PROPS
@given(payload=st.text(XML_TEXT, min_size=1).filter(lambda text: text.strip(" \t\n\r")))
def test_svg_round_trips_any_xml_text_payload(payload):
    baked = bake_svg(artwork_svg(), payload)
    assert unbake_svg(baked) == payload.strip(" \t\n\r")


EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>"""
ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg"/>"""


@pytest.mark.parametrize(
    ("svg", "message"),
    [
        (EXTERNAL_ENTITY, "unsafe SVG"),
        (ENTITY_BOMB, "unsafe SVG"),
        (EXTERNAL_DTD, "unsafe SVG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><g></svg>", "malformed SVG"),
        (b"", "malformed SVG"),
        (b"<html/>", "not an SVG"),
        (b"\xff\xfe<\x00s\x00v\x00g\x00/\x00>\x00", "encoding"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><svg/>', "encoding"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="urn:other"/>',
            "another namespace",
        ),
    ],
    ids=[
        "external-entity",
        "entity-bomb",
        "doctype",
        "unclosed",
        "empty",
        "html",
        "utf16",
        "latin1",
        "foreign-prefix",
    ],
)
def test_bad_or_unsafe_svg_raises_a_clear_baking_error(svg, message):
    with pytest.raises(BakingError, match=message):
        bake_svg(svg, JWS)
    if message != "another namespace":
        with pytest.raises(BakingError, match=message):
            unbake_svg(svg)


def test_svg_refuses_payloads_xml_cannot_carry():
    with pytest.raises(BakingError, match="XML cannot carry"):
        bake_svg(artwork_svg(), "nul\x00byte")
    with pytest.raises(BakingError, match="non-empty"):
        bake_svg(artwork_svg(), "  \n")


def test_every_truncation_of_a_baked_png_is_a_baking_error():
    baked = bake_png(make_png((3, 2)), JWS)
    for cut in range(len(baked)):
        with pytest.raises(BakingError):
            unbake_png(baked[:cut])


def test_every_truncation_of_a_baked_svg_is_a_baking_error():
    baked = bake_svg(artwork_svg(), JWS)
    end = baked.rindex(b"</svg>") + len(b"</svg>")
    for cut in range(end):
        with pytest.raises(BakingError):
            unbake_svg(baked[:cut])


@PROPS
@given(payload=st.text(min_size=1).filter(lambda t: t.strip(" \t\n\r")))
def test_png_unverified_bake_of_a_checked_image_is_the_same_bytes(payload):
    original = bake_png(make_png((24, 12)), JSON_PAYLOAD)  # an earlier bake is replaced too
    check_png(original)
    assert bake_png(original, payload, verify=False) == bake_png(original, payload)


def test_check_png_refuses_a_bad_crc_that_an_unverified_bake_would_carry_through():
    corrupt = _with_bad_crc(make_png())
    with pytest.raises(BakingError, match="CRC"):
        check_png(corrupt)
    # Without verification the damaged bytes are kept as they are, never re-encoded.
    baked = bake_png(corrupt, JWS, verify=False)
    assert strip_openbadges(baked) == corrupt


def test_baked_png_parts_are_the_bytes_of_bake_png_and_a_layout_is_reused():
    original = bake_png(make_png((24, 12)), JSON_PAYLOAD)  # an earlier bake is dropped too
    layouts = PngLayouts(maxsize=2)
    loads: list[str] = []

    def load(png: bytes, name: str):
        return lambda: loads.append(name) or png

    baked = baked_png_parts(layouts.get("class", load(original, "class")), JWS)
    assert all(isinstance(part, bytes) for part in baked.parts)
    assert b"".join(baked.parts) == bake_png(original, JWS)
    # Found again by its key alone: the image is read once (a key names immutable bytes).
    assert layouts.get("class", load(original, "again")) is layouts.get("class", load(b"", "x"))
    other = make_png((5, 7))
    again = baked_png_parts(layouts.get("other", load(other, "other")), JWS)
    assert b"".join(again.parts) == bake_png(other, JWS)
    assert again.digest != baked.digest
    assert loads == ["class", "other"]
    # Past maxsize the oldest is forgotten, then read again when met.
    layouts.get("third", load(other, "third"))
    layouts.get("class", load(original, "class"))
    assert loads == ["class", "other", "third", "class"]


def test_a_baked_png_digest_changes_with_every_byte_of_the_payload():
    layout = PngLayouts().get("class", lambda: make_png((9, 9)))
    digests = {baked_png_parts(layout, JSON_PAYLOAD).digest}
    for n in range(len(JSON_PAYLOAD)):
        other = "x" if JSON_PAYLOAD[n] != "x" else "y"
        changed = JSON_PAYLOAD[:n] + other + JSON_PAYLOAD[n + 1 :]
        digests.add(baked_png_parts(layout, changed).digest)
    assert len(digests) == len(JSON_PAYLOAD) + 1


def test_a_png_layout_checks_every_crc():
    with pytest.raises(BakingError, match="CRC"):
        PngLayouts().get("class", lambda: _with_bad_crc(make_png()))
