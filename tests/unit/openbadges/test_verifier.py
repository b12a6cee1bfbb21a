"""Verifying Open Badges 2.0 assertions (issue #9): hosted and signed, every refusal named.

A small issuer world lives in memory: documents built with ``app.openbadges.documents``,
served by a dict-based fetch that records what it was asked. No network, no database.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import io
import json
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from app.openbadges import (
    CHECKS,
    FetchError,
    RevocationStatus,
    bake_png,
    bake_svg,
    documents,
    keys,
    recipients,
    signing,
    verify,
)
from app.openbadges.verifier import revocation_status

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

BASE = "https://jalon.example"
ISSUER = f"{BASE}/emetteurs/Q2h8cT0aRr4n1bqSxkS0Aw"
OTHER_ISSUER = f"{BASE}/emetteurs/autre"
REVOCATIONS = f"{ISSUER}/revocations"
CLASS = f"{BASE}/badges/modeles/Z0bqzQyUd0m0hY1vNcGQSA"
KEY = f"{BASE}/cles/courante"
RETIRED_KEY = f"{BASE}/cles/ancienne"
REVOKED_KEY = f"{BASE}/cles/compromise"
OTHER_ISSUERS_KEY = f"{BASE}/cles/autre"
KEY_ELSEWHERE = "https://ailleurs.example/cles/k"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ISSUED = NOW - timedelta(days=30)
EMAIL = "lea.martin@example.org"
PHONE = "+33612345678"
PROFILE = f"{BASE}/profils/bXk1c2VyX2lk"

HOSTED_CODES = ["input", "assertion", "badge_class", "issuer", "hosted"]
SIGNED_CODES = ["input", "assertion", "badge_class", "issuer", "signature", "key_owner"]
SIGNED_CODES.append("key_not_revoked")
STATUS_CODES = ["not_revoked", "not_expired", "issued_in_past"]


@cache
def private_key(name: str) -> rsa.RSAPrivateKey:
    """Three 2048-bit keys (current, retired, other), generated once for the module."""
    return keys.generate_private_key()


def pem(name: str) -> str:
    return keys.public_key_to_pem(private_key(name))


class World:
    """Two issuers, their keys and one badge class, served by ``fetch``."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.fetched: list[str] = []
        self.add(
            documents.issuer_profile(
                ISSUER, "Atelier Jalon", BASE, "contact@jalon.example", None, [KEY], REVOCATIONS
            )
        )
        self.add(
            documents.issuer_profile(
                OTHER_ISSUER, "Autre", BASE, "autre@jalon.example", None, [OTHER_ISSUERS_KEY], None
            )
        )
        self.add(documents.cryptographic_key(KEY, ISSUER, pem("current")))
        self.add(documents.cryptographic_key(RETIRED_KEY, ISSUER, pem("retired")))
        revoked = documents.cryptographic_key(REVOKED_KEY, ISSUER, pem("other"))
        self.add({**revoked, "revoked": True, "revocationReason": "Clé compromise"})
        self.add(documents.cryptographic_key(OTHER_ISSUERS_KEY, OTHER_ISSUER, pem("other")))
        self.add(documents.cryptographic_key(KEY_ELSEWHERE, ISSUER, pem("other")))
        self.add(
            documents.badge_class(
                CLASS,
                ISSUER,
                "Planifier son travail — niveau 3",
                "Organise ses tâches de la journée.",
                f"{CLASS}/image.png",
                f"{CLASS}/criteres",
                None,
            )
        )
        self.revoke()

    def add(self, document: dict[str, Any], url: str | None = None) -> dict[str, Any]:
        self.documents[url or document["id"]] = document
        return document

    def revoke(self, *entries: Any) -> None:
        """Publish the issuer's revocation list with these raw ``revokedAssertions``."""
        document = documents.revocation_list(REVOCATIONS, ISSUER, [])
        document["revokedAssertions"] = list(entries)
        self.add(document)

    def fetch(self, url: str) -> dict[str, Any]:
        self.fetched.append(url)
        try:
            return copy.deepcopy(self.documents[url])
        except KeyError:
            raise FetchError("404 Not Found") from None


@pytest.fixture
def world() -> World:
    return World()


def identity(kind: str = "email", value: str = EMAIL, salt: str = "5a17c0ffee") -> dict:
    return recipients.recipient(kind, value, salt=salt)


def assertion_document(uid: str, verification: dict, **options: Any) -> dict[str, Any]:
    base = options.pop("base", BASE)
    return documents.assertion(
        f"{base}/badges/{uid}",
        options.pop("badge", CLASS),
        options.pop("recipient", None) or identity(),
        options.pop("issued_on", ISSUED),
        verification,
        **options,
    )


def hosted(world: World, uid: str = "h0sted", **options: Any) -> dict[str, Any]:
    """A hosted assertion, served at its id and at the ``.json`` alias."""
    document = assertion_document(uid, documents.verification_hosted(), **options)
    world.add(document)
    world.add(document, document["id"] + ".json")
    return document


def signed_document(uid: str = "s1gned", key_url: str = KEY, **options: Any) -> dict[str, Any]:
    return assertion_document(uid, documents.verification_signed(key_url), **options)


def signed(uid: str = "s1gned", key_url: str = KEY, signer: str = "current", **options) -> str:
    return signing.sign(signed_document(uid, key_url, **options), private_key(signer))


def run(world: World, source: Any, **options: Any):
    return verify(source, fetch=world.fetch, now=options.pop("now", NOW), **options)


def codes(result) -> list[str]:
    return [check.code for check in result.checks]


def failed(result) -> list[str]:
    return [check.code for check in result.failed()]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64_json(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode("utf-8"))


@cache
def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (12, 12), (11, 92, 74, 255)).save(buffer, "PNG")
    return buffer.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="12" height="12"><rect/></svg>'


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_chunk(kind: bytes, data: bytes) -> bytes:
    """The test PNG with one extra chunk right after IHDR (25 bytes: signature + IHDR)."""
    image = png()
    return image[:33] + png_chunk(kind, data) + image[33:]


# ------------------------------------------------------------------------------- valid badges


def assert_valid_hosted(result, document: dict[str, Any]) -> None:
    assert result.valid, result.failed()
    assert codes(result) == HOSTED_CODES + STATUS_CODES
    assert result.method == "hosted"
    assert result.assertion == document
    assert result.badge_class["id"] == CLASS
    assert result.issuer["id"] == ISSUER
    assert result.key is None
    assert result.revocation == RevocationStatus(False)
    assert result.failed() == []


def test_hosted_badge_from_its_url(world: World) -> None:
    document = hosted(world)
    result = run(world, document["id"])
    assert_valid_hosted(result, document)
    assert world.fetched == [document["id"], CLASS, ISSUER, REVOCATIONS]
    assert result.check("hosted").reason.endswith("on its issuer's origin.")


def test_hosted_badge_from_its_json_alias_follows_the_canonical_id(world: World) -> None:
    document = hosted(world)
    result = run(world, f"  {document['id']}.json\n")
    assert_valid_hosted(result, document)
    assert world.fetched[:2] == [document["id"] + ".json", document["id"]]


@pytest.mark.parametrize("form", ["dict", "text", "bytes"])
def test_hosted_json_is_verified_from_the_copy_its_id_serves(world: World, form: str) -> None:
    document = hosted(world)
    given_copy = {**document, "narrative": "edited by hand, not what the issuer serves"}
    text = json.dumps(given_copy)
    source = {"dict": given_copy, "text": text, "bytes": ("\ufeff" + text).encode()}[form]
    result = run(world, source)
    assert_valid_hosted(result, document)
    assert world.fetched[0] == document["id"]
    assert "narrative" not in result.assertion


def test_hosted_badge_baked_in_png_and_svg(world: World) -> None:
    document = hosted(world)
    payload = json.dumps(document)
    assert_valid_hosted(run(world, bake_png(png(), payload)), document)
    baked_svg = bake_svg(SVG, payload, assertion_url=document["id"])
    assert_valid_hosted(run(world, baked_svg), document)
    assert_valid_hosted(run(world, baked_svg.decode("utf-8")), document)
    assert_valid_hosted(run(world, bake_png(png(), document["id"])), document)


def assert_valid_signed(result, key_url: str = KEY) -> None:
    assert result.valid, result.failed()
    assert codes(result) == SIGNED_CODES + STATUS_CODES
    assert result.method == "signed"
    assert result.assertion["verification"] == {"type": "SignedBadge", "creator": key_url}
    assert result.key["id"] == key_url
    assert result.revocation == RevocationStatus(False)


def test_signed_badge_from_its_jws(world: World) -> None:
    token = signed()
    result = run(world, token)
    assert_valid_signed(result)
    assert result.assertion == signed_document()
    assert world.fetched == [CLASS, ISSUER, KEY, REVOCATIONS]
    assert_valid_signed(run(world, f"\n{token}  ".encode("ascii")))


def test_signed_badge_baked_in_png_and_svg(world: World) -> None:
    token = signed()
    assert_valid_signed(run(world, bake_png(png(), token)))
    assert_valid_signed(run(world, bake_svg(SVG, token)))


def test_signed_badge_with_a_urn_uuid_id(world: World) -> None:
    document = signed_document()
    document["id"] = "urn:uuid:0b1c6f6e-3f0a-4d5e-9a51-7a0c8c1f2d3e"
    assert_valid_signed(run(world, signing.sign(document, private_key("current"))))


def test_a_retired_key_not_in_public_key_still_verifies_what_it_signed(world: World) -> None:
    assert world.documents[ISSUER]["publicKey"] == KEY
    assert_valid_signed(run(world, signed(key_url=RETIRED_KEY, signer="retired")), RETIRED_KEY)


def test_issuer_verification_policy_allowed_origins_and_starts_with(world: World) -> None:
    document = hosted(world, base="https://badges.jalon.example")
    world.documents[ISSUER]["verification"] = {"allowedOrigins": ["badges.jalon.example"]}
    assert run(world, document["id"]).valid
    world.documents[ISSUER]["verification"] = {"startsWith": "https://badges.jalon.example/b"}
    result = run(world, document["id"])
    assert failed(result) == ["hosted"]
    assert "origin https://jalon.example:443" in result.check("hosted").reason
    world.documents[ISSUER]["verification"] = {
        "startsWith": ["https://x.example/", "https://badges.jalon.example/badges/"],
        "allowedOrigins": "badges.jalon.example",
    }
    assert run(world, document["id"]).valid
    world.documents[ISSUER]["verification"] = {"startsWith": "https://badges.jalon.example/x/"}
    assert "startsWith" in run(world, document["id"]).check("hosted").reason
    world.documents[ISSUER]["verification"] = {"allowedOrigins": ["jalon.example"]}
    result = run(world, document["id"])
    only_failure(result, "hosted", "hosted on badges.jalon.example", "allowedOrigins")


# --------------------------------------------------------------------------- signature checks


def only_failure(result, code: str, *fragments: str) -> None:
    """``code`` is the one failed check, its reason holding ``fragments``.

    A failed authenticity check is the last one listed (it stops the run); the status checks
    (revocation, dates, recipient) all run whatever the others say.
    """
    assert not result.valid
    assert failed(result) == [code]
    if code not in STATUS_CODES + ["recipient"]:
        assert result.checks[-1].code == code
    for fragment in fragments:
        assert fragment in result.check(code).reason


def test_tampered_payload_fails_the_signature(world: World) -> None:
    header, _, signature = signed().split(".")
    tampered = {**signed_document(), "recipient": identity(value="intrus@example.org")}
    result = run(world, f"{header}.{b64_json(tampered)}.{signature}")
    only_failure(result, "signature", KEY, "does not match")
    assert codes(result) == SIGNED_CODES[:5]
    assert result.key is None


def test_a_jws_signed_by_another_key_fails_the_signature(world: World) -> None:
    only_failure(run(world, signed(signer="other")), "signature", KEY, "does not match")


def test_an_unknown_key_fails_the_signature(world: World) -> None:
    missing = f"{BASE}/cles/inconnue"
    only_failure(run(world, signed(key_url=missing)), "signature", missing, "404 Not Found")


def test_a_key_owned_by_another_issuer_fails_key_owner(world: World) -> None:
    result = run(world, signed(key_url=OTHER_ISSUERS_KEY, signer="other"))
    only_failure(result, "key_owner", OTHER_ISSUERS_KEY, f"belongs to {OTHER_ISSUER}")


def test_a_key_on_another_origin_fails_key_owner(world: World) -> None:
    result = run(world, signed(key_url=KEY_ELSEWHERE, signer="other"))
    only_failure(result, "key_owner", "https://ailleurs.example:443", "https://jalon.example:443")


def test_a_revoked_key_fails_key_not_revoked(world: World) -> None:
    result = run(world, signed(key_url=REVOKED_KEY, signer="other"))
    only_failure(result, "key_not_revoked", REVOKED_KEY, "Clé compromise")
    assert codes(result) == SIGNED_CODES


def test_a_key_revoked_from_a_date(world: World) -> None:
    key = world.documents[REVOKED_KEY]
    key["revoked"] = "2025-04-01T00:00:00Z"
    assert run(world, signed(key_url=REVOKED_KEY, signer="other")).valid
    key["revoked"] = "2025-02-01T00:00:00Z"
    result = run(world, signed(key_url=REVOKED_KEY, signer="other"))
    only_failure(result, "key_not_revoked", "revoked on 2025-02-01T00:00:00Z")
    for unreadable in ("oui", "false", 1):  # anything but absent, null or false fails closed
        key["revoked"] = unreadable
        result = run(world, signed(key_url=REVOKED_KEY, signer="other"))
        only_failure(result, "key_not_revoked", "Clé compromise")
    key["revoked"] = False
    assert run(world, signed(key_url=REVOKED_KEY, signer="other")).valid


def test_a_key_document_served_under_another_id_fails_the_signature(world: World) -> None:
    world.documents[KEY] = {**world.documents[KEY], "id": f"{BASE}/cles/autre-id"}
    only_failure(run(world, signed()), "signature", "has the id", f"{BASE}/cles/autre-id")


def test_a_key_document_of_another_type_fails_the_signature(world: World) -> None:
    world.documents[KEY]["type"] = "Issuer"
    only_failure(run(world, signed()), "signature", "not a CryptographicKey")
    del world.documents[KEY]["type"]  # the type is optional, as for the official validator
    assert run(world, signed()).valid


def test_a_key_without_an_rsa_pem_fails_the_signature(world: World) -> None:
    world.documents[KEY]["publicKeyPem"] = "-----BEGIN PUBLIC KEY-----\nAAAA\n"
    only_failure(run(world, signed()), "signature", "unusable public key")
    del world.documents[KEY]["publicKeyPem"]
    only_failure(run(world, signed()), "signature", "no publicKeyPem")


def test_signed_json_without_its_jws_cannot_be_verified(world: World) -> None:
    result = run(world, json.dumps(signed_document()))
    only_failure(result, "signature", "only its JSON was given")
    assert result.method == "signed"


def test_a_jws_whose_payload_claims_hosted_verification_fails(world: World) -> None:
    document = assertion_document("x", documents.verification_hosted())
    result = run(world, signing.sign(document, private_key("current")))
    only_failure(result, "signature", "declares HostedBadge")


@pytest.mark.parametrize(
    ("header", "signature"),
    [({"alg": "none"}, ""), ({"alg": "none"}, "c2ln"), ({"alg": "HS256"}, None)],
    ids=["none-empty", "none-signed", "HS256"],
)
def test_refused_algorithms_fail_the_signature(world: World, header, signature) -> None:
    unsigned = f"{b64_json(header)}.{b64_json(signed_document())}"
    if signature is None:  # HS256 keyed with the public PEM: the classic confusion attack
        mac = hmac.new(pem("current").encode(), unsigned.encode(), hashlib.sha256).digest()
        signature = b64(mac)
    result = run(world, f"{unsigned}.{signature}")
    assert codes(result) == ["input", "signature"]
    only_failure(result, "signature", "refused", repr(header["alg"]))
    assert result.method == "signed"
    assert world.fetched == []


def test_truncated_jws(world: World) -> None:
    token = signed()
    only_failure(run(world, token[:-2]), "signature", "does not match")
    only_failure(run(world, token[:-1]), "input", "not a readable JWS", "cut short")
    for cut in range(3, 40):
        assert failed(run(world, token[:-cut])) in (["input"], ["signature"])
    cut = token[: token.index(".") + 30]
    result = run(world, cut)
    only_failure(result, "input", "cut short", "2 segments")
    header, payload, signature = token.split(".")
    result = run(world, f"{header}.{payload[:-7]}.{signature}")
    only_failure(result, "input", "not a readable JWS")


# ------------------------------------------------------------------------------- revocation


def test_revoked_signed_badge_in_a_list_of_one_entry(world: World) -> None:
    document = signed_document()
    world.revoke({"id": document["id"], "revocationReason": "Attribué par erreur"})
    result = run(world, signed())
    only_failure(result, "not_revoked", REVOCATIONS, "Attribué par erreur")
    assert codes(result) == SIGNED_CODES + STATUS_CODES
    assert result.revocation == RevocationStatus(True, "Attribué par erreur")


def test_revoked_signed_badge_in_a_list_of_two_entries(world: World) -> None:
    document = signed_document()
    world.revoke(f"{BASE}/badges/autre", document["id"])
    result = run(world, signed())
    only_failure(result, "not_revoked", REVOCATIONS)
    assert result.revocation == RevocationStatus(True, None)


def test_a_single_entry_given_without_a_list(world: World) -> None:
    document = signed_document()
    world.documents[REVOCATIONS]["revokedAssertions"] = {"id": document["id"]}
    only_failure(run(world, signed()), "not_revoked")


def test_revoked_hosted_badge_says_so_in_its_own_json(world: World) -> None:
    document = hosted(world, revoked=True, revocation_reason="Badge retiré à la demande")
    result = run(world, document["id"])
    only_failure(result, "not_revoked", "is revoked", "Badge retiré à la demande")
    assert result.revocation == RevocationStatus(True, "Badge retiré à la demande")
    assert REVOCATIONS not in world.fetched


def test_revoked_hosted_badge_in_the_list(world: World) -> None:
    document = hosted(world)
    world.revoke({"id": document["id"], "revocationReason": "Erreur de saisie"})
    only_failure(run(world, document["id"]), "not_revoked", "Erreur de saisie")


def test_an_unreadable_revocation_list_fails_closed(world: World) -> None:
    del world.documents[REVOCATIONS]
    only_failure(run(world, signed()), "not_revoked", REVOCATIONS, "404 Not Found")
    world.documents[REVOCATIONS] = {"id": REVOCATIONS, "type": "RevocationList"}
    only_failure(run(world, signed()), "not_revoked", "revokedAssertions is missing")


def test_an_issuer_without_a_revocation_list(world: World) -> None:
    del world.documents[ISSUER]["revocationList"]
    result = run(world, signed())
    assert result.valid
    assert "no revocation list" in result.check("not_revoked").reason
    assert REVOCATIONS not in world.fetched


def test_a_custom_revocation_lookup_replaces_fetching_the_list(world: World) -> None:
    document = hosted(world)
    asked: list[tuple[str, str]] = []

    def lookup(list_url: str, assertion_id: str) -> RevocationStatus:
        asked.append((list_url, assertion_id))
        return RevocationStatus(assertion_id == document["id"], "Retiré")

    result = run(world, document["id"], revocation=lookup)
    only_failure(result, "not_revoked", "Retiré")
    assert asked == [(REVOCATIONS, document["id"])]
    assert REVOCATIONS not in world.fetched
    assert run(world, signed(), revocation=lookup).valid
    assert REVOCATIONS not in world.fetched


@pytest.mark.parametrize("answer", [RuntimeError("base indisponible"), "not a status"])
def test_a_failing_revocation_lookup_fails_closed(world: World, answer: Any) -> None:
    def lookup(list_url: str, assertion_id: str) -> Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    result = run(world, signed(), revocation=lookup)
    only_failure(result, "not_revoked", REVOCATIONS)
    assert result.revocation is None


def test_revocation_status_reads_entries_as_strings_or_objects() -> None:
    listing = {"revokedAssertions": ["https://a/1", {"id": "https://a/2"}, {"uid": "3"}]}
    assert revocation_status(listing, "https://a/1") == RevocationStatus(True)
    assert revocation_status(listing, "https://a/2") == RevocationStatus(True)
    assert revocation_status(listing, "3") == RevocationStatus(False)
    assert revocation_status({"revokedAssertions": []}, "https://a/1") == RevocationStatus(False)
    with pytest.raises(FetchError):
        revocation_status(["https://a/1"], "https://a/1")


# ------------------------------------------------------------------------------------ dates


def test_an_expired_badge(world: World) -> None:
    token = signed(expires=NOW - timedelta(days=1))
    result = run(world, token)
    only_failure(result, "not_expired", "expired on 2025-02-28T12:00:00Z")
    assert codes(result) == SIGNED_CODES + STATUS_CODES
    assert not run(world, signed(expires=NOW)).valid
    assert run(world, signed(expires=NOW + timedelta(seconds=1))).valid


def test_revoked_and_expired_both_show(world: World) -> None:
    document = hosted(world, expires=NOW - timedelta(days=1), revoked=True)
    result = run(world, document["id"])
    assert failed(result) == ["not_revoked", "not_expired"]
    assert codes(result) == HOSTED_CODES + STATUS_CODES


def test_a_badge_issued_in_the_future(world: World) -> None:
    result = run(world, signed(issued_on=NOW + timedelta(days=2)))
    only_failure(result, "issued_in_past", "2025-03-03T12:00:00Z", "in the future")
    assert run(world, signed(issued_on=NOW + timedelta(minutes=4))).valid  # clock skew


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("issuedOn", "2 mars 2025", "not an ISO 8601 date"),
        ("issuedOn", "2025-02-01T10:00:00", "no time zone"),
        ("issuedOn", 1740830400, "must be an ISO 8601 date"),
        ("expires", "bientôt", "not an ISO 8601 date"),
        ("expires", "2025-01-01T00:00:00+01:00", "before it was issued"),
    ],
)
def test_unreadable_dates_fail_the_assertion(world: World, field, value, fragment) -> None:
    document = hosted(world)
    document[field] = value
    only_failure(run(world, document["id"]), "assertion", fragment)


def test_dates_with_offsets_are_compared_in_utc(world: World) -> None:
    document = hosted(world)
    document["issuedOn"] = "2025-03-01T14:04:00+02:00"  # 12:04 UTC: within the skew
    document["expires"] = "2025-03-01T13:10:00+01:00"  # 12:10 UTC
    assert run(world, document["id"]).valid
    document["issuedOn"] = "2025-02-01T00:00:00-05:00"
    document["expires"] = "2025-03-01T13:00:01+01:00"  # 12:00:01 UTC: still valid
    assert run(world, document["id"]).valid
    document["expires"] = "2025-03-01T06:59:59-05:00"  # 11:59:59 UTC: expired
    assert failed(run(world, document["id"])) == ["not_expired"]
    document["expires"] = "0001-01-01T00:30:00+01:00"
    document["issuedOn"] = "0001-01-01T00:00:00+01:00"
    assert failed(run(world, document["id"])) == ["not_expired"]


# -------------------------------------------------------------------------------- recipient


@pytest.mark.parametrize(
    ("kind", "value", "typed"),
    [
        ("email", EMAIL, EMAIL),
        ("email", EMAIL, "  Lea.Martin@Example.ORG "),
        ("telephone", PHONE, "06 12 34 56 78"),
        ("telephone", PHONE, "+33 6 12 34 56 78"),
        ("telephone", PHONE, "0612345678"),
        ("url", PROFILE, PROFILE),
    ],
)
def test_the_recipient_matches_any_usual_spelling(world: World, kind, value, typed) -> None:
    token = signed(recipient=identity(kind, value))
    result = run(world, token, recipient=typed)
    assert result.valid, result.failed()
    assert codes(result) == SIGNED_CODES + STATUS_CODES + ["recipient"]
    assert result.check("recipient").reason == f"The badge was awarded to the {kind} {value}."


@pytest.mark.parametrize(
    ("kind", "value", "typed", "fragment"),
    [
        ("email", EMAIL, "karim@example.org", "not awarded to the email karim@example.org"),
        ("telephone", PHONE, "06 12 34 56 79", "not awarded to the telephone +33612345679"),
        ("url", PROFILE, f"{BASE}/profils/autre", "not awarded to the url"),
        ("telephone", PHONE, EMAIL, "awarded to a telephone number, and"),
        ("email", EMAIL, PHONE, "awarded to an email address, and"),
        ("url", PROFILE, EMAIL, "awarded to a URL, and"),
    ],
)
def test_the_wrong_recipient(world: World, kind, value, typed, fragment) -> None:
    hosted_badge = hosted(world, recipient=identity(kind, value))
    for source in (signed(recipient=identity(kind, value)), hosted_badge["id"]):
        only_failure(run(world, source, recipient=typed), "recipient", fragment)


def test_a_telephone_read_in_another_country(world: World) -> None:
    token = signed(recipient=identity("telephone", "+32470123456"))
    assert run(world, token, recipient="0470 12 34 56", country="BE").valid
    assert not run(world, token, recipient="0470 12 34 56").valid


def test_plain_and_md5_recipients(world: World) -> None:
    plain = {"type": "email", "hashed": False, "identity": "Lea.Martin@example.org"}
    assert run(world, signed(recipient=plain), recipient=EMAIL).valid
    assert not run(world, signed(recipient=plain), recipient="karim@example.org").valid
    odd = {"type": "email", "hashed": False, "identity": "Léa"}  # not an address: compared as is
    only_failure(run(world, signed(recipient=odd), recipient=EMAIL), "recipient")
    md5 = hashlib.md5((EMAIL + "sel").encode(), usedforsecurity=False).hexdigest()
    hashed = {"type": "email", "hashed": True, "salt": "sel", "identity": f"md5${md5.upper()}"}
    assert run(world, signed(recipient=hashed), recipient=EMAIL).valid
    assert not run(world, signed(recipient=hashed), recipient="karim@example.org").valid


def test_an_unsupported_recipient_type(world: World) -> None:
    document = signed_document()
    document["recipient"] = {"type": "id", "hashed": False, "identity": "did:example:123"}
    token = signing.sign(document, private_key("current"))
    assert run(world, token).valid  # nothing to check without an identity
    only_failure(run(world, token, recipient=EMAIL), "recipient", "of type id")


# ------------------------------------------------------------------ documents and hosting


def test_a_hosted_assertion_on_another_origin_than_its_issuer(world: World) -> None:
    document = hosted(world, base="https://ailleurs.example")
    result = run(world, document["id"])
    only_failure(result, "hosted", "https://ailleurs.example:443", "https://jalon.example:443")
    document = hosted(world, "port", base="https://jalon.example:8443")
    only_failure(run(world, document["id"]), "hosted", "https://jalon.example:8443")
    document = hosted(world, "scheme", base="http://jalon.example")
    only_failure(run(world, document["id"]), "hosted", "http://jalon.example:80")


def test_hosted_json_whose_id_cannot_be_fetched(world: World) -> None:
    document = hosted(world)
    del world.documents[document["id"]]
    result = run(world, json.dumps(document))
    only_failure(result, "input", f"could not be fetched from {document['id']}: 404 Not Found")
    assert result.method == "hosted"


def test_a_url_serving_another_assertion_fails_hosted(world: World) -> None:
    document = hosted(world)
    world.add(document, f"{BASE}/copie")
    result = run(world, f"{BASE}/copie")
    only_failure(result, "hosted", f"fetched from {BASE}/copie", document["id"])


def test_hosted_json_whose_id_serves_another_document(world: World) -> None:
    document = hosted(world)
    world.documents[document["id"]] = {**document, "id": f"{BASE}/badges/autre"}
    only_failure(run(world, document), "hosted", f"{BASE}/badges/autre")


def test_a_hosted_url_serving_a_signed_assertion(world: World) -> None:
    document = world.add(signed_document())
    only_failure(run(world, document["id"]), "hosted", "declares SignedBadge")


@pytest.mark.parametrize(
    ("change", "code", "fragment"),
    [
        (lambda w: w.documents.pop(CLASS), "badge_class", "404 Not Found"),
        (lambda w: w.documents[CLASS].update(type="Badge"), "badge_class", "not a BadgeClass"),
        (lambda w: w.documents[CLASS].pop("description"), "badge_class", "no description"),
        (lambda w: w.documents[CLASS].pop("criteria"), "badge_class", "no criteria"),
        (lambda w: w.documents[CLASS].update(issuer=7), "badge_class", "names no issuer URL"),
        (lambda w: w.documents[CLASS].update(id=CLASS + "/x"), "badge_class", "has the id"),
        (lambda w: w.documents.pop(ISSUER), "issuer", "404 Not Found"),
        (lambda w: w.documents[ISSUER].pop("email"), "issuer", "no email"),
        (lambda w: w.documents[ISSUER].update(email="contact"), "issuer", "no valid email"),
        (lambda w: w.documents[ISSUER].update(url="jalon.example"), "issuer", "has no url"),
        (lambda w: w.documents[ISSUER].update(type="Person"), "issuer", "not an Issuer"),
        (lambda w: w.documents[ISSUER].update(revocationList=3), "issuer", "revocationList"),
    ],
)
def test_broken_badge_class_or_issuer(world: World, change, code: str, fragment: str) -> None:
    document = hosted(world)
    token = signed()
    change(world)
    only_failure(run(world, document["id"]), code, fragment)
    only_failure(run(world, token), code, fragment)


def test_badge_class_and_issuer_fetched_through_a_json_alias(world: World) -> None:
    world.add(world.documents[CLASS], CLASS + ".json")
    world.add(world.documents[ISSUER], ISSUER + ".json")
    world.documents[CLASS]["issuer"] = ISSUER + ".json"
    assert run(world, signed(badge=CLASS + ".json")).valid


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d.update({"@context": "https://w3id.org/openbadges/v1"}), "@context"),
        (lambda d: d.update(type="Badge"), "not an Assertion"),
        (lambda d: d.update(id="urn:uuid:1234"), "not an http(s) URL"),
        (lambda d: d.update(badge=None), "badge None is not a URL"),
        (lambda d: d.update(verification={"type": "LocalBadge"}), "verification type"),
        (lambda d: d.pop("recipient"), "recipient is not an IdentityObject"),
        (lambda d: d["recipient"].update(hashed="true"), "hashed must be true or false"),
        (lambda d: d["recipient"].update(identity="sha256$abc"), "sha256$ or md5$ hash"),
        (lambda d: d.update(revoked="oui"), "revoked must be true or false"),
    ],
)
def test_malformed_assertions(world: World, change, fragment: str) -> None:
    document = hosted(world)
    url = document["id"]
    change(document)
    result = run(world, url)
    only_failure(result, "assertion", fragment)
    assert world.fetched == [url]


# -------------------------------------------------------------------------------- bad input


def test_garbage_text(world: World) -> None:
    garbage_inputs = ("", "   ", "bonjour", "ftp://jalon.example/badges/x", "[1, 2]", "null")
    for garbage in garbage_inputs + ("https://jalon.example:99999/badges/x", "https:///x"):
        only_failure(run(world, garbage), "input", "not a badge")
    only_failure(run(world, "{not json"), "input", "not valid JSON")
    only_failure(run(world, '{"a": NaN}'), "input", "not valid JSON")
    only_failure(run(world, "[" * 100_000), "input", "not a badge")
    only_failure(run(world, "{" * 100_000), "input", "not valid JSON")
    only_failure(run(world, b"\xff\xfe\x00garbage"), "input", "neither a PNG or SVG image")
    only_failure(run(world, 42), "input", "text, bytes or a JSON object")
    assert world.fetched == []


def test_a_png_with_nothing_baked(world: World) -> None:
    only_failure(run(world, png()), "input", "PNG image holds no baked badge")


def test_a_png_with_garbage_in_its_openbadges_chunk(world: World) -> None:
    garbage = png_with_chunk(b"iTXt", b"openbadges\0\0\0\0\0pas un badge")
    only_failure(run(world, garbage), "input", "The baked PNG is not a badge")
    corrupt = png_with_chunk(b"iTXt", b"openbadges\0\x07\0\0\0xx")
    only_failure(run(world, corrupt), "input", "PNG image cannot be read", "compression flag")
    broken = bytearray(bake_png(png(), signed()))
    broken[45] ^= 0xFF  # inside the openbadges chunk: its CRC no longer matches
    only_failure(run(world, bytes(broken)), "input", "bad CRC")
    only_failure(run(world, png()[:40]), "input", "truncated PNG")


def test_svgs_that_cannot_be_read(world: World) -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'
    )
    only_failure(run(world, xxe), "input", "unsafe SVG refused")
    only_failure(run(world, xxe.decode()), "input", "unsafe SVG refused")
    only_failure(run(world, SVG), "input", "SVG image holds no baked badge")
    only_failure(run(world, b"<svg"), "input", "malformed SVG")
    only_failure(run(world, "<p>bonjour</p>"), "input", "not an SVG document")
    only_failure(run(world, "<svg>\ud800</svg>"), "input", "not valid Unicode")
    assert world.fetched == []


def test_oversized_input(world: World) -> None:
    token = signed()
    only_failure(run(world, token, max_bytes=100), "input", "more than the 100 accepted")
    big = bake_png(png(), token) + b"\0" * 2_000_000
    only_failure(run(world, big), "input", "more than the 2000000 accepted")
    only_failure(run(world, "é" * 1_000_001), "input", "2000002 bytes long")
    assert world.fetched == []


@pytest.mark.parametrize(
    "error",
    [RuntimeError("boom"), KeyError("x"), ValueError("not json"), TimeoutError(), RecursionError()],
)
def test_a_fetch_raising_anything_gives_a_failed_check(error: Exception) -> None:
    def fetch(url: str) -> dict:
        raise error

    result = verify(f"{BASE}/badges/x", fetch=fetch, now=NOW)
    only_failure(result, "input", f"{BASE}/badges/x", type(error).__name__)
    assert result.method == "hosted"
    result = verify(signed(), fetch=fetch, now=NOW)
    only_failure(result, "badge_class", CLASS, type(error).__name__)


def test_a_fetch_returning_something_else_than_an_object(world: World) -> None:
    document = hosted(world)
    world.documents[CLASS] = ["not", "an", "object"]
    only_failure(run(world, document["id"]), "badge_class", "is not a JSON object")


def test_now_must_be_aware(world: World) -> None:
    with pytest.raises(ValueError, match="aware"):
        run(world, signed(), now=datetime(2025, 3, 1, 12))


def test_checks_follow_the_documented_order(world: World) -> None:
    result = run(world, signed(), recipient=EMAIL, now=NOW.astimezone(timezone(timedelta(hours=2))))
    assert result.valid
    assert codes(result) == [code for code in CHECKS if code != "hosted"]
    assert result.check("hosted") is None
    assert all(check.reason[0].isupper() and check.reason.endswith(".") for check in result.checks)
    assert all("\n" not in check.reason for check in result.checks)


# ----------------------------------------------------------------------------------- fuzzing


def assert_refused(source: Any) -> None:
    world = World()
    result = verify(source, fetch=world.fetch, now=NOW, recipient=EMAIL)
    assert not result.valid
    assert result.failed()
    assert [c.code for c in result.checks] == [c for c in CHECKS if c in codes(result)]


@FUZZ
@given(
    st.one_of(
        st.text(max_size=300),
        st.text(max_size=200).map(lambda t: f"{BASE}/{t}"),
        st.text(max_size=200).map(lambda t: "{" + t),
        st.from_regex(r"eyJ[A-Za-z0-9_-]{0,60}(\.[A-Za-z0-9_-]{0,60}){0,4}", fullmatch=True),
        st.text(max_size=200).map(lambda t: "<svg " + t),
    )
)
def test_fuzz_text_never_raises(text: str) -> None:
    assert_refused(text)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=400),
        st.binary(max_size=400).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),
        st.binary(max_size=400).map(lambda b: png()[:33] + b),
        st.binary(max_size=200).map(lambda b: b"<svg xmlns='http://www.w3.org/2000/svg'>" + b),
    )
)
def test_fuzz_bytes_never_raise(data: bytes) -> None:
    assert_refused(data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children)
    ),
    max_leaves=12,
)


@FUZZ
@given(document=st.dictionaries(st.text(max_size=12), JSON, max_size=6))
def test_fuzz_json_objects_never_raise(document: dict) -> None:
    assert_refused(document)


def mutated(document: dict, path: list[str], value: Any) -> dict:
    document = copy.deepcopy(document)
    target = document
    for name in path[:-1]:
        target = target.setdefault(name, {}) if isinstance(target.get(name), dict) else target
    target[path[-1]] = value
    return document


FIELDS = st.sampled_from(
    [
        ["id"],
        ["type"],
        ["@context"],
        ["badge"],
        ["issuedOn"],
        ["expires"],
        ["revoked"],
        ["recipient"],
        ["recipient", "type"],
        ["recipient", "identity"],
        ["recipient", "hashed"],
        ["recipient", "salt"],
        ["verification"],
        ["verification", "type"],
        ["verification", "creator"],
    ]
)
SERVED = st.sampled_from([CLASS, ISSUER, KEY, REVOCATIONS])
SERVED_FIELDS = st.sampled_from(
    [
        ["id"],
        ["type"],
        ["issuer"],
        ["name"],
        ["email"],
        ["url"],
        ["criteria"],
        ["image"],
        ["owner"],
        ["revoked"],
        ["publicKeyPem"],
        ["revocationList"],
        ["revokedAssertions"],
        ["verification"],
        ["verification", "allowedOrigins"],
        ["verification", "startsWith"],
    ]
)


@FUZZ
@given(path=FIELDS, value=JSON, served=SERVED, served_path=SERVED_FIELDS, other=JSON)
def test_fuzz_mutated_documents_never_raise(path, value, served, served_path, other) -> None:
    """Valid badges with one field of the assertion and one of a served document changed."""
    world = World()
    world.documents[served] = mutated(world.documents[served], served_path, other)
    document = hosted(world)
    world.documents[document["id"]] = mutated(document, path, value)
    token = signing.sign(mutated(signed_document(), path, value), private_key("current"))
    for source in (document["id"], token):
        result = verify(source, fetch=world.fetch, now=NOW, recipient=PHONE)
        assert result.valid == all(check.ok for check in result.checks)
        assert [c.code for c in result.checks] == [c for c in CHECKS if c in codes(result)]


# ---------------------------------------------------------------------------- work done once


def test_a_signed_badge_is_decoded_once_and_verified_once(world: World, monkeypatch) -> None:
    token = signed()
    calls = {"read": 0, "verify_parsed": 0}

    def counted(name: str) -> Any:
        original = getattr(signing, name)

        def call(*args: Any) -> Any:
            calls[name] += 1
            return original(*args)

        return call

    for name in calls:
        monkeypatch.setattr(signing, name, counted(name))
    assert_valid_signed(run(world, token))
    assert calls == {"read": 1, "verify_parsed": 1}


def test_urls_and_reasons_longer_than_those_kept_are_judged_the_same(world: World) -> None:
    document = hosted(world)
    long_path = "/badges/" + "x" * 3000
    long_id = BASE + long_path
    world.documents[long_id] = {**document, "id": long_id}
    result = run(world, long_id)
    assert result.valid, result.failed()
    assert long_id in result.check("hosted").reason
    spaced = BASE + "/badges/" + "x" * 3000 + " y"
    assert failed(run(world, {**document, "id": spaced})) == ["assertion"]  # not a URL
