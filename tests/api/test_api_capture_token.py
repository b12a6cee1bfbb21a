"""The page's capture token: records observations only, only with its browser session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, User
from tests.api import Place, app_counts, bearer, capture_body, place, sign_in

NO_TOKEN = "Un jeton d'accès valide est nécessaire."


@pytest.fixture
def marc(world_app: Flask) -> tuple[Flask, Place, FlaskClient, str]:
    """Marc signed in, with a capture token asked for by his page."""
    p = place(world_app, "marc.encadrant")
    browser = sign_in(world_app, "marc.encadrant")
    response = browser.post(f"/s/{p.structure}/jeton-saisie")
    assert response.status_code == 200
    return world_app, p, browser, response.json["token"]


def _send(client: FlaskClient, p: Place, token: str, body: dict, key: str = "queued-0001"):  # type: ignore[no-untyped-def,type-arg]
    return client.post(
        f"/api/v1/structures/{p.structure}/observations",
        json=body,
        headers={**bearer(token), "Idempotency-Key": key},
    )


def test_the_page_gets_a_short_lived_token_naming_its_owner(marc):
    app, p, browser, token = marc
    response = browser.post(f"/s/{p.structure}/jeton-saisie")
    data = response.json
    assert data["token"].startswith("jcap_") and data["token"] != token
    expires = datetime.fromisoformat(data["expires_at"])
    assert timedelta(hours=11) < expires - datetime.now(UTC) <= timedelta(hours=12)
    with app.app_context():
        marc_user = db.session.scalar(select(User).where(User.login == "marc.encadrant"))
        assert data["author"] == marc_user.public_id
        stored = db.session.scalars(select(ApiToken).where(ApiToken.kind == "capture")).all()
        assert len(stored) == 2
        assert all(token not in (t.token_hash, t.label) for t in stored)


def test_a_worker_cannot_get_a_capture_token(world_app):
    p = place(world_app, "marc.encadrant")
    karim = sign_in(world_app, "karim", "482915")
    assert karim.post(f"/s/{p.structure}/jeton-saisie").status_code == 403


def test_asking_for_a_token_with_get_is_not_possible(marc):
    app, p, browser, _token = marc
    assert browser.get(f"/s/{p.structure}/jeton-saisie").status_code == 405


def test_the_capture_token_records_together_with_its_browser_session(marc):
    app, p, browser, token = marc
    before = app_counts(app)
    response = _send(browser, p, token, capture_body(p, "karim"))
    assert response.status_code == 201, response.json
    assert app_counts(app)["observations"] == before["observations"] + 1


def test_the_capture_token_alone_is_refused(marc):
    app, p, _browser, token = marc
    before = app_counts(app)
    response = _send(app.test_client(), p, token, capture_body(p, "karim"))
    assert response.status_code == 401
    assert response.json == {"error": "unauthorized", "message": NO_TOKEN}
    assert app_counts(app) == before


def test_the_capture_token_with_another_session_of_the_same_person_is_refused(marc):
    app, p, _browser, token = marc
    other_browser = sign_in(app, "marc.encadrant")
    assert _send(other_browser, p, token, capture_body(p, "karim")).status_code == 401


def test_the_capture_token_cannot_list_correct_or_withdraw(marc):
    app, p, browser, token = marc
    before = app_counts(app)
    base = f"/api/v1/structures/{p.structure}/observations"
    listed = browser.get(base, headers=bearer(token))
    corrected = browser.post(
        f"{base}/{p.observation}/corrections",
        json={"level": 4, "observed_at": "2026-11-02T09:00:00Z"},
        headers=bearer(token),
    )
    withdrawn = browser.post(
        f"{base}/{p.observation}/withdrawal", json={"reason": "doublon"}, headers=bearer(token)
    )
    for response in (listed, corrected, withdrawn):
        assert response.status_code == 401
        assert response.json["message"] == NO_TOKEN
    assert app_counts(app) == before


def test_the_capture_token_dies_at_logout(marc):
    app, p, browser, token = marc
    assert browser.post("/deconnexion").status_code == 302
    with app.app_context():
        stored = db.session.scalars(select(ApiToken).where(ApiToken.kind == "capture")).one()
        assert stored.revoked_at is not None
    before = app_counts(app)
    assert _send(browser, p, token, capture_body(p, "karim")).status_code == 401
    assert app_counts(app) == before
    # Signing in again on the same device does not bring the old token back.
    browser.post("/connexion", data={"login": "marc.encadrant", "secret": "demo-jalon-2026"})
    before = app_counts(app)
    assert _send(browser, p, token, capture_body(p, "karim")).status_code == 401
    assert app_counts(app) == before


def test_logout_revokes_only_that_sessions_tokens(marc):
    app, p, browser, token = marc
    other_browser = sign_in(app, "marc.encadrant")
    other_token = other_browser.post(f"/s/{p.structure}/jeton-saisie").json["token"]
    browser.post("/deconnexion")
    assert _send(other_browser, p, other_token, capture_body(p, "karim")).status_code == 201


def test_an_expired_capture_token_is_refused(world_app_with):
    clock = {"now": datetime.now(UTC)}
    app = world_app_with(NOW=lambda: clock["now"])
    p = place(app, "marc.encadrant")
    browser = sign_in(app, "marc.encadrant")
    token = browser.post(f"/s/{p.structure}/jeton-saisie").json["token"]
    clock["now"] += timedelta(hours=12, seconds=1)
    assert _send(browser, p, token, capture_body(p, "karim")).status_code == 401


def test_a_queued_capture_of_another_person_is_refused_in_french(marc):
    """Paul's capture, queued offline on a shared phone, is sent once Marc has signed in."""
    app, p, browser, token = marc
    with app.app_context():
        paul = db.session.scalar(select(User).where(User.login == "paul.encadrant"))
        marc_user = db.session.scalar(select(User).where(User.login == "marc.encadrant"))
        paul_id, marc_id = paul.public_id, marc_user.public_id
    before = app_counts(app)
    response = _send(browser, p, token, capture_body(p, "karim", author=paul_id))
    assert response.status_code == 403
    assert response.json["error"] == "wrong_author"
    assert "faite par une autre personne" in response.json["message"]
    assert app_counts(app) == before
    own = _send(browser, p, token, capture_body(p, "karim", author=marc_id), key="queued-0002")
    assert own.status_code == 201
