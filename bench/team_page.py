"""The encadrant's team page, timed on a small and a large database in the same run.

Two applications, one per database file, each with a test client signed in as the
encadrant; requests alternate between them (small, large, large, small, …) so that a
change in machine load touches both sides alike. The page is the whole request: access
checks, queries, template. The statements of one request are recorded too, and the query
plan of the per-worker counts on the large database, the query that reads observations.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from bench.sql import query_plan, recorded_statements
from bench.world import ENCADRANT_LOGIN, PASSWORD, World, dispose, make_app

ROUNDS = 60
WARMUP = 5
#: Marks the statement that counts observations per worker and competence.
COUNTS_MARK = "GROUP BY observations.worker_id, observations.competence_id"


def _signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    response = client.post("/connexion", data={"login": ENCADRANT_LOGIN, "secret": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in failed ({response.status_code})")
    return client


def _get(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    page = response.get_data(as_text=True)
    if response.status_code != 200 or "Équipe mesurée" not in page or "Prénom00" not in page:
        raise RuntimeError(f"team page failed ({response.status_code})")


def measure(world: World, small_url: str, large_url: str) -> dict[str, Any]:
    """Median page time on each database, their ratio, statement counts and the plan."""
    apps = [make_app(url, world.keys_dir, WTF_CSRF_ENABLED=False) for url in (small_url, large_url)]
    try:
        clients = [_signed_in(app) for app in apps]
        path = f"/s/{world.structure_id}/equipe"
        for client in clients:
            for _ in range(WARMUP):
                _get(client, path)
        times: list[list[float]] = [[], []]
        for n in range(ROUNDS):
            for side in (0, 1) if n % 2 == 0 else (1, 0):
                started = time.perf_counter()
                _get(clients[side], path)
                times[side].append(time.perf_counter() - started)
        statements = [
            recorded_statements(app, lambda c=client: _get(c, path))
            for app, client in zip(apps, clients, strict=True)
        ]
        counts = next((s for s in statements[1] if COUNTS_MARK in s[0]), None)
        plan = query_plan(apps[1], *counts) if counts else ["(counts query not found)"]
    finally:
        for app in apps:
            dispose(app)
    small, large = (statistics.median(t) for t in times)
    return {
        "ratio": large / small,
        "small_ms": round(small * 1000, 2),
        "large_ms": round(large * 1000, 2),
        "rounds": ROUNDS,
        "statements_small": len(statements[0]),
        "statements_large": len(statements[1]),
        "counts_query": " ".join(counts[0].split()) if counts else None,
        "counts_plan": plan,
    }
