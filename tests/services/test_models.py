"""Constraints the database itself enforces, whatever the services check first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from app.models import AuditEvent, Membership, Referential, Structure, Team, TeamMember, User
from app.models.audit import AppendOnlyError
from app.services import audit
from tests.support.world import NOW


def _user(session: Session, login: str) -> User:
    return session.scalars(select(User).where(User.login == login)).one()


def _structure_a(session: Session) -> Structure:
    return session.scalars(select(Structure).where(Structure.name == "Les Jardins du Val")).one()


def _refused(session: Session, row: object) -> None:
    """``row`` breaks a constraint: the flush raises IntegrityError and nothing is kept."""
    session.add(row)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def _new_user(login: str, email: str | None = None) -> User:
    return User(login=login, first_name="Test", last_name="Personne", email=email, created_at=NOW)


def test_a_person_has_at_most_one_membership_per_structure(db_session):
    karim, structure = _user(db_session, "karim"), _structure_a(db_session)
    _refused(db_session, Membership(user=karim, structure=structure, created_at=NOW))
    kept = db_session.scalars(
        select(Membership.id).where(
            Membership.user_id == karim.id, Membership.structure_id == structure.id
        )
    ).all()
    assert len(kept) == 1


def test_a_second_membership_in_another_structure_is_allowed(db_session):
    karim = _user(db_session, "karim")
    other = Structure(name="Autre structure", created_at=NOW)
    db_session.add(Membership(user=karim, structure=other, created_at=NOW))
    db_session.flush()
    assert len({m.structure_id for m in karim.memberships}) == 2


def test_logins_are_unique(db_session):
    _refused(db_session, _new_user("karim"))


def test_email_addresses_are_unique_but_several_people_may_have_none(db_session):
    _refused(db_session, _new_user("autre.claire", email="claire.martin@jalon.example"))
    db_session.add_all([_new_user("sans.mail.un"), _new_user("sans.mail.deux")])
    db_session.flush()
    assert db_session.scalar(select(User.id).where(User.login == "sans.mail.deux")) is not None


def test_a_membership_is_in_a_team_at_most_once(db_session):
    team = db_session.scalars(select(Team).where(Team.name == "Espaces verts")).one()
    karim_link = next(link for link in team.members if link.membership.user.login == "karim")
    _refused(db_session, TeamMember(team_id=team.id, membership_id=karim_link.membership_id))


def test_a_referential_version_is_loaded_at_most_once(db_session):
    loaded = db_session.scalars(select(Referential).where(Referential.code == "bunk")).first()
    duplicate = Referential(
        code="bunk",
        version=loaded.version,
        kind="soft_skills",
        name={"fr": "Copie"},
        description={},
        content_hash="0" * 64,
        loaded_at=NOW,
    )
    _refused(db_session, duplicate)


def _some_audit_row(session: Session) -> AuditEvent:
    return session.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()


def test_the_orm_refuses_to_update_an_audit_row(db_session):
    row = _some_audit_row(db_session)
    row.action = "rewritten"
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()
    assert _some_audit_row(db_session).action != "rewritten"


def test_the_orm_refuses_to_delete_an_audit_row(db_session):
    row = _some_audit_row(db_session)
    row_id = row.id
    db_session.delete(row)
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()
    assert db_session.get(AuditEvent, row_id) is not None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'rewritten' WHERE id = :id",
        "UPDATE audit_events SET actor_id = NULL, subject_id = NULL WHERE id = :id",
        "DELETE FROM audit_events WHERE id = :id",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_raw_sql_changes_to_the_audit_trail(db_session, statement):
    """The trigger of the migration, on SQLite and PostgreSQL alike (VAL-04)."""
    row = _some_audit_row(db_session)
    row_id, action = row.id, row.action
    total = db_session.scalar(text("SELECT count(*) FROM audit_events"))
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(text(statement), {"id": row_id})
    db_session.rollback()
    assert (
        db_session.scalar(text("SELECT action FROM audit_events WHERE id = :id"), {"id": row_id})
        == action
    )
    assert db_session.scalar(text("SELECT count(*) FROM audit_events")) == total


def test_the_database_still_accepts_new_audit_rows(db_session):
    before = db_session.scalar(text("SELECT count(*) FROM audit_events"))
    audit.record(db_session, action="test.appended", now=NOW)
    assert db_session.scalar(text("SELECT count(*) FROM audit_events")) == before + 1


def test_a_naive_datetime_is_refused(db_session):
    db_session.add(
        User(login="naif", first_name="N", last_name="Aïf", created_at=datetime(2026, 11, 2, 9))
    )
    with pytest.raises(StatementError) as raised:
        db_session.flush()
    assert isinstance(raised.value.orig, ValueError)
    db_session.rollback()


def test_an_aware_datetime_is_stored_as_utc_and_read_back_aware(db_session):
    paris_summer = timezone(timedelta(hours=2))
    moment = datetime(2026, 7, 14, 11, 30, tzinfo=paris_summer)
    db_session.add(User(login="heure.ete", first_name="H", last_name="E", created_at=moment))
    db_session.flush()
    db_session.expire_all()
    stored = _user(db_session, "heure.ete").created_at
    assert stored == moment
    assert stored.utcoffset() == timedelta(0)
    assert stored.replace(tzinfo=None) == datetime(2026, 7, 14, 9, 30)
    assert stored.tzinfo is not None and stored.astimezone(UTC) == stored
