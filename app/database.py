"""Engine settings that are about the database, not the models."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine


def configure_engine(app: Flask) -> None:
    """Apply the SQLite settings to the app's engine (PostgreSQL needs none)."""
    from app.extensions import db

    with app.app_context():
        prepare_sqlite(db.engine)


def prepare_sqlite(engine: Engine) -> Engine:
    """SQLite: foreign keys on, WAL, a busy timeout, and real transactions.

    pysqlite opens transactions lazily and breaks SAVEPOINT; handing transaction control
    to SQLAlchemy (the documented recipe) makes ``BEGIN``/``SAVEPOINT`` behave.
    Transactions start with ``BEGIN IMMEDIATE``: SQLite has one writer at a time, and a
    deferred transaction that reads then writes fails at once (no busy wait) when another
    writer committed in between; taking the lock up front makes concurrent writers queue.
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
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
