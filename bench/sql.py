"""What a piece of work asks the database: its statements, their count, a query's plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import event

from app.extensions import db


def recorded_statements(app: Flask, work: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Every SQL statement (with its parameters) that ``work()`` runs on the app's engine."""
    seen: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def count_statements(app: Flask, work: Callable[[], Any]) -> int:
    """How many SQL statements ``work()`` runs on the app's engine."""
    return len(recorded_statements(app, work))


def query_plan(app: Flask, statement: str, parameters: Any) -> list[str]:
    """SQLite's plan of one recorded statement, a line per step."""
    with app.app_context():
        rows = db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters
        )
        plan = [str(row[-1]) for row in rows]
        db.session.remove()
    return plan
