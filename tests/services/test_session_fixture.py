"""The rolled-back session fixture must really roll back: everything else relies on it."""

from sqlalchemy import func, select

from app.models import Structure
from app.services import structures
from tests.support.world import NOW

MARKER = "Structure écrite par un test"


def _count(db_session) -> int:
    return db_session.scalar(select(func.count()).where(Structure.name == MARKER))


def test_a_writes_a_row(db_session):
    structures.create_structure(db_session, actor=None, name=MARKER, now=NOW)
    assert _count(db_session) == 1


def test_b_does_not_see_it(db_session):
    assert _count(db_session) == 0


def test_a_service_commit_inside_is_contained_by_a_savepoint(db_session):
    structures.create_structure(db_session, actor=None, name=MARKER, now=NOW)
    db_session.commit()  # a savepoint release, the outer transaction still rolls back
    assert _count(db_session) == 1


def test_c_still_does_not_see_it(db_session):
    assert _count(db_session) == 0
