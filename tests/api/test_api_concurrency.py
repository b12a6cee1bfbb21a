"""Concurrent captures against a real HTTP server: nothing lost, nothing doubled.

Requests go over loopback with the standard library, from a bounded thread pool.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Capture, Observation
from tests.api import api_token, app_counts, capture_body, member, place
from tests.support.world import NOW

WORKERS = ("karim", "julie", "ousmane")


def _post(base: str, path: str, token: str, key: str, body: dict[str, Any]) -> tuple[int, dict]:  # type: ignore[type-arg]
    url = urlsplit(base)
    connection = HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": key,
                "Content-Type": "application/json",
            },
        )
        response = connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:  # an HTML error page: keep it for the failure message
            return response.status, {"raw": raw.decode("utf-8", "replace")[:300]}
    finally:
        connection.close()


def test_200_different_captures_from_parallel_threads_are_all_stored(live_server):
    app = live_server.app
    p = place(app, "marc.encadrant")
    token = api_token(app, "marc.encadrant")
    path = f"/api/v1/structures/{p.structure}/observations"
    before = app_counts(app)

    def send(n: int) -> tuple[int, dict]:  # type: ignore[type-arg]
        body = capture_body(
            p,
            WORKERS[n % 3],
            item={"competence": p.competences[n % len(p.competences)], "level": n % 5 + 1},
        )
        return _post(live_server.url, path, token, f"parallel-{n:04d}", body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, range(200)))

    assert [status for status, _ in results] == [201] * 200, [r for r in results if r[0] != 201][:3]
    ids = {data["observations"][0]["id"] for _, data in results}
    captures = {data["capture"] for _, data in results}
    assert len(ids) == 200 and len(captures) == 200
    after = app_counts(app)
    assert after["observations"] == before["observations"] + 200
    assert after["captures"] == before["captures"] + 200
    assert after["observation_versions"] == before["observation_versions"] + 200
    with app.app_context():
        stored = set(db.session.scalars(select(Observation.public_id)))
        assert ids <= stored


def test_one_key_sent_from_20_threads_at_once_makes_exactly_one_capture(live_server):
    app = live_server.app
    p = place(app, "marc.encadrant")
    token = api_token(app, "marc.encadrant")
    path = f"/api/v1/structures/{p.structure}/observations"
    body = capture_body(p, "julie", item={"comment": "Aide un collègue à charger."})
    before = app_counts(app)
    start = threading.Barrier(20, timeout=30)

    def send(_n: int) -> tuple[int, dict]:  # type: ignore[type-arg]
        start.wait()
        return _post(live_server.url, path, token, "same-key-from-20-threads", body)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(send, range(20)))

    statuses = sorted(status for status, _ in results)
    assert set(statuses) <= {200, 201}, results
    assert statuses.count(201) == 1
    assert len({data["capture"] for _, data in results}) == 1
    assert len({data["observations"][0]["id"] for _, data in results}) == 1
    after = app_counts(app)
    assert after["captures"] == before["captures"] + 1
    assert after["observations"] == before["observations"] + 1
    assert after["observation_comments"] == before["observation_comments"] + 1
    with app.app_context():
        key_rows = db.session.scalar(
            select(func.count())
            .select_from(Capture)
            .where(Capture.idempotency_key == "same-key-from-20-threads")
        )
        assert key_rows == 1


def test_the_database_refuses_a_second_capture_with_the_same_author_and_key(db_session):
    """The guarantee above comes from a unique constraint, not from a check in the code."""
    marc = member(db_session, "marc.encadrant")
    now = datetime.now(UTC)
    db_session.add(
        Capture(
            author_id=marc.user_id,
            idempotency_key="world-karim",
            body_hash="0" * 64,
            created_at=now,
        )
    )
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()
    # The same key for another author is another capture.
    paul = member(db_session, "paul.encadrant")
    db_session.add(
        Capture(
            author_id=paul.user_id,
            idempotency_key="world-karim",
            body_hash="0" * 64,
            created_at=NOW,
        )
    )
    db_session.flush()
