"""API v1 captures: every refused input gets a French message, a 4xx, and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Competence, Referential
from tests.api import (
    CAPTURE_KEY,
    Place,
    api_token,
    app_counts,
    bearer,
    capture_body,
    place,
    post_capture,
)


@pytest.fixture
def marc(world_app: Flask) -> tuple[Flask, Place, dict[str, str]]:
    """Marc (encadrant of « Espaces verts » in A), his ids and his token header."""
    token = api_token(world_app, "marc.encadrant")
    return world_app, place(world_app, "marc.encadrant"), bearer(token)


def _other_competence(app: Flask, p: Place, *, structure_b: bool) -> str:
    """A competence that the situation does not list (one of B, or one of the grid)."""
    with app.app_context():
        if structure_b:
            poncage = db.session.scalars(
                select(Competence).join(Referential).where(Referential.code != "bunk")
            ).all()
            return next(c.public_id for c in poncage if c.name.get("fr") == "Ponçage")
        bunk = db.session.scalars(
            select(Competence).join(Referential).where(Referential.code == "bunk")
        ).all()
        return next(c.public_id for c in bunk if c.public_id not in p.competences)


def _refused(
    app: Flask,
    p: Place,
    headers: dict[str, str],
    body: Any,
    status: int,
    *words: str,
    key: str | None = CAPTURE_KEY,
) -> dict:  # type: ignore[type-arg]
    before = app_counts(app)
    response = post_capture(app, p, headers, body, key=key)
    assert response.status_code == status, response.get_data(as_text=True)
    data = response.json
    assert set(data) == {"error", "message"}
    for word in words:
        assert word in data["message"]
    assert app_counts(app) == before, "a refused capture must write nothing"
    return data


@pytest.mark.parametrize("level", [0, 6, -1, 42])
def test_a_level_outside_the_scale_is_refused(marc, level):
    app, p, headers = marc
    data = _refused(
        app,
        p,
        headers,
        capture_body(p, "karim", item={"level": level}),
        422,
        "Choisissez un niveau de 1 à 5",
    )
    assert data["error"] == "invalid_level"


@pytest.mark.parametrize("level", ["3", 2.5, True, [3]])
def test_a_level_that_is_not_an_integer_is_refused(marc, level):
    app, p, headers = marc
    _refused(
        app,
        p,
        headers,
        capture_body(p, "karim", item={"level": level}),
        400,
        "« level » doit être un nombre entier de 1 à 5",
    )


def test_a_missing_level_is_refused(marc):
    app, p, headers = marc
    body = capture_body(p, "karim")
    del body["items"][0]["level"]
    _refused(app, p, headers, body, 400, "Le champ « level » est obligatoire")


@pytest.mark.parametrize("structure_b", [False, True], ids=["same-grid", "structure-b"])
def test_a_competence_outside_the_situation_is_refused(marc, structure_b):
    app, p, headers = marc
    other = _other_competence(app, p, structure_b=structure_b)
    data = _refused(
        app,
        p,
        headers,
        capture_body(p, "karim", item={"competence": other}),
        422,
        "ne fait pas partie des compétences observables",
    )
    assert data["error"] == "competence_not_in_situation"


def test_a_worker_of_another_team_is_refused(marc):
    app, p, headers = marc
    _refused(app, p, headers, capture_body(p, "lea"), 404, "ne fait pas partie de vos équipes")


def test_a_worker_of_another_structure_is_refused(marc, world_app):
    app, p, headers = marc
    b_worker = place(world_app, "b.encadrant").workers["b.salarie"]
    body = capture_body(p, "karim", item={"worker": b_worker})
    _refused(app, p, headers, body, 404, "ne fait pas partie de vos équipes")


def test_one_bad_item_refuses_the_whole_capture(marc, world_app):
    app, p, headers = marc
    body = capture_body(p, "karim")
    body["items"].append({"worker": p.workers["lea"], "competence": p.competences[0], "level": 2})
    _refused(app, p, headers, body, 404, "ne fait pas partie de vos équipes")


def test_a_situation_of_another_structure_is_refused(marc, world_app):
    app, p, headers = marc
    body = capture_body(p, "karim", situation=place(world_app, "b.encadrant").situation)
    _refused(app, p, headers, body, 404, "situation de travail n'existe pas")


def test_a_future_date_is_refused(marc):
    app, p, headers = marc
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    data = _refused(
        app,
        p,
        headers,
        capture_body(p, "karim", observed_at=tomorrow),
        422,
        "ne peut pas être dans le futur",
    )
    assert data["error"] == "future_observation"


@pytest.mark.parametrize(
    ("observed_at", "words"),
    [
        ("2026-11-02T09:00:00", "fuseau"),
        ("hier matin", "ISO 8601"),
        (20261102, "ISO 8601"),
    ],
)
def test_a_date_without_zone_or_not_a_date_is_refused(marc, observed_at, words):
    app, p, headers = marc
    _refused(app, p, headers, capture_body(p, "karim", observed_at=observed_at), 400, words)


def test_an_oversize_comment_is_refused(marc):
    app, p, headers = marc
    data = _refused(
        app,
        p,
        headers,
        capture_body(p, "karim", item={"comment": "Très bien. " * 50}),
        422,
        "500 caractères au plus",
    )
    assert data["error"] == "comment_too_long"


@pytest.mark.parametrize(
    ("comment", "word"),
    [
        ("Il revient de prison, motivé.", "prison"),
        ("Touche le RSA, très ponctuel.", "RSA"),
        ("Sa dépression le ralentit un peu.", "dépression"),
    ],
)
def test_obs07_a_sensitive_word_in_a_comment_is_flagged_and_nothing_stored(marc, comment, word):
    app, p, headers = marc
    data = _refused(
        app,
        p,
        headers,
        capture_body(p, "karim", item={"comment": comment}),
        422,
        f"« {word} »",
        "décrivez seulement ce que vous avez vu au travail",
    )
    assert data["error"] == "sensitive_comment"


def test_a_known_key_with_a_different_body_is_refused(marc):
    app, p, headers = marc
    assert post_capture(app, p, headers, capture_body(p, "karim")).status_code == 201
    data = _refused(
        app,
        p,
        headers,
        capture_body(p, "karim", item={"level": 4}),
        409,
        "déjà été envoyée avec un contenu différent",
    )
    assert data["error"] == "idempotency_conflict"


def test_the_world_key_with_a_different_body_is_refused(marc):
    app, p, headers = marc
    _refused(app, p, headers, capture_body(p, "julie"), 409, "contenu différent", key="world-karim")


@pytest.mark.parametrize(
    ("key", "status", "words"),
    [
        (None, 400, "Idempotency-Key est obligatoire"),
        ("court", 422, "8 à 80 caractères"),
        ("k" * 81, 422, "8 à 80 caractères"),
    ],
)
def test_the_idempotency_key_is_required_and_bounded(marc, key, status, words):
    app, p, headers = marc
    _refused(app, p, headers, capture_body(p, "karim"), status, words, key=key)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([1, 2], "objet JSON"),
        ("texte", "objet JSON"),
        ({"situation": "x"}, "« items » doit être une liste de 1 à 100"),
        ({"situation": "x", "items": []}, "« items » doit être une liste de 1 à 100"),
        ({"situation": "x", "items": ["karim"]}, "objet JSON"),
        (
            {"situation": None, "items": [{"worker": "a", "competence": "b", "level": 1}]},
            "« situation »",
        ),
    ],
)
def test_malformed_bodies_get_a_clear_400(marc, body, words):
    app, p, headers = marc
    _refused(app, p, headers, body, 400, words)


def test_more_than_100_items_are_refused(marc):
    app, p, headers = marc
    body = capture_body(p, "karim")
    body["items"] = body["items"] * 101
    _refused(app, p, headers, body, 400, "de 1 à 100 éléments")


def test_a_comment_that_is_not_text_is_refused(marc):
    app, p, headers = marc
    _refused(app, p, headers, capture_body(p, "karim", item={"comment": 12}), 400, "« comment »")


def test_a_body_that_is_not_json_is_refused(marc):
    app, p, headers = marc
    before = app_counts(app)
    response = app.test_client().post(
        f"/api/v1/structures/{p.structure}/observations",
        data="level=3",
        headers={**headers, "Idempotency-Key": CAPTURE_KEY, "Content-Type": "text/plain"},
    )
    assert response.status_code == 400
    assert "objet JSON" in response.json["message"]
    assert app_counts(app) == before
