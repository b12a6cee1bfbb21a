"""Notifications from the web: told on approval, the admin's page of messages, re-sending.

Karim has a phone, so his new badge is told by SMS: to the outbox file by default (which
sends nothing, and every page says so), to a test provider (``tests/support/senders.py``)
when the tests name one.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Assertion, OutboundNotification, Proposal, User
from app.services import notifications
from tests.api import member, sign_in
from tests.services.test_assessments import T, scene
from tests.support.routes import b_member
from tests.support.senders import RecordingSms

CLOCK = T + timedelta(hours=1)
OUTBOX_STATE = "Écrit dans le fichier local : rien n'est parti (aucun fournisseur configuré)"
OUTBOX_FLASH = (
    "Le message n'est pas parti : aucun fournisseur d'envoi n'est configuré, "
    "il est seulement écrit dans le fichier local."
)
KARIM_PHONE_FORMS = ("+33612345678", "0612345678", "06 12 34 56 78", "612345678")


@dataclass(frozen=True)
class Ids:
    structure: str
    proposal: str
    karim: str

    def url(self, tail: str) -> str:
        return f"/s/{self.structure}{tail}"


def _app(world_app_with, tmp_path: Path, **config: Any) -> Flask:  # type: ignore[no-untyped-def]
    return world_app_with(NOW=lambda: CLOCK, OUTBOX_PATH=str(tmp_path / "outbox.jsonl"), **config)


def _ids(app: Flask) -> Ids:
    """Karim's teamwork criteria are met: a pending proposal for him."""
    with app.app_context():
        s = scene(db.session, worker="karim")
        s.met()
        (proposal,) = [p for p in s.proposals() if p.status == "pending"]
        found = Ids(s.worker.structure.public_id, proposal.public_id, s.worker.public_id)
        db.session.commit()
        return found


def _approve(app: Flask, ids: Ids):  # type: ignore[no-untyped-def]
    return sign_in(app, "nadia.validatrice").post(
        ids.url(f"/propositions/{ids.proposal}/decision"),
        data={"decision": "approve", "comment": "Observations concordantes."},
    )


def _sent(app: Flask, ids: Ids) -> OutboundNotification:
    with app.app_context():
        proposal = db.session.scalars(
            select(Proposal).where(Proposal.public_id == ids.proposal)
        ).one()
        badge = db.session.scalars(
            select(Assertion).where(Assertion.proposal_id == proposal.id)
        ).one()
        found = db.session.scalars(
            select(OutboundNotification).where(OutboundNotification.assertion_id == badge.id)
        ).one()
        db.session.expunge(found)
        return found


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def test_approving_a_badge_tells_the_worker_by_sms_after_the_commit(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path, SMS_BACKEND="tests.support.senders:RecordingSms")
    RecordingSms.sent.clear()
    ids = _ids(app)
    assert _approve(app, ids).status_code == 302
    sent = _sent(app, ids)
    assert (sent.kind, sent.channel, sent.attempts, sent.sent_at) == (
        "badge_pending",
        "sms",
        1,
        CLOCK,
    )
    (message,) = RecordingSms.sent
    assert message.to == "+33612345678" and message.body.endswith("http://localhost/moi/badges")


def test_without_a_provider_the_message_is_only_written_to_the_outbox(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path)
    ids = _ids(app)
    assert _approve(app, ids).status_code == 302
    sent = _sent(app, ids)
    assert (sent.kind, sent.channel, sent.attempts, sent.sent_at, sent.last_error) == (
        "badge_pending",
        "sms",
        0,
        None,
        "outbox",
    )
    (line,) = [json.loads(x) for x in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert line["kind"] == "badge_pending" and line["structure"] == ids.structure
    assert "vous avez un nouveau badge numérique : Travailler en équipe" in line["body"]
    assert line["body"].endswith("http://localhost/moi/badges")
    assert line["to"] == "••••••78"


def test_a_provider_failure_is_recorded_and_the_badge_stays_issued(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path, SMS_BACKEND="tests.support.senders:FailingSms")
    ids = _ids(app)
    response = _approve(app, ids)
    assert response.status_code == 302
    sent = _sent(app, ids)  # the badge exists: the approval was not undone
    assert (sent.attempts, sent.sent_at, sent.last_error) == (1, None, "ConnectionRefusedError")
    with app.app_context():
        status = db.session.scalars(
            select(Proposal.status).where(Proposal.public_id == ids.proposal)
        ).one()
        assert status == "approved"
    page = _text(sign_in(app, "claire.admin").get(ids.url("/admin/envois")))
    # Plain French for staff; the class name stays in the server's log.
    assert "Le fournisseur n'a pas répondu" in page
    assert "ConnectionRefusedError" not in page and "Échec" not in page


def test_the_admin_page_lists_messages_masked_and_what_the_outbox_holds(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path)
    ids = _ids(app)
    _approve(app, ids)
    admin = sign_in(app, "claire.admin")
    staff_home = _text(admin.get(ids.url("/admin/personnes")))
    assert f'href="{ids.url("/admin/envois")}">Messages envoyés<' in staff_home
    page = _text(admin.get(ids.url("/admin/envois")))
    assert "Karim Benali" in page and "Nouveau badge numérique" in page
    assert "••••••78" in page
    assert OUTBOX_STATE in page and "Envoyé le" not in page
    assert "Ce qui aurait été envoyé" in page
    assert "Connectez-vous pour le voir et choisir : http://localhost/moi/badges" in page
    for phone in KARIM_PHONE_FORMS:
        assert phone not in page
    # Another structure's messages are not listed (B's badge was told in person).
    with app.app_context():
        b_user = b_member(db.session, "b.salarie").user.display_name
    assert b_user not in page


def test_an_admin_resends_a_failed_message(world_app_with, tmp_path):
    failing = _app(world_app_with, tmp_path, SMS_BACKEND="tests.support.senders:FailingSms")
    ids = _ids(failing)
    _approve(failing, ids)
    sent = _sent(failing, ids)
    # The provider is back: the same database, served with a working provider.
    RecordingSms.sent.clear()
    working = world_app_with(
        NOW=lambda: CLOCK + timedelta(hours=1),
        SQLALCHEMY_DATABASE_URI=failing.config["SQLALCHEMY_DATABASE_URI"],
        SMS_BACKEND="tests.support.senders:RecordingSms",
    )
    admin = sign_in(working, "claire.admin")
    resend = ids.url(f"/admin/envois/{sent.public_id}/renvoyer")
    response = admin.post(resend)
    assert response.status_code == 302
    assert response.headers["Location"] == ids.url("/admin/envois")
    assert "Le message est renvoyé." in _text(admin.get(response.headers["Location"]))
    again = _sent(working, ids)
    assert (again.attempts, again.sent_at, again.last_error) == (
        2,
        CLOCK + timedelta(hours=1),
        None,
    )
    (message,) = RecordingSms.sent
    assert message.to == "+33612345678" and message.kind == "badge_pending"


def test_a_conseillere_resends_from_the_workers_page(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path)
    ids = _ids(app)
    _approve(app, ids)
    sent = _sent(app, ids)
    sophie = sign_in(app, "sophie.cip")
    page = _text(sophie.get(ids.url(f"/salaries/{ids.karim}")))
    resend = ids.url(f"/admin/envois/{sent.public_id}/renvoyer")
    assert "Messages envoyés" in page and f'action="{resend}"' in page
    assert OUTBOX_STATE in page and "Envoyé le" not in page
    response = sophie.post(resend)
    assert response.headers["Location"] == ids.url(f"/salaries/{ids.karim}")
    # Written again to the outbox, and said so: nothing was sent, no provider was tried.
    assert OUTBOX_FLASH in _text(sophie.get(response.headers["Location"]))
    again = _sent(app, ids)
    assert (again.attempts, again.sent_at, again.last_error) == (0, None, "outbox")
    assert len((tmp_path / "outbox.jsonl").read_text().splitlines()) == 2
    # The admin's page is the admin's.
    assert sophie.get(ids.url("/admin/envois")).status_code == 403


def test_an_answered_badge_is_not_told_again(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path)
    ids = _ids(app)
    _approve(app, ids)
    sent = _sent(app, ids)
    with app.app_context():
        badge = db.session.get(Assertion, sent.assertion_id)
        assert badge is not None
        badge.consent = "accepted"
        db.session.commit()
    admin = sign_in(app, "claire.admin")
    assert "Renvoyer" not in _text(admin.get(ids.url("/admin/envois")))
    response = admin.post(ids.url(f"/admin/envois/{sent.public_id}/renvoyer"))
    assert response.status_code == 302
    assert "n'attend plus de réponse" in _text(admin.get(response.headers["Location"]))
    assert len((tmp_path / "outbox.jsonl").read_text().splitlines()) == 1  # not written again
    after = _sent(app, ids)
    assert (after.attempts, after.last_error) == (sent.attempts, sent.last_error)


@pytest.mark.parametrize(("login", "status"), [("marc.encadrant", 403), ("b.admin", 404)])
def test_others_cannot_resend(world_app_with, tmp_path, login, status):
    app = _app(world_app_with, tmp_path)
    ids = _ids(app)
    _approve(app, ids)
    sent = _sent(app, ids)
    response = sign_in(app, login).post(ids.url(f"/admin/envois/{sent.public_id}/renvoyer"))
    assert response.status_code == status
    assert len((tmp_path / "outbox.jsonl").read_text().splitlines()) == 1  # not written again
    after = _sent(app, ids)
    assert (after.attempts, after.last_error) == (sent.attempts, sent.last_error)


def test_a_conseillere_resends_only_to_the_workers_she_follows(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path)
    with app.app_context():
        lea = member(db.session, "lea")
        claim = notifications.queue_claim_code(
            db.session,
            user=lea.user,
            structure=lea.structure,
            code="ABCD-EFGH",
            expires_at=CLOCK + timedelta(days=30),
            base_url="http://localhost",
            now=CLOCK,
        ).notification
        url = f"/s/{lea.structure.public_id}/admin/envois/{claim.public_id}/renvoyer"
        db.session.commit()
    assert sign_in(app, "sophie.cip").post(url).status_code == 404
    with app.app_context():
        assert (
            db.session.scalars(
                select(OutboundNotification.attempts).join(User).where(User.login == "lea")
            ).one()
            == 0
        )


def _claim_code_for(app: Flask, login: str, code: str) -> tuple[str, str]:
    """A claim code message recorded for ``login`` (not sent); its structure and id."""
    with app.app_context():
        worker = member(db.session, login)
        claim = notifications.queue_claim_code(
            db.session,
            user=worker.user,
            structure=worker.structure,
            code=code,
            expires_at=CLOCK + timedelta(days=30),
            base_url="http://localhost",
            now=CLOCK,
        ).notification
        db.session.commit()
        return worker.structure.public_id, claim.public_id


def test_a_resend_that_really_goes_says_so_and_one_to_the_outbox_says_it_did_not(
    world_app_with, tmp_path
):
    app = _app(world_app_with, tmp_path)
    structure, claim = _claim_code_for(app, "karim", "ABCD-EFGH")
    admin = sign_in(app, "claire.admin")
    resend = f"/s/{structure}/admin/envois/{claim}/renvoyer"
    page = _text(admin.get(admin.post(resend).headers["Location"]))
    assert OUTBOX_FLASH in page and "Le message est renvoyé." not in page
    RecordingSms.sent.clear()
    working = world_app_with(
        NOW=lambda: CLOCK,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SMS_BACKEND="tests.support.senders:RecordingSms",
    )
    admin = sign_in(working, "claire.admin")
    page = _text(admin.get(admin.post(resend).headers["Location"]))
    assert "Le message est renvoyé." in page and OUTBOX_FLASH not in page
    assert [m.kind for m in RecordingSms.sent] == ["claim_code"]


def test_the_admin_page_never_shows_a_claim_code(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path)
    structure, claim = _claim_code_for(app, "karim", "ABCD-EFGH")
    admin = sign_in(app, "claire.admin")
    # Re-sending issues a new code, written to the outbox: the page shows the link, masked.
    admin.post(f"/s/{structure}/admin/envois/{claim}/renvoyer")
    (line,) = [json.loads(x) for x in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert "code=••••" in line["body"]
    page = _text(admin.get(f"/s/{structure}/admin/envois"))
    assert "http://localhost/connexion/retrait?identifiant=karim&code=•••• ." in page
    assert "code=" not in page.replace("code=••••", "")
    assert "Les codes de retrait y sont masqués : seule la feuille imprimée les montre." in page


@pytest.mark.parametrize(
    ("error", "label"),
    [
        ("SMTPRecipientsRefused", "Le fournisseur a refusé l'envoi"),
        ("SMTPException", "Le fournisseur a refusé l'envoi"),
        ("TimeoutError", "Le fournisseur n'a pas répondu"),
        ("ProviderQuotaExceeded", "L'envoi a échoué"),
    ],
)
def test_a_failure_is_told_in_plain_french(world_app_with, tmp_path, error, label):
    app = _app(world_app_with, tmp_path)
    structure, claim = _claim_code_for(app, "karim", "ABCD-EFGH")
    with app.app_context():
        row = db.session.scalars(
            select(OutboundNotification).where(OutboundNotification.public_id == claim)
        ).one()
        row.attempts, row.last_error = 1, error
        db.session.commit()
    page = _text(sign_in(app, "claire.admin").get(f"/s/{structure}/admin/envois"))
    assert label in page and error not in page and "Échec" not in page


def test_each_resend_button_names_its_message_and_person(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path)
    ids = _ids(app)
    _approve(app, ids)
    _claim_code_for(app, "karim", "ABCD-EFGH")
    admin = sign_in(app, "claire.admin")
    for page in (
        _text(admin.get(ids.url("/admin/envois"))),
        _text(admin.get(ids.url(f"/salaries/{ids.karim}"))),
    ):
        names = re.findall(r'<button type="submit" class="button secondary">(.*?)</button>', page)
        resend = [re.sub(r"<[^>]+>", "", name) for name in names if name.startswith("Renvoyer")]
        # « Renvoyer » is what is seen; the rest is read out by a screen reader only.
        assert [name.split("<span")[0] for name in names if "Renvoyer" in name] == [
            "Renvoyer",
            "Renvoyer",
        ]
        assert all(
            name.startswith('Renvoyer<span class="visually-hidden"> : ')
            for name in names
            if "Renvoyer" in name
        )
        assert sorted(re.sub(r", du \S+ à \S+$", "", name) for name in resend) == [
            "Renvoyer : Code de retrait à Karim Benali",
            "Renvoyer : Nouveau badge numérique à Karim Benali",
        ]
