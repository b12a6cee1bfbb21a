"""The conseiller's journey page of one worker with 300 records, 10 k vs 1 M observations.

The measured worker gets 300 observations in both databases (the team's 100, plus 200 more
copied by SQL); the page is timed with requests alternating between the two databases, and
the SQL statements of one request are counted on each, to show the count does not grow with
the data.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from app.extensions import db
from bench.team_page import _signed_in
from bench.world import World, dispose, make_app

RECORDS = 300
ROUNDS = 40
WARMUP = 5


def add_records(path: str, world: World) -> int:
    """Bring the first team worker to ``RECORDS`` observations; returns the total."""
    worker = world.team_worker_pks[0]
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        have = conn.execute(
            "SELECT count(*) FROM observations WHERE worker_id = ?", (worker,)
        ).fetchone()[0]
        missing = max(RECORDS - have, 0)
        after = conn.execute("SELECT coalesce(max(id), 0) FROM observations").fetchone()[0]
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO observations (public_id, structure_id, worker_id, competence_id, "
            "situation_id, author_id, author_role, version, level, observed_at, recorded_at) "
            "SELECT lower(hex(randomblob(16))), structure_id, worker_id, competence_id, "
            "situation_id, author_id, author_role, 1, level, observed_at, recorded_at "
            "FROM observations WHERE worker_id = ? ORDER BY id LIMIT ?",
            (worker, missing),
        )
        conn.execute(
            "INSERT INTO observation_versions (observation_id, number, level, observed_at, "
            "recorded_at, author_id) SELECT id, 1, level, observed_at, recorded_at, author_id "
            "FROM observations WHERE id > ?",
            (after,),
        )
        conn.execute("COMMIT")
        return int(
            conn.execute(
                "SELECT count(*) FROM observations WHERE worker_id = ?", (worker,)
            ).fetchone()[0]
        )
    finally:
        conn.close()


def _worker_public_id(path: str, worker_pk: int) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(
            conn.execute("SELECT public_id FROM memberships WHERE id = ?", (worker_pk,)).fetchone()[
                0
            ]
        )
    finally:
        conn.close()


def _get(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"journey page failed ({response.status_code})")


def _statement_count(app: Flask, client: FlaskClient, path: str) -> int:
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        _get(client, path)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


def measure(world: World, small_url: str, large_url: str) -> dict[str, Any]:
    """Median page time on each database, their ratio, and statements per request."""
    paths = [url.removeprefix("sqlite:///") for url in (small_url, large_url)]
    records = [add_records(p, world) for p in paths]
    worker_id = _worker_public_id(paths[0], world.team_worker_pks[0])
    apps = [make_app(url, world.keys_dir, WTF_CSRF_ENABLED=False) for url in (small_url, large_url)]
    try:
        clients = [_signed_in(app) for app in apps]
        path = f"/s/{world.structure_id}/salaries/{worker_id}/parcours"
        for client in clients:
            for _ in range(WARMUP):
                _get(client, path)
        times: list[list[float]] = [[], []]
        for round_ in range(ROUNDS):
            order = (0, 1) if round_ % 2 == 0 else (1, 0)
            for side in order:
                start = time.perf_counter()
                _get(clients[side], path)
                times[side].append(time.perf_counter() - start)
        statements = [_statement_count(app, c, path) for app, c in zip(apps, clients, strict=True)]
    finally:
        for app in apps:
            dispose(app)
    small_ms, large_ms = (statistics.median(t) * 1000 for t in times)
    return {
        "ratio": round(large_ms / small_ms, 3),
        "small_ms": round(small_ms, 2),
        "large_ms": round(large_ms, 2),
        "records": records,
        "statements_small": statements[0],
        "statements_large": statements[1],
        "rounds": ROUNDS,
    }
