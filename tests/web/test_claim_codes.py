"""Claim sheets (SHR-06): printed by a conseiller·ère, opened by the QR code, used once.

The app's clock is a mutable ``NOW`` so that a code can be tried after its expiry.
"""

from __future__ import annotations

import base64
import html
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from app.domain.enums import CodeKind
from app.extensions import db
from app.models import Membership, OneTimeCode, OutboundNotification, User
from app.services import notifications, qr
from tests.api import member, sign_in
from tests.support.routes import b_member, changed_tables, snapshot
from tests.support.senders import KeepingSmtp, RecordingSms
from tests.support.world import NOW, STAFF_SECRET, WORKER_SECRET

CLOCK = {"now": NOW}


@pytest.fixture
def app(world_app_with, tmp_path: Path) -> Flask:  # type: ignore[no-untyped-def]
    CLOCK["now"] = NOW
    return world_app_with(NOW=lambda: CLOCK["now"], OUTBOX_PATH=str(tmp_path / "outbox.jsonl"))


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def _sheet_url(app: Flask, login: str) -> str:
    with app.app_context():
        worker = member(db.session, login)
        return f"/s/{worker.structure.public_id}/salaries/{worker.public_id}/code-de-retrait"


def _worker_url(app: Flask, login: str) -> str:
    return _sheet_url(app, login).removesuffix("/code-de-retrait")


def _print(app: Flask, login: str, by: str = "sophie.cip", **form: str) -> str:
    """Print ``login``'s claim sheet as ``by``; the page's text."""
    response = sign_in(app, by).post(_sheet_url(app, login), data=form)
    assert response.status_code == 200
    return _text(response)


def _field(page: str, name: str) -> tuple[str, str]:
    """The type and value of the input named ``name``."""
    tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', page).group(0)  # type: ignore[union-attr]
    kind = re.search(r'type="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
    value = re.search(r'value="([^"]*)"', tag)
    return kind, value.group(1) if value else ""


def _code(sheet: str) -> str:
    return re.search(r'class="claim-code">([A-Z0-9-]+)<', sheet).group(1)  # type: ignore[union-attr]


def _claim(app: Flask, login: str, code: str):  # type: ignore[no-untyped-def]
    """Open the claim page as a phone would, then send its form; the sign-in response."""
    client = app.test_client()
    page = _text(client.get(f"/connexion/retrait?identifiant={login}&code={code}"))
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client, client.post(action, data={"login": login, "secret": code})


def _badges_path(app: Flask) -> str:
    """Where a claiming worker lands: their badges page."""
    return "/moi/badges"


def test_the_sheet_shows_the_identifier_the_code_and_a_qr_code_of_the_claim_link(app):
    sheet = _print(app, "karim")
    code = _code(sheet)
    assert "Récupérer mes badges numériques" in sheet
    assert "<code>karim</code>" in sheet
    (png,) = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', sheet)
    decoded = qr.decode_qr(base64.b64decode(png))
    assert decoded == notifications.claim_url("http://localhost", "karim", code)
    assert decoded.startswith("http://localhost/connexion/retrait?identifiant=karim&code=")
    # Plain steps, the single use, the last day, and who to ask.
    assert "Scannez le code QR avec votre téléphone." in sheet
    assert "Ou allez sur http://localhost/connexion. Tapez votre identifiant et le code." in sheet
    assert "Le code marche une seule fois." in sheet
    assert "Il ne marche plus à partir du 2 décembre 2026." in sheet  # NOW + 30 days, Paris
    assert "Demandez un nouveau code à votre conseiller·ère." in sheet
    # Printing: a button shown by JavaScript, a print stylesheet (QR code of 5 cm).
    button = '<button type="button" class="button" data-print hidden>Imprimer</button>'
    assert button in sheet
    assert "print-button.js" in sheet and "claim-sheet.css" in sheet
    css = (Path(app.static_folder or "") / "claim-sheet.css").read_text(encoding="utf-8")
    assert re.search(r"@media print \{.*\.claim-qr \{ width: 5cm; height: 5cm; \}", css, re.S)


def test_the_claim_page_fills_in_the_form_writes_nothing_and_is_neither_cached_nor_referred(
    app,
):
    code = _code(_print(app, "karim"))
    before = snapshot(app)
    client = app.test_client()
    response = client.get(f"/connexion/retrait?identifiant=karim&code={code}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = _text(response)
    assert "Récupérer mes badges numériques" in page
    assert _field(page, "login") == ("text", "karim")
    assert _field(page, "secret") == ("text", code)
    assert f'action="/connexion?next={_badges_path(app)}"' in page
    assert '<meta name="robots" content="noindex">' in page
    assert changed_tables(before, snapshot(app)) == ()
    # Opening the link twice (a preview, then the person) does not use the code up.
    client.get(f"/connexion/retrait?identifiant=karim&code={code}")
    _client, signed = _claim(app, "karim", code)
    assert signed.status_code == 302


def test_the_claim_page_without_a_code_asks_for_both(app):
    page = _text(app.test_client().get("/connexion/retrait"))
    assert _field(page, "login") == _field(page, "secret") == ("text", "")


def test_a_claim_code_signs_in_once_then_the_worker_chooses_a_code_and_sees_their_badges(app):
    code = _code(_print(app, "julie"))
    client, signed = _claim(app, "julie", code)
    badges = _badges_path(app)
    assert signed.headers["Location"] == f"/moi/code?next={badges}"
    assert client.get("/moi/").headers["Location"] == "/moi/code"
    secret = {"new_secret": "739154", "confirm": "739154"}
    chosen = client.post(signed.headers["Location"], data=secret)
    assert chosen.headers["Location"] == badges
    with app.app_context():
        julie = db.session.scalar(select(User).where(User.login == "julie"))
        assert julie is not None and not julie.must_change_password
    # The code works once; the chosen code from then on.
    _again, refused = _claim(app, "julie", code)
    assert refused.status_code == 400
    assert "Identifiant ou code incorrect" in _text(refused)
    assert sign_in(app, "julie", "739154")


def test_a_claim_code_no_longer_works_after_its_expiry(app):
    code = _code(_print(app, "julie"))
    CLOCK["now"] = NOW + timedelta(days=30, seconds=1)
    _client, refused = _claim(app, "julie", code)
    assert refused.status_code == 400
    CLOCK["now"] = NOW + timedelta(days=29, hours=23)
    _client, signed = _claim(app, "julie", code)
    assert signed.status_code == 302


def test_a_new_sheet_replaces_the_previous_one(app):
    first = _code(_print(app, "julie"))
    second = _code(_print(app, "julie", by="claire.admin"))
    assert first != second
    assert _claim(app, "julie", first)[1].status_code == 400
    assert _claim(app, "julie", second)[1].status_code == 302
    with app.app_context():
        julie = member(db.session, "julie").user
        codes = db.session.scalars(
            select(OneTimeCode).where(
                OneTimeCode.user_id == julie.id, OneTimeCode.kind == CodeKind.CLAIM
            )
        ).all()
        assert sorted((c.revoked_at is not None, c.used_at is not None) for c in codes) == [
            (False, True),
            (True, False),
        ]


@pytest.mark.parametrize(
    ("by", "status"),
    [
        ("karim", 403),  # a worker, for themselves: not a conseiller·ère
        ("marc.encadrant", 403),
        ("nadia.validatrice", 403),
        ("b.admin", 404),  # another structure
        ("b.cip", 404),
    ],
)
def test_only_the_structures_admins_and_conseillers_print_sheets(app, by, status):
    client = sign_in(app, by, WORKER_SECRET if by == "karim" else STAFF_SECRET)
    response = client.post(_sheet_url(app, "karim"))
    assert response.status_code == status
    with app.app_context():
        karim = member(db.session, "karim").user
        assert not db.session.scalars(
            select(OneTimeCode).where(
                OneTimeCode.user_id == karim.id, OneTimeCode.kind == CodeKind.CLAIM
            )
        ).all()


def test_staff_of_structure_a_cannot_print_a_sheet_for_a_worker_of_b(app):
    with app.app_context():
        worker = b_member(db.session, "b.salarie")
        url = f"/s/{worker.structure.public_id}/salaries/{worker.public_id}/code-de-retrait"
    assert sign_in(app, "claire.admin").post(url).status_code == 404


def test_a_conseillere_prints_sheets_only_for_the_workers_she_follows(app):
    # Léa is not followed by Sophie (Maraîchage, no referent).
    response = sign_in(app, "sophie.cip").post(_sheet_url(app, "lea"))
    assert response.status_code == 404


def test_the_worker_page_offers_the_sheet_and_sending_only_when_there_is_an_address(app):
    sophie = sign_in(app, "sophie.cip")
    for login, offers_sending in (("karim", True), ("julie", False)):
        page = _text(sophie.get(_worker_url(app, login)))
        assert "Imprimer une feuille de retrait" in page
        assert f'action="{_sheet_url(app, login)}"' in page
        assert ("Envoyer aussi le lien par SMS ou par e-mail" in page) is offers_sending
    marc = _text(sign_in(app, "marc.encadrant").get(_worker_url(app, "karim")))
    assert "Imprimer une feuille de retrait" not in marc


def _claim_notification(app: Flask, login: str) -> OutboundNotification:
    with app.app_context():
        (sent,) = db.session.scalars(
            select(OutboundNotification)
            .where(OutboundNotification.kind == "claim_code")
            .join(OutboundNotification.user)
            .where(User.login == login)
        ).all()
        db.session.expunge(sent)
        return sent


def test_the_link_of_the_sheet_can_be_sent_by_sms_too(world_app_with, tmp_path):
    CLOCK["now"] = NOW
    app = world_app_with(
        NOW=lambda: CLOCK["now"],
        OUTBOX_PATH=str(tmp_path / "outbox.jsonl"),
        SMS_BACKEND="tests.support.senders:RecordingSms",
    )
    RecordingSms.sent.clear()
    sheet = _print(app, "karim", send="y")
    code = _code(sheet)
    assert "Le lien a aussi été envoyé par SMS." in sheet
    (message,) = RecordingSms.sent
    assert message.to == "+33612345678"
    assert notifications.claim_url("http://localhost", "karim", code) in message.body
    link = re.search(r"http://localhost/connexion/retrait\?\S+", message.body).group(0)  # type: ignore[union-attr]
    query = parse_qs(urlsplit(link).query)
    assert query == {"identifiant": ["karim"], "code": [code]}
    sent = _claim_notification(app, "karim")
    assert (sent.channel, sent.attempts, sent.sent_at) == ("sms", 1, NOW)
    assert not (tmp_path / "outbox.jsonl").exists()


def test_without_a_provider_the_sheet_says_the_link_did_not_go_and_the_file_hides_the_code(
    app, tmp_path
):
    sheet = _print(app, "karim", send="y")
    code = _code(sheet)
    assert "Le lien a aussi été envoyé" not in sheet
    assert (
        "Le lien n'a pas été envoyé : aucun fournisseur de SMS n'est configuré, il est "
        "seulement écrit dans le fichier local. Remettez la feuille imprimée." in sheet
    )
    outbox = (tmp_path / "outbox.jsonl").read_text(encoding="utf-8")
    assert code not in outbox and "+33612345678" not in outbox
    assert "http://localhost/connexion/retrait?identifiant=karim&code=•••• ." in outbox
    sent = _claim_notification(app, "karim")
    assert (sent.channel, sent.attempts, sent.sent_at, sent.last_error) == (
        "sms",
        0,
        None,
        "outbox",
    )


# -- Accounts that are not the structure's to manage ----------------------------------------


def _joined_a(app: Flask, login: str) -> str:
    """``login`` added to claire's structure as a worker; their worker page's URL."""
    claire = sign_in(app, "claire.admin")
    with app.app_context():
        structure_a = member(db.session, "claire.admin").structure
        a_id = structure_a.public_id
    added = claire.post(
        f"/s/{a_id}/admin/personnes/existante", data={"login": login, "roles": ["salarie"]}
    )
    assert added.status_code == 302
    with app.app_context():
        joined = db.session.scalars(
            select(Membership)
            .join(Membership.user)
            .where(User.login == login, Membership.structure_id == structure_a.id)
        ).one()
        return f"/s/{a_id}/salaries/{joined.public_id}"


def _codes(app: Flask, login: str) -> list[tuple[int, str, object]]:
    """(id, kind, revoked_at) of every one-time code of ``login``."""
    with app.app_context():
        user = db.session.scalars(select(User).where(User.login == login)).one()
        rows = db.session.execute(
            select(OneTimeCode.id, OneTimeCode.kind, OneTimeCode.revoked_at).where(
                OneTimeCode.user_id == user.id
            )
        )
        return [tuple(row) for row in rows]


@pytest.mark.parametrize(
    ("login", "reason"),
    [
        ("b.admin", "Ce compte est celui d'un membre d'une équipe"),
        ("b.salarie", "Cette personne suit aussi un parcours dans une autre structure"),
    ],
)
def test_an_admin_cannot_take_over_an_account_by_adding_it_as_a_worker(app, login, reason):
    """Added to structure A as a worker, another structure's admin or worker stays out of
    reach: no code shown or sent, no new address, whoever asks in A."""
    page = _joined_a(app, login)
    codes = _codes(app, login)
    claire = sign_in(app, "claire.admin")
    assert reason in _text(claire.get(page))
    assert "Imprimer une feuille de retrait" not in _text(claire.get(page))
    for url, form in (
        (f"{page}/code-de-retrait", {}),
        (f"{page}/code", {}),
        (f"{page}/coordonnees", {"email": "pirate@exemple.fr", "phone": ""}),
    ):
        before = snapshot(app)
        response = claire.post(url, data=form)
        assert response.status_code == 403, url
        assert reason in _text(response)
        assert changed_tables(before, snapshot(app)) == ()
    assert _codes(app, login) == codes


def test_a_platform_administrator_s_account_gets_no_code_from_a_structure(app):
    with app.app_context():
        karim = member(db.session, "karim").user
        karim.is_superadmin = True
        db.session.commit()
    response = sign_in(app, "sophie.cip").post(_sheet_url(app, "karim"))
    assert response.status_code == 403
    assert "Ce compte est celui d'un membre d'une équipe" in _text(response)
    assert [c for c in _codes(app, "karim") if c[1] == CodeKind.CLAIM] == []


def test_with_a_phone_and_an_email_the_link_goes_by_email_when_only_email_has_a_provider(
    world_app_with, tmp_path, monkeypatch
):
    from app.services import senders

    monkeypatch.setattr(senders.smtplib, "SMTP", KeepingSmtp)
    KeepingSmtp.mails.clear()
    CLOCK["now"] = NOW
    app = world_app_with(
        NOW=lambda: CLOCK["now"],
        OUTBOX_PATH=str(tmp_path / "outbox.jsonl"),
        EMAIL_BACKEND="smtp",
        SMTP_HOST="smtp.example",
        SMTP_FROM="ne-pas-repondre@jalon.example",
    )
    with app.app_context():
        member(db.session, "karim").user.email = "karim.benali@exemple.fr"
        db.session.commit()
    sheet = _print(app, "karim", send="y")
    assert "Le lien a aussi été envoyé par e-mail." in sheet
    (mail,) = KeepingSmtp.mails
    assert mail["To"] == "karim.benali@exemple.fr"
    assert notifications.claim_url("http://localhost", "karim", _code(sheet)) in mail.get_content()
    sent = _claim_notification(app, "karim")
    assert (sent.channel, sent.attempts, sent.sent_at, sent.last_error) == ("email", 1, NOW, None)
    assert not (tmp_path / "outbox.jsonl").exists()
