"""Personal API tokens: shown once, the owner's scope on every endpoint, revocable."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken
from tests.api import Place, api_token, app_counts, bearer, capture_body, place, sign_in

BASE = "/api/v1/structures/{sid}/observations"


def _list(app: Flask, sid: str, token: str, **params: str):  # type: ignore[no-untyped-def]
    return app.test_client().get(BASE.format(sid=sid), query_string=params, headers=bearer(token))


def _create(app: Flask, p: Place, token: str, body: dict, key: str = "personal-0001"):  # type: ignore[no-untyped-def,type-arg]
    return app.test_client().post(
        BASE.format(sid=p.structure),
        json=body,
        headers={**bearer(token), "Idempotency-Key": key},
    )


def _correct(app: Flask, sid: str, observation: str, token: str, **body: object):  # type: ignore[no-untyped-def]
    return app.test_client().post(
        f"{BASE.format(sid=sid)}/{observation}/corrections",
        json={"level": 4, "observed_at": "2026-11-02T09:00:00Z", **body},
        headers=bearer(token),
    )


def _withdraw(app: Flask, sid: str, observation: str, token: str, reason: str = "doublon"):  # type: ignore[no-untyped-def]
    return app.test_client().post(
        f"{BASE.format(sid=sid)}/{observation}/withdrawal",
        json={"reason": reason},
        headers=bearer(token),
    )


def _created_on_the_page(app: Flask, login: str) -> tuple[str, object]:
    browser = sign_in(app, login)
    page = browser.post("/moi/jetons", data={"label": "Logiciel de suivi"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "il ne sera plus affiché" in html
    token = re.search(r'class="big-code token">(jal_[A-Za-z0-9_-]+)<', html).group(1)
    return token, browser


def test_a_token_is_created_on_the_page_shown_once_and_stored_as_a_hash(world_app):
    token, browser = _created_on_the_page(world_app, "marc.encadrant")
    again = browser.get("/moi/jetons").get_data(as_text=True)
    assert "Logiciel de suivi" in again and token not in again
    with world_app.app_context():
        stored = db.session.scalars(
            select(ApiToken).where(ApiToken.label == "Logiciel de suivi")
        ).one()
        assert token not in (stored.token_hash, stored.label)
    assert _list(world_app, place(world_app, "marc.encadrant").structure, token).status_code == 200


def test_a_token_acts_on_every_endpoint_with_its_owners_rights(world_app):
    p = place(world_app, "marc.encadrant")
    token, _browser = _created_on_the_page(world_app, "marc.encadrant")
    listed = _list(world_app, p.structure, token)
    assert listed.status_code == 200
    listed_ids = {o["id"] for o in listed.json["observations"]}
    assert p.observation in listed_ids
    mine = {p.workers[w] for w in ("karim", "julie", "ousmane")}
    assert {o["worker"]["id"] for o in listed.json["observations"]} <= mine
    created = _create(world_app, p, token, capture_body(p, "julie"))
    assert created.status_code == 201
    new_id = created.json["observations"][0]["id"]
    corrected = _correct(world_app, p.structure, new_id, token, level=2)
    assert corrected.status_code == 200 and corrected.json["version"] == 2
    withdrawn = _withdraw(world_app, p.structure, new_id, token)
    assert withdrawn.status_code == 200 and withdrawn.json["withdrawal_reason"] == "doublon"


def test_an_encadrants_token_cannot_read_workers_outside_his_teams(world_app):
    """Paul observes Léa (his team); Marc's token sees nothing of it."""
    p_marc = p_paul = place(world_app, "marc.encadrant")  # one structure, one situation
    paul = api_token(world_app, "paul.encadrant")
    marc = api_token(world_app, "marc.encadrant")
    created = _create(world_app, p_paul, paul, capture_body(p_paul, "lea"))
    assert created.status_code == 201
    lea_obs = created.json["observations"][0]["id"]
    assert lea_obs in [
        o["id"] for o in _list(world_app, p_paul.structure, paul).json["observations"]
    ]

    seen = [o["id"] for o in _list(world_app, p_marc.structure, marc).json["observations"]]
    assert lea_obs not in seen and p_marc.observation in seen
    by_worker = _list(world_app, p_marc.structure, marc, worker=p_marc.workers["lea"])
    assert by_worker.status_code == 200 and by_worker.json["observations"] == []
    before = app_counts(world_app)
    assert _correct(world_app, p_marc.structure, lea_obs, marc).status_code == 404
    assert _withdraw(world_app, p_marc.structure, lea_obs, marc).status_code == 404
    assert _create(world_app, p_marc, marc, capture_body(p_marc, "lea")).status_code == 404
    assert app_counts(world_app) == before


def test_a_token_of_structure_a_gets_404_on_structure_b(world_app):
    p_a = place(world_app, "marc.encadrant")
    p_b = place(world_app, "b.encadrant")
    marc = api_token(world_app, "marc.encadrant")
    claire = api_token(world_app, "claire.admin")
    before = app_counts(world_app)
    responses = [
        response
        for token in (marc, claire)
        for response in (
            _list(world_app, p_b.structure, token),
            _create(world_app, p_b, token, capture_body(p_b, "b.salarie")),
            _correct(world_app, p_b.structure, p_b.observation, token),
            _withdraw(world_app, p_b.structure, p_b.observation, token),
            # Structure B's ids under structure A's URL are unknown there as well.
            _withdraw(world_app, p_a.structure, p_b.observation, token),
        )
    ]
    responses.append(_correct(world_app, p_a.structure, p_b.observation, marc))
    for response in responses:
        assert response.status_code == 404, response.json
        assert response.json["error"] == "not_found"
        assert "n'existe pas" in response.json["message"]
    assert app_counts(world_app) == before


@pytest.mark.parametrize("login", ["karim", "super.admin"])
def test_a_token_of_someone_who_is_not_staff_there_is_refused(world_app, login):
    p = place(world_app, "marc.encadrant")
    token = api_token(world_app, login)
    status = _list(world_app, p.structure, token).status_code
    assert status == (403 if login == "karim" else 404)


def test_an_admins_token_may_withdraw_but_not_list_or_correct(world_app):
    p = place(world_app, "marc.encadrant")
    claire = api_token(world_app, "claire.admin")
    assert _list(world_app, p.structure, claire).status_code == 403
    assert _correct(world_app, p.structure, p.observation, claire).status_code == 403
    withdrawn = _withdraw(world_app, p.structure, p.observation, claire, "demande_salarie")
    assert withdrawn.status_code == 200 and withdrawn.json["withdrawn"] is True


def test_a_revoked_token_is_refused(world_app):
    p = place(world_app, "marc.encadrant")
    token, browser = _created_on_the_page(world_app, "marc.encadrant")
    with world_app.app_context():
        token_id = (
            db.session.scalars(select(ApiToken).where(ApiToken.label == "Logiciel de suivi"))
            .one()
            .public_id
        )
    assert browser.post(f"/moi/jetons/{token_id}/revoquer").status_code == 302
    assert "révoqué" in browser.get("/moi/jetons").get_data(as_text=True)
    before = app_counts(world_app)
    for response in (
        _list(world_app, p.structure, token),
        _create(world_app, p, token, capture_body(p, "karim")),
        _correct(world_app, p.structure, p.observation, token),
        _withdraw(world_app, p.structure, p.observation, token),
    ):
        assert response.status_code == 401
        assert response.json["message"] == "Un jeton d'accès valide est nécessaire."
    assert app_counts(world_app) == before


def test_a_person_cannot_revoke_someone_elses_token(world_app):
    api_token(world_app, "marc.encadrant", label="Jeton de Marc")
    mine = select(ApiToken).where(ApiToken.label == "Jeton de Marc")
    with world_app.app_context():
        token_id = db.session.scalars(mine).one().public_id
    paul = sign_in(world_app, "paul.encadrant")
    assert paul.post(f"/moi/jetons/{token_id}/revoquer").status_code == 404
    with world_app.app_context():
        assert db.session.scalars(mine).one().revoked_at is None


def test_a_deactivated_persons_token_is_refused(world_app):
    from datetime import UTC, datetime

    from app.models import User

    p = place(world_app, "marc.encadrant")
    token = api_token(world_app, "marc.encadrant")
    with world_app.app_context():
        user = db.session.scalar(select(User).where(User.login == "marc.encadrant"))
        user.deactivated_at = datetime.now(UTC)
        db.session.commit()
    assert _list(world_app, p.structure, token).status_code == 401


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Basic bWFyYzp4", "Bearer jal_not-a-real-token", "jal_x"],
)
def test_requests_without_a_valid_token_get_401_in_french(world_app, header):
    p = place(world_app, "marc.encadrant")
    headers = {"Authorization": header} if header is not None else {}
    response = world_app.test_client().get(BASE.format(sid=p.structure), headers=headers)
    assert response.status_code == 401
    assert response.json == {
        "error": "unauthorized",
        "message": "Un jeton d'accès valide est nécessaire.",
    }


def test_a_signed_in_session_alone_does_not_open_the_api(world_app):
    p = place(world_app, "marc.encadrant")
    browser = sign_in(world_app, "marc.encadrant")
    assert browser.get(BASE.format(sid=p.structure)).status_code == 401


def test_list_paging_is_bounded_and_checked(world_app):
    p = place(world_app, "marc.encadrant")
    token = api_token(world_app, "marc.encadrant")
    for n in range(3):
        body = capture_body(p, "julie")
        assert _create(world_app, p, token, body, key=f"paging-key-{n}").status_code == 201
    page = _list(world_app, p.structure, token, limit="2", offset="1")
    assert page.json["limit"] == 2 and page.json["offset"] == 1
    assert len(page.json["observations"]) == 2
    assert _list(world_app, p.structure, token, limit="1000").json["limit"] == 200
    bad = _list(world_app, p.structure, token, limit="beaucoup")
    assert bad.status_code == 400 and "nombres entiers" in bad.json["message"]
