"""Engine settings that are about the database, not the models."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

#: Whether the next SQLite transaction will write (``BEGIN IMMEDIATE``) or only read
#: (``BEGIN``): the web layer clears it for GET and HEAD requests.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)


def configure_engine(app: Flask) -> None:
    """Apply the SQLite settings to the app's engine (PostgreSQL needs none)."""
    from app.extensions import db

    with app.app_context():
        prepare_sqlite(db.engine)


def prepare_sqlite(engine: Engine) -> Engine:
    """SQLite: foreign keys on, WAL, a busy timeout, and real transactions.

    pysqlite opens transactions lazily and breaks SAVEPOINT; handing transaction control
    to SQLAlchemy (the documented recipe) makes ``BEGIN``/``SAVEPOINT`` behave.
    Write transactions start with ``BEGIN IMMEDIATE``: SQLite has one writer at a time,
    and a deferred transaction that reads then writes fails at once (no busy wait) when
    another writer committed in between; taking the lock up front makes writers queue.
    Reads (GET pages) start with a plain ``BEGIN`` so they never wait for writers.
    PostgreSQL, the production database, needs none of this.
    """
    if engine.dialect.name != "sqlite":
        return engine
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")
