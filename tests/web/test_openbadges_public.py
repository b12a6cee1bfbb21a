"""The public Open Badges addresses, for people and for machines (BDG-01..BDG-12, VER-02).

Anonymous clients only: a badge is checked without an account. The world holds the demo
badges (email, telephone, expired telephone, identity URL) and one badge of structure B,
all issued with the test base URL ``http://localhost``.
"""

from __future__ import annotations

import html
import io
import json
import re
import secrets
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import event, select

from app import openbadges
from app.domain.badges import MONTHS_FR, REVOCATION_WORDING, RevocationReason
from app.domain.consent import earner_name
from app.extensions import db
from app.models import Assertion, SigningKey, Structure, User
from app.services import badges, keys
from app.services.demo import DEMO_STRUCTURE, PEOPLE
from app.services.demo_badges import DEMO_SITUATION_NAMES
from tests.services.test_badges import assert_opaque_ids, public_urls_in
from tests.support.world import BASE_URL, NOW

JSON_LD = "application/ld+json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@dataclass(frozen=True)
class Issued:
    """One issued badge of the world, read from the database."""

    id: str
    login: str
    code: str
    name: str
    recipient_type: str
    expired: bool
    class_id: str
    issuer_id: str
    issuer_name: str
    key_id: str
    key_pem: str
    jws: str
    evidence: str
    #: The earner's names the badge's page must not show (they chose what it shows).
    worker_names: tuple[str, ...]


def issued(app: Flask) -> dict[tuple[str, str], Issued]:
    """Every live (not revoked) badge its earner accepted, by (worker login, template code)."""
    with app.app_context():
        found = {}
        for a in db.session.scalars(
            select(Assertion).where(Assertion.revoked_at.is_(None), Assertion.consent == "accepted")
        ):
            user = db.session.get(User, a.user_id)
            found[(user.login, a.badge_class.template.code)] = Issued(
                id=a.public_id,
                login=user.login,
                code=a.badge_class.template.code,
                name=badges.badge_name(a.badge_class.template, a.badge_class.level),
                recipient_type=a.recipient_type,
                expired=a.state(NOW) == "expired",
                class_id=a.badge_class.public_id,
                issuer_id=a.structure.public_id,
                issuer_name=a.structure.issuer_display_name,
                key_id=a.signing_key.public_id,
                key_pem=a.signing_key.public_key_pem,
                jws=a.jws,
                evidence=a.evidence,
                worker_names=tuple(
                    n
                    for n in (user.first_name, user.last_name)
                    if n not in (earner_name(user.first_name, user.last_name, a.earner_name) or "")
                ),
            )
        return found


@pytest.fixture
def world(world_app: Flask) -> dict[tuple[str, str], Issued]:
    return issued(world_app)


def lea(world: dict[tuple[str, str], Issued]) -> Issued:
    return world[("lea", "planifier")]


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def hosted_json(client, badge_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get(f"/badges/{badge_id}.json")
    assert response.status_code == 200
    return response.get_json(force=True)


# -- The world's badges -----------------------------------------------------------------------


def test_the_world_holds_the_four_demo_cases_and_a_badge_of_b(world):
    cases = {(b.login, b.code): (b.recipient_type, b.expired) for b in world.values()}
    assert cases == {
        ("lea", "planifier"): ("email", False),
        ("karim", "conscience-professionnelle"): ("telephone", False),
        ("karim", "qualite-du-travail"): ("telephone", True),
        ("ousmane", "travailler-en-equipe"): ("url", False),
        ("b.salarie", "organiser"): ("url", False),
    }


# -- Content negotiation ----------------------------------------------------------------------


@pytest.mark.parametrize("accept", [JSON_LD, "application/json", "*/*", None])
def test_machines_get_the_hosted_json_ld(world_client, world, accept):
    badge = lea(world)
    headers = {"Accept": accept} if accept else {}
    response = world_client.get(f"/badges/{badge.id}", headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON_LD
    assert "Accept" in response.headers["Vary"]
    document = json.loads(response.get_data(as_text=True))
    assert document["id"] == f"{BASE_URL}/badges/{badge.id}"
    assert document["type"] == "Assertion"
    assert document["verification"] == {"type": "HostedBadge"}
    assert document["badge"] == f"{BASE_URL}/badges/modeles/{badge.class_id}"
    assert document["evidence"] == {"narrative": badge.evidence}
    assert document == hosted_json(world_client, badge.id)


@pytest.mark.parametrize("accept", ["text/html", BROWSER])
def test_people_get_a_page_in_french(world_client, world, accept):
    badge = lea(world)
    response = world_client.get(f"/badges/{badge.id}", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Accept" in response.headers["Vary"]
    text = page_text(response)
    assert '<html lang="fr"' in text
    assert '<meta name="robots" content="noindex' in text
    assert badge.name in text and "Planifier" in badge.name
    assert "Valide" in text and "Expiré" not in text
    assert badge.issuer_name == DEMO_STRUCTURE and badge.issuer_name in text
    assert f"/emetteurs/{badge.issuer_id}" in text
    assert badge.evidence in text and "Compétence observée 3 fois" in text
    issued_on = datetime.fromisoformat(hosted_json(world_client, badge.id)["issuedOn"])
    day = issued_on.astimezone(ZoneInfo("Europe/Paris"))
    assert f"{day.day} {MONTHS_FR[day.month - 1]} {day.year}" in text  # « 28 octobre 2026 »
    assert f"/badges/{badge.id}.json" in text and f"/badges/{badge.id}.jws" in text
    assert "ni un diplôme ni une certification" in text


def test_the_expired_badge_says_so_and_when_it_ended(world_client, world):
    badge = world[("karim", "qualite-du-travail")]
    text = page_text(world_client.get(f"/badges/{badge.id}", headers={"Accept": "text/html"}))
    assert "Expiré" in text and "était valable jusqu'au" in text
    assert "Valide" not in text
    document = hosted_json(world_client, badge.id)
    assert document["expires"] < NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_badge_with_an_expiry_still_valid_shows_it(world_app_with):
    """Valid until a given day: « Valide — jusqu'au … »."""
    app = world_app_with()
    with app.app_context():
        a = db.session.scalars(select(Assertion).where(Assertion.expires_at.is_(None))).first()
        a.expires_at = a.issued_on.replace(year=a.issued_on.year + 5, month=1, day=15)
        db.session.commit()
        badge_id, year = a.public_id, a.expires_at.year
    text = page_text(app.test_client().get(f"/badges/{badge_id}", headers={"Accept": "text/html"}))
    assert f"Valide</strong> — jusqu'au 15 janvier {year}" in text


def test_the_json_suffix_and_the_jws(world_client, world):
    badge = lea(world)
    response = world_client.get(f"/badges/{badge.id}.json", headers={"Accept": "text/html"})
    assert response.headers["Content-Type"] == JSON_LD  # the suffix wins over Accept
    jws = world_client.get(f"/badges/{badge.id}.jws")
    assert jws.status_code == 200
    assert jws.headers["Content-Type"] == "text/plain"
    assert jws.get_data(as_text=True) == badge.jws
    payload = openbadges.verify_jws(badge.jws, badge.key_pem)
    hosted = response.get_json(force=True)
    assert payload["verification"] == {
        "type": "SignedBadge",
        "creator": f"{BASE_URL}/cles/{badge.key_id}",
    }
    assert {k: v for k, v in payload.items() if k != "verification"} == {
        k: v for k, v in hosted.items() if k != "verification"
    }


# -- Headers: no indexing, short caching, conditional requests -----------------------------


def public_paths(badge: Issued) -> list[str]:
    return [
        f"/badges/{badge.id}",
        f"/badges/{badge.id}.json",
        f"/badges/{badge.id}.jws",
        f"/badges/{badge.id}/badge.png",
        f"/badges/{badge.id}/badge.svg?variante=signee",
        f"/badges/modeles/{badge.class_id}",
        f"/badges/modeles/{badge.class_id}.json",
        f"/badges/modeles/{badge.class_id}/criteres",
        f"/badges/modeles/{badge.class_id}/image.png",
        f"/badges/modeles/{badge.class_id}/image.svg",
        f"/emetteurs/{badge.issuer_id}",
        f"/emetteurs/{badge.issuer_id}.json",
        f"/emetteurs/{badge.issuer_id}/revocations",
        f"/cles/{badge.key_id}",
    ]


@pytest.mark.parametrize("accept", [JSON_LD, "text/html"])
def test_every_public_address_answers_anyone_without_indexing(world_app, world, accept):
    client = world_app.test_client(use_cookies=False)  # as a validator: no session, no cookie
    for badge in world.values():
        for path in public_paths(badge):
            response = client.get(path, headers={"Accept": accept})
            assert response.status_code == 200, path
            assert response.headers["X-Robots-Tag"].startswith("noindex"), path
            cache = response.headers["Cache-Control"]
            assert re.search(r"max-age=\d+", cache), path
            if response.mimetype == "text/html":
                # Its forms carry a CSRF token (a session): no shared cache may keep it.
                assert cache.startswith("private"), path
            else:
                assert cache.startswith("public"), path
                assert "Set-Cookie" not in response.headers, path


def test_an_answer_to_a_request_with_cookies_is_never_kept_by_shared_caches(world_app, world):
    client = world_app.test_client()
    badge = next(iter(world.values()))
    client.get(f"/badges/{badge.id}", headers={"Accept": "text/html"})  # gets a session cookie
    for path in public_paths(badge):
        response = client.get(path, headers={"Accept": JSON_LD})
        assert response.headers["Cache-Control"].startswith("private"), path


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/badges/{id}", JSON_LD),
        ("/badges/{id}.json", None),
        ("/badges/{id}.jws", None),
        ("/badges/{id}/badge.png", None),
        ("/badges/{id}/badge.svg?variante=signee", None),
        ("/badges/modeles/{class_id}/image.png", None),
        ("/emetteurs/{issuer_id}.json", None),
        ("/cles/{key_id}", None),
    ],
)
def test_an_unchanged_document_is_not_sent_again(world_client, world, path, accept):
    badge = lea(world)
    url = path.format(
        id=badge.id, class_id=badge.class_id, issuer_id=badge.issuer_id, key_id=badge.key_id
    )
    headers = {"Accept": accept} if accept else {}
    first = world_client.get(url, headers=headers)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    again = world_client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    other = world_client.get(url, headers={**headers, "If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.get_data() == first.get_data()


def test_two_badges_have_different_etags(world_client, world):
    tags = {world_client.get(f"/badges/{b.id}.json").headers["ETag"] for b in world.values()}
    assert len(tags) == len(world)


@pytest.mark.parametrize(
    "path",
    [
        "/badges/{unknown}",
        "/badges/{unknown}.json",
        "/badges/{unknown}.jws",
        "/badges/{unknown}/badge.png",
        "/badges/modeles/{unknown}.json",
        "/badges/modeles/{unknown}/image.svg",
        "/emetteurs/{unknown}",
        "/emetteurs/{unknown}/revocations",
        "/cles/{unknown}",
        "/badges/1",
        "/badges/1.json",
        "/badges/modeles/1",
        "/emetteurs/1.json",
        "/cles/1",
    ],
)
def test_unknown_ids_and_row_ids_are_not_found(world_client, path):
    response = world_client.get(
        path.format(unknown=secrets.token_urlsafe(16)), headers={"Accept": JSON_LD}
    )
    assert response.status_code == 404


def test_public_documents_hold_only_opaque_ids(world_client, world):
    for badge in world.values():
        for path in (
            f"/badges/{badge.id}.json",
            f"/badges/modeles/{badge.class_id}.json",
            f"/emetteurs/{badge.issuer_id}.json",
            f"/emetteurs/{badge.issuer_id}/revocations",
            f"/cles/{badge.key_id}",
        ):
            document = world_client.get(path).get_json(force=True)
            urls = list(public_urls_in(document, BASE_URL))
            assert document["id"] in urls
            for url in urls:
                assert_opaque_ids(url)


# -- Images and baked downloads ------------------------------------------------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def test_the_class_image_in_png_and_svg(world_client, world):
    badge = lea(world)
    png = world_client.get(f"/badges/modeles/{badge.class_id}/image.png")
    assert png.headers["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(png.get_data())) as image:
        image.verify()
        assert image.format == "PNG" and image.size[0] >= 200
    assert "openbadges" not in str(png_chunks(png.get_data()))  # the class image is not baked
    svg = world_client.get(f"/badges/modeles/{badge.class_id}/image.svg")
    assert svg.headers["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.get_data()[:400]
    assert openbadges.unbake_svg(svg.get_data()) is None


@pytest.mark.parametrize("signed", [False, True])
def test_a_baked_png_is_the_class_image_with_one_itxt_chunk_added(world_client, world, signed):
    badge = lea(world)
    query = "?variante=signee" if signed else ""
    response = world_client.get(f"/badges/{badge.id}/badge.png{query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    suffix = "-signe" if signed else ""
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="badge-{badge.id}{suffix}.png"'
    )
    baked = response.get_data()
    payload = openbadges.unbake_png(baked)
    if signed:
        assert payload == badge.jws
    else:
        assert json.loads(payload) == hosted_json(world_client, badge.id)
    original = world_client.get(f"/badges/modeles/{badge.class_id}/image.png").get_data()
    added = [c for c in png_chunks(baked) if c not in png_chunks(original)]
    assert [kind for kind, _ in added] == [b"iTXt"]
    assert added[0][1].startswith(b"openbadges\0")
    without = [c for c in png_chunks(baked) if c not in added]
    assert without == png_chunks(original)
    assert len(baked) - len(original) == 12 + len(added[0][1])


@pytest.mark.parametrize("signed", [False, True])
def test_a_baked_svg_is_the_class_image_with_the_assertion_added(world_client, world, signed):
    badge = lea(world)
    query = "?variante=signee" if signed else ""
    response = world_client.get(f"/badges/{badge.id}/badge.svg{query}")
    assert response.headers["Content-Type"] == "image/svg+xml"
    suffix = "-signe" if signed else ""
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="badge-{badge.id}{suffix}.svg"'
    )
    baked = response.get_data()
    payload = openbadges.unbake_svg(baked)
    if signed:
        assert payload == badge.jws
    else:
        assert json.loads(payload) == hosted_json(world_client, badge.id)
    element = re.search(
        rb"<openbadges:assertion verify=\"([^\"]*)\">.*?</openbadges:assertion>", baked, re.S
    )
    assert element is not None
    verify = element.group(1).decode()
    assert verify == (badge.jws if signed else f"{BASE_URL}/badges/{badge.id}")
    original = world_client.get(f"/badges/modeles/{badge.class_id}/image.svg").get_data()
    unbaked = baked.replace(element.group(0), b"").replace(
        b' xmlns:openbadges="http://openbadges.org"', b"", 1
    )
    assert unbaked == original


# -- Issuer, key, revocation list, criteria -----------------------------------------------------


def test_the_issuer_profile_for_people_and_for_machines(world_app_with):
    app = world_app_with()
    with app.app_context():
        structure = db.session.scalars(
            select(Structure).where(Structure.name == DEMO_STRUCTURE)
        ).one()
        structure.issuer_name = "Jardins du Val (Nantes)"
        structure.issuer_description = "Association qui entretient les parcs de la ville."
        structure.network_name = "Réseau Cocagne de démonstration"
        db.session.commit()
        issuer_id = structure.public_id
        key = keys.active_key(db.session, structure)
        key_id, key_pem = key.public_id, key.public_key_pem
        withdrawn = [
            {
                "id": f"{BASE_URL}/badges/{a.public_id}",
                "revocationReason": REVOCATION_WORDING[RevocationReason(a.revocation_reason)],
            }
            for a in db.session.scalars(
                select(Assertion)
                .where(Assertion.structure_id == structure.id, Assertion.revoked_at.is_not(None))
                .order_by(Assertion.revoked_at, Assertion.id)
            )
        ]
        assert len(withdrawn) == 2  # the demo: a key compromise and an issuing error
    client = app.test_client()

    page = client.get(f"/emetteurs/{issuer_id}", headers={"Accept": BROWSER})
    assert page.mimetype == "text/html"
    text = page_text(page)
    assert '<meta name="robots" content="noindex' in text
    assert "Jardins du Val (Nantes)" in text
    assert "Association qui entretient les parcs de la ville." in text
    assert "Réseau Cocagne de démonstration" in text
    assert "Planifier son travail — niveau 3" in text  # the badges it issued

    for response in (
        client.get(f"/emetteurs/{issuer_id}.json"),
        client.get(f"/emetteurs/{issuer_id}", headers={"Accept": JSON_LD}),
    ):
        assert response.headers["Content-Type"] == JSON_LD
        document = json.loads(response.get_data(as_text=True))
        assert document["id"] == f"{BASE_URL}/emetteurs/{issuer_id}"
        assert document["type"] == "Issuer"
        assert document["name"] == "Jardins du Val (Nantes)"
        assert document["description"] == "Association qui entretient les parcs de la ville."
        assert document["email"] == "contact@jardins-du-val.example"
        assert document["publicKey"] == f"{BASE_URL}/cles/{key_id}"  # one value, the current key
        assert document["revocationList"] == f"{BASE_URL}/emetteurs/{issuer_id}/revocations"
        assert "Cocagne" not in response.get_data(as_text=True)  # the network: HTML only
        assert DEMO_STRUCTURE not in response.get_data(as_text=True)  # the chosen name only

    key_document = client.get(f"/cles/{key_id}").get_json(force=True)
    assert key_document == {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "CryptographicKey",
        "id": f"{BASE_URL}/cles/{key_id}",
        "owner": f"{BASE_URL}/emetteurs/{issuer_id}",
        "publicKeyPem": key_pem,
    }
    revocations = client.get(f"/emetteurs/{issuer_id}/revocations")
    assert revocations.headers["Content-Type"] == JSON_LD
    assert revocations.get_json(force=True) == {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "RevocationList",
        "id": f"{BASE_URL}/emetteurs/{issuer_id}/revocations",
        "issuer": f"{BASE_URL}/emetteurs/{issuer_id}",
        "revokedAssertions": withdrawn,
    }


def test_every_badge_verifies_with_the_key_its_issuer_publishes(world_client, world):
    for badge in world.values():
        issuer = world_client.get(f"/emetteurs/{badge.issuer_id}.json").get_json(force=True)
        assert issuer["publicKey"] == f"{BASE_URL}/cles/{badge.key_id}"
        key = world_client.get(f"/cles/{badge.key_id}").get_json(force=True)
        assert key["owner"] == issuer["id"]
        header, payload = openbadges.parse_jws(badge.jws)
        assert payload["verification"]["creator"] == key["id"]
        assert openbadges.verify_jws(badge.jws, key["publicKeyPem"]) == payload
        badge_class = world_client.get(payload["badge"].removeprefix(BASE_URL)).get_json(force=True)
        assert badge_class["issuer"] == issuer["id"] and badge_class["name"] == badge.name


def test_the_criteria_page_says_it_is_neither_a_diploma_nor_a_certification(world_client, world):
    for badge in world.values():
        response = world_client.get(f"/badges/modeles/{badge.class_id}/criteres")
        assert response.mimetype == "text/html"
        text = page_text(response)
        assert "ni un diplôme ni une certification" in text, badge.code
        assert badge.name in text
        assert '<meta name="robots" content="noindex' in text
        # The class address gives that page to people and the BadgeClass to machines.
        as_page = world_client.get(f"/badges/modeles/{badge.class_id}", headers={"Accept": BROWSER})
        assert as_page.mimetype == "text/html"
        page = page_text(as_page)
        assert "ni un diplôme ni une certification" in page and badge.name in page
        as_json = world_client.get(f"/badges/modeles/{badge.class_id}", headers={"Accept": JSON_LD})
        assert as_json.headers["Content-Type"] == JSON_LD
        document = json.loads(as_json.get_data(as_text=True))
        assert document["criteria"]["id"] == f"{BASE_URL}/badges/modeles/{badge.class_id}/criteres"
        assert document["image"] == f"{BASE_URL}/badges/modeles/{badge.class_id}/image.png"


# -- Nothing about the person ------------------------------------------------------------------


def test_no_page_or_document_names_the_worker_or_the_situations(world_client, world):
    staff = [(p.first_name, p.last_name) for p in PEOPLE if p.login not in ("lea", "karim")]
    for badge in world.values():
        names = [
            n
            for n in (*badge.worker_names, *[x for pair in staff for x in pair])
            if n not in badge.issuer_name
        ]
        responses = [
            world_client.get(f"/badges/{badge.id}", headers={"Accept": BROWSER}),
            world_client.get(f"/badges/{badge.id}.json"),
            world_client.get(f"/badges/modeles/{badge.class_id}/criteres"),
        ]
        texts = [page_text(r) for r in responses]
        texts.append(json.dumps(openbadges.parse_jws(badge.jws)[1], ensure_ascii=False))
        for text in texts:
            for secret in (*names, *DEMO_SITUATION_NAMES, "Parc des Tilleuls"):
                assert secret not in text, (badge.login, secret)


def test_signing_keys_are_only_public_halves(world_client, world_app):
    with world_app.app_context():
        key_ids = list(db.session.scalars(select(SigningKey.public_id)))
    for key_id in key_ids:
        text = world_client.get(f"/cles/{key_id}").get_data(as_text=True)
        assert "PUBLIC KEY" in text and "PRIVATE" not in text


@pytest.mark.parametrize("query", ["", "?variante=signee"])
def test_a_baked_png_download_states_its_length_and_answers_head(world_client, world, query):
    badge = lea(world)
    url = f"/badges/{badge.id}/badge.png{query}"
    got = world_client.get(url)
    assert int(got.headers["Content-Length"]) == len(got.get_data())
    head = world_client.head(url)
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    assert head.headers["ETag"] == got.headers["ETag"]


def test_a_baked_png_download_reads_the_class_image_once(world_client, world, world_app):
    """The class image is immutable: after a first download has cut it, others bake from the
    layout found by class id, the image column (deferred) left unread."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    badge = lea(world)
    with world_app.app_context():
        engine = db.engine
    first = world_client.get(f"/badges/{badge.id}/badge.png").get_data()
    event.listen(engine, "before_cursor_execute", record)
    try:
        again = world_client.get(f"/badges/{badge.id}/badge.png?variante=signee")
        hosted = world_client.get(f"/badges/{badge.id}/badge.png").get_data()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert again.status_code == 200 and openbadges.unbake_png(again.get_data()) == badge.jws
    assert hosted == first
    assert statements and not any("image_png" in s or "image_svg" in s for s in statements)
