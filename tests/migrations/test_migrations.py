"""Migrations: they build the models' schema from nothing and undo it, on every backend."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import JSON, Column, Connection, inspect, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db, migrate
from tests.conftest import dispose, make_app

AUDIT_TRIGGERS = {
    "sqlite": {"audit_events_no_update", "audit_events_no_delete"},
    "postgresql": {"audit_events_no_change"},
}


@pytest.fixture
def empty_app(db_factory, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database with no table at all."""
    application = make_app(db_factory.empty(), tmp_path / "keys")
    yield application
    dispose(application)


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrate.get_config())


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def _schema(connection: Connection) -> dict[str, object]:
    """Tables with their columns and indexes, and the audit guards (alembic_version aside)."""
    inspector = inspect(connection)
    shape: dict[str, object] = {
        name: (
            sorted(c["name"] for c in inspector.get_columns(name)),
            sorted(str(i["name"]) for i in inspector.get_indexes(name)),
        )
        for name in inspector.get_table_names()
        if name != "alembic_version"
    }
    shape["(guards)"] = _guards(connection)
    return shape


def _guards(connection: Connection) -> set[str]:
    """The audit triggers, and on PostgreSQL the function they call."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        return {name for (name,) in rows}
    triggers = connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
    functions = connection.execute(
        text("SELECT proname FROM pg_proc WHERE proname = 'audit_events_append_only'")
    )
    return {name for (name,) in triggers} | {f"function {name}" for (name,) in functions}


def _expected_guards(dialect: str) -> set[str]:
    expected = set(AUDIT_TRIGGERS[dialect])
    return expected | ({"function audit_events_append_only"} if dialect == "postgresql" else set())


def _assert_at_head() -> None:
    model_tables = set(db.metadata.tables)
    assert model_tables and model_tables | {"alembic_version"} == _tables()
    with db.engine.connect() as connection:
        assert _current(connection) == _script().get_current_head()
        assert _expected_guards(connection.dialect.name) <= _guards(connection)


def test_upgrade_downgrade_and_upgrade_again_from_an_empty_database(empty_app):
    with empty_app.app_context():
        assert _tables() == set()
        upgrade()
        _assert_at_head()

        head = _script().get_revision(_script().get_current_head())
        downgrade(revision="-1")
        with db.engine.connect() as connection:
            assert _current(connection) == head.down_revision
        if head.down_revision is None:
            assert _tables() == {"alembic_version"}

        downgrade(revision="base")
        assert _tables() == {"alembic_version"}
        with db.engine.connect() as connection:
            assert _current(connection) is None
            assert _guards(connection) == set()

        upgrade()
        _assert_at_head()


def test_every_revision_steps_down_and_up_again(empty_app):
    """The 'stairway': each migration's downgrade undoes its upgrade exactly."""
    with empty_app.app_context():
        revisions = [r.revision for r in reversed(list(_script().walk_revisions()))]
        assert revisions, "no migration found"
        for revision in revisions:
            with db.engine.connect() as connection:
                before = _schema(connection)
            upgrade(revision=revision)
            with db.engine.connect() as connection:
                after_up = _schema(connection)
            downgrade(revision="-1")
            with db.engine.connect() as connection:
                assert _schema(connection) == before, revision
            upgrade(revision=revision)
            with db.engine.connect() as connection:
                assert _schema(connection) == after_up, revision
        _assert_at_head()


def test_the_audit_trigger_works_after_a_fresh_upgrade(empty_app):
    with empty_app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_events (occurred_at, action, details) "
                    "VALUES (CURRENT_TIMESTAMP, 'test.inserted', '{}')"
                )
            )
        for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"):
                with db.engine.begin() as connection:
                    connection.execute(text(statement))
        with db.engine.connect() as connection:
            assert connection.scalar(text("SELECT action FROM audit_events")) == "test.inserted"


def _compare_json_default(
    context: MigrationContext,
    inspected_column: Column[Any],
    metadata_column: Column[Any],
    inspected_default: str | None,
    metadata_default: object,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Compare a JSON column's server default as text on PostgreSQL; else alembic's way.

    Alembic compares PostgreSQL defaults by running ``SELECT <db default> = <model default>``,
    which fails for ``json`` (a type without ``=``). The text comparison still catches a
    default that differs or is missing; ``None`` hands every other column back to alembic.
    """
    if context.dialect.name != "postgresql" or not isinstance(metadata_column.type, JSON):
        return None
    reflected = re.sub(r"::jsonb?$", "", inspected_default or "")
    return reflected != (rendered_metadata_default or "")


def test_the_migrated_schema_matches_the_models(app):
    """What ``alembic check`` does: autogenerate finds nothing to add, drop or alter.

    Types and server defaults are compared too; nothing is ignored.
    """
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": _compare_json_default},
        )
        assert compare_metadata(context, db.metadata) == []
