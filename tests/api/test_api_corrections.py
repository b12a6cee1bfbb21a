"""OBS-09 through the API: only the author corrects, within the window; history is kept."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Observation
from tests.api import api_token, app_counts, bearer, place
from tests.support.world import NOW

BASE = "/api/v1/structures/{sid}/observations/{oid}"
#: The world's observation was seen at NOW (and recorded when the world was built).
SEEN = (NOW - timedelta(minutes=30)).isoformat()
FUTURE = "in a day"


def _app_at(world_app_with, after_recording: timedelta, **config) -> tuple[Flask, datetime]:  # type: ignore[no-untyped-def]
    """An app whose clock reads ``after_recording`` past the world observation's record."""
    clock: dict[str, datetime] = {}
    app = world_app_with(NOW=lambda: clock["now"], **config)
    clock["now"] = place(app, "marc.encadrant").recorded_at + after_recording
    return app, clock["now"]


def _post(app: Flask, token: str, action: str, body: object):  # type: ignore[no-untyped-def]
    p = place(app, "marc.encadrant")
    return app.test_client().post(
        BASE.format(sid=p.structure, oid=p.observation) + "/" + action,
        json=body,
        headers=bearer(token),
    )


def _world_observation(app: Flask) -> Observation:
    p = place(app, "marc.encadrant")
    return db.session.scalar(select(Observation).where(Observation.public_id == p.observation))


def test_the_author_corrects_within_the_window_and_both_versions_remain(world_app_with):
    app, moment = _app_at(world_app_with, timedelta(days=2))
    body = {"level": 4, "observed_at": SEEN, "comment": "Range les outils sans qu'on le demande."}
    response = _post(app, api_token(app, "marc.encadrant"), "corrections", body)
    assert response.status_code == 200, response.json
    data = response.json
    assert (data["version"], data["level"], data["comment"]) == (2, 4, body["comment"])
    assert data["observed_at"] == SEEN
    with app.app_context():
        observation = _world_observation(app)
        versions = [(v.number, v.level) for v in observation.versions]
        assert versions == [(1, 3), (2, 4)]
        assert observation.versions[1].recorded_at == moment
        assert observation.recorded_at == moment - timedelta(days=2)  # the first record's
        assert [c.text for c in observation.comments] == [
            "Travail soigné et rangé.",
            "Range les outils sans qu'on le demande.",
        ]


def test_someone_else_cannot_correct(world_app):
    sophie = api_token(world_app, "sophie.cip")
    before = app_counts(world_app)
    response = _post(world_app, sophie, "corrections", {"level": 1, "observed_at": SEEN})
    assert response.status_code == 403
    assert response.json["error"] == "not_the_author"
    assert "Seule la personne qui a fait l'observation" in response.json["message"]
    assert app_counts(world_app) == before


@pytest.mark.parametrize(
    ("days", "config", "status"),
    [
        (timedelta(days=7), {}, 200),
        (timedelta(days=7, seconds=1), {}, 422),
        (timedelta(days=1), {"OBSERVATION_CORRECTION_DAYS": 2}, 200),
        (timedelta(days=3), {"OBSERVATION_CORRECTION_DAYS": 2}, 422),
    ],
)
def test_the_correction_window_follows_the_setting(world_app_with, days, config, status):
    app, _moment = _app_at(world_app_with, days, **config)
    marc = api_token(app, "marc.encadrant")
    before = app_counts(app)
    response = _post(app, marc, "corrections", {"level": 2, "observed_at": SEEN})
    assert response.status_code == status, response.json
    if status == 422:
        assert response.json["error"] == "correction_window_closed"
        assert "Le délai pour corriger cette observation est passé" in response.json["message"]
        assert app_counts(app) == before


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"level": 9, "observed_at": SEEN}, 422, "Choisissez un niveau de 1 à 5"),
        ({"level": "4", "observed_at": SEEN}, 400, "nombre entier"),
        ({"level": 4}, 400, "« observed_at » est obligatoire"),
        ({"observed_at": SEEN}, 400, "« level » est obligatoire"),
        ({"level": 4, "observed_at": FUTURE}, 422, "dans le futur"),
        ({"level": 4, "observed_at": SEEN, "comment": "x" * 501}, 422, "500 caractères"),
        ({"level": 4, "observed_at": SEEN, "comment": "Parle du RSA."}, 422, "« RSA »"),
        ({"level": 4, "observed_at": SEEN, "comment": ["a"]}, 400, "« comment »"),
        ([4], 400, "objet JSON"),
    ],
)
def test_a_bad_correction_is_refused_and_writes_nothing(world_app_with, body, status, words):
    app, moment = _app_at(world_app_with, timedelta(hours=1))
    if isinstance(body, dict) and body.get("observed_at") == FUTURE:
        body = {**body, "observed_at": (moment + timedelta(days=1)).isoformat()}
    marc = api_token(app, "marc.encadrant")
    before = app_counts(app)
    response = _post(app, marc, "corrections", body)
    assert response.status_code == status, response.json
    assert words in response.json["message"]
    assert app_counts(app) == before
    with app.app_context():
        assert _world_observation(app).version == 1


def test_withdrawal_keeps_the_observation_and_its_reason(world_app_with):
    app, moment = _app_at(world_app_with, timedelta(days=30))  # no window for withdrawals
    marc = api_token(app, "marc.encadrant")
    before = app_counts(app)
    response = _post(app, marc, "withdrawal", {"reason": "mauvaise_personne"})
    assert response.status_code == 200, response.json
    assert response.json["withdrawn"] is True
    assert response.json["withdrawal_reason"] == "mauvaise_personne"
    after = app_counts(app)
    assert after["audit_events"] == before["audit_events"] + 1
    assert {k: v for k, v in after.items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }
    with app.app_context():
        observation = _world_observation(app)
        assert observation.withdrawal_reason.value == "mauvaise_personne"
        assert observation.withdrawn_at == moment
        assert observation.withdrawn_by_id == observation.author_id
        assert len(observation.versions) == 1 and len(observation.comments) == 1


def test_a_withdrawn_observation_can_be_neither_withdrawn_again_nor_corrected(world_app):
    marc = api_token(world_app, "marc.encadrant")
    assert _post(world_app, marc, "withdrawal", {"reason": "doublon"}).status_code == 200
    before = app_counts(world_app)
    again = _post(world_app, marc, "withdrawal", {"reason": "erreur_saisie"})
    corrected = _post(world_app, marc, "corrections", {"level": 2, "observed_at": SEEN})
    for response in (again, corrected):
        assert response.status_code == 422
        assert response.json["message"] == "Cette observation a déjà été retirée."
    assert app_counts(world_app) == before
    with world_app.app_context():
        assert _world_observation(world_app).withdrawal_reason.value == "doublon"


def test_only_the_author_or_an_admin_withdraws(world_app):
    sophie = api_token(world_app, "sophie.cip")
    claire = api_token(world_app, "claire.admin")
    before = app_counts(world_app)
    response = _post(world_app, sophie, "withdrawal", {"reason": "doublon"})
    assert response.status_code == 403
    assert "ou un·e administrateur·rice" in response.json["message"]
    assert app_counts(world_app) == before
    assert _post(world_app, claire, "withdrawal", {"reason": "doublon"}).status_code == 200


@pytest.mark.parametrize("body", [{}, {"reason": "pas_envie"}, {"reason": None}, {"reason": 3}])
def test_a_withdrawal_needs_a_known_reason(world_app, body):
    marc = api_token(world_app, "marc.encadrant")
    before = app_counts(world_app)
    response = _post(world_app, marc, "withdrawal", body)
    assert response.status_code == 400
    assert "« reason » doit valoir l'une de ces valeurs" in response.json["message"]
    assert "demande_salarie" in response.json["message"]
    assert app_counts(world_app) == before


def test_unknown_observation_ids_get_404(world_app):
    p = place(world_app, "marc.encadrant")
    token = api_token(world_app, "marc.encadrant")
    response = world_app.test_client().post(
        BASE.format(sid=p.structure, oid="inconnu") + "/withdrawal",
        json={"reason": "doublon"},
        headers=bearer(token),
    )
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
