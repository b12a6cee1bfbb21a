"""Verifying badges with our own verifier (``app.openbadges.verify``), Jalon's way.

Badges of this instance are read from the local database through the same code path a
remote verifier takes over HTTP: a fetch function that answers our public URLs with the
documents the public blueprint would serve, and a revocation lookup by indexed id, so a
list of a million withdrawn badges costs nothing. Other issuers' documents are fetched
over HTTP(S) only when the caller allows it.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app import openbadges
from app.domain.verification import Outcome, Status, outcome
from app.models import Assertion, BadgeVerification
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


def http_fetch(
    url: str, *, timeout: float = 5.0, opener: urllib.request.OpenerDirector | None = None
) -> dict[str, Any]:
    """GET a badge document over HTTP(S) as JSON-LD (another issuer's), size-capped."""
    if not url.startswith(("https://", "http://")):
        raise FetchError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(
        url, headers={"Accept": "application/ld+json, application/json"}
    )
    try:
        open_url = opener.open if opener is not None else urllib.request.urlopen
        with open_url(request, timeout=timeout) as response:
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


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead anywhere (a private address): refuse it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        raise FetchError(f"redirection refused: {req.full_url} -> {newurl}")


def guarded_fetch(
    *,
    allowed_hosts: Collection[str],
    allow_private: bool = False,
    timeout: float = 5.0,
) -> Callable[[str], dict[str, Any]]:
    """A fetch for other issuers' badges (VER-07): only hosts of ``allowed_hosts``, only
    public addresses (unless ``allow_private``, in development), no redirects, time and
    size limits. Anything else raises ``FetchError``."""
    allowed = {h.strip().lower() for h in allowed_hosts if h.strip()}
    opener = urllib.request.build_opener(_NoRedirects)

    def fetch(url: str) -> dict[str, Any]:
        try:
            return _fetch(url)
        except HostNotAllowed as error:
            fetch.refused.append(str(error))  # type: ignore[attr-defined]
            raise

    def _fetch(url: str) -> dict[str, Any]:
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise FetchError(f"not an http(s) URL: {url}")
        if host not in allowed:
            raise HostNotAllowed(f"host not on the allow-list: {host}")
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except OSError as error:
            raise FetchError(f"cannot resolve {host}") from error
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not allow_private and not address.is_global:
                raise HostNotAllowed(f"{host} resolves to a non-public address")
        return http_fetch(url, timeout=timeout, opener=opener)

    fetch.refused = []  # type: ignore[attr-defined]  # hosts refused, for the page to say so
    return fetch


class HostNotAllowed(FetchError):
    """A URL whose host is not allowed (VER-07)."""


@dataclass
class LocalResolver:
    """Answers this instance's public URLs from the database, like the public blueprint."""

    session: Session
    urls: PublicUrls
    contact_email: str
    remote: Callable[[str], dict[str, Any]] | None = None

    def _local_path(self, url: str) -> str | None:
        """The path of ``url`` when it is on this instance (scheme and host in any case)."""
        base, parts = urllib.parse.urlsplit(self.urls.base), urllib.parse.urlsplit(url)
        same = (parts.scheme.lower(), parts.netloc.lower()) == (base.scheme, base.netloc.lower())
        if not same or not parts.path.startswith(base.path + "/"):
            return None
        return parts.path[len(base.path) :]

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


# -- The employer's verification (issue #11) -----------------------------------------------


@dataclass(frozen=True)
class Shown:
    """What the result page shows of a badge: only facts its issuer published (VER-05)."""

    name: str
    description: str
    criteria: str | None
    image_url: str | None
    evidence: str | None
    issuer_name: str
    issuer_url: str | None
    issuer_email: str | None
    issued_on: str | None
    expires: str | None
    revocation_reason: str | None
    hosted_url: str | None


@dataclass(frozen=True)
class Report:
    verification: Verification
    outcome: Outcome
    shown: Shown | None
    #: The badge when it is one of ours (to count the verification).
    assertion: Assertion | None
    #: The issuer's reason when the signing key was declared compromised.
    key_revoked: str | None = None


def _text(document: dict[str, Any] | None, key: str) -> str | None:
    value = (document or {}).get(key)
    return value if isinstance(value, str) else None


def _shown(result: Verification, urls: PublicUrls, ours: Assertion | None) -> Shown | None:
    """Only a badge whose issuer is proven is described; a forged one shows nothing."""
    if result.assertion is None or result.badge_class is None or result.issuer is None:
        return None
    assertion, badge_class, issuer = result.assertion, result.badge_class, result.issuer
    evidence = assertion.get("evidence")
    if isinstance(evidence, list):
        evidence = evidence[0] if evidence else None
    criteria = badge_class.get("criteria")
    image = _text(badge_class, "image")
    return Shown(
        name=_text(badge_class, "name") or "",
        description=_text(badge_class, "description") or "",
        criteria=_text(criteria, "narrative") if isinstance(criteria, dict) else None,
        # Images are shown only from this instance (no request to another site).
        image_url=image if ours is not None and image and image.startswith(urls.base) else None,
        evidence=_text(evidence, "narrative") if isinstance(evidence, dict) else None,
        issuer_name=_text(issuer, "name") or "",
        issuer_url=_text(issuer, "url"),
        issuer_email=_text(issuer, "email"),
        issued_on=_text(assertion, "issuedOn"),
        expires=_text(assertion, "expires"),
        revocation_reason=result.revocation.reason if result.revocation else None,
        hosted_url=_text(assertion, "id"),
    )


def _ours(session: Session, urls: PublicUrls, result: Verification) -> Assertion | None:
    url = _text(result.assertion, "id") or ""
    match = re.fullmatch(rf"{re.escape(urls.base)}/badges/{_PID}", url)
    return queries.assertion_by_public_id(session, match.group(1)) if match else None


def check(
    session: Session,
    source: str | bytes,
    *,
    issuing: badges.Issuing,
    now: datetime,
    recipient: str | None,
    country: str,
    remote: Callable[[str], dict[str, Any]] | None,
) -> Report:
    """Verify for an employer: status, what was checked, and what the badge says."""
    result = verify_badge(
        session,
        source,
        issuing=issuing,
        now=now,
        recipient=recipient or None,
        country=country,
        remote=remote,
    )
    found = outcome([(c.code, c.ok) for c in result.checks])
    # Only an authentic badge is described and counted: a forgery naming one of our badges
    # must neither borrow its words nor add to its count. A badge signed with a compromised
    # key is not described either (whoever holds the key could have written it).
    key_ok = all(c.ok for c in result.checks if c.code == "key_not_revoked")
    trusted = found.status in (Status.VALID, Status.EXPIRED, Status.REVOKED) and key_ok
    ours = _ours(session, issuing.urls, result) if trusted else None
    shown = _shown(result, issuing.urls, ours) if trusted else None
    reason = None if key_ok else _text(result.key, "revocationReason")
    return Report(
        verification=result, outcome=found, shown=shown, assertion=ours, key_revoked=reason
    )


def count(session: Session, report: Report, now: datetime) -> None:
    """Count one verification of one of our badges: the badge and the month, nothing else."""
    if report.assertion is not None:
        session.add(
            BadgeVerification(assertion_id=report.assertion.id, month=now.strftime("%Y-%m"))
        )
        session.flush()
