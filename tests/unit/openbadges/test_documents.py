"""Open Badges 2.0 document builders: required fields, UTC "Z" timestamps, refusals.

JSON-LD soundness of every builder (nothing dropped, round trip) is tested in test_jsonld.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.openbadges import documents, keys, recipients
from app.openbadges.errors import DocumentError, OpenBadgesError

CONTEXT = "https://w3id.org/openbadges/v2"
BASE = "http://127.0.0.1:5000"
ISSUER = f"{BASE}/emetteurs/Q2h8cT0aRr4n1bqSxkS0Aw"
KEY = f"{BASE}/cles/tq3Lw2vD4kqHLeFAOwhr8g.json"
CLASS = f"{BASE}/badges/modeles/Z0bqzQyUd0m0hY1vNcGQSA.json"
ASSERTION = f"{BASE}/badges/3dM7Jx5eS9i7m0Ue9mWg2Q"
ISSUED = datetime(2024, 5, 2, 8, 30, 15, tzinfo=UTC)
Z_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def public_pem() -> str:
    return keys.public_key_to_pem(keys.generate_private_key())


@pytest.fixture
def recipient() -> dict:
    return recipients.recipient("email", "karim.b@example.org", salt="c0ffee")


def make_assertion(recipient: dict, **kwargs) -> dict:
    return documents.assertion(
        ASSERTION, CLASS, recipient, ISSUED, documents.verification_hosted(), **kwargs
    )


# --- timestamps ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2024, 5, 2, 8, 30, 15, tzinfo=UTC), "2024-05-02T08:30:15Z"),
        (datetime(2024, 5, 2, 8, 30, 15, 999_999, tzinfo=UTC), "2024-05-02T08:30:15Z"),
        (
            datetime(2024, 5, 2, 10, 30, 15, tzinfo=timezone(timedelta(hours=2))),
            "2024-05-02T08:30:15Z",
        ),
        (
            datetime(2024, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
            "2023-12-31T23:30:00Z",
        ),
        (datetime(5, 1, 1, tzinfo=UTC), "0005-01-01T00:00:00Z"),
    ],
)
def test_iso8601_is_utc_to_the_second_with_z(moment: datetime, expected: str) -> None:
    assert documents.iso8601(moment) == expected


@pytest.mark.parametrize("value", [datetime(2024, 5, 2, 8, 30), date(2024, 5, 2), "2024-05-02"])
def test_iso8601_refuses_naive_datetimes_and_other_types(value: object) -> None:
    with pytest.raises(DocumentError):
        documents.iso8601(value)  # type: ignore[arg-type]


def test_naive_issued_on_is_refused(recipient: dict) -> None:
    with pytest.raises(DocumentError, match="naive datetime refused"):
        documents.assertion(
            ASSERTION, CLASS, recipient, datetime(2024, 5, 2), documents.verification_hosted()
        )


def test_naive_expires_is_refused(recipient: dict) -> None:
    with pytest.raises(DocumentError, match="naive datetime refused"):
        make_assertion(recipient, expires=datetime(2030, 1, 1))


def test_expires_must_follow_issued_on(recipient: dict) -> None:
    with pytest.raises(DocumentError, match="later than issuedOn"):
        make_assertion(recipient, expires=ISSUED)
    with pytest.raises(DocumentError, match="later than issuedOn"):
        make_assertion(recipient, expires=ISSUED - timedelta(days=1))


# --- issuer profile and key -------------------------------------------------------------


def test_issuer_profile_fields() -> None:
    doc = documents.issuer_profile(
        ISSUER,
        "ACI du Val",
        "https://aci.example.org",
        "contact@aci.example.org",
        "Maraîchage",
        [KEY],
        f"{ISSUER}/revocations.json",
        image=f"{ISSUER}/logo.png",
    )
    assert doc == {
        "@context": CONTEXT,
        "type": "Issuer",
        "id": ISSUER,
        "name": "ACI du Val",
        "url": "https://aci.example.org",
        "email": "contact@aci.example.org",
        "description": "Maraîchage",
        "image": f"{ISSUER}/logo.png",
        "publicKey": KEY,
        "revocationList": f"{ISSUER}/revocations.json",
    }


def test_issuer_public_key_is_a_list_when_several_and_absent_when_none() -> None:
    args = (ISSUER, "ACI", "https://aci.example.org", "a@aci.example.org", None)
    other = f"{BASE}/cles/other.json"
    several = documents.issuer_profile(*args, [KEY, other], None)
    assert several["publicKey"] == [KEY, other]
    assert "revocationList" not in several and "description" not in several
    assert "image" not in several
    none = documents.issuer_profile(*args, [], None)
    assert "publicKey" not in none
    generator = documents.issuer_profile(*args, (k for k in [KEY]), None)
    assert generator["publicKey"] == KEY


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "/emetteurs/relative"),
        ("id", "ftp://example.org/x"),
        ("name", "  "),
        ("url", "example.org"),
        ("email", "pas-une-adresse"),
        ("email", ""),
        ("public_key_ids", KEY),
        ("public_key_ids", ["not a url"]),
        ("revocation_list_url", "https://exa mple.org/r"),
        ("image", "javascript:alert(1)"),
    ],
)
def test_issuer_profile_refuses_bad_arguments(field: str, value: object) -> None:
    args = {
        "id": ISSUER,
        "name": "ACI",
        "url": "https://aci.example.org",
        "email": "a@aci.example.org",
        "description": None,
        "public_key_ids": [KEY],
        "revocation_list_url": None,
    }
    args[field] = value
    with pytest.raises(DocumentError):
        documents.issuer_profile(**args)


def test_cryptographic_key_fields(public_pem: str) -> None:
    assert documents.cryptographic_key(KEY, ISSUER, public_pem) == {
        "@context": CONTEXT,
        "type": "CryptographicKey",
        "id": KEY,
        "owner": ISSUER,
        "publicKeyPem": public_pem,
    }


@pytest.mark.parametrize(
    "pem",
    ["", "not a pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"],
)
def test_cryptographic_key_refuses_what_is_not_a_public_key(pem: str) -> None:
    with pytest.raises(DocumentError):
        documents.cryptographic_key(KEY, ISSUER, pem)


def test_cryptographic_key_refuses_a_private_key_pem() -> None:
    private_pem = keys.private_key_to_pem(keys.generate_private_key()).decode("ascii")
    with pytest.raises(DocumentError, match="publicKeyPem"):
        documents.cryptographic_key(KEY, ISSUER, private_pem)


# --- badge class ------------------------------------------------------------------------


def test_badge_class_fields() -> None:
    doc = documents.badge_class(
        CLASS,
        ISSUER,
        "Ponctualité",
        "Arrive à l'heure.",
        f"{BASE}/badges/modeles/Z0/image.png",
        f"{BASE}/badges/modeles/Z0/criteres",
        "Trois semaines sans retard.",
        [
            {"targetCode": "SE-01", "targetName": "Horaires", "targetUrl": "https://e.org/h"},
        ],
        ["savoir-être"],
    )
    assert doc == {
        "@context": CONTEXT,
        "type": "BadgeClass",
        "id": CLASS,
        "name": "Ponctualité",
        "description": "Arrive à l'heure.",
        "image": f"{BASE}/badges/modeles/Z0/image.png",
        "criteria": {
            "id": f"{BASE}/badges/modeles/Z0/criteres",
            "narrative": "Trois semaines sans retard.",
        },
        "issuer": ISSUER,
        "alignment": [
            {"targetName": "Horaires", "targetUrl": "https://e.org/h", "targetCode": "SE-01"}
        ],
        "tags": ["savoir-être"],
    }


def test_badge_class_omits_empty_alignment_and_tags_and_accepts_a_data_uri_image() -> None:
    doc = documents.badge_class(
        CLASS, ISSUER, "N", "D", "data:image/png;base64,iVBORw0KGgo=", None, "Narratif"
    )
    assert doc["criteria"] == {"narrative": "Narratif"}
    assert "alignment" not in doc and "tags" not in doc
    assert doc["image"].startswith("data:image/png")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"criteria_url": None, "criteria_narrative": None}, "criteria"),
        ({"alignments": [{"targetName": "x"}]}, "targetUrl"),
        ({"alignments": [{"targetUrl": "https://e.org"}]}, "targetName"),
        ({"alignments": [{"targetName": "x", "targetUrl": "https://e.org", "url": "y"}]}, "url"),
        ({"alignments": [{"targetName": "x", "targetUrl": "pas une url"}]}, "targetUrl"),
        ({"alignments": ["x"]}, "mapping"),
        ({"tags": "a,b"}, "tags"),
        ({"tags": ["ok", ""]}, "tag"),
        ({"description": ""}, "description"),
        ({"issuer_id": "emetteur"}, "issuer"),
    ],
)
def test_badge_class_refuses_bad_arguments(changes: dict, message: str) -> None:
    args = {
        "id": CLASS,
        "issuer_id": ISSUER,
        "name": "N",
        "description": "D",
        "image_url": f"{BASE}/i.png",
        "criteria_url": f"{BASE}/c",
        "criteria_narrative": None,
    }
    args.update(changes)
    with pytest.raises(DocumentError, match=message):
        documents.badge_class(**args)


# --- assertion --------------------------------------------------------------------------


def test_hosted_assertion_has_the_required_fields(recipient: dict) -> None:
    doc = make_assertion(recipient)
    assert doc == {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": ASSERTION,
        "recipient": recipient,
        "badge": CLASS,
        "verification": {"type": "HostedBadge"},
        "issuedOn": "2024-05-02T08:30:15Z",
    }
    assert doc["recipient"] is not recipient  # a copy, not the caller's dict


def test_signed_assertion_with_every_option(recipient: dict) -> None:
    doc = documents.assertion(
        ASSERTION,
        CLASS,
        recipient,
        datetime(2024, 5, 2, 10, 30, 15, 5, tzinfo=timezone(timedelta(hours=2))),
        documents.verification_signed(KEY),
        expires=datetime(2025, 5, 2, 8, 30, 15, tzinfo=UTC),
        evidence_narrative="Observé en atelier.",
        evidence_id=f"{ASSERTION}/preuve",
        narrative="Remis en réunion.",
        image=f"{ASSERTION}/badge.png",
        revoked=True,
        revocation_reason="Délivré par erreur",
    )
    assert doc["verification"] == {"type": "SignedBadge", "creator": KEY}
    assert doc["issuedOn"] == "2024-05-02T08:30:15Z"
    assert doc["expires"] == "2025-05-02T08:30:15Z"
    assert doc["evidence"] == {"id": f"{ASSERTION}/preuve", "narrative": "Observé en atelier."}
    assert doc["narrative"] == "Remis en réunion."
    assert doc["image"] == f"{ASSERTION}/badge.png"
    assert doc["revoked"] is True
    assert doc["revocationReason"] == "Délivré par erreur"
    for field in ("issuedOn", "expires"):
        assert Z_TIMESTAMP.match(doc[field])


def test_evidence_may_be_a_narrative_alone(recipient: dict) -> None:
    assert make_assertion(recipient, evidence_narrative="Vu.")["evidence"] == {"narrative": "Vu."}


def test_revocation_fields_only_for_a_revoked_assertion(recipient: dict) -> None:
    doc = make_assertion(recipient)
    assert "revoked" not in doc and "revocationReason" not in doc
    assert make_assertion(recipient, revoked=True)["revoked"] is True
    with pytest.raises(DocumentError, match="only given for a revoked"):
        make_assertion(recipient, revocation_reason="raison")
    with pytest.raises(DocumentError, match="boolean"):
        make_assertion(recipient, revoked="yes")


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "karim@example.org",
        {"type": "email", "hashed": True, "salt": "x"},
        {"type": "fax", "hashed": False, "identity": "x"},
        {"type": "email", "hashed": "true", "identity": "sha256$ab"},
    ],
)
def test_assertion_refuses_a_bad_recipient(bad: object) -> None:
    with pytest.raises(DocumentError, match="recipient"):
        make_assertion(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "verification",
    [{}, {"type": "hosted"}, {"type": "SignedBadge"}, {"type": "SignedBadge", "creator": "k"}],
)
def test_assertion_refuses_a_bad_verification(recipient: dict, verification: dict) -> None:
    with pytest.raises(DocumentError, match="verification|creator"):
        documents.assertion(ASSERTION, CLASS, recipient, ISSUED, verification)


def test_verification_objects() -> None:
    assert documents.verification_hosted() == {"type": "HostedBadge"}
    assert documents.verification_signed(KEY) == {"type": "SignedBadge", "creator": KEY}
    with pytest.raises(DocumentError):
        documents.verification_signed("cles/relative.json")


# --- revocation list --------------------------------------------------------------------


def test_revocation_list_fields() -> None:
    doc = documents.revocation_list(
        f"{ISSUER}/revocations.json",
        ISSUER,
        [(f"{BASE}/badges/a1", "Délivré par erreur"), (f"{BASE}/badges/a2", None)],
    )
    assert doc == {
        "@context": CONTEXT,
        "type": "RevocationList",
        "id": f"{ISSUER}/revocations.json",
        "issuer": ISSUER,
        "revokedAssertions": [
            {"id": f"{BASE}/badges/a1", "revocationReason": "Délivré par erreur"},
            {"id": f"{BASE}/badges/a2"},
        ],
    }


def test_an_empty_revocation_list_still_lists_revoked_assertions() -> None:
    doc = documents.revocation_list(f"{ISSUER}/revocations.json", ISSUER, [])
    assert doc["revokedAssertions"] == []


@pytest.mark.parametrize("revoked", [["a1"], [("relative", None)], [(f"{BASE}/a", "")]])
def test_revocation_list_refuses_bad_entries(revoked: list) -> None:
    with pytest.raises(DocumentError):
        documents.revocation_list(f"{ISSUER}/revocations.json", ISSUER, revoked)


# --- all builders -----------------------------------------------------------------------


def test_outputs_are_plain_json(recipient: dict, public_pem: str) -> None:
    outputs = [
        documents.issuer_profile(ISSUER, "A", "https://a.org", "a@a.org", None, [KEY], None),
        documents.cryptographic_key(KEY, ISSUER, public_pem),
        documents.badge_class(CLASS, ISSUER, "N", "D", f"{BASE}/i.png", f"{BASE}/c", None),
        make_assertion(recipient, expires=ISSUED + timedelta(days=1)),
        documents.revocation_list(f"{ISSUER}/r.json", ISSUER, [(ASSERTION, "r")]),
    ]
    for doc in outputs:
        assert json.loads(json.dumps(doc)) == doc
        assert doc["@context"] == CONTEXT
        assert None not in doc.values()


def test_document_error_is_an_open_badges_error() -> None:
    assert issubclass(DocumentError, OpenBadgesError)
