"""Structures, memberships, roles, follow-up and teams (services.structures)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.domain.errors import StructureError
from app.models import AuditEvent, Membership, Structure, Team, TeamMember, User
from app.services import accounts, audit, structures
from tests.support.world import B_NAME, NOW

A_NAME = "Les Jardins du Val"


def _user(session: Session, login: str) -> User:
    return session.scalars(select(User).where(User.login == login)).one()


def _structure(session: Session, name: str = A_NAME) -> Structure:
    return session.scalars(select(Structure).where(Structure.name == name)).one()


def _member(session: Session, login: str) -> Membership:
    return session.scalars(
        select(Membership).join(Membership.user).where(User.login == login)
    ).one()


def _team(session: Session, name: str) -> Team:
    return session.scalars(select(Team).where(Team.name == name)).one()


def _audits(session: Session, action: str, subject: User | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action)
    if subject is not None:
        query = query.where(AuditEvent.subject_id == subject.id)
    return list(session.scalars(query))


def _audit_count(session: Session) -> int:
    return session.scalar(select(func.count(AuditEvent.id)))


def _set_roles(session: Session, login: str, *roles: Role) -> None:
    structures.set_roles(
        session,
        actor=_user(session, "claire.admin"),
        membership=_member(session, login),
        roles=set(roles),
        now=NOW,
    )


def _end(session: Session, login: str, on: date | None = None) -> None:
    structures.end_membership(
        session,
        actor=_user(session, "claire.admin"),
        membership=_member(session, login),
        on=on or NOW.date(),
        now=NOW,
    )


def _follow(session: Session, login: str, referent_login: str) -> None:
    structures.set_follow_up(
        session,
        actor=_user(session, "claire.admin"),
        membership=_member(session, login),
        referent=_member(session, referent_login),
        sees_all_workers=False,
        now=NOW,
    )


def test_add_member_gives_a_new_person_roles_and_is_audited(db_session):
    claire, structure = _user(db_session, "claire.admin"), _structure(db_session)
    person = accounts.create_user(db_session, first_name="Inès", last_name="Roy", now=NOW)
    membership = structures.add_member(
        db_session,
        actor=claire,
        structure=structure,
        user=person,
        roles={Role.SALARIE},
        now=NOW,
        started_on=date(2026, 11, 3),
    )
    assert membership.is_current and membership.role_set == {Role.SALARIE}
    assert membership.started_on == date(2026, 11, 3)
    [event] = _audits(db_session, "membership.started", person)
    assert (event.actor_id, event.structure_id) == (claire.id, structure.id)
    assert event.details == {"roles": ["salarie"]}


def test_add_member_refuses_no_role_and_a_current_member(db_session):
    claire, structure = _user(db_session, "claire.admin"), _structure(db_session)
    before = _audit_count(db_session)
    with pytest.raises(StructureError):
        structures.add_member(
            db_session,
            actor=claire,
            structure=structure,
            user=_user(db_session, "julie"),
            roles={Role.CONSEILLER},
            now=NOW,
        )
    person = accounts.create_user(db_session, first_name="Sans", last_name="Rôle", now=NOW)
    with pytest.raises(StructureError, match="au moins un rôle"):
        structures.add_member(
            db_session, actor=claire, structure=structure, user=person, roles=[], now=NOW
        )
    assert _audit_count(db_session) == before
    assert _member(db_session, "julie").role_set == {Role.SALARIE}


def test_set_roles_replaces_the_roles_and_is_audited(db_session):
    claire, sophie = _user(db_session, "claire.admin"), _member(db_session, "sophie.cip")
    _set_roles(db_session, "sophie.cip", Role.CONSEILLER, Role.VALIDATEUR)
    db_session.expire_all()
    assert _member(db_session, "sophie.cip").role_set == {Role.CONSEILLER, Role.VALIDATEUR}
    [event] = _audits(db_session, "membership.roles_changed", sophie.user)
    assert event.details == {"roles": ["conseiller", "validateur"]} and event.actor_id == claire.id


def test_the_last_admin_can_neither_lose_the_role_nor_leave(db_session):
    claire = _member(db_session, "claire.admin")
    before = _audit_count(db_session)
    with pytest.raises(StructureError, match="au moins un·e administrateur·rice"):
        _set_roles(db_session, "claire.admin", Role.ENCADRANT)
    with pytest.raises(StructureError, match="au moins un·e administrateur·rice"):
        _end(db_session, "claire.admin")
    assert claire.role_set == {Role.ADMIN} and claire.is_current
    assert _audit_count(db_session) == before
    # With a second admin, either becomes possible.
    _set_roles(db_session, "nadia.validatrice", Role.ADMIN, Role.VALIDATEUR)
    _set_roles(db_session, "claire.admin", Role.ENCADRANT)
    assert claire.role_set == {Role.ENCADRANT}


def test_an_admin_of_another_structure_does_not_count(db_session):
    assert _member(db_session, "b.admin").has_role(Role.ADMIN)
    with pytest.raises(StructureError):
        _set_roles(db_session, "claire.admin", Role.CONSEILLER)


def test_ending_a_membership_keeps_the_account_and_history(db_session):
    claire, karim = _user(db_session, "claire.admin"), _member(db_session, "karim")
    team = _team(db_session, "Espaces verts")
    on = NOW.date() + timedelta(days=30)
    _end(db_session, "karim", on)
    db_session.expire_all()
    karim = _member(db_session, "karim")
    assert karim.ended_on == on and not karim.is_current
    assert _user(db_session, "karim").is_active
    assert karim.role_set == {Role.SALARIE}
    assert (
        db_session.scalars(select(TeamMember).where(TeamMember.membership_id == karim.id)).all()
        == []
    )
    assert {link.membership.user.login for link in team.members} == {
        "marc.encadrant",
        "julie",
        "ousmane",
    }
    [event] = _audits(db_session, "membership.ended", karim.user)
    assert event.details == {"on": on.isoformat()} and event.actor_id == claire.id
    with pytest.raises(StructureError, match="déjà quitté"):
        _end(db_session, "karim")


def test_re_adding_a_former_member_reopens_the_same_membership(db_session):
    claire, karim = _user(db_session, "claire.admin"), _member(db_session, "karim")
    structure, original_id = karim.structure, karim.id
    _end(db_session, "karim")
    later = NOW + timedelta(days=90)
    again = structures.add_member(
        db_session,
        actor=claire,
        structure=structure,
        user=karim.user,
        roles={Role.SALARIE, Role.ENCADRANT},
        now=later,
    )
    assert again.id == original_id
    assert again.is_current and again.started_on == later.date()
    assert again.role_set == {Role.SALARIE, Role.ENCADRANT}
    count = db_session.scalar(
        select(func.count(Membership.id)).where(Membership.user_id == karim.user_id)
    )
    assert count == 1


def test_set_follow_up_accepts_a_conseiller_of_the_structure(db_session):
    lea, sophie = _member(db_session, "lea"), _member(db_session, "sophie.cip")
    _follow(db_session, "lea", "sophie.cip")
    assert lea.referent_id == sophie.id
    [event] = _audits(db_session, "membership.follow_up_changed", lea.user)
    assert event.details == {"referent": sophie.public_id, "sees_all": False}


@pytest.mark.parametrize(
    ("referent_login", "message"),
    [
        ("b.cip", "ne fait pas partie"),
        ("marc.encadrant", "rôle conseiller"),
        ("julie", "rôle conseiller"),
    ],
)
def test_set_follow_up_refuses_a_wrong_referent(db_session, referent_login, message):
    lea = _member(db_session, "lea")
    before = _audit_count(db_session)
    with pytest.raises(StructureError, match=message):
        _follow(db_session, "lea", referent_login)
    assert lea.referent_id is None and _audit_count(db_session) == before


def test_set_follow_up_refuses_a_referent_who_left(db_session):
    _end(db_session, "sophie.cip")
    with pytest.raises(StructureError, match="ne fait pas partie"):
        _follow(db_session, "lea", "sophie.cip")
    assert _member(db_session, "lea").referent_id is None


def _set_team(session: Session, team: Team, leaders: list[str], members: list[str]) -> None:
    structures.set_team_members(
        session,
        actor=_user(session, "claire.admin"),
        team=team,
        leaders=[_member(session, login) for login in leaders],
        members=[_member(session, login) for login in members],
        now=NOW,
    )


@pytest.mark.parametrize(
    ("leaders", "members", "message"),
    [
        (["karim"], ["julie"], "encadrant·es peuvent mener"),
        (["marc.encadrant"], ["paul.encadrant"], "salarié·es peuvent être membres"),
        (["marc.encadrant"], ["b.salarie"], "ne fait pas partie"),
        (["b.encadrant"], ["julie"], "ne fait pas partie"),
    ],
)
def test_set_team_members_refuses_wrong_people(db_session, leaders, members, message):
    team = _team(db_session, "Espaces verts")
    before = {(link.membership_id, link.is_leader) for link in team.members}
    with pytest.raises(StructureError, match=message):
        _set_team(db_session, team, leaders, members)
    db_session.expire_all()
    team = _team(db_session, "Espaces verts")
    assert {(link.membership_id, link.is_leader) for link in team.members} == before


def test_set_team_members_replaces_leaders_and_members(db_session):
    team = _team(db_session, "Espaces verts")
    before = {e.id for e in _audits(db_session, "team.members_changed")}
    _set_team(db_session, team, ["marc.encadrant", "paul.encadrant"], ["julie", "lea"])
    db_session.expire_all()
    team = _team(db_session, "Espaces verts")
    assert {(link.membership.user.login, link.is_leader) for link in team.members} == {
        ("marc.encadrant", True),
        ("paul.encadrant", True),
        ("julie", False),
        ("lea", False),
    }
    [event] = [e for e in _audits(db_session, "team.members_changed") if e.id not in before]
    assert (event.target, event.structure_id) == (team.public_id, team.structure_id)
    assert event.details == {"count": 4}


def test_create_team_refuses_a_name_already_used_in_the_structure(db_session):
    claire = _user(db_session, "claire.admin")
    structure = _structure(db_session)
    for name in ("Espaces verts", "  Espaces verts  "):
        with pytest.raises(StructureError, match="déjà ce nom"):
            structures.create_team(
                db_session, actor=claire, structure=structure, name=name, now=NOW
            )
    with pytest.raises(StructureError):
        structures.create_team(db_session, actor=claire, structure=structure, name="   ", now=NOW)
    # The same name in another structure is fine.
    b_admin = _user(db_session, "b.admin")
    team = structures.create_team(
        db_session,
        actor=b_admin,
        structure=_structure(db_session, B_NAME),
        name="Espaces verts",
        now=NOW,
    )
    assert team.name == "Espaces verts"


# --- VAL-04: an action and its audit row share one transaction ---------------------------


def test_a_failure_halfway_leaves_neither_the_action_nor_its_audit_row(db_session):
    karim = _member(db_session, "karim")
    before = _audit_count(db_session)
    nested = db_session.begin_nested()
    _end(db_session, "karim")
    assert _audits(db_session, "membership.ended", karim.user)  # written, not yet committed
    with pytest.raises(StructureError):  # the second step of the same unit of work fails
        _set_roles(db_session, "claire.admin", Role.ENCADRANT)
    nested.rollback()
    karim = _member(db_session, "karim")
    assert karim.is_current
    assert db_session.scalars(select(TeamMember).where(TeamMember.membership_id == karim.id)).all()
    assert _audits(db_session, "membership.ended", karim.user) == []
    assert _audit_count(db_session) == before


def test_an_audit_failure_undoes_the_action(db_session, monkeypatch):
    """If the audit row cannot be written, the action does not happen either."""
    before = _audit_count(db_session)
    real_record = audit.record

    def record_then_fail(*args: object, **kwargs: object) -> AuditEvent:
        real_record(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", record_then_fail)
    nested = db_session.begin_nested()
    with pytest.raises(RuntimeError, match="disk full"):
        _set_roles(db_session, "sophie.cip", Role.VALIDATEUR)
    nested.rollback()
    assert _member(db_session, "sophie.cip").role_set == {Role.CONSEILLER}
    assert _audit_count(db_session) == before
