"""Capture throughput: the real observation endpoint against the bare baseline endpoint.

Client threads (stdlib ``http.client``, one keep-alive connection each) send a fixed number
of POST requests to a server in another process; the two endpoints are measured in turn
(bare, real, bare, real, …); the figure is the median of the per-round ratios, each
taken from two adjacent measurements so that a change in machine load touches both.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from app.extensions import db
from bench.server import Server, bare_path, build_app, forget
from bench.world import World, dispose

#: Concurrent client connections: a loaded server, and one client at a time.
CONNECTIONS = (4, 1)
#: Requests per endpoint in a measured round, and in the warm-up.
REQUESTS = 100
ROUNDS = 7
WARMUP = 20


@dataclass(frozen=True)
class Target:
    """One endpoint under load: its path, request body and bearer token."""

    path: str
    body: bytes
    token: str

    def headers(self) -> dict[str, str]:
        """Headers of one request; every request is a new capture (a new key)."""
        return {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"bench-{uuid.uuid4().hex}",
        }


def _client(
    port: int, target: Target, count: int, barrier: threading.Barrier, errors: list[str]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.connect()
    barrier.wait()
    try:
        for _ in range(count):
            conn.request("POST", target.path, body=target.body, headers=target.headers())
            response = conn.getresponse()
            payload = response.read()
            if response.status != 201:
                errors.append(f"{target.path}: {response.status} {payload[:300]!r}")
                return
    finally:
        conn.close()


def throughput(port: int, target: Target, connections: int, requests: int) -> float:
    """Requests per second for ``requests`` spread over ``connections`` client threads."""
    errors: list[str] = []
    barrier = threading.Barrier(connections + 1)
    threads = [
        threading.Thread(
            target=_client, args=(port, target, requests // connections, barrier, errors)
        )
        for _ in range(connections)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"the bench endpoint failed: {errors[0]}")
    return connections * (requests // connections) / elapsed


def targets(world: World) -> tuple[Target, Target]:
    """The bare baseline and the real capture endpoint, with the same body and token."""
    body = json.dumps(
        {
            "situation": world.capture_situation_id,
            "items": [
                {
                    "worker": world.capture_worker_id,
                    "competence": world.capture_competence_id,
                    "level": 3,
                }
            ],
        }
    ).encode()
    path = f"/api/v1/structures/{world.structure_id}/observations"
    real = Target(path, body, world.capture_token)
    return Target(bare_path(world.structure_id), body, world.capture_token), real


def _rounds(server: Server, bare: Target, real: Target, connections: int) -> dict[str, Any]:
    throughput(server.port, bare, connections, WARMUP)
    throughput(server.port, real, connections, WARMUP)
    rates: dict[str, list[float]] = {"bare": [], "real": []}
    cpu: dict[str, list[float]] = {"bare": [], "real": []}
    for _ in range(ROUNDS):
        for name, target in (("bare", bare), ("real", real)):
            before = server.cpu_seconds()
            rates[name].append(throughput(server.port, target, connections, REQUESTS))
            after = server.cpu_seconds()
            if before is not None and after is not None:
                cpu[name].append((after - before) / REQUESTS)
    paired = [r / b for r, b in zip(rates["real"], rates["bare"], strict=True)]
    result: dict[str, Any] = {
        "ratio": statistics.median(paired),
        "real_per_s": round(statistics.median(rates["real"]), 1),
        "bare_per_s": round(statistics.median(rates["bare"]), 1),
        "rounds_ratio": [round(p, 3) for p in paired],
        "rounds_real_per_s": [round(r, 1) for r in rates["real"]],
        "rounds_bare_per_s": [round(r, 1) for r in rates["bare"]],
        "connections": connections,
        "requests_per_round": REQUESTS,
    }
    if cpu["real"] and cpu["bare"]:
        # Server CPU per request hardly moves with the machine's load, unlike wall time.
        result["server_cpu_ms_real"] = round(statistics.median(cpu["real"]) * 1000, 2)
        result["server_cpu_ms_bare"] = round(statistics.median(cpu["bare"]) * 1000, 2)
    return result


def measure(world: World, url: str, connections: tuple[int, ...]) -> list[dict[str, Any]]:
    """For each number of client connections: both endpoints' median requests/s on the
    database at ``url``, and the median of the per-round ratios real ÷ bare."""
    bare, real = targets(world)
    with Server(url, world.keys_dir) as server:
        return [_rounds(server, bare, real, n) for n in connections]


def _count(engine: Any, client: Any, target: Target) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.post(target.path, data=target.body, headers=target.headers())
    finally:
        event.remove(engine, "before_cursor_execute", count)
    if response.status_code != 201:
        raise RuntimeError(f"{target.path}: {response.status_code}")
    return len(seen)


def statements(world: World, url: str) -> dict[str, int]:
    """SQL statements one request of each endpoint runs (counted in this process)."""
    app = build_app(url, world.keys_dir)
    try:
        client = app.test_client()
        with app.app_context():
            engine = db.engine
        bare, real = targets(world)
        return {"bare": _count(engine, client, bare), "real": _count(engine, client, real)}
    finally:
        forget()
        dispose(app)
