"""The employer's verification page, ``/verifier`` (VER-01…VER-08).

No account: a link (the badge's address, its ``.json`` or its JWS), a baked PNG or SVG, or a
photo of its QR code gives one status in plain French (Valide, Expiré, Retiré, Signature
invalide, Inconnu), what the badge says and what was checked. The identity an employer types
travels in a POST body only (a shared ``?lien=`` link carries none), is compared and never
stored; each verification of one of our badges is counted (badge and month only);
other sites are fetched only when allow-listed, on public addresses, without redirects; bad
files get a French message and a 4xx, and write nothing.

The world's clock is fixed one day after the world was built, so that its demo badges are as
the demo describes them: three valid, one expired (karim's re-issued « Qualité du travail »),
one withdrawn for an issuing error (léa's « Anticiper ») and the original of karim's expired
badge, withdrawn when its signing key was declared compromised.
"""

from __future__ import annotations

import html
import io
import json
import re
import secrets
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import String, inspect, select

from app import openbadges
from app.domain.badges import REVOCATION_WORDING, RevocationReason
from app.domain.verification import CHECK_WORDS, STATUS_EXPLANATIONS, STATUS_LABELS, Status
from app.extensions import db
from app.models import Assertion, BadgeClass, BadgeTemplate, BadgeVerification, User
from app.models.base import Base
from app.services import qr
from tests.support.routes import changed_tables, snapshot
from tests.support.world import BASE_URL, NOW

pytestmark = pytest.mark.db

#: The clock of every app here: the world's badges are as the demo describes them.
CLOCK = NOW + timedelta(days=1)
MONTH = CLOCK.strftime("%Y-%m")
LEA_EMAIL = "lea.petit@exemple.fr"
REFUSED_HOST = "Ce lien mène à un site qui ne fait pas partie des émetteurs acceptés"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UNREADABLE = "Ce fichier n'est pas une image lisible."
TOO_MANY_PIXELS = "Cette image est trop grande (trop de pixels)."
NOT_READ = STATUS_EXPLANATIONS[Status.UNKNOWN]

#: The demo badges by name: (worker login, badge template code, withdrawn?).
BADGES = {
    "lea_planifier": ("lea", "planifier", False),
    "karim_conscience": ("karim", "conscience-professionnelle", False),
    "ousmane_equipe": ("ousmane", "travailler-en-equipe", False),
    "karim_expired": ("karim", "qualite-du-travail", False),
    "lea_revoked": ("lea", "anticiper", True),
    # The original of karim_expired: withdrawn when its signing key leaked, then re-issued.
    "karim_replaced": ("karim", "qualite-du-travail", True),
}
FORMS = ("hosted", "json", "jws")


def french_day(iso: str) -> str:
    """« 1 novembre 2026 »: how the page writes a badge's dates."""
    return format_date(
        datetime.fromisoformat(iso.replace("Z", "+00:00")).date(), "long", locale="fr"
    )


def expected(name: str, form: str) -> tuple[Status, list[str]]:
    """The status of a demo badge given as ``form``, and its failed checks."""
    if name == "karim_expired":
        return Status.EXPIRED, ["not_expired"]
    if name == "lea_revoked":
        return Status.REVOKED, ["not_revoked"]
    if name == "karim_replaced":
        if form == "jws":  # signed with the key declared compromised: withdrawn, replaced
            return Status.REVOKED, ["key_not_revoked"]
        return Status.REVOKED, ["not_revoked", "not_expired"]
    return Status.VALID, []


@dataclass(frozen=True)
class Demo:
    """One demo badge: its public id, row id and worker."""

    public_id: str
    row_id: int
    login: str
    user_id: int

    @property
    def url(self) -> str:
        return f"{BASE_URL}/badges/{self.public_id}"


def demo_badges(app: Flask) -> dict[str, Demo]:
    """The demo badges of the world, by name (see ``BADGES``)."""
    found = {}
    with app.app_context():
        for name, (login, code, revoked) in BADGES.items():
            state = Assertion.revoked_at.is_not(None) if revoked else Assertion.revoked_at.is_(None)
            row = db.session.execute(
                select(Assertion.public_id, Assertion.id, User.id)
                .join(User, User.id == Assertion.user_id)
                .join(BadgeClass, BadgeClass.id == Assertion.badge_class_id)
                .join(BadgeTemplate, BadgeTemplate.id == BadgeClass.template_id)
                .where(User.login == login, BadgeTemplate.code == code, state)
            ).one()
            found[name] = Demo(row[0], row[1], login, row[2])
    return found


def source(client: FlaskClient, badge: Demo, form: str) -> str:
    """What an employer pastes: the badge's address, its ``.json`` address or its JWS."""
    if form == "hosted":
        return badge.url
    if form == "json":
        return f"{badge.url}.json"
    response = client.get(f"/badges/{badge.public_id}.jws")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def app(world_app_with) -> Flask:  # type: ignore[no-untyped-def]
    return world_app_with(NOW=lambda: CLOCK)


@pytest.fixture
def anyone(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def demo(app: Flask) -> dict[str, Demo]:
    return demo_badges(app)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def verdict(response) -> tuple[str, list[tuple[str, bool]]]:  # type: ignore[no-untyped-def]
    """The status shown and the checks listed (code, passed), read from the page."""
    page = response.get_data(as_text=True)
    status = re.search(r'class="verdict verdict-([a-z_]+)"', page)
    assert status is not None, page
    listed = re.search(r'<ul class="checks">(.*?)</ul>', page, re.S)
    technical = re.search(r'<ul class="technical">(.*?)</ul>', page, re.S)
    assert listed is not None and technical is not None
    oks = [m == "ok" for m in re.findall(r'<li class="check-(ok|failed)">', listed.group(1))]
    codes = re.findall(r"<li><code>([a-z_]+)</code>", technical.group(1))
    assert len(oks) == len(codes)
    return status.group(1), list(zip(codes, oks, strict=True))


def fact(page: str, term: str) -> str | None:
    """The value of the fact ``term`` of the badge shown (``<dt>term</dt><dd>value</dd>``)."""
    found = re.search(rf"<dt>{re.escape(term)}</dt>\s*<dd>(.*?)</dd>", page, re.S)
    return found.group(1).strip() if found else None


def check_link(client: FlaskClient, link: str):  # type: ignore[no-untyped-def]
    """GET /verifier?lien=…: a shared link (from a QR code, an email), with no identity."""
    return client.get("/verifier", query_string={"lien": link})


def post_link(client: FlaskClient, link: str, identity: str = "", **fields: str):  # type: ignore[no-untyped-def]
    """The link form: POST /verifier with ``lien`` and ``identite`` (never in the URL)."""
    return client.post("/verifier", data={"lien": link, "identite": identity, **fields})


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type, built by hand: Werkzeug's test client
    leaves the temporary file of a large encoded body open (a ResourceWarning)."""
    boundary = f"jalon-{secrets.token_hex(8)}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"'
        "\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, (filename, data) in files.items()
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(client: FlaskClient, data: bytes, filename: str, identity: str = "", **fields: str):  # type: ignore[no-untyped-def]
    """POST /verifier with the file ``data`` (no file part when ``filename`` is empty)."""
    files = {"fichier": (filename, data)} if filename else {}
    body, content_type = multipart({"identite": identity, **fields}, files)
    return client.post("/verifier", data=body, content_type=content_type)


def verifications(app: Flask) -> list[tuple[int, str]]:
    """The counted verifications: (assertion row id, month)."""
    with app.app_context():
        rows = db.session.execute(
            select(BadgeVerification.assertion_id, BadgeVerification.month).order_by(
                BadgeVerification.id
            )
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def occurrences(app: Flask, needle: str) -> list[str]:
    """Where ``needle`` (case-insensitive) appears in any text column of any table."""
    found = []
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String)]
            if not columns:
                continue
            for row in db.session.execute(select(*columns)).all():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, str) and needle.lower() in value.lower():
                        found.append(f"{table.name}.{column.name}")
    return found


# -- Every demo badge, by link ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BADGES))
def test_each_demo_badge_by_link_gets_its_status_and_shows_what_it_says(app, anyone, demo, name):
    badge = demo[name]
    hosted = json.loads(anyone.get(f"/badges/{badge.public_id}.json").get_data(as_text=True))
    klass = json.loads(
        anyone.get(hosted["badge"].removeprefix(BASE_URL) + ".json").get_data(as_text=True)
    )
    issuer = json.loads(
        anyone.get(klass["issuer"].removeprefix(BASE_URL) + ".json").get_data(as_text=True)
    )
    described = 0
    for form in FORMS:
        response = check_link(anyone, source(anyone, badge, form))
        assert response.status_code == 200, form
        assert response.headers["Cache-Control"] == "no-store"
        assert "noindex" in response.headers["X-Robots-Tag"]
        status, failed = expected(name, form)
        shown, checks = verdict(response)
        assert (shown, [code for code, ok in checks if not ok]) == (status.value, failed), form
        page = text(response)
        assert re.search(rf"<h1[^>]*><span[^>]*>{re.escape(STATUS_LABELS[status])}</span>", page)
        assert STATUS_EXPLANATIONS[status] in page
        for code, ok in checks:  # every check in plain words, then in the technical details
            assert CHECK_WORDS[code][0 if ok else 1] in page
        assert "Détails techniques" in page
        if status is Status.INVALID or failed == ["key_not_revoked"]:
            # A badge whose issuer is not proven (or whose key leaked) shows nothing of what
            # it claims, and is not counted.
            assert klass["name"] not in page and hosted["evidence"]["narrative"] not in page
            if failed == ["key_not_revoked"]:
                wording = REVOCATION_WORDING[RevocationReason.KEY_COMPROMISED]
                assert f"Raison donnée par la structure :</strong> {wording}" in page
            continue
        described += 1
        assert f"— {klass['name']}</h1>" in page
        assert fact(page, "Ce qu'il atteste") == klass["description"]
        assert fact(page, "Comment il a été obtenu") == hosted["evidence"]["narrative"]
        assert fact(page, "Délivré par") == (
            f'{issuer["name"]} — <a href="mailto:{issuer["email"]}">{issuer["email"]}</a>'
        )
        assert fact(page, "Délivré le") == french_day(hosted["issuedOn"])
        assert fact(page, "Valable jusqu'au") == (
            french_day(hosted["expires"]) if "expires" in hosted else None
        )
        reason = {
            "lea_revoked": REVOCATION_WORDING[RevocationReason.ISSUING_ERROR],
            "karim_replaced": REVOCATION_WORDING[RevocationReason.KEY_COMPROMISED],
        }.get(name)
        if status is Status.REVOKED:
            assert f"Raison donnée par la structure :</strong> {reason}" in page
        else:
            assert "Raison donnée par la structure" not in page
    assert verifications(app) == [(badge.row_id, MONTH)] * described


def test_the_form_page_says_how_to_verify_and_is_neither_indexed_nor_cached(app, anyone):
    response = anyone.get("/verifier")
    assert response.status_code == 200
    page = text(response)
    assert "Vérifier un badge numérique" in page and "Sans compte" in page
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"
    assert 'name="lien"' in page and 'name="fichier"' in page and 'name="identite"' in page
    assert 'method="get"' not in page  # no form puts the identity typed in a URL


def test_an_empty_link_or_no_link_writes_nothing(app, anyone):
    before = snapshot(app)
    assert anyone.get("/verifier").status_code == 200
    assert check_link(anyone, "   ").status_code == 200
    assert changed_tables(before, snapshot(app)) == ()


# -- The recipient's identity: compared, never stored -----------------------------------------


def profile_link(app: Flask, badge: Demo) -> str:
    with app.app_context():
        identity_id = db.session.get(User, badge.user_id).identity_id  # type: ignore[union-attr]
    return f"{BASE_URL}/profils/{identity_id}"


IDENTITIES = [
    ("lea_planifier", LEA_EMAIL, True),
    ("lea_planifier", "  LEA.Petit@Exemple.FR ", True),
    ("lea_planifier", "Lea.Petit@exemple.fr\t", True),
    ("lea_planifier", "lea.petit@exemple.com", False),
    ("lea_planifier", "quelqu.un@ailleurs.example", False),
    ("lea_planifier", "pas une adresse", False),
    ("karim_conscience", "06 12 34 56 78", True),
    ("karim_conscience", "+33 6 12 34 56 78", True),
    ("karim_conscience", "06 12 34 56 79", False),
    ("ousmane_equipe", "profile", True),
    ("ousmane_equipe", "other-profile", False),
]


def test_the_identity_given_says_whether_the_badge_was_delivered_to_that_person(app, anyone, demo):
    yes = "Ce badge a bien été délivré à la personne que vous avez indiquée."
    no = "Ce badge n'a pas été délivré à la personne que vous avez indiquée"
    for name, typed, belongs in IDENTITIES:
        badge = demo[name]
        if typed == "profile":
            typed = profile_link(app, badge)
        elif typed == "other-profile":
            typed = profile_link(app, demo["lea_planifier"])
        response = post_link(anyone, badge.url, typed)
        assert response.status_code == 200
        page = text(response)
        shown, checks = verdict(response)
        assert shown == Status.VALID.value  # the verdict is about the badge, not the person
        assert ("recipient", belongs) in checks, typed
        assert (yes in page, no in page) == (belongs, not belongs), typed


def test_no_identity_given_says_nothing_about_the_person(app, anyone, demo):
    for response in (
        post_link(anyone, demo["lea_planifier"].url, "  "),
        check_link(anyone, demo["lea_planifier"].url),
    ):
        assert response.status_code == 200
        assert "recipient" not in dict(verdict(response)[1])
        assert "délivré à la personne que vous avez indiquée" not in text(response)


def test_an_identity_in_the_url_is_ignored(app, anyone, demo):
    """A shared link carries no identity: ``?identite=`` is not compared (nor stored)."""
    lea = demo["lea_planifier"]
    typed = "Employeur.Curieux@Exemple.ORG"
    response = anyone.get("/verifier", query_string={"lien": lea.url, "identite": typed})
    assert response.status_code == 200
    assert verdict(response)[0] == Status.VALID.value
    assert "recipient" not in dict(verdict(response)[1])
    assert "délivré à la personne que vous avez indiquée" not in text(response)
    assert occurrences(app, typed) == []


def test_the_identity_typed_is_never_stored(app, anyone, demo):
    typed = {
        "lea_planifier": "  Employeur.Curieux@Exemple.ORG ",
        "karim_conscience": "+33 6 98 76 54 32",
        "ousmane_equipe": f"{BASE_URL}/profils/inconnu-du-registre-0123",
    }
    needles = [value.strip() for value in typed.values()] + ["+33698765432"]
    assert all(occurrences(app, needle) == [] for needle in needles)
    assert occurrences(app, LEA_EMAIL.upper()) == ["users.email"]  # the probe finds text
    photo = anyone.get(f"/badges/{demo['lea_planifier'].public_id}/badge.png").get_data()
    before = snapshot(app)

    for name, value in typed.items():
        response = post_link(anyone, demo[name].url, value)
        assert response.status_code == 200 and ("recipient", False) in verdict(response)[1]
    response = upload(anyone, photo, "badge.png", typed["lea_planifier"])
    assert response.status_code == 200 and ("recipient", False) in verdict(response)[1]

    assert changed_tables(before, snapshot(app)) == ("badge_verifications",)
    for needle in needles:
        assert occurrences(app, needle) == [], needle


# -- Uploads: baked badges and photos of QR codes ---------------------------------------------


@pytest.mark.parametrize("name", ["lea_planifier", "karim_expired", "lea_revoked"])
def test_a_baked_badge_uploaded_gets_its_status(app, anyone, demo, name):
    badge = demo[name]
    identity = LEA_EMAIL.upper() if badge.login == "lea" else "06 12 34 56 78"
    for fmt in ("png", "svg"):
        for variant in ("", "?variante=signee"):
            baked = anyone.get(f"/badges/{badge.public_id}/badge.{fmt}{variant}")
            assert baked.status_code == 200

            response = upload(anyone, baked.get_data(), f"badge.{fmt}", identity)

            status, failed = expected(name, "jws" if variant else "hosted")
            assert response.status_code == 200, (fmt, variant)
            shown, checks = verdict(response)
            assert (shown, [code for code, ok in checks if not ok]) == (status.value, failed)
            assert ("recipient", True) in checks
            assert "Détails techniques" in text(response)
    assert verifications(app) == [(badge.row_id, MONTH)] * 4


def qr_photo(link: str) -> bytes:
    """A phone's photo of the badge's QR code printed on a page: tilted, soft, grey, JPEG."""
    code = Image.open(io.BytesIO(qr.make_qr_png(link))).convert("RGB")
    page = Image.new("RGB", (code.width + 500, code.height + 700), (238, 234, 224))
    draw = ImageDraw.Draw(page)
    for line in range(6):  # lines of text above the code
        draw.rectangle((60, 60 + 40 * line, page.width - 120, 80 + 40 * line), fill=(70, 70, 70))
    page.paste(code, (250, 360))
    photo = page.rotate(5, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(60, 60, 60))
    photo = photo.filter(ImageFilter.GaussianBlur(1.2)).convert("L")
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=70)
    return out.getvalue()


@pytest.mark.parametrize("name", ["karim_conscience", "lea_revoked"])
def test_a_photo_of_the_qr_code_gets_the_badges_status(app, anyone, demo, name):
    badge = demo[name]
    response = upload(anyone, qr_photo(badge.url), "photo.jpg")
    status, failed = expected(name, "hosted")
    assert response.status_code == 200
    shown, checks = verdict(response)
    assert shown == status.value
    assert [code for code, ok in checks if not ok] == failed
    assert verifications(app) == [(badge.row_id, MONTH)]


# -- Bad input: a French message, a 4xx, nothing written --------------------------------------


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png() -> bytes:
    """A small PNG whose (CRC-correct) header claims 30000 × 30000 pixels."""
    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 30_001 * 8)
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def bad_crc(png: bytes, kind: bytes) -> bytes:
    """``png`` with the CRC of its first ``kind`` chunk wrong."""
    start = png.index(kind) - 4
    (length,) = struct.unpack(">I", png[start : start + 4])
    crc_at = start + 8 + length
    return png[:crc_at] + bytes([png[crc_at] ^ 0xFF]) + png[crc_at + 1 :]


XXE_SVG = (
    b'<?xml version="1.0"?>\n'
    b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
    b"<openbadges:assertion>&x;</openbadges:assertion><text>&x;</text></svg>"
)


def rejected_uploads(demo_png: bytes) -> list[tuple[str, bytes, str, int, str]]:
    """(case, bytes, file name, status, French message)."""
    qr_png = qr.make_qr_png(f"{BASE_URL}/badges/AAAAAAAAAAAAAAAAAAAAAA")
    return [
        ("not an image", b"Bonjour, ceci est un texte.\n" * 20, "notes.png", 400, UNREADABLE),
        ("empty file", b"", "vide.png", 400, "Choisissez un fichier"),
        ("no file", b"", "", 400, "Choisissez un fichier"),
        ("over 5 MB", b"\xff\xd8\xff" + b"\x00" * 5_200_000, "lourd.jpg", 413, "5 Mo au plus"),
        ("decompression bomb", bomb_png(), "bombe.png", 400, TOO_MANY_PIXELS),
        ("QR PNG with a bad CRC", bad_crc(qr_png, b"IDAT"), "qr.png", 400, NOT_READ),
        ("baked PNG with a bad CRC", bad_crc(demo_png, b"iTXt"), "badge.png", 400, NOT_READ),
        ("truncated baked PNG", demo_png[: len(demo_png) // 2], "badge.png", 400, NOT_READ),
        ("SVG with an external entity", XXE_SVG, "badge.svg", 400, NOT_READ),
        ("SVG that is not one", b"<html><body>pas un badge</body></html>", "b.svg", 400, NOT_READ),
    ]


def test_bad_uploads_get_a_french_message_and_a_4xx_and_write_nothing(app, anyone, demo):
    demo_png = anyone.get(f"/badges/{demo['lea_planifier'].public_id}/badge.png").get_data()
    before = snapshot(app)
    for case, data, filename, status, message in rejected_uploads(demo_png):
        response = upload(anyone, data, filename)
        assert response.status_code == status, case
        page = text(response)
        assert message in page, (case, page)
        assert "root:" not in page, case  # no file of the server ever read
        assert response.headers["Cache-Control"] == "no-store", case
    assert changed_tables(before, snapshot(app)) == ()


def test_an_upload_over_the_request_limit_is_refused_with_413(app, anyone):
    assert app.config["MAX_CONTENT_LENGTH"] == 6_000_000
    before = snapshot(app)
    response = upload(anyone, b"\x89PNG" + b"\x00" * 6_100_000, "enorme.png")
    assert response.status_code == 413
    assert "Le fichier envoyé est trop lourd." in text(response)
    assert changed_tables(before, snapshot(app)) == ()


UNREADABLE_LINKS = [
    "eyJhbGciOiJSUzI1NiJ9.n-importe-quoi.abc",
    "eyJhbGciOiJSUzI1NiJ9..",
    "pas un lien du tout",
    "javascript:alert(1)",
    "file:///etc/passwd",
    f"{BASE_URL}/badges/AAAAAAAAAAAAAAAAAAAAAA",  # ours, but no such badge
    f"{BASE_URL}/emetteurs/AAAAAAAAAAAAAAAAAAAAAA.json",
]


def test_a_link_that_leads_to_no_badge_is_unknown_with_400_and_writes_nothing(app, anyone):
    before = snapshot(app)
    for link in UNREADABLE_LINKS:
        for response in (check_link(anyone, link), post_link(anyone, link, LEA_EMAIL)):
            assert response.status_code == 400, link
            shown, checks = verdict(response)
            assert shown == Status.UNKNOWN.value, link
            page = text(response)
            assert f">{STATUS_LABELS[Status.UNKNOWN]}</span>" in page and NOT_READ in page
            assert not all(ok for _, ok in checks)
            assert "root:" not in page
    assert changed_tables(before, snapshot(app)) == ()


def test_a_link_too_long_to_be_a_badge_is_refused(app, anyone):
    response = check_link(anyone, "eyJ" + "a" * 25_000)
    assert response.status_code == 400
    assert "Ce lien est trop long pour être celui d'un badge." in text(response)
    response = post_link(anyone, "eyJ" + "a" * 25_000)
    assert response.status_code == 400
    assert "Le formulaire n'a pas pu être lu." in text(response)


# -- Other sites: allow-listed hosts, public addresses, no redirects (VER-07) -----------------


@dataclass
class Site:
    """A tiny HTTP server on 127.0.0.1: fixed answers by path, and every path asked."""

    answers: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    base: str = ""

    def json(self, path: str, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.answers[path] = (200, {"Content-Type": "application/ld+json"}, body)


@contextmanager
def site() -> Iterator[Site]:
    served = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            served.asked.append(self.path)
            status, headers, body = served.answers.get(self.path, (404, {}, b"{}"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_link_to_a_host_off_the_allow_list_is_refused_unfetched(world_app_with):
    app = world_app_with(NOW=lambda: CLOCK, VERIFY_ALLOWED_HOSTS="badges.partenaire.example")
    before = snapshot(app)
    with site() as elsewhere:
        elsewhere.json("/badge.json", {"id": f"{elsewhere.base}/badge.json"})
        for link in (
            "https://badges.exemple.org/badges/abc",
            f"{elsewhere.base}/badge.json",
            "http://localhost:8080/badges/AAAAAAAAAAAAAAAAAAAAAA",  # not our base URL
        ):
            response = check_link(app.test_client(), link)
            assert response.status_code == 400, link
            assert REFUSED_HOST in text(response)
            assert verdict(response)[0] == Status.UNKNOWN.value
        assert elsewhere.asked == []
    assert changed_tables(before, snapshot(app)) == ()


def test_an_allow_listed_host_on_a_private_address_is_refused_unfetched(world_app_with):
    app = world_app_with(
        NOW=lambda: CLOCK,
        VERIFY_ALLOWED_HOSTS="badges.partenaire.example, 127.0.0.1",
        VERIFY_ALLOW_PRIVATE_ADDRESSES=False,
    )
    with site() as private:
        private.json("/badge.json", {"id": f"{private.base}/badge.json"})
        response = check_link(app.test_client(), f"{private.base}/badge.json")
        assert response.status_code == 400
        assert REFUSED_HOST in text(response)
        assert private.asked == []


def test_a_redirect_is_refused_and_never_followed(world_app_with):
    app = world_app_with(
        NOW=lambda: CLOCK,
        VERIFY_ALLOWED_HOSTS="127.0.0.1",
        VERIFY_ALLOW_PRIVATE_ADDRESSES=True,
    )
    before = snapshot(app)
    with site() as target, site() as redirecting:
        target.json("/badge.json", {"id": f"{target.base}/badge.json"})
        redirecting.answers["/badge.json"] = (302, {"Location": f"{target.base}/badge.json"}, b"")
        response = check_link(app.test_client(), f"{redirecting.base}/badge.json")
        assert redirecting.asked == ["/badge.json"]
        assert target.asked == []
    assert response.status_code == 400
    assert verdict(response)[0] == Status.UNKNOWN.value
    assert "redirection refused" in text(response)
    assert changed_tables(before, snapshot(app)) == ()


# -- Another issuer's badge: shown as text, never as markup, and not counted ------------------

SCRIPT = "<script>alert(1)</script>"


def foreign_badge(served: Site) -> str:
    """A valid badge of another issuer hosted on ``served``, whose texts hold markup: its JWS."""
    base = served.base
    key = openbadges.generate_private_key()
    issuer_id, key_id = f"{base}/emetteur", f"{base}/cle"
    class_id, revocations = f"{base}/badge-classe", f"{base}/retraits"
    served.json(
        "/emetteur",
        openbadges.issuer_profile(
            issuer_id,
            '<b onmouseover="alert(2)">Atelier & Cie</b>',
            base,
            "contact@atelier.example",
            None,
            [key_id],
            revocations,
        ),
    )
    served.json(
        "/cle", openbadges.cryptographic_key(key_id, issuer_id, openbadges.public_key_to_pem(key))
    )
    served.json("/retraits", openbadges.revocation_list(revocations, issuer_id, []))
    served.json(
        "/badge-classe",
        openbadges.badge_class(
            class_id,
            issuer_id,
            SCRIPT,
            'Une description <img src="x" onerror="alert(3)">',
            f"{base}/image.png",
            None,
            "Des critères <iframe src=//evil.example></iframe>",
        ),
    )
    assertion = openbadges.assertion(
        f"{base}/assertion",
        class_id,
        openbadges.recipient("email", "x@atelier.example", salt=openbadges.new_salt()),
        CLOCK - timedelta(days=3),
        openbadges.verification_signed(key_id),
        evidence_narrative="</dd><script>alert(4)</script>",
    )
    return openbadges.sign_assertion(assertion, key)


def test_another_issuers_badge_is_shown_as_text_and_not_counted(world_app_with):
    app = world_app_with(
        NOW=lambda: CLOCK,
        VERIFY_ALLOWED_HOSTS="127.0.0.1",
        VERIFY_ALLOW_PRIVATE_ADDRESSES=True,
    )
    before = snapshot(app)
    with site() as elsewhere:
        jws = foreign_badge(elsewhere)
        response = post_link(app.test_client(), jws, "x@atelier.example")
        assert "/image.png" not in elsewhere.asked  # images of other sites are not fetched
    assert response.status_code == 200
    assert verdict(response)[0] == Status.VALID.value
    raw = response.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert "&lt;/dd&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in raw
    assert "&lt;b onmouseover=" in raw and "Atelier &amp; Cie" in raw
    assert "&lt;img src=" in raw and "&lt;iframe" in raw
    for markup in ("<script>alert", "<b onmouseover", '<img src="x"', "<iframe"):
        assert markup not in raw, markup
    assert "Ce badge a bien été délivré à la personne que vous avez indiquée." in html.unescape(raw)
    assert changed_tables(before, snapshot(app)) == ()  # not one of ours: not counted


# -- Counting (VER-06) ------------------------------------------------------------------------


def test_each_verification_of_our_badge_appends_one_row_with_the_badge_and_month(app, anyone, demo):
    with app.app_context():
        columns = {c["name"] for c in inspect(db.engine).get_columns("badge_verifications")}
    assert columns == {"id", "assertion_id", "month"}
    lea = demo["lea_planifier"]
    png = anyone.get(f"/badges/{lea.public_id}/badge.png?variante=signee").get_data()
    before = snapshot(app)

    assert check_link(anyone, lea.url).status_code == 200
    assert verifications(app) == [(lea.row_id, MONTH)]
    assert post_link(anyone, f"{lea.url}.json", LEA_EMAIL).status_code == 200
    assert verifications(app) == [(lea.row_id, MONTH)] * 2
    assert upload(anyone, png, "badge.png").status_code == 200
    assert verifications(app) == [(lea.row_id, MONTH)] * 3
    revoked = demo["lea_revoked"]
    assert check_link(anyone, revoked.url).status_code == 200  # a withdrawn badge counts too
    assert verifications(app) == [(lea.row_id, MONTH)] * 3 + [(revoked.row_id, MONTH)]
    assert changed_tables(before, snapshot(app)) == ("badge_verifications",)

    before = snapshot(app)
    assert check_link(anyone, "eyJhbGciOiJSUzI1NiJ9.eyJ9.x").status_code == 400
    assert upload(anyone, b"rien", "rien.png").status_code == 400
    assert changed_tables(before, snapshot(app)) == ()


# -- Rate limit, privacy of the result page ---------------------------------------------------


def test_the_page_is_rate_limited_with_a_french_message(world_app_with):
    app = world_app_with(
        NOW=lambda: CLOCK, VERIFY_RATE_LIMIT="2 per minute", RATELIMIT_ENABLED=True
    )
    client = app.test_client()
    link = f"{demo_badges(app)['lea_planifier'].url}.json"
    assert [check_link(client, link).status_code for _ in range(2)] == [200, 200]
    response = check_link(client, link)
    assert response.status_code == 429
    assert "Trop de tentatives en peu de temps." in text(response)
    assert len(verifications(app)) == 2


def test_the_result_shows_nothing_else_about_the_worker(app, anyone, demo):
    """VER-05: no link to the worker's profile, shared pages or other badges."""
    lea = demo["lea_planifier"]
    with app.app_context():
        user = db.session.get(User, lea.user_id)
        assert user is not None
        names = (user.first_name, user.last_name)
        others = db.session.scalars(
            select(Assertion.public_id).where(
                Assertion.user_id == lea.user_id, Assertion.id != lea.row_id
            )
        ).all()
    assert others  # léa has another (withdrawn) badge
    for response in (check_link(anyone, lea.url), post_link(anyone, lea.url, LEA_EMAIL)):
        assert response.status_code == 200
        raw = response.get_data(as_text=True)
        links = re.findall(r'(?:href|src|action)="([^"]*)"', raw)
        assert links
        for link in links:
            assert "/s/" not in link and "/profils/" not in link, link
            assert not link.startswith(f"{BASE_URL}/badges/{lea.public_id}"), link
        for other in others:
            assert other not in raw
        assert f"{names[0]} {names[1]}" not in html.unescape(raw)
        assert names[1] not in html.unescape(raw)


def test_with_csrf_on_both_forms_need_the_pages_token_and_a_shared_link_does_not(
    world_app_with,
):
    app = world_app_with(NOW=lambda: CLOCK, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    lea = demo_badges(app)["lea_planifier"]
    png = client.get(f"/badges/{lea.public_id}/badge.png").get_data()
    before = snapshot(app)
    for refused in (upload(client, png, "badge.png"), post_link(client, lea.url, LEA_EMAIL)):
        assert refused.status_code == 400
        assert "Le formulaire a expiré ou n'a pas été envoyé depuis Jalon." in text(refused)
    assert changed_tables(before, snapshot(app)) == ()
    form = client.get("/verifier").get_data(as_text=True)
    tokens = re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert len(tokens) == 2, form  # one per form
    token = tokens[0]
    for response in (
        upload(client, png, "badge.png", LEA_EMAIL, csrf_token=token),
        post_link(client, lea.url, LEA_EMAIL, csrf_token=token),
    ):
        assert response.status_code == 200
        assert verdict(response)[0] == Status.VALID.value
        assert ("recipient", True) in verdict(response)[1]
    assert check_link(app.test_client(), lea.url).status_code == 200  # no token, no identity
