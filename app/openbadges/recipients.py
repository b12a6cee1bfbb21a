"""Recipient identities of Open Badges 2.0 assertions: normalise, salt, hash, check.

One normalising function serves issuance, the employer's ownership check and the tests, so
that "06 12 34 56 78" typed in France matches the hashed "+33612345678".

- email: trimmed and lower-cased;
- telephone: E.164 through ``phonenumbers``, national numbers read in ``country``;
- url: kept as given, but it must be an absolute http(s) URL.

The hashed identity is ``"sha256$" + hex(sha256(identity + salt))`` (OB 2.0 ``IdentityObject``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Literal
from urllib.parse import urlsplit

import phonenumbers

from app.openbadges.errors import RecipientError

__all__ = [
    "RecipientError",
    "hash_identity",
    "matches",
    "new_salt",
    "normalise_identity",
    "recipient",
]

Kind = Literal["email", "telephone", "url"]
KINDS = ("email", "telephone", "url")
SALT_BYTES = 16
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _normalise_email(value: str) -> str:
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise RecipientError(f"invalid email address: {value!r}")
    return email


def _normalise_telephone(value: str, country: str) -> str:
    try:
        number = phonenumbers.parse(value, country.upper())
    except phonenumbers.NumberParseException as exc:
        raise RecipientError(f"invalid telephone number {value!r}: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise RecipientError(f"invalid telephone number {value!r} for country {country!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _normalise_url(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise RecipientError(f"invalid url {value!r}: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", value):
        raise RecipientError(f"invalid url {value!r}: an absolute http(s) URL is required")
    return value


def normalise_identity(kind: Kind, value: str, *, country: str = "FR") -> str:
    """The canonical form of one identity of ``kind``; raise RecipientError when invalid.

    ``country`` (ISO 3166 alpha-2) is used to read national telephone numbers.
    """
    if not isinstance(value, str):
        raise RecipientError(f"the {kind} identity must be a string")
    if kind == "email":
        return _normalise_email(value)
    if kind == "telephone":
        if not isinstance(country, str) or not re.fullmatch(r"[A-Za-z]{2}", country):
            raise RecipientError(f"invalid country code {country!r}: two letters expected")
        return _normalise_telephone(value, country)
    if kind == "url":
        return _normalise_url(value)
    raise RecipientError(f"unknown recipient type {kind!r}: expected one of {', '.join(KINDS)}")


def hash_identity(identity: str, salt: str) -> str:
    """The OB 2.0 hashed identity ``sha256$<hex>`` of an already normalised ``identity``."""
    digest = hashlib.sha256((identity + salt).encode("utf-8")).hexdigest()
    return f"sha256${digest}"


def new_salt() -> str:
    """A fresh random salt for one assertion (16 bytes, hex)."""
    return secrets.token_hex(SALT_BYTES)


def matches(kind: Kind, value: str, hashed: str, salt: str, *, country: str = "FR") -> bool:
    """Whether ``value`` (as typed, e.g. by an employer) is the identity behind ``hashed``.

    ``value`` is normalised first, so any spelling of the same identity matches; an invalid
    ``value`` raises RecipientError rather than silently answering False.
    """
    expected = hash_identity(normalise_identity(kind, value, country=country), salt)
    algorithm, _, digest = hashed.partition("$")
    candidate = f"{algorithm.lower()}${digest.lower()}"
    return hmac.compare_digest(expected.encode("ascii"), candidate.encode("utf-8"))


def recipient(kind: Kind, value: str, *, salt: str, country: str = "FR") -> dict:
    """The OB 2.0 ``recipient`` IdentityObject for ``value``, hashed with ``salt``."""
    identity = hash_identity(normalise_identity(kind, value, country=country), salt)
    return {"type": kind, "hashed": True, "salt": salt, "identity": identity}
