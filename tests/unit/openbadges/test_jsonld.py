"""JSON-LD processing with the shipped Open Badges v2 context: offline, nothing dropped.

Every builder of ``documents.py`` is expanded here: no property may be dropped by the
context, and the RDF meaning must survive an expand/compact round trip.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.openbadges import documents, jsonld, keys, recipients
from app.openbadges.errors import JsonLdError, OpenBadgesError

BASE = "http://127.0.0.1:5000"
ISSUER = f"{BASE}/emetteurs/Q2h8cT0aRr4n1bqSxkS0Aw"
KEY_1 = f"{BASE}/cles/tq3Lw2vD4kqHLeFAOwhr8g.json"
KEY_2 = f"{BASE}/cles/Xx0b1JQ2y0yjC1G3R8dZkA.json"
CLASS = f"{BASE}/badges/modeles/Z0bqzQyUd0m0hY1vNcGQSA"
ASSERTION = f"{BASE}/badges/3dM7Jx5eS9i7m0Ue9mWg2Q"
OBI = "https://w3id.org/openbadges#"
EXPANDED_TYPES = {
    "Issuer": OBI + "Issuer",
    "CryptographicKey": "https://w3id.org/security#Key",
    "BadgeClass": OBI + "BadgeClass",
    "Assertion": OBI + "Assertion",
    "RevocationList": OBI + "RevocationList",
}


@pytest.fixture(scope="module")
def public_pem() -> str:
    return keys.public_key_to_pem(keys.generate_private_key())


def sample_documents(public_pem: str) -> dict[str, dict]:
    """One output of every builder, with every optional field, plus minimal variants."""
    issued = datetime(2024, 5, 2, 8, 30, 15, tzinfo=UTC)
    return {
        "issuer-full": documents.issuer_profile(
            ISSUER + ".json",
            "Atelier Chantier d'Insertion du Val",
            "https://aci-du-val.example.org",
            "contact@aci-du-val.example.org",
            "Chantier d'insertion en maraîchage biologique.",
            [KEY_1],
            f"{ISSUER}/revocations.json",
            image=f"{ISSUER}/logo.png",
        ),
        "issuer-two-keys": documents.issuer_profile(
            ISSUER,
            "ACI",
            "https://aci.example.org",
            "a@aci.example.org",
            None,
            [KEY_1, KEY_2],
            None,
        ),
        "issuer-no-key": documents.issuer_profile(
            ISSUER, "ACI", "https://aci.example.org", "a@aci.example.org", "d", [], None
        ),
        "key": documents.cryptographic_key(KEY_1, ISSUER, public_pem),
        "badge-class": documents.badge_class(
            CLASS + ".json",
            ISSUER,
            "Ponctualité",
            "Arrive à l'heure et prévient en cas d'empêchement.",
            f"{CLASS}/image.png",
            f"{CLASS}/criteres",
            "Trois semaines sans retard non prévenu.",
            [
                {
                    "targetName": "Respecter les horaires",
                    "targetUrl": "https://example.org/referentiel/horaires",
                    "targetDescription": "Savoir-être professionnel",
                    "targetFramework": "Référentiel interne",
                    "targetCode": "SE-01",
                },
                {"targetName": "Fiabilité", "targetUrl": "https://example.org/ref/fiabilite"},
            ],
            ["savoir-être", "ponctualité"],
        ),
        "badge-class-minimal": documents.badge_class(
            CLASS, ISSUER, "N", "D", f"{CLASS}/image.svg", None, "Narratif"
        ),
        "assertion-signed-full": documents.assertion(
            ASSERTION,
            CLASS + ".json",
            recipients.recipient("email", "Karim.B@example.org", salt="c0ffee"),
            issued,
            documents.verification_signed(KEY_1),
            expires=issued + timedelta(days=365),
            evidence_narrative="Observé par l'encadrante technique.",
            evidence_id=f"{ASSERTION}/preuve",
            narrative="Remis en réunion d'équipe.",
            image=f"{ASSERTION}/badge.png",
            revoked=True,
            revocation_reason="Délivré par erreur",
        ),
        "assertion-hosted-telephone": documents.assertion(
            ASSERTION,
            CLASS,
            recipients.recipient("telephone", "06 12 34 56 78", salt="00"),
            issued,
            documents.verification_hosted(),
            evidence_narrative="Vu.",
        ),
        "assertion-url-recipient": documents.assertion(
            ASSERTION,
            CLASS,
            recipients.recipient("url", "https://karim.example.org", salt="1"),
            issued,
            documents.verification_hosted(),
        ),
        "revocation-list": documents.revocation_list(
            f"{ISSUER}/revocations.json",
            ISSUER,
            [(f"{BASE}/badges/a1", "Délivré par erreur"), (f"{BASE}/badges/a2", None)],
        ),
        "revocation-list-empty": documents.revocation_list(
            f"{ISSUER}/revocations.json", ISSUER, []
        ),
    }


@pytest.fixture(scope="module")
def samples(public_pem: str) -> dict[str, dict]:
    return sample_documents(public_pem)


SAMPLE_NAMES = [
    "issuer-full",
    "issuer-two-keys",
    "issuer-no-key",
    "key",
    "badge-class",
    "badge-class-minimal",
    "assertion-signed-full",
    "assertion-hosted-telephone",
    "assertion-url-recipient",
    "revocation-list",
    "revocation-list-empty",
]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Record (and refuse) every attempt to resolve a name or open a connection."""
    attempts: list[tuple] = []

    def refuse(name: str):
        def _refused(*args, **kwargs):
            attempts.append((name, args))
            raise OSError(f"network used in a test: {name}{args!r}")

        return _refused

    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    return attempts


def test_every_sample_is_built(samples: dict[str, dict]) -> None:
    assert sorted(samples) == sorted(SAMPLE_NAMES)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_builder_output_loses_nothing_in_expansion(
    name: str, samples: dict[str, dict], no_network: list[tuple]
) -> None:
    doc = samples[name]
    assert doc["@context"] == jsonld.CONTEXT_URL
    assert jsonld.dropped_properties(doc) == []
    expanded = jsonld.expand(doc)
    assert len(expanded) == 1
    node = expanded[0]
    assert node["@id"] == doc["id"]
    assert node["@type"] == [EXPANDED_TYPES[doc["type"]]]
    # every top-level property of the document is there, as an absolute IRI
    properties = [key for key in node if not key.startswith("@")]
    expected = [key for key in doc if key not in ("@context", "id", "type")]
    assert len(properties) == len(expected)
    assert all(key.startswith(("http://", "https://")) for key in properties)
    assert no_network == []


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_builder_output_survives_expand_compact_round_trip(
    name: str, samples: dict[str, dict], no_network: list[tuple]
) -> None:
    doc = samples[name]
    canonical = jsonld.normalize(doc)
    assert f"<{doc['id']}>" in canonical
    round_trip = jsonld.compact(jsonld.expand(doc))
    assert round_trip["@context"] == jsonld.CONTEXT_URL
    assert jsonld.normalize(round_trip) == canonical
    assert no_network == []


def test_key_type_expands_to_the_security_vocabulary(samples: dict[str, dict]) -> None:
    node = jsonld.expand(samples["key"])[0]
    assert node["@type"] == ["https://w3id.org/security#Key"]
    assert node["https://w3id.org/security#owner"] == [{"@id": ISSUER}]


def test_normalize_is_canonical_n_quads_independent_of_key_order(
    samples: dict[str, dict],
) -> None:
    doc = samples["assertion-signed-full"]
    shuffled = dict(reversed(list(doc.items())))
    canonical = jsonld.normalize(doc)
    assert jsonld.normalize(shuffled) == canonical
    lines = canonical.splitlines()
    assert lines == sorted(lines)
    assert all(line.endswith(" .") for line in lines)
    assert (
        f'<{ASSERTION}> <{OBI}issueDate> "2024-05-02T08:30:15Z"'
        "^^<http://www.w3.org/2001/XMLSchema#dateTime> ." in lines
    )
    assert f'<{ASSERTION}> <{OBI}revoked> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .' in (
        lines
    )


def test_normalize_tells_different_documents_apart(samples: dict[str, dict]) -> None:
    doc = samples["badge-class"]
    changed = {**doc, "name": "Ponctualité (bis)"}
    assert jsonld.normalize(changed) != jsonld.normalize(doc)


def test_the_shipped_context_is_the_open_badges_v2_context() -> None:
    context = jsonld.load_context()["@context"]
    assert context["id"] == "@id" and context["type"] == "@type"
    assert context["obi"] == OBI
    assert context["issuedOn"] == {"@id": "obi:issueDate", "@type": "xsd:dateTime"}
    assert context["verification"] == {"@id": "obi:verify", "@type": "@id"}
    assert context["revokedAssertions"] == {"@id": "obi:revoked"}
    assert context["CryptographicKey"] == "sec:Key"
    on_disk = json.loads(jsonld.CONTEXT_FILE.read_text(encoding="utf-8"))
    assert on_disk == jsonld.load_context()


def test_load_context_returns_a_fresh_copy() -> None:
    first = jsonld.load_context()
    first["@context"]["name"] = "tampered"
    assert jsonld.load_context()["@context"]["name"] == {"@id": "schema:name"}


@pytest.mark.parametrize("url", sorted(jsonld.CONTEXT_ALIASES))
def test_loader_serves_the_shipped_context_under_its_urls(url: str) -> None:
    remote = jsonld.document_loader(url)
    assert remote["documentUrl"] == url
    assert remote["document"] == jsonld.load_context()


def test_the_alias_url_expands_like_the_canonical_one(samples: dict[str, dict]) -> None:
    doc = samples["assertion-hosted-telephone"]
    alias = {**doc, "@context": "https://openbadgespec.org/v2/context.json"}
    assert jsonld.normalize(alias) == jsonld.normalize(doc)


@pytest.mark.parametrize(
    "url",
    [
        "https://w3id.org/openbadges/v1",
        "https://w3id.org/blockcerts/v2",
        "http://w3id.org/openbadges/v2",
        "https://w3id.org/openbadges/v2/../../evil",
        "https://example.org/context.jsonld",
    ],
)
def test_loader_refuses_any_other_url(url: str, no_network: list[tuple]) -> None:
    with pytest.raises(JsonLdError, match="remote JSON-LD context refused") as caught:
        jsonld.document_loader(url)
    assert url in str(caught.value)
    assert no_network == []


@pytest.mark.parametrize("operation", ["expand", "compact", "normalize", "dropped_properties"])
def test_a_document_with_a_remote_context_is_refused_without_network(
    operation: str, no_network: list[tuple]
) -> None:
    doc = {
        "@context": [jsonld.CONTEXT_URL, "https://w3id.org/blockcerts/v2"],
        "id": ASSERTION,
        "type": "Assertion",
    }
    with pytest.raises(JsonLdError, match="remote JSON-LD context refused") as caught:
        getattr(jsonld, operation)(doc)
    assert "https://w3id.org/blockcerts/v2" in str(caught.value)
    assert isinstance(caught.value, OpenBadgesError)
    assert no_network == []


def test_compacting_with_a_remote_context_is_refused(no_network: list[tuple]) -> None:
    with pytest.raises(JsonLdError, match="refused"):
        jsonld.compact({"@id": ASSERTION}, "https://example.org/ctx")
    assert no_network == []


@pytest.mark.parametrize(
    "doc",
    [
        {"@context": 5, "name": "x"},
        {"@context": {"name": {"@id": 7}}, "name": "x"},
        {"@context": jsonld.CONTEXT_URL, "@id": 5},
    ],
)
def test_invalid_json_ld_raises_our_error(doc: dict) -> None:
    with pytest.raises(JsonLdError, match="JSON-LD expansion failed"):
        jsonld.expand(doc)


def test_dropped_properties_finds_unmapped_keys_nulls_and_unknown_types(
    samples: dict[str, dict],
) -> None:
    doc = json.loads(json.dumps(samples["badge-class"]))
    doc["colour"] = "blue"  # not in the context
    doc["alignment"][1]["targetUrll"] = "https://example.org/typo"
    doc["criteria"]["note"] = None
    doc["description"] = None
    doc["type"] = "BadgeKlass"  # no such type in the context: stays a relative IRI
    doc["issuer"] = "emetteurs/relative"  # a relative link: means nothing once expanded
    assert jsonld.dropped_properties(doc) == [
        "alignment.targetUrll",
        "colour",
        "criteria.note",
        "description (null)",
        "issuer=emetteurs/relative",
        "type=BadgeKlass",
    ]


def test_dropped_properties_reports_a_key_wherever_it_occurs() -> None:
    doc = {
        "@context": jsonld.CONTEXT_URL,
        "id": ASSERTION,
        "type": "Assertion",
        "extra": 1,
        "recipient": {"type": "email", "identity": "x", "hashed": False, "extra": 2},
    }
    assert jsonld.dropped_properties(doc) == ["extra", "recipient.extra"]


def test_dropped_properties_accepts_full_iris_and_compact_iris() -> None:
    doc = {
        "@context": jsonld.CONTEXT_URL,
        "id": ASSERTION,
        "type": ["Assertion", "https://example.org/vocab#Thing"],
        "schema:alternateName": "x",
        "https://example.org/vocab#note": "y",
    }
    assert jsonld.dropped_properties(doc) == []


def test_expand_does_not_modify_its_input(samples: dict[str, dict]) -> None:
    doc = samples["assertion-signed-full"]
    before = json.dumps(doc, sort_keys=True)
    jsonld.expand(doc)
    jsonld.compact(doc)
    jsonld.normalize(doc)
    jsonld.dropped_properties(doc)
    assert json.dumps(doc, sort_keys=True) == before


def test_the_library_imports_without_flask_or_sqlalchemy() -> None:
    """``app.openbadges`` must stay usable with Flask and SQLAlchemy absent."""
    root = Path(__file__).resolve().parents[3]
    code = (
        "import sys\n"
        "for name in ('flask', 'flask_sqlalchemy', 'sqlalchemy', 'requests', 'aiohttp'):\n"
        "    sys.modules[name] = None\n"
        "import app.openbadges as ob\n"
        "import app.openbadges.documents, app.openbadges.jsonld, app.openbadges.signing\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'app')\n"
        "assert all(m == 'app' or m.startswith('app.openbadges') for m in loaded), loaded\n"
        "doc = ob.revocation_list('https://e.org/r', 'https://e.org/i', [])\n"
        "assert ob.dropped_properties(doc) == []\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
