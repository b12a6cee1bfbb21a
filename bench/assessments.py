"""Assessment recompute: one worker on both databases, and a full recompute against SQL.

Two measurements, each a ratio of two timings taken in the same run (issue #7):

- ``recompute_worker`` for one worker of the measured team (100 observations), with
  ``apply`` as a capture runs it, on the small and on the large database alternately; each
  call is rolled back, so that every call starts from the same stored statuses (written
  once and committed before timing: the steady state of a worker already computed).
- every worker of the measured structure recomputed as ``flask assessments recompute
  --structure <id>`` does it (dry run, every current template), against one SQL statement
  that aggregates the same observations per worker × competence (COUNT, and COUNT DISTINCT
  of observers and of situations). Both are credited with the same worker × competence
  pairs, so the ratio of their throughputs is time(SQL) ÷ time(recompute). The SQL runs
  twice per round: as written (the planner's plan) and through the structure index; the
  faster is the baseline, so that a poor plan never flatters the recompute.

Both run in this process, SQLite included, on one thread: the time kept is the process's
CPU time (user + system), which the machine's load hardly moves; wall times are reported
alongside.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Membership
from app.models.base import utcnow
from app.services import assessments as service
from bench.filler import TEAM_OBSERVATIONS
from bench.world import World, dispose, make_app

#: Timed calls of ``recompute_worker`` per database, after ``WARMUP`` untimed ones.
ROUNDS = 15
WARMUP = 3
#: Runs of the SQL aggregate and of the full recompute, in turn (medians are kept).
FULL_ROUNDS = 3

AGGREGATE = (
    "SELECT worker_id, competence_id, COUNT(*), COUNT(DISTINCT author_id), "
    "COUNT(DISTINCT situation_id) FROM observations{hint} "
    "WHERE level >= 3 AND withdrawn_at IS NULL AND structure_id = :structure "
    "GROUP BY worker_id, competence_id"
)
#: The aggregate as written, and through the index on the structure (SQLite's hint).
AGGREGATES = {
    "planner": AGGREGATE.format(hint=""),
    "structure_index": AGGREGATE.format(hint=" INDEXED BY ix_observations_structure_id"),
}

_BEST_WORKER = (
    "SELECT worker_id FROM observations WHERE worker_id IN ({ids}) "
    "AND level >= 3 AND withdrawn_at IS NULL GROUP BY worker_id ORDER BY count(*) DESC, "
    "worker_id LIMIT 1"
)


def _timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """CPU seconds, wall seconds and the result of ``work()``."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def _counting(session: Session, work: Callable[[], Any]) -> int:
    """How many SQL statements ``work()`` runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


def _count(session: Session, sql: str, **params: int) -> int:
    return int(session.execute(text(sql), params).scalar_one())


def measured_worker(session: Session, world: World) -> int:
    """The team worker with the most observations at level 3 or more (the engine's work)."""
    ids = ", ".join(str(pk) for pk in world.team_worker_pks)
    return _count(session, _BEST_WORKER.format(ids=ids))


def _call(session: Session, worker_pk: int) -> tuple[float, float]:
    """One ``recompute_worker`` call (CPU and wall seconds), then rolled back."""
    worker = session.get(Membership, worker_pk)
    now = utcnow()
    cpu, wall, _ = _timed(lambda: service.recompute_worker(session, worker=worker, now=now))
    session.rollback()
    return cpu, wall


def one_worker(world: World, small_url: str, large_url: str) -> dict[str, Any]:
    """Median ``recompute_worker`` time for one worker on each database, and their ratio."""
    apps = [make_app(url, world.keys_dir) for url in (small_url, large_url)]
    try:
        with apps[0].app_context():
            worker_pk = measured_worker(db.session, world)
            qualifying = _count(
                db.session,
                "SELECT count(*) FROM observations WHERE worker_id = :w AND level >= 3 "
                "AND withdrawn_at IS NULL",
                w=worker_pk,
            )
        for app in apps:
            with app.app_context():
                worker = db.session.get(Membership, worker_pk)
                service.recompute_worker(db.session, worker=worker, now=utcnow())
                db.session.commit()  # the steady state: the statuses are already stored
                for _ in range(WARMUP):
                    _call(db.session, worker_pk)
        times: list[list[tuple[float, float]]] = [[], []]
        for n in range(ROUNDS):
            for side in (0, 1) if n % 2 == 0 else (1, 0):
                with apps[side].app_context():
                    times[side].append(_call(db.session, worker_pk))
        statements = []
        for app in apps:
            with app.app_context():
                statements.append(_counting(db.session, lambda: _call(db.session, worker_pk)))
    finally:
        for app in apps:
            dispose(app)
    (small, large), (small_wall, large_wall) = (
        [statistics.median(t[i] for t in side) for side in times] for i in (0, 1)
    )
    return {
        "ratio": large / small,
        "small_ms": round(small * 1000, 1),
        "large_ms": round(large * 1000, 1),
        "small_wall_ms": round(small_wall * 1000, 1),
        "large_wall_ms": round(large_wall * 1000, 1),
        "wall_ratio": round(large_wall / small_wall, 3),
        "rounds": ROUNDS,
        "statements_small": statements[0],
        "statements_large": statements[1],
        "worker_observations": TEAM_OBSERVATIONS,
        "worker_observations_at_3_or_more": qualifying,
    }


def _recompute_all(session: Session, structure_id: str) -> tuple[int, int]:
    """One full dry-run recompute of the structure, as ``flask assessments recompute
    --structure`` runs it (the same service calls): (workers, templates)."""
    workers = service.workers_to_recompute(session, structure_id)
    templates = service.current_templates(session)
    service.recompute_workers(
        session, workers=workers, now=utcnow(), templates=templates, apply=False
    )
    session.rollback()
    return len(workers), len(templates)


def _medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """Median CPU and median wall seconds."""
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def full_recompute(world: World, url: str) -> dict[str, Any]:
    """Full recompute of the measured structure against the SQL aggregate of its rows."""
    app = make_app(url, world.keys_dir)
    structure_pk = world.places[0].structure_pk
    params = {"structure": structure_pk}
    sql: dict[str, list[tuple[float, float]]] = {name: [] for name in AGGREGATES}
    full: list[tuple[float, float]] = []
    try:
        with app.app_context():
            session = db.session
            observations = _count(
                session, "SELECT count(*) FROM observations WHERE structure_id = :s", s=structure_pk
            )
            rows = {n: len(session.execute(text(q), params).all()) for n, q in AGGREGATES.items()}
            if len(set(rows.values())) != 1:
                raise RuntimeError(f"the two aggregates disagree: {rows}")
            for _ in range(FULL_ROUNDS):
                for name, query in AGGREGATES.items():
                    cpu, wall, _ = _timed(lambda q=query: session.execute(text(q), params).all())
                    sql[name].append((cpu, wall))
                cpu, wall, (workers, templates) = _timed(
                    lambda: _recompute_all(session, world.structure_id)
                )
                full.append((cpu, wall))
            statements = _counting(session, lambda: _recompute_all(session, world.structure_id))
            plans = {
                name: [str(r[-1]) for r in session.execute(text("EXPLAIN QUERY PLAN " + q), params)]
                for name, q in AGGREGATES.items()
            }
    finally:
        dispose(app)
    times = {name: _medians(runs) for name, runs in sql.items()}
    best = min(times, key=lambda name: times[name][0])
    (sql_s, sql_wall), (full_s, full_wall) = times[best], _medians(full)
    pairs = workers * templates
    return {
        "ratio": sql_s / full_s,
        "recompute_pairs_per_s": round(pairs / full_s),
        "sql_pairs_per_s": round(pairs / sql_s),
        "recompute_s": round(full_s, 2),
        "sql_ms": round(sql_s * 1000, 1),
        "recompute_wall_s": round(full_wall, 2),
        "sql_wall_ms": round(sql_wall * 1000, 1),
        "sql_plan_used": best,
        **{f"sql_{name}_ms": round(t[0] * 1000, 1) for name, t in times.items()},
        "rounds": FULL_ROUNDS,
        "workers": workers,
        "templates": templates,
        "pairs": pairs,
        "sql_rows": rows[best],
        "structure_observations": observations,
        "statements": statements,
        "statements_per_worker": round(statements / max(workers, 1), 2),
        "aggregate_query": AGGREGATES[best],
        "aggregate_plans": plans,
    }
