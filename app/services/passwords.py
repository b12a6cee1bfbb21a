"""Hashing of passwords, short codes and one-time codes with Argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when an identifier is unknown, so that timing does not reveal it.
_DUMMY_HASH = _hasher.hash("jalon-dummy-secret")


def hash_secret(secret: str) -> str:
    """An Argon2id hash of a secret."""
    return _hasher.hash(secret)


def verify_secret(hashed: str | None, secret: str) -> bool:
    """True when ``secret`` matches ``hashed``; always spends the same work."""
    try:
        return _hasher.verify(hashed or _DUMMY_HASH, secret) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False
