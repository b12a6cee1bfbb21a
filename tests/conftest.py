"""Fixtures: fresh migrated databases (SQLite, or PostgreSQL with JALON_TEST_DATABASE),
a rolled-back session for service tests, apps and clients, and a live server."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from app import create_app
from app.database import prepare_sqlite
from app.extensions import db
from tests.support import world
from tests.support.databases import DatabaseFactory
from tests.support.live import closing_first

BACKEND = os.environ.get("JALON_TEST_DATABASE", "sqlite")
DB_FIXTURES = {
    "app",
    "world_app",
    "client",
    "world_client",
    "db_session",
    "live_server",
    "db_factory",
    "migrated_url",
    "world_url",
}


def pytest_report_header(config: pytest.Config) -> str:
    return f"Jalon test database: {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the database tests; on SQLite, leave out those about PostgreSQL's row locks
    (``postgresql`` marker): the second run of ``make test`` runs them."""
    kept, left_out = [], []
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
        if BACKEND != "postgresql" and item.get_closest_marker("postgresql"):
            left_out.append(item)
        else:
            kept.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


def build_config(url: str, keys_dir: Path, **overrides: Any) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-0123456789abcdef",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "GUARD_GET_WRITES": True,
        "KEYS_DIR": str(keys_dir),
        "BASE_URL": "http://localhost",
        # Notifications go to a file of the test session, never to the repository's instance/.
        "OUTBOX_PATH": str(keys_dir.parent / "outbox.jsonl"),
    }
    config.update(overrides)
    return config


def make_app(url: str, keys_dir: Path, **overrides: Any) -> Flask:
    return create_app(build_config(url, keys_dir, **overrides))


def dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def db_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(BACKEND, tmp_path_factory.mktemp("db"))
    yield factory
    factory.close()


def migrate_to_head(url: str, keys_dir: Path) -> None:
    from flask_migrate import upgrade

    app = make_app(url, keys_dir)
    with app.app_context():
        upgrade()
    dispose(app)


@pytest.fixture(scope="session")
def migrated_url(db_factory: DatabaseFactory, keys_dir: Path) -> str:
    return db_factory.template("migrated", lambda url: migrate_to_head(url, keys_dir))


@pytest.fixture(scope="session")
def world_url(db_factory: DatabaseFactory, migrated_url: str, keys_dir: Path) -> str:
    def build(url: str) -> None:
        migrate_to_head(url, keys_dir)
        engine = prepare_sqlite(create_engine(url))
        with Session(engine) as session:
            world.build(session, keys_dir)
            session.commit()
        engine.dispose()

    return db_factory.template("world", build)


@pytest.fixture
def app(db_factory: DatabaseFactory, migrated_url: str, keys_dir: Path) -> Iterator[Flask]:
    """An app on a fresh, migrated, empty database."""
    application = make_app(db_factory.copy(migrated_url), keys_dir)
    yield application
    dispose(application)


@pytest.fixture
def world_app(db_factory: DatabaseFactory, world_url: str, keys_dir: Path) -> Iterator[Flask]:
    """An app on a fresh copy of the test world."""
    application = make_app(db_factory.copy(world_url), keys_dir)
    yield application
    dispose(application)


@pytest.fixture
def world_app_with(db_factory: DatabaseFactory, world_url: str, keys_dir: Path):  # type: ignore[no-untyped-def]
    """Build apps on fresh copies of the world with extra settings; disposed afterwards."""
    made: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        application = make_app(db_factory.copy(world_url), keys_dir, **overrides)
        made.append(application)
        return application

    yield build
    for application in made:
        dispose(application)


@pytest.fixture
def client(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def world_client(world_app: Flask):  # type: ignore[no-untyped-def]
    return world_app.test_client()


@pytest.fixture(scope="session")
def shared_world_engine(db_factory: DatabaseFactory, world_url: str):  # type: ignore[no-untyped-def]
    engine = prepare_sqlite(create_engine(db_factory.copy(world_url)))
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(shared_world_engine) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    """A session on the test world whose every write is rolled back after the test."""
    connection = shared_world_engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()
    transaction.rollback()
    connection.close()


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, closing_first(app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(
    db_factory: DatabaseFactory, world_url: str, keys_dir: Path
) -> Iterator[LiveServer]:
    """A real HTTP server on a loopback port, on its own fresh copy of the test world."""
    application = make_app(db_factory.copy(world_url), keys_dir)
    server = LiveServer(application)
    server.start()
    yield server
    server.stop()
    dispose(application)
