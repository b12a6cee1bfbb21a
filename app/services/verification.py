"""Verifying badges with our own verifier (``app.openbadges.verify``), Jalon's way.

Badges of this instance are read from the local database through the same code path a
remote verifier takes over HTTP: a fetch function that answers our public URLs with the
documents the public blueprint would serve, and a revocation lookup by indexed id, so a
list of a million withdrawn badges costs nothing. Other issuers' documents are fetched
over HTTP(S) only when the caller allows it.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app import openbadges
from app.openbadges import FetchError, RevocationStatus, Verification
from app.queries import badges as queries
from app.services import badges
from app.services.public_urls import PublicUrls

_PID = r"([A-Za-z0-9_-]{16,64})"
_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"/emetteurs/{_PID}(?:\.json)?"), "issuer"),
    (re.compile(rf"/emetteurs/{_PID}/revocations"), "revocations"),
    (re.compile(rf"/cles/{_PID}"), "key"),
    (re.compile(rf"/badges/modeles/{_PID}(?:\.json)?"), "badge_class"),
    (re.compile(rf"/badges/{_PID}(?:\.json)?"), "assertion"),
]
MAX_REMOTE_BYTES = 1_000_000


def http_fetch(url: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """GET a badge document over HTTP(S) as JSON-LD (another issuer's), size-capped."""
    if not url.startswith(("https://", "http://")):
        raise FetchError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(
        url, headers={"Accept": "application/ld+json, application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(MAX_REMOTE_BYTES + 1)
    except OSError as error:
        raise FetchError(f"could not fetch {url}: {error}") from error
    if len(body) > MAX_REMOTE_BYTES:
        raise FetchError(f"{url} is larger than {MAX_REMOTE_BYTES} bytes")
    try:
        document = json.loads(body)
    except ValueError as error:
        raise FetchError(f"{url} is not JSON") from error
    if not isinstance(document, dict):
        raise FetchError(f"{url} is not a JSON object")
    return document


@dataclass
class LocalResolver:
    """Answers this instance's public URLs from the database, like the public blueprint."""

    session: Session
    urls: PublicUrls
    contact_email: str
    remote: Callable[[str], dict[str, Any]] | None = None

    def _local_path(self, url: str) -> str | None:
        base = self.urls.base
        if url.startswith(base + "/"):
            return url[len(base) :].split("?", 1)[0].split("#", 1)[0]
        return None

    def fetch(self, url: str) -> dict[str, Any]:
        path = self._local_path(url)
        if path is None:
            if self.remote is None:
                raise FetchError(f"{url} is not a badge of this instance")
            return self.remote(url)
        for pattern, kind in _ROUTES:
            match = pattern.fullmatch(path)
            if match is not None:
                document = self._document(kind, match.group(1))
                if document is None:
                    break
                return document
        raise FetchError(f"not found: {url}")

    def _document(self, kind: str, public_id: str) -> dict[str, Any] | None:
        s, urls = self.session, self.urls
        if kind in ("issuer", "revocations"):
            structure = queries.structure_by_public_id(s, public_id)
            if structure is None:
                return None
            if kind == "issuer":
                return badges.issuer_document(s, structure, urls, self.contact_email)
            return badges.revocation_list_document(s, structure, urls)
        if kind == "key":
            key = queries.key_by_public_id(s, public_id)
            return badges.key_document(key, urls) if key else None
        if kind == "badge_class":
            found = queries.badge_class_by_public_id(s, public_id)
            return badges.badge_class_document(found, urls) if found else None
        assertion = queries.assertion_by_public_id(s, public_id)
        return badges.assertion_document(assertion, urls) if assertion else None

    def revocation(self, list_url: str, assertion_id: str) -> RevocationStatus:
        """Our own list: one indexed lookup of the assertion, not a read of the list."""
        if self._local_path(list_url) is None:
            return openbadges.revocation_from_list(self.fetch)(list_url, assertion_id)
        path = self._local_path(assertion_id)
        match = re.fullmatch(rf"/badges/{_PID}", path or "")
        if match is None:
            return RevocationStatus(revoked=False)
        assertion = queries.assertion_by_public_id(self.session, match.group(1))
        if assertion is None or assertion.revoked_at is None:
            return RevocationStatus(revoked=False)
        return RevocationStatus(revoked=True, reason=badges.revocation_wording(assertion))


def verify_badge(
    session: Session,
    source: str | bytes | dict[str, Any],
    *,
    issuing: badges.Issuing,
    now: datetime,
    recipient: str | None = None,
    country: str = "FR",
    remote: Callable[[str], dict[str, Any]] | None = None,
) -> Verification:
    """Verify ``source`` (URL, JWS, JSON, baked PNG/SVG): our badges from the database,
    others' through ``remote`` (none by default: no network)."""
    resolver = LocalResolver(session, issuing.urls, issuing.contact_email, remote)
    return openbadges.verify(
        source,
        fetch=resolver.fetch,
        revocation=resolver.revocation,
        now=now,
        recipient=recipient,
        country=country,
    )
