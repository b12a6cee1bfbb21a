"""RS256 compact JWS for Open Badges 2.0 signed assertions (``SignedBadge`` verification).

The JWS payload is the assertion JSON (UTF-8, compact separators) and the protected header is
``{"alg":"RS256"}``, as the OB 2.0 specification and its verifiers expect.

Library: PyJWT's ``jwt.api_jws.PyJWS``, not its JWT layer (an assertion is not a JWT: no
``typ``, no registered claims). PyJWT is widely used, actively maintained, uses
``cryptography`` (already a dependency) for RSA, checks base64url segments strictly and
enforces an algorithm allow-list on verification. Around it this module adds the rules a
badge verifier needs: RS256 only (``none``, ``HS256`` and every other algorithm are refused
before any key is used), a size cap, no critical header extensions, a payload that must be a
JSON object, and only ``OpenBadgesError`` subclasses escape from bad input.
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.api_jws import PyJWS

from app.openbadges.errors import JwsFormatError, SignatureError
from app.openbadges.keys import load_private_key, load_public_key

__all__ = [
    "ALGORITHM",
    "MAX_JWS_BYTES",
    "JwsFormatError",
    "SignatureError",
    "parse",
    "sign",
    "verify",
]

ALGORITHM = "RS256"
MAX_JWS_BYTES = 1_000_000
_BASE64URL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

_jws = PyJWS(algorithms=[ALGORITHM], options={"enforce_minimum_key_length": True})
#: RS256 keys shorter than this are refused (as PyJWT does when signing).
MIN_KEY_SIZE = 2048


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


def _json_object(data: bytes, part: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
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
        if not set(part) <= _BASE64URL:
            raise JwsFormatError(f"the JWS {name} segment is not base64url (unpadded)")
    return data


def _b64decode(part: bytes, name: str) -> bytes:
    """Decode one unpadded base64url segment (its alphabet was checked by ``_segments``)."""
    if len(part) % 4 == 1:
        raise JwsFormatError(f"the JWS {name} segment has an impossible length (cut short?)")
    try:
        return base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JwsFormatError(f"the JWS {name} segment is not base64url: {exc}") from exc


def _read(jws: Any) -> tuple[bytes, dict[str, Any], dict[str, Any], bytes]:
    """Decode ``jws`` without verifying it: (signing input, header, payload, signature).

    Decoding is done once, here; ``verify`` then checks the RSA signature of the signing
    input directly (PyJWT signs; reading needs no second decode).
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
    return header_b64 + b"." + payload_b64, header, payload, signature


def sign(assertion: dict[str, Any], private_key: Any) -> str:
    """The compact RS256 JWS of ``assertion``, signed with an RSA private key (object or PEM)."""
    if not isinstance(assertion, dict):
        raise SignatureError("only a JSON object (an assertion) can be signed")
    try:
        payload = json.dumps(
            assertion, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise SignatureError(f"the assertion is not JSON-serialisable: {exc}") from exc
    key = _private_key(private_key)
    try:
        token = _jws.encode(payload, key, algorithm=ALGORITHM, headers={"typ": None})
    except jwt.PyJWTError as exc:
        raise SignatureError(f"cannot sign with this key: {exc}") from exc
    if len(token) > MAX_JWS_BYTES:
        raise SignatureError(f"the signed assertion would exceed {MAX_JWS_BYTES} bytes")
    return token


def parse(jws: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (header, payload) of a compact RS256 JWS, WITHOUT verifying its signature.

    Use it to find the assertion and its ``verification.creator`` key before ``verify``.
    Raise ``JwsFormatError`` for malformed input and ``SignatureError`` for another algorithm.
    """
    _, header, payload, _ = _read(jws)
    return header, payload


def verify(jws: str, public_key: Any) -> dict[str, Any]:
    """The payload of ``jws`` once its RS256 signature is checked with ``public_key``.

    ``public_key`` is an RSA public key object or its PEM. Raise ``SignatureError`` when the
    signature does not match (tampered payload, another key) and ``JwsFormatError`` when the
    JWS is malformed.
    """
    signing_input, _, payload, signature = _read(jws)
    key = _public_key(public_key)
    if key.key_size < MIN_KEY_SIZE:
        raise SignatureError(f"the key is too short ({key.key_size} bits, {MIN_KEY_SIZE} at least)")
    try:
        key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureError("the JWS signature does not match this public key") from exc
    return payload
