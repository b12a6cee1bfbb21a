"""Bulk SQL rows: the measured team's observations, and filler workers and observations.

Rows are written straight with SQLite (recursive CTEs, one transaction per statement), not
through the services: a million observations would take an hour one capture at a time.
Each filler observation also gets its first version, as a capture would. Filler workers
belong to the measured structure and to others, but to none of the encadrant's teams, and
are observed on the same competences as the measured team (the least selective case).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from bench.world import World

#: Observations per worker of the measured team (the issue's figure).
TEAM_OBSERVATIONS = 100
#: Filler workers per structure (ten structures: 2 000 workers).
WORKERS_PER_STRUCTURE = 200

_INSERT = """
WITH RECURSIVE seq(n) AS (SELECT :start UNION ALL SELECT n + 1 FROM seq WHERE n < :stop - 1)
INSERT INTO observations (
    public_id, structure_id, worker_id, competence_id, situation_id, author_id, author_role,
    version, level, observed_at, recorded_at, withdrawn_at, withdrawal_reason, withdrawn_by_id
)
SELECT
    lower(hex(randomblob(16))), w.structure_id, w.membership_id, c.competence_id,
    w.situation_id, w.author_id, 'encadrant', 1,
    CASE WHEN seq.n % 10 = 9 THEN NULL ELSE 1 + seq.n % 4 END,
    strftime('%Y-%m-%d %H:%M:%S', :now, printf('-%d minutes', (seq.n * 37) % :span))
        || '.000000',
    strftime('%Y-%m-%d %H:%M:%S', :now, printf('-%d minutes', (seq.n * 37) % :span))
        || '.000000',
    CASE WHEN seq.n % 50 = 49 THEN :now_full END,
    CASE WHEN seq.n % 50 = 49 THEN 'erreur_saisie' END,
    CASE WHEN seq.n % 50 = 49 THEN w.author_id END
FROM seq
JOIN {workers} AS w ON w.n = seq.n % :workers
JOIN bench_competences AS c ON c.k = (seq.n / :workers) % :competences
"""

_VERSIONS = """
INSERT INTO observation_versions (observation_id, number, level, observed_at, recorded_at,
                                  author_id)
SELECT id, 1, level, observed_at, recorded_at, author_id FROM observations WHERE id > :after
"""


def connect(path: str) -> sqlite3.Connection:
    """A connection tuned for bulk writing (the app's own connections keep their settings)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    conn.execute("PRAGMA temp_store=MEMORY")
    _temp_tables(conn)
    return conn


def _now() -> tuple[str, str]:
    text = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return text, text + ".000000"


def _temp_tables(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TEMP TABLE bench_competences (k INTEGER PRIMARY KEY, competence_id INT)")
    for table in ("bench_team", "bench_workers"):
        conn.execute(
            f"CREATE TEMP TABLE {table} (n INTEGER PRIMARY KEY, membership_id INT, "
            "structure_id INT, situation_id INT, author_id INT)"
        )


def _load_temp_tables(conn: sqlite3.Connection, world: World) -> None:
    conn.execute("DELETE FROM bench_competences")
    conn.executemany("INSERT INTO bench_competences VALUES (?, ?)", enumerate(world.competence_pks))
    home = world.places[0]
    conn.execute("DELETE FROM bench_team")
    conn.executemany(
        "INSERT INTO bench_team VALUES (?, ?, ?, ?, ?)",
        [
            (n, pk, home.structure_pk, world.team_situation_pk, world.encadrant_user_pk)
            for n, pk in enumerate(world.team_worker_pks)
        ],
    )
    conn.execute("DELETE FROM bench_workers")
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS bench_places (s INT, situation INT, author INT)")
    conn.execute("DELETE FROM bench_places")
    conn.executemany(
        "INSERT INTO bench_places VALUES (?, ?, ?)",
        [(p.structure_pk, p.situation_pk, p.author_pk) for p in world.places],
    )
    conn.execute(
        "INSERT INTO bench_workers (n, membership_id, structure_id, situation_id, author_id) "
        "SELECT row_number() OVER (ORDER BY m.id) - 1, m.id, m.structure_id, p.situation, "
        "p.author FROM memberships m JOIN users u ON u.id = m.user_id "
        "JOIN bench_places p ON p.s = m.structure_id WHERE u.login LIKE 'filler.%'"
    )


def add_workers(conn: sqlite3.Connection, world: World) -> int:
    """Create the filler workers (users, memberships, the worker role); returns how many."""
    now, now_full = _now()
    conn.execute("BEGIN")
    for k, place in enumerate(world.places):
        conn.execute(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :count) "
            "INSERT INTO users (public_id, login, first_name, last_name, must_change_password, "
            "is_superadmin, created_at) "
            "SELECT lower(hex(randomblob(16))), 'filler.' || :k || '.' || n, 'Prénom' || n, "
            "'Remplissage', 0, 0, :now FROM seq",
            {"count": WORKERS_PER_STRUCTURE, "k": k, "now": now_full},
        )
        conn.execute(
            "INSERT INTO memberships (public_id, user_id, structure_id, started_on, "
            "sees_all_workers, created_at) "
            "SELECT lower(hex(randomblob(16))), id, :structure, date(:now), 0, :now_full "
            "FROM users WHERE login LIKE 'filler.' || :k || '.%'",
            {"structure": place.structure_pk, "k": k, "now": now, "now_full": now_full},
        )
    conn.execute(
        "INSERT INTO membership_roles (membership_id, role) SELECT m.id, 'salarie' "
        "FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.login LIKE 'filler.%'"
    )
    conn.execute("COMMIT")
    return WORKERS_PER_STRUCTURE * len(world.places)


def _insert(conn: sqlite3.Connection, table: str, start: int, count: int, span_days: int) -> None:
    workers = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    after = conn.execute("SELECT coalesce(max(id), 0) FROM observations").fetchone()[0]
    now, now_full = _now()
    conn.execute("BEGIN")
    conn.execute(
        _INSERT.format(workers=table),
        {
            "start": start,
            "stop": start + count,
            "now": now,
            "now_full": now_full,
            "span": span_days * 24 * 60,
            "workers": workers,
            "competences": len(conn.execute("SELECT k FROM bench_competences").fetchall()),
        },
    )
    conn.execute(_VERSIONS, {"after": after})
    conn.execute("COMMIT")


def add_team_observations(conn: sqlite3.Connection, world: World) -> int:
    """``TEAM_OBSERVATIONS`` observations for each worker of the measured team."""
    _load_temp_tables(conn, world)
    count = TEAM_OBSERVATIONS * len(world.team_worker_pks)
    _insert(conn, "bench_team", 0, count, span_days=180)
    return count


def fill_to(conn: sqlite3.Connection, world: World, total: int) -> int:
    """Add filler observations until the database holds ``total``; returns how many added."""
    _load_temp_tables(conn, world)
    current = observation_count(conn)
    if total > current:
        _insert(conn, "bench_workers", current, total - current, span_days=730)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return max(total - current, 0)


def observation_count(conn: sqlite3.Connection) -> int:
    """How many observations the database holds."""
    return int(conn.execute("SELECT count(*) FROM observations").fetchone()[0])
