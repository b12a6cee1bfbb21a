"""Reading ``verify``'s input: unwrap a baked PNG or SVG, tell a URL, a JWS and JSON apart.

``_read_input`` is the ``input`` check: it leaves the assertion document (fetched, parsed or
read from the JWS payload) and the verification method on the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from app.openbadges import signing
from app.openbadges.baking import PNG_SIGNATURE, unbake_png, unbake_svg
from app.openbadges.errors import BakingError, SignatureError
from app.openbadges.verification_run import (
    _Failed,
    _http_url,
    _Run,
    _short,
    _verification_type,
)

_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# Every JWS header starts with "eyJ", base64url for '{"'.
_DOTTED_BASE64URL = re.compile(r"eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)*")
_BOM = "\ufeff"


def _unwrap(source: Any, max_bytes: int) -> tuple[str | dict[str, Any], str]:
    """The payload of ``source`` (text or a parsed object) and a name for where it was."""
    if isinstance(source, dict):
        return source, "the JSON object given"
    if isinstance(source, str):
        size = len(source.encode("utf-8", "surrogatepass"))
    elif isinstance(source, bytes | bytearray):
        size = len(source)
    else:
        raise _Failed(
            f"a badge is given as text, bytes or a JSON object, not {type(source).__name__}"
        )
    if size > max_bytes:
        raise _Failed(f"the input is {size} bytes long, more than the {max_bytes} accepted")
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        if data.startswith(PNG_SIGNATURE):
            return _unbaked(unbake_png, data, "PNG", "no openbadges chunk"), "the baked PNG"
        head = data.removeprefix(b"\xef\xbb\xbf").lstrip()
        if head.startswith(b"<"):
            return _unbaked(unbake_svg, head, "SVG", "no openbadges:assertion"), "the baked SVG"
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _Failed("the input is neither a PNG or SVG image nor UTF-8 text") from None
    text = source.lstrip(_BOM).strip()
    if text.startswith("<"):
        try:
            svg = text.encode("utf-8")
        except UnicodeEncodeError:
            raise _Failed("the SVG text holds characters that are not valid Unicode") from None
        return _unbaked(unbake_svg, svg, "SVG", "no openbadges:assertion"), "the baked SVG"
    return text, "the input"


def _unbaked(unbake: Callable[[bytes], str | None], data: bytes, kind: str, empty: str) -> str:
    try:
        payload = unbake(data)
    except BakingError as exc:
        raise _Failed(f"the {kind} image cannot be read: {_short(str(exc))}") from None
    if payload is None:
        raise _Failed(f"the {kind} image holds no baked badge ({empty})")
    return payload


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _classify(payload: str | dict[str, Any], where: str) -> tuple[str, Any]:
    """``("json", dict)``, ``("jws", str)`` or ``("url", str)``: what ``payload`` is."""
    if isinstance(payload, dict):
        return "json", payload
    text = payload.lstrip(_BOM).strip()
    if text.startswith("{"):
        try:
            document = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise _Failed(f"{where} is not valid JSON: {_short(str(exc))}") from None
        if not isinstance(document, dict):  # pragma: no cover - "{" starts an object
            raise _Failed(f"{where} is not a JSON object")
        return "json", document
    if _JWS.fullmatch(text):
        return "jws", text
    if _DOTTED_BASE64URL.fullmatch(text):
        segments = text.count(".") + 1
        raise _Failed(f"{where} looks like a compact JWS cut short: {segments} segments, not 3")
    if _http_url(text):
        return "url", text
    raise _Failed(
        f"{where} is not a badge: an assertion URL, a compact JWS, assertion JSON, "
        "or a baked PNG or SVG image is expected"
    )


def _read_input(run: _Run, source: Any, max_bytes: int) -> str:
    payload, where = _unwrap(source, max_bytes)
    kind, value = _classify(payload, where)
    if kind == "url":
        run.method = "hosted"
        run.assertion, run.fetched_from = run.get_node(value, "the assertion", strict=False)
        return f"{where} is a hosted assertion URL, fetched from {run.fetched_from}"
    if kind == "jws":
        run.method, run.jws = "signed", value
        try:
            run.parsed_jws = signing.read(value)  # read once; ``signature`` verifies it
            run.assertion = run.parsed_jws.payload
        except SignatureError as exc:
            if type(exc) is not SignatureError:  # JwsFormatError: nothing readable
                raise _Failed(f"{where} is not a readable JWS: {_short(str(exc))}") from None
            run.refused_jws = f"the JWS is refused: {_short(str(exc))}"
        return f"{where} is a compact JWS (a signed assertion)"
    run.method = _verification_type(value)
    run.assertion = value
    if run.method == "hosted" and _http_url(value.get("id")):
        # Only the issuer's own copy counts: verify what its id serves, not what was given.
        run.assertion, run.fetched_from = run.get_node(value["id"], "the assertion", strict=False)
        return f"{where} is a hosted assertion, fetched again from its id {run.fetched_from}"
    return f"{where} is assertion JSON"
