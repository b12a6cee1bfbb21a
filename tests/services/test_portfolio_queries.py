"""The earner's badge list stays an index lookup per badge, whatever the size of the
instance (bench: portfolio_list_time_ratio)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from app.models import Assertion, User
from app.queries import portfolio

pytestmark = pytest.mark.db


def test_asking_whether_a_badge_was_replaced_uses_the_replaces_index(db_session):
    bind = db_session.get_bind()
    indexes = {i["name"]: i["column_names"] for i in inspect(bind).get_indexes("assertions")}
    assert indexes["ix_assertions_replaces_id"] == ["replaces_id"]
    lea = db_session.scalars(select(User).where(User.login == "lea")).one()
    listed = portfolio.earner_badges(db_session, lea)
    assert listed and all(a.user_id == lea.id for a in listed)
    if bind.dialect.name != "sqlite":
        return  # PostgreSQL picks its plan from table statistics; the index is what we own
    query = portfolio._badges().where(Assertion.user_id == lea.id)
    compiled = query.compile(bind, compile_kwargs={"literal_binds": True})
    plan = " | ".join(row[-1] for row in db_session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    # The replacement check searches the index; it never reads the whole table per badge.
    assert "ix_assertions_replaces_id" in plan, plan
    assert "SCAN assertions_1" not in plan and "SCAN assertions AS assertions_1" not in plan, plan
