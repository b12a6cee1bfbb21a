"""RS256 compact JWS for Open Badges 2.0 signed assertions (``SignedBadge`` verification).

The JWS payload is the assertion JSON (UTF-8, compact separators) and the protected header is
``{"alg":"RS256"}``, as the OB 2.0 specification and its verifiers expect.

Library: ``cryptography`` (RSA PKCS#1 v1.5 over SHA-256) with the JWS compact encoding
written here: both sides are a few lines once the rules are fixed, and a signed token is
byte for byte what PyJWT's ``PyJWS.encode`` writes for the same payload (the tests compare
them). Around it this module adds the rules a badge verifier needs: RS256 only (``none``,
``HS256`` and every other algorithm are refused before any key is used), keys of 2048 bits
at least, a size cap, no critical header extensions, a payload that must be a JSON object,
and only ``OpenBadgesError`` subclasses escape from bad input.
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.openbadges.errors import JwsFormatError, SignatureError
from app.openbadges.keys import load_private_key, load_public_key

__all__ = [
    "ALGORITHM",
    "MAX_JWS_BYTES",
    "JwsFormatError",
    "ParsedJws",
    "SignatureError",
    "parse",
    "read",
    "sign",
    "verify",
    "verify_parsed",
]

ALGORITHM = "RS256"
MAX_JWS_BYTES = 1_000_000
#: The base64url alphabet: ``part.translate(None, _BASE64URL)`` is empty for a valid segment.
_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: base64url to standard base64, for ``binascii`` (what ``base64.urlsafe_b64decode`` does).
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
#: Standard base64 to base64url (its ``=`` padding is deleted too).
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")

#: RS256 keys shorter than this are refused, signing or verifying.
MIN_KEY_SIZE = 2048
#: RS256: PKCS#1 v1.5 padding over SHA-256 (both stateless, made once).
_PADDING = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def _private_key(key: Any) -> rsa.RSAPrivateKey:
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    if isinstance(key, str | bytes):
        try:
            return load_private_key(key.encode("ascii") if isinstance(key, str) else key)
        except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm) as exc:
            raise SignatureError(f"unusable private key: {exc}") from exc
    raise SignatureError(f"an RSA private key is required, not {type(key).__name__}")


def _public_key(key: Any) -> rsa.RSAPublicKey:
    if isinstance(key, rsa.RSAPublicKey):
        return key
    if isinstance(key, rsa.RSAPrivateKey):
        return key.public_key()
    if isinstance(key, str | bytes):
        return _load_pem(key)
    raise SignatureError(f"an RSA public key is required, not {type(key).__name__}")


@lru_cache(maxsize=256)
def _load_pem(pem: str | bytes) -> rsa.RSAPublicKey:
    """A PEM public key, parsed once (a verifier meets the same few keys again and again)."""
    try:
        return load_public_key(pem)
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm) as exc:
        raise SignatureError(f"unusable public key: {exc}") from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


#: One decoder for every JWS part (``json.loads`` with options would build one per call).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _json_object(data: bytes, part: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
        if text.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = _DECODER.decode(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise JwsFormatError(f"the JWS {part} is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise JwsFormatError(f"the JWS {part} must be a JSON object")
    return value


def _segments(jws: Any) -> bytes:
    """The ASCII bytes of a compact JWS, after the checks that need no decoding."""
    if isinstance(jws, str | bytes) and len(jws) > MAX_JWS_BYTES:
        raise JwsFormatError(f"the JWS is larger than {MAX_JWS_BYTES} bytes")
    if isinstance(jws, bytes):
        data = jws
    elif isinstance(jws, str):
        try:
            data = jws.encode("ascii")
        except UnicodeEncodeError as exc:
            raise JwsFormatError("a compact JWS holds only base64url characters") from exc
    else:
        raise JwsFormatError(f"a compact JWS is a string, not {type(jws).__name__}")
    data = data.strip()
    parts = data.split(b".")
    if len(parts) != 3:
        raise JwsFormatError(
            f"a compact JWS has three dot-separated segments, this one has {len(parts)}"
        )
    for name, part in zip(("header", "payload", "signature"), parts, strict=True):
        if not part and name != "signature":  # an empty signature is refused after the alg
            raise JwsFormatError(f"the JWS {name} segment is empty")
        if part.translate(None, _BASE64URL):
            raise JwsFormatError(f"the JWS {name} segment is not base64url (unpadded)")
    return data


#: The last character of a segment whose length is 2 (or 3) modulo 4 carries only 2 (or 4)
#: bits of data; its other bits must be zero, else two strings decode to the same bytes.
_LAST_BITS_UNUSED = {2: 0b1111, 3: 0b11}
_SEXTET = {c: i for i, c in enumerate(_BASE64URL)}


def _b64decode(part: bytes, name: str) -> bytes:
    """Decode one unpadded base64url segment (its alphabet was checked by ``_segments``).

    Only the canonical spelling is accepted: a last character with unused bits set would
    decode to the same bytes as another one, so that a token could be altered and still
    verify (RFC 4648 §3.5 lets decoders reject it).
    """
    if len(part) % 4 == 1:
        raise JwsFormatError(f"the JWS {name} segment has an impossible length (cut short?)")
    unused = _LAST_BITS_UNUSED.get(len(part) % 4, 0)
    if unused and _SEXTET[part[-1]] & unused:
        raise JwsFormatError(f"the JWS {name} segment is not canonical base64url")
    try:
        return binascii.a2b_base64(part.translate(_TO_STANDARD) + b"=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JwsFormatError(f"the JWS {name} segment is not base64url: {exc}") from exc


@dataclass(frozen=True)
class ParsedJws:
    """A compact RS256 JWS decoded (by :func:`read`) but not verified."""

    signing_input: bytes
    header: dict[str, Any]
    payload: dict[str, Any]
    signature: bytes


def read(jws: Any) -> ParsedJws:
    """Decode ``jws`` without verifying it; :func:`verify_parsed` checks it later.

    Decoding is done once, here; the RSA signature of the signing input is then checked
    directly (PyJWT signs; reading needs no second decode). Raise ``JwsFormatError`` for
    malformed input and ``SignatureError`` for another algorithm.
    """
    data = _segments(jws)
    header_b64, payload_b64, signature_b64 = data.split(b".")
    header = _json_object(_b64decode(header_b64, "header"), "header")
    if "crit" in header or "b64" in header:
        raise JwsFormatError("JWS header extensions (crit, b64) are not accepted")
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise SignatureError(f"JWS algorithm {alg!r} refused: only {ALGORITHM} is accepted")
    signature = _b64decode(signature_b64, "signature")
    if not signature:
        raise JwsFormatError("the JWS signature segment is empty")
    payload = _json_object(_b64decode(payload_b64, "payload"), "payload")
    return ParsedJws(header_b64 + b"." + payload_b64, header, payload, signature)


def _b64encode(data: bytes) -> bytes:
    """Unpadded base64url (what ``base64.urlsafe_b64encode`` gives, ``=`` removed)."""
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE, b"=")


#: The payload's JSON: UTF-8 text, compact separators, no NaN (one encoder, made once).
_PAYLOAD_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
#: The protected header and its dot, as PyJWT writes it (sorted keys, compact, no ``typ``).
_HEADER_PREFIX = _b64encode(json.dumps({"alg": ALGORITHM}, separators=(",", ":")).encode()) + b"."


def sign(assertion: dict[str, Any], private_key: Any) -> str:
    """The compact RS256 JWS of ``assertion``, signed with an RSA private key (object or PEM).

    ``base64url(header) "." base64url(payload) "." base64url(signature)``: the header is
    ``{"alg":"RS256"}``, the payload the assertion's compact UTF-8 JSON.
    """
    if not isinstance(assertion, dict):
        raise SignatureError("only a JSON object (an assertion) can be signed")
    try:
        payload = _PAYLOAD_ENCODER.encode(assertion).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise SignatureError(f"the assertion is not JSON-serialisable: {exc}") from exc
    key = _private_key(private_key)
    if key.key_size < MIN_KEY_SIZE:
        raise SignatureError(
            f"cannot sign with this key: it is too short ({key.key_size} bits, "
            f"{MIN_KEY_SIZE} at least)"
        )
    signing_input = _HEADER_PREFIX + _b64encode(payload)
    token = signing_input + b"." + _b64encode(key.sign(signing_input, _PADDING, _SHA256))
    if len(token) > MAX_JWS_BYTES:
        raise SignatureError(f"the signed assertion would exceed {MAX_JWS_BYTES} bytes")
    return token.decode("ascii")


def parse(jws: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (header, payload) of a compact RS256 JWS, WITHOUT verifying its signature.

    Use it to find the assertion and its ``verification.creator`` key before ``verify``.
    Raise ``JwsFormatError`` for malformed input and ``SignatureError`` for another algorithm.
    """
    parsed = read(jws)
    return parsed.header, parsed.payload


def verify(jws: str, public_key: Any) -> dict[str, Any]:
    """The payload of ``jws`` once its RS256 signature is checked with ``public_key``.

    ``public_key`` is an RSA public key object or its PEM. Raise ``SignatureError`` when the
    signature does not match (tampered payload, another key) and ``JwsFormatError`` when the
    JWS is malformed.
    """
    return verify_parsed(read(jws), public_key)


def verify_parsed(parsed: ParsedJws, public_key: Any) -> dict[str, Any]:
    """:func:`verify` of a JWS already decoded by :func:`read` (a verifier reads it first to
    find the key): its payload once the RS256 signature is checked with ``public_key``."""
    key = _public_key(public_key)
    if key.key_size < MIN_KEY_SIZE:
        raise SignatureError(f"the key is too short ({key.key_size} bits, {MIN_KEY_SIZE} at least)")
    try:
        key.verify(parsed.signature, parsed.signing_input, _PADDING, _SHA256)
    except InvalidSignature as exc:
        raise SignatureError("the JWS signature does not match this public key") from exc
    return parsed.payload
