"""API v1 captures: what is stored, and resends that are recognised (idempotency)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Observation
from tests.api import (
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
    return (
        world_app,
        place(world_app, "marc.encadrant"),
        bearer(api_token(world_app, "marc.encadrant")),
    )


def test_a_capture_is_stored_with_both_observed_and_recorded_times(marc):
    app, p, headers = marc
    seen = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    body = capture_body(
        p,
        "julie",
        observed_at=seen.isoformat().replace("+00:00", "Z"),
        item={"comment": "Range bien."},
    )
    before = app_counts(app)
    response = post_capture(app, p, headers, body)
    assert response.status_code == 201, response.json
    data = response.json
    assert data["created"] is True
    (obs,) = data["observations"]
    assert obs["worker"]["id"] == p.workers["julie"]
    assert obs["level"] == 3 and obs["version"] == 1 and obs["comment"] == "Range bien."
    assert obs["author_role"] == "encadrant" and obs["withdrawn"] is False
    assert datetime.fromisoformat(obs["observed_at"]) == seen
    recorded = datetime.fromisoformat(obs["recorded_at"])
    assert recorded - seen > timedelta(hours=1)
    after = app_counts(app)
    assert after["observations"] == before["observations"] + 1
    assert after["captures"] == before["captures"] + 1
    assert after["observation_versions"] == before["observation_versions"] + 1
    assert after["observation_comments"] == before["observation_comments"] + 1
    with app.app_context():
        row = db.session.scalar(select(Observation).where(Observation.public_id == obs["id"]))
        assert row.observed_at == seen
        assert row.recorded_at == recorded


def test_without_a_date_the_observation_is_dated_now(marc):
    app, p, headers = marc
    before = datetime.now(UTC)
    response = post_capture(app, p, headers, capture_body(p, "ousmane"))
    assert response.status_code == 201
    observed = datetime.fromisoformat(response.json["observations"][0]["observed_at"])
    assert before - timedelta(seconds=1) <= observed <= datetime.now(UTC)


def test_non_observe_is_stored_as_no_level(marc):
    app, p, headers = marc
    response = post_capture(app, p, headers, capture_body(p, "karim", item={"level": None}))
    assert response.status_code == 201
    assert response.json["observations"][0]["level"] is None


def test_the_same_key_and_body_again_returns_the_first_capture(marc):
    app, p, headers = marc
    body = capture_body(p, "karim")
    first = post_capture(app, p, headers, body)
    before = app_counts(app)
    again = post_capture(app, p, headers, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["capture"] == first.json["capture"]
    assert again.json["created"] is False
    assert [o["id"] for o in again.json["observations"]] == [
        o["id"] for o in first.json["observations"]
    ]
    assert app_counts(app) == before


def test_the_world_capture_resent_by_its_author_is_recognised(marc):
    """The world's capture (key « world-karim ») resent as the API would queue it."""
    app, p, headers = marc
    body = capture_body(
        p,
        "karim",
        observed_at="2026-11-02T09:00:00Z",
        item={"comment": "Travail soigné et rangé."},
    )
    before = app_counts(app)
    response = post_capture(app, p, headers, body, key="world-karim")
    assert response.status_code == 200, response.json
    assert response.json["created"] is False
    assert [o["id"] for o in response.json["observations"]] == [p.observation]
    assert app_counts(app) == before


def test_a_comment_of_exactly_500_characters_is_accepted(marc):
    app, p, headers = marc
    text = ("a" * 9 + " ") * 49 + "b" * 10
    assert len(text) == 500
    response = post_capture(app, p, headers, capture_body(p, "karim", item={"comment": text}))
    assert response.status_code == 201
    assert response.json["observations"][0]["comment"] == text
