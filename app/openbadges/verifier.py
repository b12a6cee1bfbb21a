"""Verify an Open Badges 2.0 assertion, hosted or signed, as an employer's verifier must.

``verify`` takes what a person has in hand — the assertion URL, a compact JWS, the assertion
JSON, or a baked PNG or SVG — and returns a :class:`Verification` listing its checks, in this
order (the codes are stable):

==================  ==========================================================================
``input``           the input was read and an assertion document obtained
``assertion``       an OB 2.0 Assertion: @context, type, id, recipient, badge, verification,
                    issuedOn (and expires) as aware ISO 8601 dates
``badge_class``     ``badge`` fetched: a BadgeClass with name, description, criteria, image,
                    issuer
``issuer``          ``issuer`` fetched: an Issuer/Profile with name, url, email
``hosted``          hosted badges: served at its own id, on its issuer's origin (or within
                    the issuer's ``verification.startsWith`` / ``allowedOrigins``)
``signature``       signed badges: RS256 JWS verified with the ``verification.creator`` key
``key_owner``       the key's ``owner`` is the issuer and the key lives on the issuer's origin
``key_not_revoked`` the key document is not marked ``revoked``
``not_revoked``     the assertion is not ``revoked: true``, nor in its issuer's revocation list
``not_expired``     ``expires`` is later than ``now``
``issued_in_past``  ``issuedOn`` is not later than ``now`` plus 5 minutes of clock skew
``recipient``       only when a recipient identity is given: the badge was awarded to it
==================  ==========================================================================

The checks up to ``hosted`` / ``key_not_revoked`` establish that the issuer made this very
assertion: the first of them that fails stops the run, and the checks after it are not listed
(nothing later would mean anything). The status checks (``not_revoked`` to ``recipient``) all
run once authenticity is established, so a badge both revoked and expired says both.

Network access goes only through the caller's ``fetch(url) -> dict``; whatever it raises
becomes a failed check. Bad input never raises: every refusal is a failed check whose reason
is one English sentence naming the URL, date or key concerned. Stricter than the official
validator on purpose: the hosted JSON's own ``revoked: true`` is honoured, revocation lists
are checked for hosted badges too (and lists of one entry work), and a key hosted off its
issuer's origin or marked ``revoked`` is refused. Like it, a key need not be listed in the
issuer's ``publicKey`` (a retired key stays valid for what it signed while its ``owner`` is the
issuer), and a fetched document's ``id`` must be the URL it came from, a ``.json`` alias of
the id excepted.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from typing import Any

from app.openbadges import signing
from app.openbadges.errors import FetchError, RecipientError, SignatureError
from app.openbadges.inputs import _read_input
from app.openbadges.jsonld import CONTEXT_ALIASES
from app.openbadges.recipients import KINDS, hash_identity, normalise_identity
from app.openbadges.revocation import (
    Fetch,
    RevocationLookup,
    RevocationStatus,
    revocation_from_list,
    revocation_status,
)
from app.openbadges.verification_result import CHECKS, Check, Verification
from app.openbadges.verification_run import (
    _authority,
    _date,
    _Failed,
    _has_type,
    _http_url,
    _list_of,
    _origin,
    _reference,
    _Run,
    _short,
    _Stop,
    _text,
    _verification_type,
)

__all__ = [
    "CHECKS",
    "Check",
    "Fetch",
    "RevocationLookup",
    "RevocationStatus",
    "Verification",
    "revocation_from_list",
    "revocation_status",
    "verify",
]

MAX_BYTES = 2_000_000
CLOCK_SKEW = timedelta(minutes=5)

_SEC_KEY = ("CryptographicKey", "sec:Key", "https://w3id.org/security#Key")
_HASH = re.compile(r"(sha256\$[0-9a-fA-F]{64}|md5\$[0-9a-fA-F]{32})")


# --------------------------------------------------------------------------------- documents


def _check_identity_object(recipient: Any) -> None:
    if not isinstance(recipient, dict):
        raise _Failed("the assertion's recipient is not an IdentityObject")
    kind, identity, hashed = map(recipient.get, ("type", "identity", "hashed"))
    if not isinstance(kind, str) or not kind:
        raise _Failed("the assertion's recipient has no type")
    if not isinstance(identity, str) or not identity:
        raise _Failed("the assertion's recipient has no identity")
    if not isinstance(hashed, bool):
        raise _Failed("the assertion's recipient.hashed must be true or false")
    if hashed != bool(_HASH.fullmatch(identity)):
        expected = "a sha256$ or md5$ hash" if hashed else "a plain identity, not a hash"
        raise _Failed(f"the assertion's recipient.identity must be {expected}")
    if not isinstance(recipient.get("salt", ""), str | None):
        raise _Failed("the assertion's recipient.salt must be text")


def _check_assertion(run: _Run) -> str:
    document = run.assertion
    assert document is not None
    contexts = _list_of(document.get("@context"))
    if not any(isinstance(item, str) and item in CONTEXT_ALIASES for item in contexts):
        raise _Failed("the document is not Open Badges 2.0: its @context is not the v2 context")
    if not _has_type(document, "Assertion"):
        raise _Failed(
            f"the document is not an Assertion: its type is {_short(document.get('type'))}"
        )
    assertion_id = document.get("id")
    signed_urn = run.method == "signed" and isinstance(assertion_id, str)
    if not _http_url(assertion_id) and not (signed_urn and assertion_id.startswith("urn:uuid:")):
        raise _Failed(f"the assertion's id {_short(assertion_id)} is not an http(s) URL")
    _check_identity_object(document.get("recipient"))
    if _reference(document.get("badge")) is None:
        raise _Failed(f"the assertion's badge {_short(document.get('badge'))} is not a URL")
    if _verification_type(document) is None:
        raise _Failed("the assertion's verification type is neither HostedBadge nor SignedBadge")
    issued_on = _date(document, "issuedOn")
    if "expires" in document and _date(document, "expires") < issued_on:
        raise _Failed(f"the assertion expires ({document['expires']}) before it was issued")
    if not isinstance(document.get("revoked", False), bool):
        raise _Failed("the assertion's revoked must be true or false")
    return f"the assertion {assertion_id} is a well-formed Open Badges 2.0 Assertion"


def _check_badge_class(run: _Run) -> str:
    assert run.assertion is not None
    url = _reference(run.assertion["badge"])
    assert url is not None
    document, url = run.get_node(url, "the badge class")
    what = f"the badge class {url}"
    if not _has_type(document, "BadgeClass"):
        raise _Failed(f"{what} is not a BadgeClass: its type is {_short(document.get('type'))}")
    for name in ("name", "description"):
        _text(document, name, what)
    for name in ("criteria", "image"):
        if not isinstance(document.get(name), str | dict) or not document[name]:
            raise _Failed(f"{what} has no {name}")
    if _reference(document.get("issuer")) is None:
        raise _Failed(f"{what} names no issuer URL")
    run.badge_class = document
    return f"{what} is a well-formed BadgeClass"


def _check_issuer(run: _Run) -> str:
    assert run.badge_class is not None
    url = _reference(run.badge_class["issuer"])
    assert url is not None
    document, url = run.get_node(url, "the issuer profile")
    what = f"the issuer profile {url}"
    if not _has_type(document, "Issuer", "Profile"):
        raise _Failed(f"{what} is not an Issuer: its type is {_short(document.get('type'))}")
    _text(document, "name", what)
    if not _http_url(document.get("url")):
        raise _Failed(f"{what} has no url")
    if "@" not in _text(document, "email", what):
        raise _Failed(f"{what} has no valid email")
    if document.get("revocationList") is not None and not _http_url(document["revocationList"]):
        raise _Failed(f"{what} has a revocationList that is not a URL")
    run.issuer, run.issuer_id = document, url
    return f"{what} ({_short(document['name'])}) is a well-formed Issuer"


# ------------------------------------------------------------------------------ authenticity


def _check_hosted(run: _Run) -> str:
    document = run.assertion
    assert document is not None and run.issuer is not None
    assertion_id = document["id"]
    if _verification_type(document) != "hosted":
        raise _Failed(
            f"the assertion {assertion_id} declares SignedBadge verification: "
            "it is verified from its JWS, not its URL"
        )
    if run.fetched_from != assertion_id:
        raise _Failed(
            f"the document fetched from {run.fetched_from} has the id {_short(assertion_id)}: "
            "a hosted assertion is served at its own id"
        )
    policy = run.issuer.get("verification")
    policy = policy if isinstance(policy, dict) else {}
    prefixes = [item for item in _list_of(policy.get("startsWith")) if isinstance(item, str)]
    if prefixes and not any(prefix and assertion_id.startswith(prefix) for prefix in prefixes):
        raise _Failed(
            f"the assertion {assertion_id} is outside its issuer's verification.startsWith"
        )
    allowed = [
        item.lower() for item in _list_of(policy.get("allowedOrigins")) if isinstance(item, str)
    ]
    if allowed:
        if _authority(assertion_id) not in allowed:
            raise _Failed(
                f"the assertion is hosted on {_authority(assertion_id)}, not in its issuer's "
                f"allowedOrigins ({_short(', '.join(allowed))})"
            )
    elif _origin(assertion_id) != _origin(run.issuer_id):
        raise _Failed(
            f"the assertion is hosted on {_origin(assertion_id)}, not on its issuer's "
            f"origin {_origin(run.issuer_id)}"
        )
    return f"the assertion is served at its own id {assertion_id}, on its issuer's origin"


def _check_signature(run: _Run) -> str:
    if run.refused_jws is not None:
        raise _Failed(run.refused_jws)
    document = run.assertion
    assert document is not None
    if run.parsed_jws is None:
        raise _Failed(
            "the assertion declares SignedBadge verification, but only its JSON was given: "
            "a signed badge is verified from its JWS"
        )
    if _verification_type(document) != "signed":
        raise _Failed("the JWS payload declares HostedBadge verification, not SignedBadge")
    creator = document["verification"].get("creator")
    if not _http_url(creator):
        raise _Failed("the signed assertion names no signing key URL (verification.creator)")
    key, key_id = run.get_node(creator, "the signing key")
    if "type" in key and not _has_type(key, *_SEC_KEY):
        raise _Failed(f"the signing key {key_id} is not a CryptographicKey")
    pem = key.get("publicKeyPem")
    if not isinstance(pem, str):
        raise _Failed(f"the signing key {key_id} has no publicKeyPem")
    try:
        signing.verify_parsed(run.parsed_jws, pem)
    except SignatureError as exc:
        raise _Failed(
            f"the JWS does not verify with the key {key_id}: {_short(str(exc))}"
        ) from None
    run.key, run.key_id = key, key_id
    return f"the JWS signature verifies with the key {key_id}"


def _check_key_owner(run: _Run) -> str:
    assert run.key is not None
    owner = run.key.get("owner")
    if owner != run.issuer_id:
        raise _Failed(
            f"the key {run.key_id} belongs to {_short(owner)}, not to the issuer {run.issuer_id}"
        )
    if _origin(run.key_id) != _origin(run.issuer_id):
        raise _Failed(
            f"the key {run.key_id} is published on {_origin(run.key_id)}, not on its issuer's "
            f"origin {_origin(run.issuer_id)}"
        )
    return f"the key {run.key_id} belongs to the issuer {run.issuer_id}"


def _check_key_not_revoked(run: _Run) -> str:
    assert run.key is not None
    revoked = run.key.get("revoked")
    reason = run.key.get("revocationReason")
    because = f": {_short(reason)}" if isinstance(reason, str) and reason.strip() else ""
    if revoked is None or revoked is False:
        return f"the key {run.key_id} is not revoked"
    if isinstance(revoked, str):  # the security vocabulary's revocation date
        try:
            since = _date(run.key, "revoked")
        except _Failed:
            raise _Failed(f"the key {run.key_id} is marked revoked{because}") from None
        if since > run.now:
            return f"the key {run.key_id} is not revoked before {revoked}"
        raise _Failed(f"the key {run.key_id} was revoked on {revoked}{because}")
    raise _Failed(f"the key {run.key_id} is revoked{because}")


# ------------------------------------------------------------------------------------ status


def _check_not_revoked(run: _Run) -> str:
    document = run.assertion
    assert document is not None and run.issuer is not None
    assertion_id = document["id"]
    if document.get("revoked") is True:
        reason = document.get("revocationReason")
        run.status = RevocationStatus(True, reason if isinstance(reason, str) else None)
        because = f": {_short(reason)}" if run.status.reason else ""
        raise _Failed(f"the assertion {assertion_id} is revoked{because}")
    list_url = run.issuer.get("revocationList")
    if list_url is None:
        run.status = RevocationStatus(False)
        return f"the assertion is not revoked (its issuer {run.issuer_id} has no revocation list)"
    try:
        status = run.revocation(list_url, assertion_id)
    except Exception as exc:  # a failed lookup must not pass for "not revoked"
        detail = str(exc) if isinstance(exc, FetchError) else f"{type(exc).__name__}: {exc}"
        detail = _short(detail)
        raise _Failed(f"the revocation list {list_url} could not be checked: {detail}") from None
    if not isinstance(status, RevocationStatus):
        raise _Failed(f"the revocation list {list_url} lookup gave no revocation status")
    run.status = status
    if status.revoked:
        because = f": {_short(status.reason)}" if status.reason else ""
        raise _Failed(f"the assertion is revoked in the revocation list {list_url}{because}")
    return f"the assertion is not in its issuer's revocation list {list_url}"


def _check_not_expired(run: _Run) -> str:
    assert run.assertion is not None
    if "expires" not in run.assertion:
        return "the assertion has no expiry date"
    expires = run.assertion["expires"]
    if _date(run.assertion, "expires") <= run.now:
        raise _Failed(f"the assertion expired on {expires}")
    return f"the assertion is valid until {expires}"


def _check_issued_in_past(run: _Run) -> str:
    assert run.assertion is not None
    issued_on = run.assertion["issuedOn"]
    if _date(run.assertion, "issuedOn") > run.now + CLOCK_SKEW:
        raise _Failed(f"the assertion's issue date {issued_on} is in the future")
    return f"the assertion was issued on {issued_on}"


_KIND_NAMES = {"email": "an email address", "telephone": "a telephone number", "url": "a URL"}


def _digest(algorithm: str, text: str) -> str:
    data = text.encode("utf-8")
    if algorithm == "md5":  # OB 2.0 allows md5 hashes: read only, never issued
        return "md5$" + hashlib.md5(data, usedforsecurity=False).hexdigest()
    return hash_identity(text, "")  # sha256$…, the very function issuance uses


def _check_recipient(run: _Run, typed: Any, country: str) -> str:
    assert run.assertion is not None
    identity = run.assertion["recipient"]
    kind = identity["type"]
    if kind not in KINDS:
        raise _Failed(f"the badge's recipient is of type {_short(kind)}, which cannot be checked")
    try:
        value = normalise_identity(kind, typed, country=country)
    except RecipientError:
        raise _Failed(
            f"the badge is awarded to {_KIND_NAMES[kind]}, and {_short(typed)} is not one"
        ) from None
    candidates = {value}
    if kind == "email":  # issuers that hash the address as typed, without lower-casing it
        candidates.add(typed.strip())
    stated = identity["identity"]
    if identity["hashed"]:
        salt = identity.get("salt") or ""
        algorithm = stated.partition("$")[0].lower()
        expected = f"{algorithm}${stated.partition('$')[2].lower()}"
        found = any(
            hmac.compare_digest(_digest(algorithm, candidate + salt), expected)
            for candidate in candidates
        )
    else:
        try:
            stated = normalise_identity(kind, stated, country=country)
        except RecipientError:
            pass
        found = stated in candidates
    if not found:
        raise _Failed(f"the badge was not awarded to the {kind} {value}")
    return f"the badge was awarded to the {kind} {value}"


# ------------------------------------------------------------------------------------ verify


def verify(
    source: str | bytes | dict[str, Any],
    *,
    fetch: Fetch,
    now: datetime,
    recipient: str | None = None,
    country: str = "FR",
    revocation: RevocationLookup | None = None,
    max_bytes: int = MAX_BYTES,
) -> Verification:
    """Verify an Open Badges 2.0 badge; bad input gives failed checks, never an exception.

    ``source``: the assertion URL, a compact JWS, assertion JSON (text or dict), or a baked
    PNG or SVG (bytes; an SVG may also be given as text). ``fetch(url)`` returns the JSON
    object at a URL (raising ``FetchError`` or anything else when it cannot). ``now`` is an
    aware datetime. ``recipient``: an email, telephone (read in ``country``) or URL to check
    the badge was awarded to. ``revocation(list_url, assertion_id)``: how to look the
    assertion up in its issuer's revocation list, by default fetching the list. Inputs over
    ``max_bytes`` are refused.
    """
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("verify needs an aware datetime for now")
    run = _Run(fetch=fetch, now=now, revocation=revocation or revocation_from_list(fetch))
    try:
        run.step("input", lambda: _read_input(run, source, max_bytes))
        if run.refused_jws is not None:
            run.step("signature", lambda: _check_signature(run))
        run.step("assertion", lambda: _check_assertion(run))
        run.step("badge_class", lambda: _check_badge_class(run))
        run.step("issuer", lambda: _check_issuer(run))
        if run.method == "hosted":
            run.step("hosted", lambda: _check_hosted(run))
        else:
            run.step("signature", lambda: _check_signature(run))
            run.step("key_owner", lambda: _check_key_owner(run))
            run.step("key_not_revoked", lambda: _check_key_not_revoked(run))
        run.step("not_revoked", lambda: _check_not_revoked(run))
        run.step("not_expired", lambda: _check_not_expired(run))
        run.step("issued_in_past", lambda: _check_issued_in_past(run))
        if recipient is not None:
            run.step("recipient", lambda: _check_recipient(run, recipient, country))
    except _Stop:
        pass
    return run.result()
