"""Baking: embed an Open Badges 2.0 assertion in a PNG or SVG badge image, and read it back.

Both formats are edited in place — the PNG chunk stream or the SVG bytes — so the artwork is
never decoded or re-encoded: every byte outside the ``openbadges`` data stays identical.

- PNG: one ``iTXt`` chunk with keyword ``openbadges`` (uncompressed, empty language tag and
  translated keyword, UTF-8 text) placed right after ``IHDR``; earlier ``openbadges`` ``iTXt`` or
  legacy ``tEXt`` chunks are dropped. Every chunk's CRC is checked while walking the stream.
- SVG: ``xmlns:openbadges="http://openbadges.org"`` on the root ``svg`` element and an
  ``<openbadges:assertion verify="…">`` first child holding the payload in CDATA. ``verify``
  is the hosted assertion URL when given, else the JWS (signed badge), else the JSON's ``id``.
  SVGs are parsed with ``defusedxml``; any DOCTYPE, entity or external reference is refused.

Every bad input raises :class:`~app.openbadges.errors.BakingError`.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import threading
import zlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from app.openbadges.errors import BakingError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadges"
OB_NS = "http://openbadges.org"
SVG_NS = "http://www.w3.org/2000/svg"
_MAX_CHUNK = 2**31 - 1
_TEXT_TYPES = (b"iTXt", b"tEXt")

_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_DECL_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([^"']+)""")
_TAG_TOKEN = re.compile(rb""""[^"]*"|'[^']*'|>""")
_TAG_NAME = re.compile(rb"<([^\s/>]+)")
_XML_SPACE = " \t\n\r"


# ----------------------------------------------------------------------------------------- PNG


def _png_chunks(
    png: bytes, *, verify: bool = True
) -> tuple[list[tuple[int, int, bytes, bytes]], int]:
    """Walk a PNG: ``[(start, end, type, data)]`` up to and including IEND, and IEND's end.

    With ``verify`` false (an image already checked, such as a stored class image) the CRCs
    are not recomputed and only text chunks' data is read: the structure is still checked.
    """
    if not isinstance(png, bytes | bytearray) or not png.startswith(PNG_SIGNATURE):
        raise BakingError("not a PNG file: the 8-byte PNG signature is missing")
    chunks: list[tuple[int, int, bytes, bytes]] = []
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 8 > len(png):
            raise BakingError(f"truncated PNG: chunk header expected at byte {pos}, no IEND")
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if length > _MAX_CHUNK:
            raise BakingError(f"corrupt PNG: chunk length {length} at byte {pos} is too large")
        if not kind.isalpha() or not kind.isascii():
            raise BakingError(f"corrupt PNG: invalid chunk type {kind!r} at byte {pos}")
        end = pos + 12 + length
        if end > len(png):
            raise BakingError(f"truncated PNG: chunk {kind.decode()} at byte {pos} is cut short")
        if verify or kind in _TEXT_TYPES:
            data = bytes(png[pos + 8 : pos + 8 + length])
            (crc,) = struct.unpack(">I", png[end - 4 : end])
            if zlib.crc32(kind + data) != crc:
                raise BakingError(f"corrupt PNG: bad CRC in chunk {kind.decode()} at byte {pos}")
        else:
            data = b""
        chunks.append((pos, end, kind, data))
        pos = end
        if kind == b"IEND":
            return chunks, pos


def _is_openbadges_text(kind: bytes, data: bytes) -> bool:
    return kind in _TEXT_TYPES and data.startswith(KEYWORD + b"\0")


def _check_payload(payload: str) -> None:
    if not isinstance(payload, str) or not payload.strip(_XML_SPACE):
        raise BakingError("the payload to bake must be a non-empty string")


def check_png(png: bytes) -> None:
    """Raise ``BakingError`` unless ``png`` is a well-formed PNG stream, every CRC right."""
    chunks, _ = _png_chunks(png)
    if chunks[0][2] != b"IHDR":
        raise BakingError("corrupt PNG: the first chunk is not IHDR")


@dataclass(frozen=True)
class PngLayout:
    """A PNG cut where a baked chunk goes: made once per image, then baked into many times.

    ``head`` is the signature and IHDR, ``rest`` every later byte in order with any earlier
    ``openbadges`` text chunk left out; ``png`` is the image it was cut from.
    """

    png: bytes
    head: bytes
    rest: tuple[bytes, ...]

    @cached_property
    def digest(self) -> bytes:
        """The image's SHA-256 (computed on first use), to name it in a baked file's ETag."""
        return hashlib.sha256(self.png).digest()


def png_layout(png: bytes, *, verify: bool = True) -> PngLayout:
    """Walk ``png`` once (every CRC checked unless ``verify`` is false) and cut it for baking.

    Only the chunk stream is read: all other bytes (including data after IEND) are kept.
    """
    chunks, iend_end = _png_chunks(png, verify=verify)
    if chunks[0][2] != b"IHDR":
        raise BakingError("corrupt PNG: the first chunk is not IHDR")
    data = bytes(png)
    rest: list[bytes] = []
    # Runs of kept chunks are copied as one slice (an old openbadges chunk is dropped).
    run_start = chunks[1][0] if len(chunks) > 1 else iend_end
    for start, end, kind, text in chunks[1:]:
        if _is_openbadges_text(kind, text):
            rest.append(data[run_start:start])
            run_start = end
    rest.append(data[run_start:])
    return PngLayout(
        png=data,
        head=data[: chunks[0][1]],
        rest=tuple(part for part in rest if part),
    )


class PngLayouts:
    """Layouts of the few images baked again and again (badge class images), by a key.

    A key names one image for good: the image is read (``load()``) and cut, every CRC
    checked, the first time the key is met, and never again. So a key must never name other
    bytes later: use one ``PngLayouts`` per source of images (one per database), with keys
    whose image is immutable there. Safe to share between threads; past ``maxsize`` images
    the oldest is forgotten.
    """

    def __init__(self, maxsize: int = 256) -> None:
        self._layouts: dict[Hashable, PngLayout] = {}
        self._maxsize = maxsize
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], bytes]) -> PngLayout:
        """The layout of the image named ``key``, cut from ``load()`` on first use only."""
        found = self._layouts.get(key)
        if found is not None:
            return found
        layout = png_layout(load())
        with self._lock:
            self._layouts.pop(key, None)
            while len(self._layouts) >= self._maxsize:
                del self._layouts[next(iter(self._layouts))]
            self._layouts[key] = layout
        return layout


_U32 = struct.Struct(">I").pack
#: An uncompressed iTXt chunk's type and fields before its text, their length and CRC.
_ITXT_PREFIX = b"iTXt" + KEYWORD + b"\0\0\0\0\0"
_ITXT_FIELDS = len(_ITXT_PREFIX) - 4
_ITXT_PREFIX_CRC = zlib.crc32(_ITXT_PREFIX)
#: The chunk's length, then its type and fields before the text.
_ITXT_HEAD = struct.Struct(f">I{len(_ITXT_PREFIX)}s").pack


class BakedPng(NamedTuple):
    """A baked PNG as byte strings to send in order, and a digest naming its content."""

    parts: list[bytes]
    #: SHA-256 (hex) of the image's digest and the payload, which together decide every byte.
    digest: str


def baked_png_parts(layout: PngLayout, payload: str) -> BakedPng:
    """The PNG of ``layout`` with ``payload`` baked in, not joined: the bytes of ``bake_png``.

    A download streams the parts, the image's own bytes shared by every bake; they are
    ``bytes`` (a WSGI body's type). The digest (a strong ETag) never hashes the image again.
    """
    if not isinstance(payload, str) or not payload.strip(_XML_SPACE):
        _check_payload(payload)  # raises, saying why
    try:
        text = payload.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BakingError("the payload cannot be encoded as UTF-8") from exc
    return BakedPng(
        [
            layout.head,
            _ITXT_HEAD(len(text) + _ITXT_FIELDS, _ITXT_PREFIX),
            text,
            _U32(zlib.crc32(text, _ITXT_PREFIX_CRC)),
            *layout.rest,
        ],
        hashlib.sha256(layout.digest + text).hexdigest(),
    )


def bake_png(png: bytes, payload: str, *, verify: bool = True) -> bytes:
    """Return ``png`` with ``payload`` in an ``openbadges`` iTXt chunk right after IHDR.

    Only the chunk stream is edited: all other bytes (including data after IEND) are kept.
    ``verify=False`` skips recomputing the image chunks' CRCs, for an image that passed
    ``check_png`` when it was stored.
    """
    _check_payload(payload)
    return b"".join(baked_png_parts(png_layout(png, verify=verify), payload).parts)


def _itxt_text(data: bytes) -> str:
    try:
        _keyword, rest = data.split(b"\0", 1)
        flag, method = rest[0], rest[1]
        _language, _translated, text = rest[2:].split(b"\0", 2)
        if flag == 1:
            if method != 0:
                raise BakingError("corrupt PNG: unknown iTXt compression method")
            text = zlib.decompress(text)
        elif flag != 0:
            raise BakingError("corrupt PNG: invalid iTXt compression flag")
        return text.decode("utf-8")
    except (ValueError, IndexError, zlib.error, UnicodeDecodeError) as exc:
        raise BakingError("corrupt PNG: the openbadges iTXt chunk is malformed") from exc


def unbake_png(png: bytes) -> str | None:
    """The payload baked in ``png`` (``openbadges`` iTXt, else legacy tEXt), or None."""
    chunks, _ = _png_chunks(png)
    found = [(kind, data) for _, _, kind, data in chunks if _is_openbadges_text(kind, data)]
    for kind, data in found:
        if kind == b"iTXt":
            return _itxt_text(data)
    for _kind, data in found:
        return data.split(b"\0", 1)[1].decode("latin-1")
    return None


# ----------------------------------------------------------------------------------------- SVG


def _safe_svg_root(svg: bytes):
    """Parse ``svg`` safely (no DTD, no entities) and return its root element."""
    if not isinstance(svg, bytes | bytearray):
        raise BakingError("the SVG must be given as bytes")
    if svg.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BakingError("unsupported SVG encoding: only UTF-8 SVG files can be baked")
    declared = _XML_DECL_ENCODING.match(svg)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        encoding = declared.group(1).decode("ascii", "replace")
        raise BakingError(f"unsupported SVG encoding {encoding!r}: only UTF-8 can be baked")
    try:
        root = fromstring(bytes(svg), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BakingError(f"unsafe SVG refused (DOCTYPE or entity declarations): {exc}") from exc
    except (ParseError, ValueError) as exc:
        raise BakingError(f"malformed SVG: {exc}") from exc
    if root.tag not in (f"{{{SVG_NS}}}svg", "svg"):
        raise BakingError(f"not an SVG document: the root element is {root.tag!r}")
    return root


def _tag_end(data: bytes, start: int) -> int:
    """Index just past the ``>`` closing the tag that starts at ``start``."""
    for token in _TAG_TOKEN.finditer(data, start):
        if token.group() == b">":
            return token.end()
    raise BakingError("malformed SVG: unterminated tag")  # pragma: no cover - parsed already


def _svg_layout(data: bytes) -> tuple[int, int, str | None, list[tuple[int, int]]]:
    """Byte layout: root tag start and end, prefix ``openbadges`` URI, assertion spans."""
    parser = expat.ParserCreate(namespace_separator=" ")
    state: dict = {"depth": 0, "root": None, "ns": None, "open": None, "spans": []}
    assertion = f"{OB_NS} assertion"

    def on_ns(prefix, uri):
        if state["root"] is None and prefix == "openbadges":
            state["ns"] = uri

    def on_start(name, _attrs):
        if state["depth"] == 0:
            state["root"] = parser.CurrentByteIndex
        elif state["depth"] == 1 and name == assertion:
            state["open"] = parser.CurrentByteIndex
        state["depth"] += 1

    def on_end(name):
        state["depth"] -= 1
        if state["depth"] == 1 and name == assertion:
            start = state["open"]
            first_end = _tag_end(data, start)
            end = first_end if data[first_end - 2 : first_end] == b"/>" else None
            state["spans"].append((start, end or _tag_end(data, parser.CurrentByteIndex)))

    parser.StartNamespaceDeclHandler = on_ns
    parser.StartElementHandler = on_start
    parser.EndElementHandler = on_end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:  # pragma: no cover - defusedxml parsed it already
        raise BakingError(f"malformed SVG: {exc}") from exc
    root_start = state["root"]
    return root_start, _tag_end(data, root_start), state["ns"], state["spans"]


def _escape_attr(value: str) -> str:
    table = {"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
    return "".join(table.get(char, char) for char in value)


def _cdata(payload: str) -> str:
    """``payload`` as CDATA, splitting out ``]]>`` and carriage returns (which XML folds)."""
    body = payload.replace("]]>", "]]]]><![CDATA[>").replace("\r", "]]>&#13;<![CDATA[")
    return f"<![CDATA[{body}]]>"


def _verify_value(payload: str, assertion_url: str | None) -> str | None:
    if assertion_url:
        return assertion_url
    if _JWS.match(payload):
        return payload
    try:
        document = json.loads(payload)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("id"), str):
        return document["id"]
    return payload if payload.startswith(("http://", "https://")) else None


def bake_svg(svg: bytes, payload: str, *, assertion_url: str | None = None) -> bytes:
    """Return ``svg`` with ``payload`` in an ``openbadges:assertion`` first child of the root.

    ``assertion_url`` (hosted badges) becomes the ``verify`` attribute; for a signed badge the
    JWS itself is used. An existing ``openbadges:assertion`` is replaced; other bytes are kept.
    """
    _check_payload(payload)
    for name, value in (("payload", payload), ("assertion URL", assertion_url or "")):
        if _NOT_XML_CHAR.search(value):
            raise BakingError(f"the {name} holds characters that XML cannot carry")
    _safe_svg_root(svg)
    data = bytes(svg)
    root_start, root_end, bound_uri, spans = _svg_layout(data)
    if bound_uri not in (None, OB_NS):
        raise BakingError(f"the SVG binds the openbadges prefix to another namespace: {bound_uri}")
    verify = _verify_value(payload, assertion_url)
    attribute = f' verify="{_escape_attr(verify)}"' if verify else ""
    element = f"<openbadges:assertion{attribute}>{_cdata(payload)}</openbadges:assertion>"
    qname = _TAG_NAME.match(data, root_start).group(1)
    head = data[root_start:root_end]
    if bound_uri is None:
        cut = len(qname) + 1
        head = head[:cut] + f' xmlns:openbadges="{OB_NS}"'.encode() + head[cut:]
    inserted = element.encode("utf-8")
    if head.endswith(b"/>"):
        head, inserted = head[:-2] + b">", inserted + b"</" + qname + b">"
    rest, pos = [], root_end
    for start, end in spans:
        rest.append(data[pos:start])
        pos = end
    rest.append(data[pos:])
    return data[:root_start] + head + inserted + b"".join(rest)


def unbake_svg(svg: bytes) -> str | None:
    """The payload baked in ``svg``: the assertion's CDATA text, else its ``verify``, or None.

    Surrounding XML whitespace is stripped (other bakers indent the CDATA section).
    """
    root = _safe_svg_root(svg)
    for child in root:
        if child.tag == f"{{{OB_NS}}}assertion":
            content = (child.text or "").strip(_XML_SPACE)
            if content:
                return content
            verify = (child.get("verify") or "").strip(_XML_SPACE)
            return verify or None
    return None
