"""``/api/v1/verify``: the verification page's answer as JSON, with no account (VER-03).

The API, the page and the library (``services.verification.verify_badge``) must agree on
the status and on every check, for each demo badge given by its address, its ``.json`` or
its JWS, and for forged JWS: a payload changed after signing, and a badge of structure A
re-signed with structure B's own key (« Signature invalide »). Then the API's own contract:
the badge's facts, the recipient compared and never stored, uploads, refusals as JSON with
a French message and a 4xx, counting, rate limit.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import openbadges
from app.domain.badges import REVOCATION_WORDING, RevocationReason
from app.domain.verification import (
    STATUS_EXPLANATIONS,
    STATUS_LABELS,
    Status,
    check_sentence,
    outcome,
)
from app.extensions import db
from app.openbadges import documents
from app.services import keys, verification
from app.services.badges import Issuing
from tests.support.routes import changed_tables, snapshot, structure_b
from tests.support.world import BASE_URL
from tests.web.test_verify_page import (
    BADGES,
    CLOCK,
    FORMS,
    LEA_EMAIL,
    MONTH,
    REFUSED_HOST,
    XXE_SVG,
    Demo,
    bomb_png,
    check_link,
    demo_badges,
    expected,
    multipart,
    occurrences,
    profile_link,
    qr_photo,
    site,
    source,
    verdict,
    verifications,
)

pytestmark = pytest.mark.db

API = "/api/v1/verify"


@pytest.fixture
def app(world_app_with) -> Flask:  # type: ignore[no-untyped-def]
    return world_app_with(NOW=lambda: CLOCK)


@pytest.fixture
def anyone(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def demo(app: Flask) -> dict[str, Demo]:
    return demo_badges(app)


def ask(client: FlaskClient, badge: str, recipient: str | None = None):  # type: ignore[no-untyped-def]
    query = {"badge": badge} | ({"recipient": recipient} if recipient is not None else {})
    return client.get(API, query_string=query)


def send(client: FlaskClient, data: bytes, filename: str, recipient: str = "", **fields: str):  # type: ignore[no-untyped-def]
    """POST a file to the API as multipart (no file part when ``filename`` is empty)."""
    files = {"file": (filename, data)} if filename else {}
    body, content_type = multipart({"recipient": recipient, **fields}, files)
    return client.post(API, data=body, content_type=content_type)


def post_badge(client: FlaskClient, badge: str, recipient: str = ""):  # type: ignore[no-untyped-def]
    """POST a link or JWS (``badge``), the recipient in the body rather than the URL."""
    return send(client, b"", "", recipient, badge=badge)


def library(app: Flask, badge: str) -> tuple[str, list[tuple[str, bool]]]:
    """The library's verdict on ``badge``: the employer's status and every check."""
    with app.app_context():
        result = verification.verify_badge(
            db.session, badge, issuing=Issuing.from_config(app.config), now=CLOCK
        )
    checks = [(check.code, check.ok) for check in result.checks]
    return outcome(checks).status.value, checks


def answered(body: dict[str, Any]) -> tuple[str, list[tuple[str, bool]]]:
    return body["status"], [(check["code"], check["ok"]) for check in body["checks"]]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def payload(jws: str) -> tuple[bytes, dict[str, Any]]:
    segment = jws.split(".")[1]
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return raw, json.loads(raw)


def tampered(jws: str) -> str:
    """``jws`` with one character of its payload changed (the recipient hash's last)."""
    header, _, signature = jws.split(".")
    raw, claims = payload(jws)
    digest = claims["recipient"]["identity"]
    altered = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    changed = raw.replace(digest.encode(), altered.encode())
    assert sum(x != y for x, y in zip(raw, changed, strict=True)) == 1
    return f"{header}.{b64url(changed)}.{signature}"


def signed_by_b(app: Flask, jws: str) -> str:
    """Structure A's badge of ``jws``, re-signed with structure B's real private key (read
    from the keys directory) and naming B's key."""
    _, claims = payload(jws)
    with app.app_context():
        issuing = Issuing.from_config(app.config)
        b_key = keys.active_key(db.session, structure_b(db.session))
        assert b_key is not None
        private = openbadges.load_private_key(
            (issuing.keys_dir / b_key.private_key_file).read_bytes()
        )
        key_url = issuing.urls.key(b_key.public_id)
    assert claims["verification"]["creator"] != key_url
    forged = documents.assertion(
        id=claims["id"],
        badge_class_id=claims["badge"],
        recipient=claims["recipient"],
        issued_on=datetime.fromisoformat(claims["issuedOn"]),
        verification=documents.verification_signed(key_url),
        evidence_narrative=claims["evidence"]["narrative"],
    )
    return openbadges.sign_assertion(forged, private)


# -- Page, API and library agree --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BADGES))
def test_page_api_and_library_agree_on_every_demo_badge(app, anyone, demo, name):
    for form in FORMS:
        badge = source(anyone, demo[name], form)
        status, failed = expected(name, form)
        found = library(app, badge)
        assert found[0] == status.value
        assert [code for code, ok in found[1] if not ok] == failed
        for api in (ask(anyone, badge), post_badge(anyone, badge)):
            assert api.status_code == 200
            assert answered(api.get_json()) == found, form
        page = check_link(anyone, badge)
        assert page.status_code == 200
        assert verdict(page) == found, form


def test_page_api_and_library_agree_that_forged_jws_have_an_invalid_signature(app, anyone, demo):
    jws = source(anyone, demo["lea_planifier"], "jws")
    _, claims = payload(jws)
    forgeries = {
        "tampered": (tampered(jws), ["signature"]),
        "signed by B's key": (signed_by_b(app, jws), ["key_owner"]),
        "signed by an unpublished key": (
            openbadges.sign_assertion(claims, openbadges.generate_private_key()),
            ["signature"],
        ),
    }
    for case, (forged, failed) in forgeries.items():
        found = library(app, forged)
        assert found[0] == Status.INVALID.value, case
        assert [code for code, ok in found[1] if not ok] == failed, case
        api = ask(anyone, forged, LEA_EMAIL)
        assert api.status_code == 200, case
        body = api.get_json()
        assert answered(body) == found, case
        assert body["status_label"] == "Signature invalide"
        assert body["valid"] is False and body["badge"] is None
        assert body["belongs_to_recipient"] is None  # the status checks never ran
        page = check_link(anyone, forged)
        assert page.status_code == 200, case
        assert verdict(page) == found, case
        assert "Signature invalide" in page.get_data(as_text=True)


# -- What the API says of a badge -------------------------------------------------------------


def documents_of(client: FlaskClient, badge: Demo) -> tuple[dict[str, Any], ...]:
    """The hosted assertion, its badge class and its issuer, as the public addresses serve
    them."""

    def get(url: str) -> dict[str, Any]:
        response = client.get(url.removeprefix(BASE_URL) + ".json")
        assert response.status_code == 200
        return json.loads(response.get_data(as_text=True))

    hosted = get(badge.url)
    klass = get(hosted["badge"])
    return hosted, klass, get(klass["issuer"])


@pytest.mark.parametrize("name", ["lea_planifier", "karim_expired", "lea_revoked"])
def test_the_answer_describes_the_badge_as_its_issuer_published_it(app, anyone, demo, name):
    badge = demo[name]
    hosted, klass, issuer = documents_of(anyone, badge)
    response = ask(anyone, badge.url)
    assert response.status_code == 200
    body = response.get_json()
    status, _ = expected(name, "hosted")
    assert body["status"] == status.value
    assert body["status_label"] == STATUS_LABELS[status]
    assert body["explanation"] == STATUS_EXPLANATIONS[status]
    assert body["valid"] is (status is Status.VALID)
    assert body["method"] == "hosted"
    assert body["belongs_to_recipient"] is None
    assert "message" not in body
    for check in body["checks"]:
        assert check["text"] == check_sentence(check["code"], check["ok"])
        assert isinstance(check["reason"], str) and check["reason"]
    assert body["badge"] == {
        "name": klass["name"],
        "description": klass["description"],
        "criteria": klass["criteria"]["narrative"],
        "evidence": hosted["evidence"]["narrative"],
        "issuer": {"name": issuer["name"], "url": issuer["url"], "email": issuer["email"]},
        "issued_on": hosted["issuedOn"],
        "expires": hosted.get("expires"),
        "revocation_reason": (
            REVOCATION_WORDING[RevocationReason.ISSUING_ERROR] if name == "lea_revoked" else None
        ),
        "url": badge.url,
    }
    assert verifications(app) == [(badge.row_id, MONTH)]


def test_the_recipient_is_compared_and_never_stored(app, anyone, demo):
    cases = [
        ("lea_planifier", " Lea.PETIT@Exemple.fr  ", True),
        ("lea_planifier", "recruteuse.attentive@exemple.org", False),
        ("karim_conscience", "06 12 34 56 78", True),
        ("karim_conscience", "+33 6 11 22 33 44", False),
        ("ousmane_equipe", profile_link(app, demo["ousmane_equipe"]), True),
        ("ousmane_equipe", f"{BASE_URL}/profils/quelqu-un-d-autre-1234", False),
    ]
    unknown = ["recruteuse.attentive@exemple.org", "+33 6 11 22 33 44", "+33611223344"]
    unknown.append("quelqu-un-d-autre-1234")
    assert all(occurrences(app, needle) == [] for needle in unknown)
    png = anyone.get(f"/badges/{demo['lea_planifier'].public_id}/badge.png").get_data()
    before = snapshot(app)
    for name, typed, belongs in cases:
        body = post_badge(anyone, demo[name].url, typed).get_json()
        assert body["status"] == Status.VALID.value, typed
        assert body["belongs_to_recipient"] is belongs, typed
        assert ("recipient", belongs) in answered(body)[1]
    # Still compared when given in the query string (documented), and not stored either.
    assert (
        ask(anyone, demo["lea_planifier"].url, unknown[0]).get_json()["belongs_to_recipient"]
        is False
    )
    sent = send(anyone, png, "badge.png", "recruteuse.attentive@exemple.org")
    assert sent.status_code == 200 and sent.get_json()["belongs_to_recipient"] is False
    assert changed_tables(before, snapshot(app)) == ("badge_verifications",)
    for needle in unknown:
        assert occurrences(app, needle) == [], needle


# -- Uploads ----------------------------------------------------------------------------------


def test_baked_badges_and_a_photo_of_the_qr_code_are_verified_and_counted(app, anyone, demo):
    lea, revoked = demo["lea_planifier"], demo["lea_revoked"]
    for badge, name in ((lea, "lea_planifier"), (revoked, "lea_revoked")):
        for fmt in ("png", "svg"):
            for variant, method in (("", "hosted"), ("?variante=signee", "signed")):
                baked = anyone.get(f"/badges/{badge.public_id}/badge.{fmt}{variant}").get_data()
                response = send(anyone, baked, f"badge.{fmt}", LEA_EMAIL)
                assert response.status_code == 200, (name, fmt, variant)
                body = response.get_json()
                assert body["status"] == expected(name, "jws" if variant else "hosted")[0].value
                assert body["method"] == method
                assert body["belongs_to_recipient"] is True
    photo = send(anyone, qr_photo(lea.url), "photo.jpg")
    assert photo.status_code == 200
    assert photo.get_json()["status"] == Status.VALID.value
    assert photo.get_json()["badge"]["url"] == lea.url
    assert verifications(app) == [(lea.row_id, MONTH)] * 4 + [(revoked.row_id, MONTH)] * 4 + [
        (lea.row_id, MONTH)
    ]


def test_the_api_needs_no_csrf_token(world_app_with):
    app = world_app_with(NOW=lambda: CLOCK, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    lea = demo_badges(app)["lea_planifier"]
    png = client.get(f"/badges/{lea.public_id}/badge.png").get_data()
    response = send(client, png, "badge.png")
    assert response.status_code == 200
    assert response.get_json()["status"] == Status.VALID.value


# -- Refusals: JSON, a French message, a 4xx, nothing written ---------------------------------


def test_refusals_are_json_with_a_french_message_and_write_nothing(app, anyone, demo):
    lea = demo["lea_planifier"]
    png = anyone.get(f"/badges/{lea.public_id}/badge.png").get_data()
    before = snapshot(app)
    errors = [
        (anyone.get(API), 400, "Donnez le lien du badge (paramètre « badge »)."),
        (ask(anyone, "  "), 400, "Donnez le lien du badge"),
        (ask(anyone, "eyJ" + "a" * 25_000), 400, "Ce lien est trop long"),
        (post_badge(anyone, "eyJ" + "a" * 25_000), 400, "Ce lien est trop long"),
        (post_badge(anyone, "  "), 400, "Choisissez un fichier"),
        (send(anyone, b"", ""), 400, "Choisissez un fichier"),
        (send(anyone, b"", "vide.png"), 400, "Choisissez un fichier"),
        (send(anyone, b"du texte, pas une image\n" * 10, "a.png"), 400, "pas une image lisible"),
        (send(anyone, bomb_png(), "bombe.png"), 400, "Cette image est trop grande"),
        (send(anyone, b"\xff\xd8\xff" + bytes(5_100_000), "a.jpg"), 413, "5 Mo au plus"),
        (send(anyone, png + bytes(6_100_000), "a.png"), 413, "Le fichier envoyé est trop lourd."),
    ]
    for response, status, message in errors:
        assert response.status_code == status, message
        body = response.get_json()
        assert set(body) == {"error", "message"}, body
        assert message in body["message"]
    assert changed_tables(before, snapshot(app)) == ()


def test_a_badge_that_cannot_be_read_is_unknown_with_400_and_not_counted(app, anyone, demo):
    before = snapshot(app)
    png = anyone.get(f"/badges/{demo['lea_planifier'].public_id}/badge.png").get_data()
    unreadable = [
        ask(anyone, "eyJhbGciOiJSUzI1NiJ9.pas-du-json.abc"),
        ask(anyone, "n'importe quoi"),
        ask(anyone, f"{BASE_URL}/badges/AAAAAAAAAAAAAAAAAAAAAA"),
        post_badge(anyone, "eyJhbGciOiJSUzI1NiJ9..", LEA_EMAIL),
        send(anyone, png[: len(png) // 2], "coupe.png"),
        send(anyone, XXE_SVG, "badge.svg"),
    ]
    for response in unreadable:
        assert response.status_code == 400
        body = response.get_json()
        assert body["status"] == Status.UNKNOWN.value
        assert body["status_label"] == "Inconnu"
        assert body["explanation"] == STATUS_EXPLANATIONS[Status.UNKNOWN]
        assert body["valid"] is False and body["badge"] is None
        assert body["checks"][0]["code"] == "input" and body["checks"][0]["ok"] is False
        assert "root:" not in json.dumps(body)
    assert changed_tables(before, snapshot(app)) == ()


def test_a_link_to_another_site_is_fetched_only_from_allow_listed_public_hosts(world_app_with):
    refused = world_app_with(NOW=lambda: CLOCK, VERIFY_ALLOWED_HOSTS="127.0.0.1")
    with site() as elsewhere:
        elsewhere.json("/badge.json", {"id": f"{elsewhere.base}/badge.json"})
        for link in ("https://badges.exemple.org/b/1", f"{elsewhere.base}/badge.json"):
            for response in (
                ask(refused.test_client(), link),
                post_badge(refused.test_client(), link),
            ):
                assert response.status_code == 400, link
                body = response.get_json()
                assert body["status"] == Status.UNKNOWN.value
                assert REFUSED_HOST in body["message"]
        assert elsewhere.asked == []  # a private address, even allow-listed: never asked


def test_the_api_is_rate_limited_with_a_french_message(world_app_with):
    app = world_app_with(
        NOW=lambda: CLOCK, VERIFY_RATE_LIMIT="2 per minute", RATELIMIT_ENABLED=True
    )
    client = app.test_client()
    lea = demo_badges(app)["lea_planifier"]
    assert [ask(client, lea.url).status_code for _ in range(2)] == [200, 200]
    response = ask(client, lea.url)
    assert response.status_code == 429
    assert response.get_json() == {
        "error": "too_many_requests",
        "message": "Trop de tentatives en peu de temps. Attendez une minute, puis réessayez.",
    }
    assert verifications(app) == [(lea.row_id, MONTH)] * 2
