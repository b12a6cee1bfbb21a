"""Our verifier against the official validator, on the same badges (issue #9's quality bar).

One live Jalon for the module (see ``live.py``), on a copy of the test world, where badges
are issued, revoked and forged through the real services and the library. Each badge goes to
badgecheck and to our verifier, which runs two ways that must give the same verdict and the
same checks: (a) like a stranger, ``openbadges.verify`` fetching the live server over HTTP,
and (b) Jalon's own path, ``services.verification.verify_badge`` reading this instance's
database inside the live app's context.

The matrix: valid badges (hosted URL, JWS, baked PNG/SVG hosted and signed, the three
recipient kinds) are valid for both; a tampered payload, a foreign signature, an unknown key,
another issuer's key, a revoked signed badge, an expired badge and a wrong recipient are
invalid for both, each test naming the validator's failed task and our failed check. One
documented divergence: a revoked HOSTED badge, which the validator calls valid. Then bad
input (``alg: none``, HS256, cut-short JWS, garbage PNG chunk, SVG entities, oversized),
which our verifier refuses with a named check, never an exception.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app import openbadges
from app.domain.badges import RevocationReason
from app.extensions import db
from app.openbadges import documents, signing
from app.openbadges.verifier import MAX_BYTES
from app.services import demo, keys, revocations, verification
from app.services.badges import Issuing
from tests.conformance.conftest import Badgecheck
from tests.conformance.live import (
    Badge,
    b64url,
    demo_issuer,
    described,
    download,
    get,
    get_json,
    jws_payload,
    serve,
    structure_named,
)
from tests.conftest import dispose, make_app
from tests.support import world

INPUTS = ["hosted", "signed", "png", "png-signed", "svg", "svg-signed"]
RECIPIENTS = ["email", "telephone", "url"]
#: Every check our verifier runs on a valid badge given with its recipient.
HOSTED_CHECKS = ["input", "assertion", "badge_class", "issuer", "hosted"]
SIGNED_CHECKS = [*HOSTED_CHECKS[:4], "signature", "key_owner", "key_not_revoked"]
STATUS_CHECKS = ["not_revoked", "not_expired", "issued_in_past", "recipient"]


@dataclass(frozen=True)
class LiveJalon:
    app: Flask
    base: str
    badges: dict[str, Badge]
    #: Hand-made compact JWS, by name (see ``forge``).
    forged: dict[str, str]


def issue_badges(app: Flask, base: str, now: datetime) -> dict[str, Badge]:
    """Issue the module's badges in structure A, revoke two of them, commit."""
    issuing = Issuing.from_config(app.config)
    session = db.session
    in_a = demo_issuer(session, issuing, now)

    issued = {
        "email": in_a("lea", "organiser"),
        "telephone": in_a("karim", "s-adapter"),
        "url": in_a("ousmane", "organiser"),
        # Issued 400 days ago, expired 35 days ago.
        "expired": in_a(
            "lea", "anticiper", when=now - timedelta(days=400), expires_at=now - timedelta(days=35)
        ),
        "revoked": in_a("karim", "anticiper"),
        "revoked_too": in_a("ousmane", "s-adapter"),
    }
    # Two withdrawals at least: badgecheck misses a revocation list of one entry (README).
    revocations.revoke(session, issued["revoked"], reason=RevocationReason.ISSUING_ERROR, now=now)
    revocations.revoke(
        session, issued["revoked_too"], reason=RevocationReason.WORKER_REQUEST, now=now
    )
    badges = {name: described(assertion, base) for name, assertion in issued.items()}
    session.commit()
    return badges


def resigned(claims: dict[str, Any], creator: str) -> dict[str, Any]:
    """The assertion of ``claims`` rebuilt with the library, to be signed by key ``creator``."""
    return documents.assertion(
        id=claims["id"],
        badge_class_id=claims["badge"],
        recipient=claims["recipient"],
        issued_on=datetime.fromisoformat(claims["issuedOn"]),
        verification=documents.verification_signed(creator),
        evidence_narrative=claims["evidence"]["narrative"],
    )


def forge(app: Flask, badge: Badge) -> dict[str, str]:
    """Hand-made JWS of ``badge`` (structure A's), for the invalid cases and bad input."""
    issuing = Issuing.from_config(app.config)
    session = db.session
    a = keys.active_key(session, structure_named(session, demo.DEMO_STRUCTURE))
    b = keys.active_key(session, structure_named(session, world.B_NAME))
    assert a is not None and b is not None
    claims = jws_payload(badge.jws)
    assert claims["verification"]["creator"] == issuing.urls.key(a.public_id)
    header, payload, signature = badge.jws.split(".")

    # One character of the payload changed (the last of the recipient's hash), re-encoded.
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    digest = claims["recipient"]["identity"]
    altered = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    tampered = raw.replace(digest.encode(), altered.encode())
    assert sum(x != y for x, y in zip(raw, tampered, strict=True)) == 1

    b_private = openbadges.load_private_key((issuing.keys_dir / b.private_key_file).read_bytes())
    unknown_key = issuing.urls.key(secrets.token_urlsafe(16))
    none_header = b64url(b'{"alg":"none"}')
    hs256_header = b64url(b'{"alg":"HS256"}')
    hs256_mac = hmac.new(
        a.public_key_pem.encode("ascii"), f"{hs256_header}.{payload}".encode(), hashlib.sha256
    ).digest()
    return {
        "tampered": f"{header}.{b64url(tampered)}.{signature}",
        # Same payload and creator (A's key), signed by an RSA key nobody published.
        "foreign_signature": signing.sign(claims, openbadges.generate_private_key()),
        # Signed by A's own key, naming a key URL that answers 404.
        "unknown_key": signing.sign(resigned(claims, unknown_key), issuing.private_key(a)),
        # A's assertion signed by B's key, naming B's key: a real key, of another issuer.
        "other_issuers_key": signing.sign(
            resigned(claims, issuing.urls.key(b.public_id)), b_private
        ),
        "alg_none": f"{none_header}.{payload}.",
        # HMAC with the issuer's public PEM as the secret (the RS256/HS256 confusion attack).
        "hs256": f"{hs256_header}.{payload}.{b64url(hs256_mac)}",
    }


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest) -> Iterator[LiveJalon]:
    """The live Jalon, its freshly issued and revoked badges and the forged JWS."""
    # Asked for by name, not as parameters: tests/conftest.py marks ``db`` every test whose
    # fixtures include ``db_factory`` or ``world_url`` (see test_issued_badges.py).
    db_factory = request.getfixturevalue("db_factory")
    world_url = request.getfixturevalue("world_url")
    keys_dir = request.getfixturevalue("keys_dir")
    url = db_factory.copy(world_url)
    with serve(lambda base: make_app(url, keys_dir, BASE_URL=base)) as (app, base):
        try:
            with app.app_context():
                badges = issue_badges(app, base, datetime.now(UTC) - timedelta(minutes=1))
                forged = forge(app, badges["email"])
            yield LiveJalon(app=app, base=base, badges=badges, forged=forged)
        finally:
            dispose(app)


# ------------------------------------------------------------------------------- verifiers


def error_names(result: dict[str, Any]) -> list[str]:
    """The validator's failed tasks (a crash of the validator fails the test)."""
    assert "crash" not in result, result["crash"]
    return [message["name"] for message in result["errors"]]


def fetch_over_http(url: str) -> dict[str, Any]:
    """A stranger's fetch: GET with ``Accept: application/ld+json`` (urllib)."""
    return get_json(url)


def ours(
    live: LiveJalon, source: str | bytes, recipient: str | None = None
) -> openbadges.Verification:
    """Our verifier over HTTP and through the local database: same verdict, same checks."""
    now = datetime.now(UTC)
    over_http = openbadges.verify(source, fetch=fetch_over_http, now=now, recipient=recipient)
    with live.app.app_context():
        local = verification.verify_badge(
            db.session,
            source,
            issuing=Issuing.from_config(live.app.config),
            now=now,
            recipient=recipient,
        )
    outcome = [(check.code, check.ok) for check in local.checks]
    assert [(check.code, check.ok) for check in over_http.checks] == outcome, (
        over_http.checks,
        local.checks,
    )
    assert over_http.valid is local.valid
    return local


def failed(verdict: openbadges.Verification) -> list[str]:
    return [check.code for check in verdict.failed()]


def reasons(verdict: openbadges.Verification) -> str:
    return " ".join(check.reason for check in verdict.failed())


@dataclass(frozen=True)
class Given:
    """One badge in hand: what the validator gets (URL, JWS, file path) and what we get."""

    validator: str
    ours: str | bytes


def badge_input(live: LiveJalon, name: str, kind: str, folder: Path) -> Given:
    """The badge ``name`` as ``kind``: its URL, its hosted JSON (text), its JWS, a baked file
    fetched over HTTP, or a forged JWS (``kind`` "forged", ``name`` a key of ``live.forged``).
    """
    if kind == "forged":
        return Given(live.forged[name], live.forged[name])
    badge = live.badges[name]
    if kind == "hosted":
        return Given(badge.url, badge.url)
    if kind == "json":
        text = get(badge.url).decode("utf-8")
        return Given(text, text)
    if kind == "signed":
        jws = get(f"{badge.url}.jws", accept="text/plain").decode("ascii")
        assert jws == badge.jws
        return Given(jws, jws)
    fmt, _, signed = kind.partition("-")
    query = "?variante=signee" if signed else ""
    path = download(f"{badge.url}/badge.{fmt}{query}", folder / f"{name}-{kind}.{fmt}")
    return Given(str(path), path.read_bytes())


# ----------------------------------------------------------------------------- valid cases


@pytest.mark.parametrize(
    ("kind", "recipient"), [(kind, RECIPIENTS[i % 3]) for i, kind in enumerate(INPUTS)]
)
def test_both_verifiers_accept_a_valid_badge(
    badgecheck: Badgecheck, live: LiveJalon, tmp_path: Path, kind: str, recipient: str
) -> None:
    badge = live.badges[recipient]
    given = badge_input(live, recipient, kind, tmp_path)

    result = badgecheck(given.validator, recipient=badge.identity)
    verdict = ours(live, given.ours, recipient=badge.identity)

    assert error_names(result) == []
    assert result["valid"]
    assert verdict.valid, verdict.failed()
    method = "signed" if kind == "signed" or kind.endswith("-signed") else "hosted"
    assert verdict.method == method
    codes = (SIGNED_CHECKS if method == "signed" else HOSTED_CHECKS) + STATUS_CHECKS
    assert [check.code for check in verdict.checks] == codes
    assert verdict.assertion is not None and verdict.assertion["id"] == badge.url


@pytest.mark.parametrize("recipient", RECIPIENTS)
@pytest.mark.parametrize("kind", INPUTS)
def test_ours_accepts_every_input_for_every_recipient(
    live: LiveJalon, tmp_path: Path, kind: str, recipient: str
) -> None:
    """The whole grid for our verifier (the validator's grid is test_issued_badges.py's)."""
    badge = live.badges[recipient]

    verdict = ours(live, badge_input(live, recipient, kind, tmp_path).ours, badge.identity)

    assert verdict.valid, verdict.failed()
    assert verdict.check("recipient") is not None


# --------------------------------------------------------------------------- invalid cases

#: The invalid cases: (id, badge, input kind, recipient, badgecheck's failed tasks, our failed
#: checks, words of our reason). A badge is one of ``live.badges``, or of ``live.forged`` when
#: the kind is "forged"; the recipient is "own" (the badge's), None, or someone else's.
MATRIX = [
    ("tampered-payload", "tampered", "forged", None,
     ["VERIFY_JWS"], ["signature"], "does not verify with the key"),
    ("signed-by-another-rsa-key", "foreign_signature", "forged", None,
     ["VERIFY_JWS"], ["signature"], "does not verify with the key"),
    # badgecheck lists the JWS check it could not run, then the failed fetch (404, HTML).
    ("unknown-key-404", "unknown_key", "forged", None,
     ["VERIFY_JWS", "FETCH_HTTP_NODE"], ["signature"], "signing key could not be fetched"),
    ("key-of-another-issuer", "other_issuers_key", "forged", None,
     ["VERIFY_KEY_OWNERSHIP"], ["key_owner"], "not to the issuer"),
    ("revoked-signed-jws", "revoked", "signed", "own",
     ["VERIFY_SIGNED_ASSERTION_NOT_REVOKED"], ["not_revoked"], "revoked in the revocation list"),
    ("revoked-signed-png", "revoked_too", "png-signed", "own",
     ["VERIFY_SIGNED_ASSERTION_NOT_REVOKED"], ["not_revoked"], "revoked in the revocation list"),
    ("expired-hosted", "expired", "hosted", "own",
     ["ASSERTION_TIMESTAMP_CHECKS"], ["not_expired"], "expired on"),
    ("expired-signed", "expired", "signed", "own",
     ["ASSERTION_TIMESTAMP_CHECKS"], ["not_expired"], "expired on"),
    ("wrong-email-hosted", "email", "hosted", "lea.martin@exemple.fr",
     ["VERIFY_RECIPIENT_IDENTIFIER"], ["recipient"], "not awarded to the email"),
    ("wrong-telephone-jws", "telephone", "signed", "+33612345679",
     ["VERIFY_RECIPIENT_IDENTIFIER"], ["recipient"], "not awarded to the telephone"),
    ("wrong-url-svg-signed", "url", "svg-signed", "{base}/profils/quelqu-un-d-autre",
     ["VERIFY_RECIPIENT_IDENTIFIER"], ["recipient"], "not awarded to the url"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "kind", "recipient", "validator_errors", "our_failures", "our_reason"),
    [pytest.param(*row[1:], id=row[0]) for row in MATRIX],
)
def test_both_verifiers_refuse_an_invalid_badge(
    badgecheck: Badgecheck,
    live: LiveJalon,
    tmp_path: Path,
    name: str,
    kind: str,
    recipient: str | None,
    validator_errors: list[str],
    our_failures: list[str],
    our_reason: str,
) -> None:
    given = badge_input(live, name, kind, tmp_path)
    if recipient == "own":
        recipient = live.badges[name].identity
    elif recipient is not None:
        recipient = recipient.format(base=live.base)

    result = badgecheck(given.validator, recipient=recipient)
    verdict = ours(live, given.ours, recipient=recipient)

    assert error_names(result) == validator_errors, result["errors"]
    assert not result["valid"]
    assert not verdict.valid
    assert failed(verdict) == our_failures, verdict.checks
    assert our_reason in reasons(verdict)


def test_the_revocation_list_names_the_withdrawn_badges(live: LiveJalon) -> None:
    """The precondition of the revoked cases: several entries, so badgecheck reads a list."""
    issuer = get_json(get_json(jws_payload(live.badges["revoked"].jws)["badge"])["issuer"])

    entries = get_json(issuer["revocationList"])["revokedAssertions"]

    assert len(entries) >= 2
    ids = {entry["id"] for entry in entries}
    assert {live.badges["revoked"].url, live.badges["revoked_too"].url} <= ids
    assert live.badges["email"].url not in ids


@pytest.mark.parametrize("kind", ["hosted", "json", "png", "svg"])
def test_divergence_a_revoked_hosted_badge_passes_the_validator_not_ours(
    badgecheck: Badgecheck, live: LiveJalon, tmp_path: Path, kind: str
) -> None:
    """Documented divergence (README, "Our verifier versus badgecheck"): badgecheck ignores
    ``revoked: true`` on a hosted assertion and reads revocation lists for signed badges
    only, so a withdrawn hosted badge (its URL, its JSON, or baked in a PNG or SVG) is valid
    for it. Ours honours both (OB 2.0: a revoked assertion is not valid): ``not_revoked``
    fails, with the issuer's public reason."""
    badge = live.badges["revoked"]
    assert get_json(badge.url)["revoked"] is True
    given = badge_input(live, "revoked", kind, tmp_path)

    result = badgecheck(given.validator, recipient=badge.identity)
    verdict = ours(live, given.ours, recipient=badge.identity)

    assert error_names(result) == []
    assert result["valid"]
    assert not verdict.valid
    assert failed(verdict) == ["not_revoked"]
    assert verdict.revocation is not None and verdict.revocation.revoked
    assert verdict.revocation.reason == "Erreur de délivrance"
    assert reasons(verdict) == f"The assertion {badge.url} is revoked: Erreur de délivrance."


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("name", "validator_errors", "reason"),
    [
        # badgecheck does not take "header.payload." (empty signature) for a JWS at all.
        ("alg_none", ["DETECT_INPUT_TYPE"], "JWS algorithm 'none' refused"),
        ("hs256", ["VERIFY_JWS"], "JWS algorithm 'HS256' refused"),
    ],
)
def test_a_jws_in_another_algorithm_is_refused_by_both(
    badgecheck: Badgecheck, live: LiveJalon, name: str, validator_errors: list[str], reason: str
) -> None:
    """``alg: none``, and HS256 keyed with the issuer's public PEM (the algorithm confusion
    attack): refused before any key is used."""
    jws = live.forged[name]

    result = badgecheck(jws)
    verdict = ours(live, jws)

    assert error_names(result) == validator_errors, result["errors"]
    assert not result["valid"]
    assert not verdict.valid
    assert failed(verdict) == ["signature"]
    assert reason in reasons(verdict)


def class_png(live: LiveJalon) -> bytes:
    """The badge class image of a badge, as served (a PNG with nothing baked)."""
    badge_class = get_json(get_json(live.badges["email"].url)["badge"])
    return get(badge_class["image"], accept="image/png")


def itxt_after_ihdr(png: bytes, data: bytes) -> bytes:
    """``png`` with a raw ``iTXt`` chunk holding ``data`` after IHDR (CRC right)."""
    chunk = struct.pack(">I", len(data)) + b"iTXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + data))
    return png[:33] + chunk + png[33:]


def xxe_svg(live: LiveJalon) -> bytes:
    return (
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
        f'<openbadges:assertion verify="{live.badges["email"].url}">&xxe;'
        "</openbadges:assertion></svg>"
    ).encode()


BAD_INPUT = {
    "jws-cut-in-its-payload": (
        lambda live: live.badges["email"].jws[: len(live.badges["email"].jws) // 2],
        "input",
        "cut short",
    ),
    # 341 base64url characters cannot be decoded: not a JWS.
    "jws-signature-cut-by-one-character": (
        lambda live: live.badges["email"].jws[:-1],
        "input",
        "is not a readable JWS",
    ),
    # 340 characters decode, to a signature one byte short.
    "jws-signature-cut-by-two-characters": (
        lambda live: live.badges["email"].jws[:-2],
        "signature",
        "does not verify with the key",
    ),
    "png-chunk-of-text-garbage": (
        lambda live: openbadges.bake_png(class_png(live), "ceci n'est pas un badge"),
        "input",
        "is not a badge",
    ),
    "png-chunk-of-binary-garbage": (
        lambda live: itxt_after_ihdr(class_png(live), b"openbadges\0\0\0\0\0\xff\xfe\x00\x81"),
        "input",
        "cannot be read",
    ),
    "svg-with-an-external-entity": (xxe_svg, "input", "unsafe SVG refused"),
    "oversized-input": (
        lambda live: b"{" + b" " * MAX_BYTES + b"}",
        "input",
        f"more than the {MAX_BYTES} accepted",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_refused_with_a_named_check(live: LiveJalon, case: str) -> None:
    make, check, reason = BAD_INPUT[case]

    verdict = ours(live, make(live))

    assert not verdict.valid
    assert failed(verdict) == [check], verdict.checks
    assert reason in reasons(verdict)
    assert "root:" not in reasons(verdict)
