"""Builders of Open Badges 2.0 documents: plain, JSON-ready dicts with the v2 ``@context``.

Each builder checks its arguments (absolute http(s) URLs, non-empty required text, aware
datetimes) and raises ``DocumentError`` otherwise; optional fields left as None are omitted
rather than written as null (JSON-LD would drop a null anyway). Property names follow the
OB 2.0 specification and its context; ``jsonld.dropped_properties`` finds none in any output.

- Profile (``Issuer``): id, name, url, email, description, image, publicKey, revocationList;
- CryptographicKey: id, owner, publicKeyPem;
- BadgeClass: id, issuer, name, description, image, criteria {id, narrative}, alignment,
  tags;
- Assertion: id, recipient, badge, verification, issuedOn, expires, evidence, narrative,
  image, revoked, revocationReason;
- RevocationList: id, issuer, revokedAssertions [{id, revocationReason}].
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm

from app.openbadges.errors import DocumentError
from app.openbadges.jsonld import CONTEXT_URL
from app.openbadges.keys import load_public_key

__all__ = [
    "ALIGNMENT_FIELDS",
    "DocumentError",
    "assertion",
    "badge_class",
    "cryptographic_key",
    "iso8601",
    "issuer_profile",
    "revocation_list",
    "verification_hosted",
    "verification_signed",
]

ALIGNMENT_FIELDS = ("targetName", "targetUrl", "targetDescription", "targetFramework", "targetCode")
_REQUIRED_ALIGNMENT_FIELDS = ("targetName", "targetUrl")
_RECIPIENT_TYPES = ("email", "telephone", "url")
_WHITESPACE = re.compile(r"\s")


def iso8601(dt: datetime) -> str:
    """``dt`` in UTC, ISO 8601 to the second with a ``Z``: ``2024-05-02T08:30:00Z``.

    Refuse naive datetimes: a timestamp without a time zone cannot be placed in UTC.
    """
    if not isinstance(dt, datetime):
        raise DocumentError(f"a datetime is required, not {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise DocumentError(f"naive datetime refused (no time zone): {dt.isoformat()}")
    utc = dt.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return utc.isoformat() + "Z"


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DocumentError(f"{field} must be a non-empty string")
    return value


def _url(value: Any, field: str, *, allow_data: bool = False) -> str:
    """An absolute http(s) URL (or a ``data:`` URI when ``allow_data``)."""
    if not isinstance(value, str) or not value or _WHITESPACE.search(value):
        raise DocumentError(f"{field} must be an absolute URL without spaces, not {value!r}")
    if allow_data and value.startswith("data:"):
        return value
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise DocumentError(f"{field} is not a valid URL: {value!r}") from exc
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DocumentError(f"{field} must be an absolute http(s) URL, not {value!r}")
    return value


def _document(type_: str, id_: str) -> dict[str, Any]:
    return {"@context": CONTEXT_URL, "type": type_, "id": _url(id_, "id")}


def verification_hosted() -> dict[str, Any]:
    """The VerificationObject of a hosted assertion, checked by fetching its ``id``."""
    return {"type": "HostedBadge"}


def verification_signed(creator_key_url: str) -> dict[str, Any]:
    """The VerificationObject of a signed assertion; ``creator`` is the CryptographicKey URL."""
    return {"type": "SignedBadge", "creator": _url(creator_key_url, "creator")}


def issuer_profile(
    id: str,
    name: str,
    url: str,
    email: str,
    description: str | None,
    public_key_ids: Iterable[str],
    revocation_list_url: str | None,
    image: str | None = None,
) -> dict[str, Any]:
    """An issuer ``Profile`` (type ``Issuer``).

    ``publicKey`` is one key URL when there is a single key, a list when there are several,
    and absent when there is none (OB 2.0: "CryptographicKey — the key(s) an issuer uses").
    """
    doc = _document("Issuer", id)
    doc["name"] = _text(name, "name")
    doc["url"] = _url(url, "url")
    doc["email"] = _text(email, "email")
    if "@" not in email:
        raise DocumentError(f"email must be an email address, not {email!r}")
    if description is not None:
        doc["description"] = _text(description, "description")
    if image is not None:
        doc["image"] = _url(image, "image", allow_data=True)
    if isinstance(public_key_ids, str):
        raise DocumentError("public_key_ids must be a list of key URLs, not a string")
    keys = [_url(key, "publicKey") for key in public_key_ids]
    if len(keys) == 1:
        doc["publicKey"] = keys[0]
    elif keys:
        doc["publicKey"] = keys
    if revocation_list_url is not None:
        doc["revocationList"] = _url(revocation_list_url, "revocationList")
    return doc


def cryptographic_key(id: str, owner: str, public_key_pem: str) -> dict[str, Any]:
    """A ``CryptographicKey``: the public half of an issuer's RSA key, in PEM, and its owner."""
    doc = _document("CryptographicKey", id)
    doc["owner"] = _url(owner, "owner")
    try:
        load_public_key(_text(public_key_pem, "publicKeyPem"))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise DocumentError(f"publicKeyPem is not an RSA public key in PEM: {exc}") from exc
    doc["publicKeyPem"] = public_key_pem
    return doc


def _alignment(item: Any) -> dict[str, str]:
    if not isinstance(item, Mapping):
        raise DocumentError(f"an alignment must be a mapping, not {type(item).__name__}")
    unknown = sorted(set(item) - set(ALIGNMENT_FIELDS))
    if unknown:
        raise DocumentError(
            f"unknown alignment field(s) {', '.join(unknown)}: "
            f"expected among {', '.join(ALIGNMENT_FIELDS)}"
        )
    for field in _REQUIRED_ALIGNMENT_FIELDS:
        if item.get(field) is None:
            raise DocumentError(f"an alignment requires {field}")
    out: dict[str, str] = {}
    for field in ALIGNMENT_FIELDS:
        value = item.get(field)
        if value is None:
            continue
        out[field] = _url(value, field) if field == "targetUrl" else _text(value, field)
    return out


def badge_class(
    id: str,
    issuer_id: str,
    name: str,
    description: str,
    image_url: str,
    criteria_url: str | None,
    criteria_narrative: str | None,
    alignments: Iterable[Mapping[str, str]] = (),
    tags: Iterable[str] = (),
) -> dict[str, Any]:
    """A ``BadgeClass``; ``criteria`` holds the criteria page URL and/or its narrative.

    ``alignments`` items take the AlignmentObject fields ``targetName`` and ``targetUrl``
    (required), ``targetDescription``, ``targetFramework`` and ``targetCode``.
    """
    doc = _document("BadgeClass", id)
    doc["name"] = _text(name, "name")
    doc["description"] = _text(description, "description")
    doc["image"] = _url(image_url, "image", allow_data=True)
    if criteria_url is None and criteria_narrative is None:
        raise DocumentError("criteria needs a URL, a narrative or both")
    criteria: dict[str, str] = {}
    if criteria_url is not None:
        criteria["id"] = _url(criteria_url, "criteria.id")
    if criteria_narrative is not None:
        criteria["narrative"] = _text(criteria_narrative, "criteria.narrative")
    doc["criteria"] = criteria
    doc["issuer"] = _url(issuer_id, "issuer")
    aligned = [_alignment(item) for item in alignments]
    if aligned:
        doc["alignment"] = aligned
    if isinstance(tags, str):
        raise DocumentError("tags must be a list of strings, not a string")
    tag_list = [_text(tag, "tag") for tag in tags]
    if tag_list:
        doc["tags"] = tag_list
    return doc


def _recipient(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise DocumentError("recipient must be an IdentityObject mapping (see recipients.py)")
    if value.get("type") not in _RECIPIENT_TYPES:
        raise DocumentError(f"recipient type must be one of {', '.join(_RECIPIENT_TYPES)}")
    _text(value.get("identity"), "recipient.identity")
    if not isinstance(value.get("hashed"), bool):
        raise DocumentError("recipient.hashed must be a boolean")
    if value["hashed"] and not isinstance(value.get("salt", ""), str):
        raise DocumentError("recipient.salt must be a string")
    return dict(value)


def _verification(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or value.get("type") not in ("HostedBadge", "SignedBadge"):
        raise DocumentError(
            "verification must come from verification_hosted() or verification_signed()"
        )
    if value["type"] == "SignedBadge":
        _url(value.get("creator"), "verification.creator")
    return dict(value)


def assertion(
    id: str,
    badge_class_id: str,
    recipient: Mapping[str, Any],
    issued_on: datetime,
    verification: Mapping[str, Any],
    *,
    expires: datetime | None = None,
    evidence_narrative: str | None = None,
    evidence_id: str | None = None,
    narrative: str | None = None,
    image: str | None = None,
    revoked: bool = False,
    revocation_reason: str | None = None,
) -> dict[str, Any]:
    """An ``Assertion`` awarding the badge class ``badge_class_id`` to ``recipient``.

    ``recipient`` is the IdentityObject of ``recipients.recipient()``; ``verification`` comes
    from ``verification_hosted()`` or ``verification_signed()``. ``evidence_narrative`` and
    ``evidence_id`` (a URL) make one Evidence object. ``revoked`` and ``revocation_reason``
    are written only for a revoked assertion, as the hosted copy then says.
    """
    doc = _document("Assertion", id)
    doc["recipient"] = _recipient(recipient)
    doc["badge"] = _url(badge_class_id, "badge")
    doc["verification"] = _verification(verification)
    doc["issuedOn"] = iso8601(issued_on)
    if expires is not None:
        if iso8601(expires) <= doc["issuedOn"]:
            raise DocumentError("expires must be later than issuedOn")
        doc["expires"] = iso8601(expires)
    if evidence_narrative is not None or evidence_id is not None:
        evidence: dict[str, str] = {}
        if evidence_id is not None:
            evidence["id"] = _url(evidence_id, "evidence.id")
        if evidence_narrative is not None:
            evidence["narrative"] = _text(evidence_narrative, "evidence.narrative")
        doc["evidence"] = evidence
    if narrative is not None:
        doc["narrative"] = _text(narrative, "narrative")
    if image is not None:
        doc["image"] = _url(image, "image", allow_data=True)
    if not isinstance(revoked, bool):
        raise DocumentError("revoked must be a boolean")
    if revoked:
        doc["revoked"] = True
        if revocation_reason is not None:
            doc["revocationReason"] = _text(revocation_reason, "revocationReason")
    elif revocation_reason is not None:
        raise DocumentError("a revocation reason is only given for a revoked assertion")
    return doc


def revocation_list(
    id: str, issuer_id: str, revoked: Iterable[tuple[str, str | None]]
) -> dict[str, Any]:
    """A ``RevocationList``: one ``{"id", "revocationReason"}`` per revoked assertion.

    ``revokedAssertions`` is always present, empty when nothing is revoked.
    """
    doc = _document("RevocationList", id)
    doc["issuer"] = _url(issuer_id, "issuer")
    entries: list[dict[str, str]] = []
    for item in revoked:
        try:
            assertion_id, reason = item
        except (TypeError, ValueError) as exc:
            raise DocumentError("revoked items are (assertion_id, reason) pairs") from exc
        entry = {"id": _url(assertion_id, "revokedAssertions.id")}
        if reason is not None:
            entry["revocationReason"] = _text(reason, "revocationReason")
        entries.append(entry)
    doc["revokedAssertions"] = entries
    return doc
