"""Verifying badges with our own verifier (``app.openbadges.verify``), Jalon's way.

Badges of this instance are read from the local database through the same code path a
remote verifier takes over HTTP: a fetch function that answers our public URLs with the
documents the public blueprint would serve, and a revocation lookup by indexed id, so a
list of a million withdrawn badges costs nothing. Other issuers' documents are fetched
over HTTP(S) only when the caller allows it.

A verification of one of our badges reads two rows, fresh each time (the issuer with its
keys, the assertion): whatever can change — a withdrawn badge, a compromised key, the
earner's consent, the issuer's profile — is seen at once. The documents built from those
rows are kept per process and database, keyed by the rows themselves (a BadgeClass,
immutable, by its public id), so the same rows are not turned into JSON twice.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import socket
import threading
import urllib.parse
import urllib.request
import weakref
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Result, Select, bindparam, insert, select
from sqlalchemy.orm import Session

from app import openbadges
from app.domain.consent import Consent
from app.domain.verification import Outcome, Status, outcome
from app.models import Assertion, BadgeClass, BadgeVerification, SigningKey, Structure
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
_ASSERTION_PATH = re.compile(rf"/badges/{_PID}")
_PUBLIC_ID = re.compile(_PID)
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


@functools.cache
def _guarded_opener() -> urllib.request.OpenerDirector:
    """The opener of ``guarded_fetch``, built once, when another issuer is first fetched
    (stateless handlers, shared by threads as ``urllib.request.urlopen`` shares its own)."""
    return urllib.request.build_opener(_NoRedirects)


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
        return http_fetch(url, timeout=timeout, opener=_guarded_opener())

    fetch.refused = []  # type: ignore[attr-defined]  # hosts refused, for the page to say so
    return fetch


class HostNotAllowed(FetchError):
    """A URL whose host is not allowed (VER-07)."""


class _Documents:
    """Documents built from database rows, kept by everything they were built from.

    A key holds the rows read fresh for the verification at hand (the whole row, so that a
    change to any column makes a new key), or the public id of an immutable row (a
    BadgeClass). A hit skips the ORM and the document builder, never the read of what can
    change: revocation, consent, a key's compromise and expiry are in the rows of the key.
    Bounded (least recently used first out), shared by the threads of one process; each
    hit is a new copy, so a caller changing its document changes nothing kept.
    """

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._texts: OrderedDict[Hashable, str] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], dict[str, Any] | None]) -> Any:
        """The document kept for ``key``, else ``build()`` (kept unless it is None)."""
        with self._lock:
            text = self._texts.get(key)
            if text is not None:
                self._texts.move_to_end(key)
        if text is not None:
            return json.loads(text)
        document = build()
        if document is not None:
            text = json.dumps(document, ensure_ascii=False)
            with self._lock:
                self._texts[key] = text
                if len(self._texts) > self._size:
                    self._texts.popitem(last=False)
        return document


#: One cache of documents per database engine (an app's tests each bring their own).
_CACHES: weakref.WeakKeyDictionary[Any, _Documents] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _documents(session: Session) -> _Documents:
    engine = session.get_bind()
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = _Documents()
    return cache


def _hashable(values: Sequence[Any]) -> tuple[Any, ...]:
    """A row's values as a cache key (JSON columns as their canonical text)."""
    return tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v for v in values)


_STRUCTURE = Structure.__table__
_KEY = SigningKey.__table__
_ASSERTION = Assertion.__table__
#: The statements, built once (by public id, ``:pid``): an issuer and every key of it, one
#: row per key (all its issuer document can depend on); a key with its issuer's public id;
#: an assertion with its class's public id.
_ISSUER_ROWS = (
    select(*_STRUCTURE.c, *_KEY.c)
    .select_from(_STRUCTURE.outerjoin(_KEY, _KEY.c.structure_id == _STRUCTURE.c.id))
    .where(_STRUCTURE.c.public_id == bindparam("pid"))
    .order_by(_KEY.c.id)
)
_KEY_ROW = (
    select(*_KEY.c, _STRUCTURE.c.public_id)
    .join(_STRUCTURE, _STRUCTURE.c.id == _KEY.c.structure_id)
    .where(_KEY.c.public_id == bindparam("pid"))
)
_ASSERTION_ROW = (
    select(*_ASSERTION.c, BadgeClass.__table__.c.public_id)
    .join(BadgeClass.__table__, BadgeClass.__table__.c.id == _ASSERTION.c.badge_class_id)
    .where(_ASSERTION.c.public_id == bindparam("pid"))
)
#: Where the issuer rows' key columns start, and a key's public id among them.
_KEY_COLUMNS = len(_STRUCTURE.c)
_KEY_PUBLIC_ID = list(_KEY.c).index(_KEY.c.public_id)


@dataclass
class LocalResolver:
    """Answers this instance's public URLs from the database, like the public blueprint.

    Each document is read fresh, in few statements: an issuer with its keys in one (the
    signing key is then answered from those rows), an assertion in one (its revocation is
    then answered from that row). Building a document from its rows is skipped when the
    same rows were seen before (``_Documents``); a BadgeClass, immutable, is not read again.
    A resolver keeps the rows it read: make a new one for each verification.
    """

    session: Session
    urls: PublicUrls
    contact_email: str
    remote: Callable[[str], dict[str, Any]] | None = None
    #: Rows read during this verification: keys (with their issuer's public id), by public
    #: id, and assertions (with their class's public id), by public id.
    _keys: dict[str, tuple[Any, ...]] = field(default_factory=dict, repr=False)
    _assertions: dict[str, Any] = field(default_factory=dict, repr=False)
    _documents: _Documents | None = field(default=None, repr=False)

    def _cache(self) -> _Documents:
        """The documents kept for the session's database (looked up once per resolver)."""
        if self._documents is None:
            self._documents = _documents(self.session)
        return self._documents

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
        if kind == "issuer":
            return self._issuer(public_id)
        if kind == "revocations":
            structure = queries.structure_by_public_id(s, public_id)
            return badges.revocation_list_document(s, structure, urls) if structure else None
        if kind == "key":
            return self._key(public_id)
        if kind == "badge_class":

            def build() -> dict[str, Any] | None:
                found = queries.badge_class_by_public_id(s, public_id)
                return badges.badge_class_document(found, urls) if found else None

            # Immutable (its template version is pinned): its public id is enough.
            return self._cache().get(("badge_class", urls.base, public_id), build)
        row = self._assertion(public_id)
        if row is None:
            return None

        def build_assertion() -> dict[str, Any] | None:
            assertion = queries.public_assertion_by_public_id(s, public_id)
            return badges.assertion_document(assertion, urls) if assertion else None

        return self._cache().get(("assertion", urls.base, _hashable(row)), build_assertion)

    def _rows(self, statement: Select[Any], public_id: str) -> Result[Any]:
        """``statement`` for ``public_id``, on the session's connection (no ORM entities),
        after the session's pending changes, as its own queries would autoflush them."""
        if self.session.autoflush:
            self.session.flush()
        return self.session.connection().execute(statement, {"pid": public_id})

    def _issuer(self, public_id: str) -> dict[str, Any] | None:
        """The issuer profile, kept by its structure row and all its key rows: what
        ``badges.issuer_document`` reads (should it read another table, key by it too)."""
        rows = self._rows(_ISSUER_ROWS, public_id).all()
        if not rows:
            return None
        structure = _hashable(rows[0][:_KEY_COLUMNS])
        keys = tuple(_hashable(row[_KEY_COLUMNS:]) for row in rows if row[_KEY_COLUMNS] is not None)
        for key in keys:  # the key fetched next is answered from these rows (as by _KEY_ROW)
            self._keys[key[_KEY_PUBLIC_ID]] = (*key, public_id)

        def build() -> dict[str, Any] | None:
            found = self.session.get(Structure, rows[0]._mapping[_STRUCTURE.c.id])
            return badges.issuer_document(self.session, found, self.urls, self.contact_email)

        cache = self._cache()
        return cache.get(("issuer", self.urls.base, self.contact_email, structure, keys), build)

    def _key(self, public_id: str) -> dict[str, Any] | None:
        """The key document, kept by the key's row (its compromise included) and its
        issuer's public id; the row comes from the issuer's rows when they were just read."""
        row = self._keys.get(public_id)
        if row is None:
            found = self._rows(_KEY_ROW, public_id).first()
            if found is None:
                return None
            row = _hashable(found)

        def build() -> dict[str, Any] | None:
            key = queries.key_by_public_id(self.session, public_id)
            return badges.key_document(key, self.urls) if key else None

        return self._cache().get(("key", self.urls.base, row), build)

    def _assertion(self, public_id: str) -> Any:
        """The row of a public assertion of ours (accepted by its earner, as
        ``Assertion.is_public`` says), read once."""
        if public_id not in self._assertions:
            row = self._rows(_ASSERTION_ROW, public_id).first()
            public = row is not None and row.consent == Consent.ACCEPTED.value
            self._assertions[public_id] = row if public else None
        return self._assertions[public_id]

    def revocation(self, list_url: str, assertion_id: str) -> RevocationStatus:
        """Our own list: one indexed lookup of the assertion, not a read of the list."""
        if self._local_path(list_url) is None:
            return openbadges.revocation_from_list(self.fetch)(list_url, assertion_id)
        path = self._local_path(assertion_id)
        match = _ASSERTION_PATH.fullmatch(path or "")
        if match is None:
            return RevocationStatus(revoked=False)
        row = self._assertion(match.group(1))
        if row is None or row.revoked_at is None:
            return RevocationStatus(revoked=False)
        assertion = self.session.get(Assertion, row.id)
        return RevocationStatus(revoked=True, reason=badges.revocation_wording(assertion))

    def assertion_id(self, url: str) -> int | None:
        """The row id of the public assertion of ours whose id is ``url``, if it is one (read
        once per resolver: the verification has usually read it already)."""
        prefix = self.urls.assertion("")  # the base URL, then /badges/
        match = _PUBLIC_ID.fullmatch(url[len(prefix) :]) if url.startswith(prefix) else None
        row = self._assertion(match.group(1)) if match else None
        return row.id if row is not None else None


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
    return _verify(resolver, source, now=now, recipient=recipient, country=country)


def _verify(
    resolver: LocalResolver,
    source: str | bytes | dict[str, Any],
    *,
    now: datetime,
    recipient: str | None,
    country: str,
) -> Verification:
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
    #: The badge's row id when it is one of ours (to count the verification).
    assertion_id: int | None
    #: The issuer's reason when the signing key was declared compromised.
    key_revoked: str | None = None


def _text(document: dict[str, Any] | None, key: str) -> str | None:
    value = (document or {}).get(key)
    return value if isinstance(value, str) else None


def _shown(result: Verification, urls: PublicUrls, ours: int | None) -> Shown | None:
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
    resolver = LocalResolver(session, issuing.urls, issuing.contact_email, remote)
    result = _verify(resolver, source, now=now, recipient=recipient or None, country=country)
    found = outcome([(c.code, c.ok) for c in result.checks])
    # Only an authentic badge is described and counted: a forgery naming one of our badges
    # must neither borrow its words nor add to its count. A badge signed with a compromised
    # key is not described either (whoever holds the key could have written it).
    key_ok = all(c.ok for c in result.checks if c.code == "key_not_revoked")
    trusted = found.status in (Status.VALID, Status.EXPIRED, Status.REVOKED) and key_ok
    ours = resolver.assertion_id(_text(result.assertion, "id") or "") if trusted else None
    shown = _shown(result, issuing.urls, ours) if trusted else None
    reason = None if key_ok else _text(result.key, "revocationReason")
    return Report(
        verification=result, outcome=found, shown=shown, assertion_id=ours, key_revoked=reason
    )


def count(session: Session, report: Report, now: datetime) -> None:
    """Count one verification of one of our badges: the badge and the month, nothing else."""
    if report.assertion_id is not None:
        # One row and nothing to track: an INSERT, without the unit of work's flush.
        session.execute(
            insert(BadgeVerification.__table__),
            {"assertion_id": report.assertion_id, "month": now.strftime("%Y-%m")},
        )
