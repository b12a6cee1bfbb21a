"""Sign-in with a password, a short code, a one-time code; CSRF; throttling."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Membership, OneTimeCode, User
from tests.support.world import STAFF_SECRET, WORKER_SECRET


def login(client, who: str, secret: str):
    return client.post("/connexion", data={"login": who, "secret": secret})


def test_staff_signs_in_with_a_password_and_lands_on_the_structure_home(world_client):
    response = login(world_client, "marc.encadrant", STAFF_SECRET)
    assert response.status_code == 302
    assert re.fullmatch(r"/s/[A-Za-z0-9_-]{22}/", response.headers["Location"])
    page = world_client.get(response.headers["Location"])
    assert "Mon équipe" in page.get_data(as_text=True)


def test_a_worker_without_email_or_phone_signs_in_with_an_identifier_and_a_short_code(
    world_app, world_client
):
    with world_app.app_context():
        julie = db.session.scalar(select(User).where(User.login == "julie"))
        assert julie.email is None and julie.phone is None
    response = login(world_client, "julie", WORKER_SECRET)
    assert response.headers["Location"] == "/moi/"
    assert "Bonjour Julie" in world_client.get("/moi/").get_data(as_text=True)


def test_a_wrong_secret_is_refused_in_plain_french_and_records_nothing(world_app, world_client):
    with world_app.app_context():
        before = db.session.scalar(select(db.func.count(AuditEvent.id)))
    response = login(world_client, "julie", "000000")
    assert response.status_code == 400
    assert "Identifiant ou code incorrect" in response.get_data(as_text=True)
    assert world_client.get("/moi/").status_code == 302
    with world_app.app_context():
        assert db.session.scalar(select(db.func.count(AuditEvent.id))) == before


def test_reset_code_signs_in_once_forces_a_new_code_and_shows_in_activity(world_app):
    staff = world_app.test_client()
    login(staff, "sophie.cip", STAFF_SECRET)
    with world_app.app_context():
        karim = db.session.scalar(
            select(Membership).join(Membership.user).where(User.login == "karim")
        )
        url = f"/s/{karim.structure.public_id}/salaries/{karim.public_id}/code"
    page = staff.post(url).get_data(as_text=True)
    code = re.search(r'class="big-code">([A-Z0-9-]+)<', page).group(1)
    with world_app.app_context():
        stored = db.session.scalars(select(OneTimeCode)).all()
        assert all(code.replace("-", "") not in (c.code_hash or "") for c in stored)

    worker = world_app.test_client()
    response = login(worker, "karim", code.lower())  # case and dashes do not matter
    assert response.headers["Location"] == "/moi/code"
    # Until a new secret is chosen, every other page sends back to the form.
    assert worker.get("/moi/").headers["Location"] == "/moi/code"
    worker.post("/moi/code", data={"new_secret": "739154", "confirm": "739154"})
    assert worker.get("/moi/").status_code == 200
    activity = worker.get("/moi/activite").get_data(as_text=True)
    assert "Nouveau code donné par l'équipe" in activity
    assert "Sophie Bernard" in activity

    # The one-time code works once; the old code no longer matters to staff.
    assert login(world_app.test_client(), "karim", code).status_code == 400
    assert login(world_app.test_client(), "karim", "739154").status_code == 302


def test_an_expired_reset_code_is_refused(world_app):
    from datetime import timedelta

    from app.domain.enums import CodeKind
    from app.models.base import utcnow
    from app.services import accounts

    with world_app.app_context():
        user = db.session.scalar(select(User).where(User.login == "lea"))
        code = accounts.issue_one_time_code(
            db.session,
            user=user,
            kind=CodeKind.RESET,
            now=utcnow() - timedelta(days=8),
            actor=None,
            structure=None,
            valid_days=7,
        )
        db.session.commit()
    assert login(world_app.test_client(), "lea", code).status_code == 400


def test_printed_recovery_codes_each_work_once(world_app):
    worker = world_app.test_client()
    login(worker, "ousmane", WORKER_SECRET)
    page = worker.post("/moi/codes-de-secours").get_data(as_text=True)
    codes = re.findall(r"<li><code>([A-Z0-9-]+)</code></li>", page)
    assert len(codes) == 8
    other = world_app.test_client()
    assert login(other, "ousmane", codes[3]).headers["Location"] == "/moi/code"
    assert login(world_app.test_client(), "ousmane", codes[3]).status_code == 400


def test_forms_refuse_a_missing_csrf_token(world_app_with):
    app = world_app_with(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = login(client, "julie", WORKER_SECRET)
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)
    page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    ok = client.post(
        "/connexion", data={"login": "julie", "secret": WORKER_SECRET, "csrf_token": token}
    )
    assert ok.status_code == 302


def test_login_is_throttled_with_a_french_message(world_app_with):
    app = world_app_with(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [login(client, "julie", "wrong-guess").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    response = login(client, "julie", WORKER_SECRET)
    assert response.status_code == 429
    assert "Trop de tentatives" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_session_cookie_is_hardened(world_app_with):
    app = world_app_with(BASE_URL="https://jalon.example")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = login(app.test_client(), "julie", WORKER_SECRET)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
