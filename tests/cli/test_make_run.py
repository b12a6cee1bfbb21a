"""``make run`` seeds the database with three commands; running it again adds nothing."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, inspect, select, table

from app.extensions import db
from tests.conftest import dispose, make_app

ROOT = Path(__file__).resolve().parents[2]
# The commands of the Makefile's ``db`` target, which ``make run`` depends on.
MAKE_DB = [
    ["db", "upgrade"],
    ["referentials", "load", str(ROOT / "referentials"), "--apply"],
    ["demo", "seed", "--apply"],
]


def _run_make_db(app: Flask) -> list[str]:
    outputs = []
    runner = app.test_cli_runner()
    for args in MAKE_DB:
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output, result.exception)
        outputs.append(result.stdout)
    return outputs


def _counts(app: Flask) -> dict[str, int]:
    """Rows of every table in the database, alembic_version included."""
    with app.app_context():
        names = inspect(db.engine).get_table_names()
        return {
            name: db.session.scalar(select(func.count()).select_from(table(name))) for name in names
        }


def test_make_run_seeding_twice_leaves_every_table_as_after_the_first_run(db_factory, tmp_path):
    app = make_app(db_factory.empty(), tmp_path / "keys")
    try:
        first = _run_make_db(app)
        after_first = _counts(app)
        second = _run_make_db(app)
        after_second = _counts(app)
    finally:
        dispose(app)
    assert "created: user karim" in first[2] and "Loaded " in first[1]
    assert after_first["users"] == 10 and after_first["referentials"] > 0
    assert after_first["signing_keys"] == 1 and after_first["alembic_version"] == 1
    assert set(db.metadata.tables) <= set(after_first)
    # No audit row is written by reads, so every table, audit_events included, is equal.
    assert after_second == after_first
    assert "Nothing to change." in second[1]
    assert "created:" not in second[2] and "generated:" not in second[2]
    assert len([p for p in (tmp_path / "keys").rglob("*.pem")]) == 1
