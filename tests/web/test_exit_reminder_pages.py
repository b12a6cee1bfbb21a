"""Reminders after an exit on the web (SHR-11): scheduled when an admin ends a contract,
shown as planned on the admin's messages page, then as sent; never re-sent by hand."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.cli import notifications as notifications_cli
from app.extensions import db
from app.models import OneTimeCode, OutboundNotification
from tests.api import member, sign_in
from tests.support.senders import RecordingSms
from tests.support.world import NOW

DUE = datetime(2027, 1, 2, 8, 0, tzinfo=UTC)  # 2 months after NOW, 09:00 in Paris
KARIM_PHONE_FORMS = ("+33612345678", "0612345678", "06 12 34 56 78")


def _app(world_app_with, tmp_path: Path, **config: Any) -> Flask:  # type: ignore[no-untyped-def]
    settings: dict[str, Any] = {
        "NOW": lambda: NOW,
        "EXIT_REMINDER_MONTHS": "2",
        "SMS_BACKEND": "tests.support.senders:RecordingSms",
        "OUTBOX_PATH": str(tmp_path / "outbox.jsonl"),
    }
    return world_app_with(**(settings | config))


def _ids(app: Flask, login: str) -> tuple[str, str]:
    with app.app_context():
        m = member(db.session, login)
        return m.structure.public_id, m.public_id


def _end(admin: FlaskClient, app: Flask, login: str) -> None:
    structure, worker = _ids(app, login)
    response = admin.post(
        f"/s/{structure}/admin/personnes/{worker}/fin", data={"ended_on": NOW.date().isoformat()}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _reminders(app: Flask) -> list[OutboundNotification]:
    with app.app_context():
        found = list(
            db.session.scalars(
                select(OutboundNotification)
                .where(OutboundNotification.kind == "exit_reminder")
                .order_by(OutboundNotification.id)
            )
        )
        db.session.expunge_all()
        return found


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def test_ending_a_contract_schedules_the_reminders_shown_as_planned(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path)
    admin = sign_in(app, "claire.admin")
    _end(admin, app, "karim")
    (reminder,) = _reminders(app)
    assert (reminder.due_at, reminder.sent_at, reminder.channel) == (DUE, None, "sms")
    structure, worker = _ids(app, "karim")
    page = _text(admin.get(f"/s/{structure}/admin/envois"))
    assert "Aucun message pour le moment." in page  # nothing sent yet
    planned = page[page.index("Rappels prévus") :]
    assert "Prévu le 02/01/2027 à 09:00" in planned and "Karim Benali" in planned
    assert "Rappel après le départ" in planned
    assert 'SMS <span class="muted">••••••78</span>' in planned
    for phone in KARIM_PHONE_FORMS:
        assert phone not in page
    file = _text(admin.get(f"/s/{structure}/salaries/{worker}"))
    assert "Rappel après le départ" in file and "Prévu le 02/01/2027 à 09:00." in file


def test_no_reminder_when_the_setting_is_empty_or_for_staff(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path, EXIT_REMINDER_MONTHS="")
    admin = sign_in(app, "claire.admin")
    _end(admin, app, "karim")
    staff = _app(world_app_with, tmp_path)
    _end(sign_in(staff, "claire.admin"), staff, "sophie.cip")
    assert _reminders(app) == [] and _reminders(staff) == []
    structure, _ = _ids(app, "karim")
    assert "Rappels prévus" not in _text(admin.get(f"/s/{structure}/admin/envois"))


def test_once_due_the_page_shows_what_was_sent_and_what_was_not(
    world_app_with, tmp_path, monkeypatch
):
    app = _app(world_app_with, tmp_path)
    admin = sign_in(app, "claire.admin")
    _end(admin, app, "karim")
    _end(admin, app, "julie")  # no badge: nothing to share
    RecordingSms.sent.clear()
    monkeypatch.setattr(notifications_cli, "utcnow", lambda: DUE + timedelta(hours=1))
    result = app.test_cli_runner().invoke(args=["notifications", "send-due", "--apply"])
    assert "1 sent" in result.output and "1 skipped" in result.output, result.output
    assert len(RecordingSms.sent) == 1
    structure, _ = _ids(app, "karim")
    page = _text(admin.get(f"/s/{structure}/admin/envois"))
    assert "Rappels prévus" not in page
    assert "Envoyé le 02/01/2027 à 10:00" in page and "Rappel après le départ" in page
    assert "Pas envoyé : aucun badge numérique à montrer" in page
    assert "Renvoyer" not in page


def test_a_reminder_cannot_be_resent_from_the_page(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path)
    admin = sign_in(app, "claire.admin")
    _end(admin, app, "karim")
    (reminder,) = _reminders(app)
    structure, _ = _ids(app, "karim")
    with app.app_context():
        codes = db.session.scalar(select(func.count(OneTimeCode.id)))
    RecordingSms.sent.clear()
    response = admin.post(f"/s/{structure}/admin/envois/{reminder.public_id}/renvoyer")
    assert response.status_code == 302
    assert "Ce message ne peut pas être renvoyé." in _text(admin.get(response.headers["Location"]))
    assert RecordingSms.sent == []
    (after,) = _reminders(app)
    assert (after.attempts, after.sent_at, after.last_error) == (0, None, None)
    with app.app_context():
        assert db.session.scalar(select(func.count(OneTimeCode.id))) == codes


def test_a_claim_code_is_not_sent_again_to_someone_who_has_left(world_app_with, tmp_path):
    """A new code would sign in someone who left, and stop the sheet they kept working."""
    app = _app(world_app_with, tmp_path)
    admin = sign_in(app, "claire.admin")
    structure, worker = _ids(app, "karim")
    sheet = admin.post(f"/s/{structure}/salaries/{worker}/code-de-retrait", data={"send": "y"})
    assert sheet.status_code == 200
    _end(admin, app, "karim")
    with app.app_context():
        claim = db.session.scalars(
            select(OutboundNotification)
            .where(
                OutboundNotification.kind == "claim_code",
                OutboundNotification.user_id == member(db.session, "karim").user_id,
            )
            .order_by(OutboundNotification.id.desc())
        ).first()
        assert claim is not None
        codes = db.session.scalar(select(func.count(OneTimeCode.id)))
    assert "Renvoyer" not in _text(admin.get(f"/s/{structure}/admin/envois"))

    response = admin.post(f"/s/{structure}/admin/envois/{claim.public_id}/renvoyer")

    assert response.status_code == 302
    page = _text(admin.get(response.headers["Location"]))
    assert "Cette personne ne fait plus partie de la structure." in page
    with app.app_context():
        assert db.session.scalar(select(func.count(OneTimeCode.id))) == codes


def test_without_a_provider_the_pages_say_the_reminder_did_not_go_and_will_later(
    world_app_with, tmp_path, monkeypatch
):
    app = _app(world_app_with, tmp_path, SMS_BACKEND="outbox")
    admin = sign_in(app, "claire.admin")
    _end(admin, app, "karim")
    structure, worker = _ids(app, "karim")
    planned = _text(admin.get(f"/s/{structure}/admin/envois"))
    planned = planned[planned.index("Rappels prévus") :]
    assert "Aucun fournisseur configuré : il sera seulement écrit dans le fichier local." in planned
    monkeypatch.setattr(notifications_cli, "utcnow", lambda: DUE + timedelta(hours=1))
    result = app.test_cli_runner().invoke(args=["notifications", "send-due", "--apply"])
    assert result.output.startswith("1 due: 0 sent, "), result.output
    page = _text(admin.get(f"/s/{structure}/admin/envois"))
    assert "Envoyé le" not in page and "Rappels prévus" not in page
    assert "Écrit dans le fichier local : rien n'est parti (aucun fournisseur configuré)" in page
    assert "Le rappel partira dès qu'un fournisseur sera configuré." in page
    assert "Renvoyer" not in page
    file = _text(admin.get(f"/s/{structure}/salaries/{worker}"))
    assert "Envoyé le" not in file
    assert (
        "Écrit dans le fichier local : rien n'est parti (aucun fournisseur configuré). "
        "Le rappel partira dès qu'un fournisseur sera configuré." in file
    )
    (reminder,) = _reminders(app)
    assert (reminder.sent_at, reminder.attempts, reminder.last_error) == (None, 0, "outbox")
