"""Notifications from the web: told on approval, the admin's page of messages, re-sending.

Karim has a phone, so his new badge is told by SMS: to the outbox file by default, to
a test provider (``tests/support/senders.py``) when the tests name one.
"""

from __future__ import annotations

import html
import json
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
    app = _app(world_app_with, tmp_path)
    ids = _ids(app)
    assert _approve(app, ids).status_code == 302
    sent = _sent(app, ids)
    assert (sent.kind, sent.channel, sent.attempts, sent.sent_at) == (
        "badge_pending",
        "sms",
        1,
        CLOCK,
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
    assert "Échec (ConnectionRefusedError)" in page


def test_the_admin_page_lists_messages_masked_and_what_the_outbox_holds(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path)
    ids = _ids(app)
    _approve(app, ids)
    admin = sign_in(app, "claire.admin")
    staff_home = _text(admin.get(ids.url("/admin/personnes")))
    assert f'href="{ids.url("/admin/envois")}">Messages envoyés<' in staff_home
    page = _text(admin.get(ids.url("/admin/envois")))
    assert "Karim Benali" in page and "Nouveau badge numérique" in page
    assert "••••••78" in page and "Envoyé le" in page
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
    response = sophie.post(resend)
    assert response.headers["Location"] == ids.url(f"/salaries/{ids.karim}")
    assert _sent(app, ids).attempts == 2
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
    assert _sent(app, ids).attempts == 1


@pytest.mark.parametrize(("login", "status"), [("marc.encadrant", 403), ("b.admin", 404)])
def test_others_cannot_resend(world_app_with, tmp_path, login, status):
    app = _app(world_app_with, tmp_path)
    ids = _ids(app)
    _approve(app, ids)
    sent = _sent(app, ids)
    response = sign_in(app, login).post(ids.url(f"/admin/envois/{sent.public_id}/renvoyer"))
    assert response.status_code == status
    assert _sent(app, ids).attempts == 1


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
