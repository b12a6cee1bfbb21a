"""Revocation of assertions: a status, and reading it from an issuer's RevocationList.

``Fetch`` is the caller's ``fetch(url) -> dict`` (the library's only way to the network);
``RevocationLookup`` is how ``verify`` asks whether an assertion is revoked, by default
``revocation_from_list``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.openbadges.errors import FetchError

__all__ = [
    "Fetch",
    "RevocationLookup",
    "RevocationStatus",
    "revocation_from_list",
    "revocation_status",
]


@dataclass(frozen=True)
class RevocationStatus:
    """Whether an assertion is revoked, and the issuer's stated reason if any."""

    revoked: bool
    reason: str | None = None


Fetch = Callable[[str], dict[str, Any]]
RevocationLookup = Callable[[str, str], RevocationStatus]


def revocation_status(document: Any, assertion_id: str) -> RevocationStatus:
    """Whether ``assertion_id`` is in a RevocationList ``document``, and the reason given.

    ``revokedAssertions`` entries may be assertion ids or objects with ``id`` and an optional
    ``revocationReason``; a single entry may be given without a list. Raise ``FetchError``
    when the document is not a revocation list.
    """
    if not isinstance(document, dict) or "revokedAssertions" not in document:
        raise FetchError("not a RevocationList: revokedAssertions is missing")
    entries = document["revokedAssertions"]
    if not isinstance(entries, list):
        entries = [] if entries is None else [entries]
    for entry in entries:
        if entry == assertion_id:
            return RevocationStatus(True)
        if isinstance(entry, dict) and entry.get("id") == assertion_id:
            reason = entry.get("revocationReason")
            return RevocationStatus(True, reason if isinstance(reason, str) else None)
    return RevocationStatus(False)


def revocation_from_list(fetch: Fetch) -> RevocationLookup:
    """The default revocation lookup: fetch the issuer's list and look the assertion up."""

    def lookup(list_url: str, assertion_id: str) -> RevocationStatus:
        return revocation_status(fetch(list_url), assertion_id)

    return lookup
