"""Who sees which workers (queries.people.visible_workers / visible_worker)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.models import Membership, User
from app.queries import people
from app.services import structures
from tests.support.world import NOW

ALL_A_WORKERS = {"karim", "julie", "ousmane", "lea"}


def _member(session: Session, login: str) -> Membership:
    return session.scalars(
        select(Membership).join(Membership.user).where(User.login == login)
    ).one()


def _seen(session: Session, viewer_login: str) -> set[str]:
    return {m.user.login for m in people.visible_workers(session, _member(session, viewer_login))}


def _finds(session: Session, viewer_login: str, worker_login: str) -> bool:
    worker = _member(session, worker_login)
    viewer = _member(session, viewer_login)
    return people.visible_worker(session, viewer, worker.public_id) is not None


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("marc.encadrant", {"karim", "julie", "ousmane"}),
        ("paul.encadrant", {"lea"}),
        ("sophie.cip", {"karim", "julie", "ousmane"}),
        ("claire.admin", ALL_A_WORKERS),
        ("nadia.validatrice", ALL_A_WORKERS),
        ("karim", set()),
        ("b.encadrant", {"b.salarie"}),
        ("b.cip", {"b.salarie"}),
        ("b.admin", {"b.salarie"}),
    ],
)
def test_each_role_sees_its_own_workers(db_session, viewer, expected):
    assert _seen(db_session, viewer) == expected
    for worker in ALL_A_WORKERS | {"b.salarie"}:
        assert _finds(db_session, viewer, worker) == (worker in expected)


def test_the_list_is_sorted_by_last_then_first_name(db_session):
    names = [
        m.user.last_name
        for m in people.visible_workers(db_session, _member(db_session, "claire.admin"))
    ]
    assert names == ["Benali", "Diallo", "Moreau", "Petit"]


def test_staff_are_never_listed_as_workers(db_session):
    listed = people.visible_workers(db_session, _member(db_session, "claire.admin"))
    assert all(m.has_role(Role.SALARIE) for m in listed)


def test_sees_all_workers_widens_an_encadrant_and_a_conseiller_to_the_structure(db_session):
    claire = _member(db_session, "claire.admin").user
    for login in ("marc.encadrant", "sophie.cip"):
        membership = _member(db_session, login)
        structures.set_follow_up(
            db_session,
            actor=claire,
            membership=membership,
            referent=None,
            sees_all_workers=True,
            now=NOW,
        )
        assert _seen(db_session, login) == ALL_A_WORKERS
        assert not _finds(db_session, login, "b.salarie")


def test_an_encadrant_sees_the_workers_of_every_team_they_lead(db_session):
    claire = _member(db_session, "claire.admin").user
    team = next(t for t in _member(db_session, "lea").structure.teams if t.name == "Maraîchage")
    structures.set_team_members(
        db_session,
        actor=claire,
        team=team,
        leaders=[_member(db_session, "paul.encadrant"), _member(db_session, "marc.encadrant")],
        members=[_member(db_session, "lea")],
        now=NOW,
    )
    assert _seen(db_session, "marc.encadrant") == ALL_A_WORKERS
    structures.set_team_members(
        db_session,
        actor=claire,
        team=team,
        leaders=[_member(db_session, "paul.encadrant")],
        members=[_member(db_session, "lea")],
        now=NOW,
    )
    assert _seen(db_session, "marc.encadrant") == {"karim", "julie", "ousmane"}


def test_a_conseiller_sees_a_worker_once_made_referent(db_session):
    claire = _member(db_session, "claire.admin").user
    structures.set_follow_up(
        db_session,
        actor=claire,
        membership=_member(db_session, "lea"),
        referent=_member(db_session, "sophie.cip"),
        sees_all_workers=False,
        now=NOW,
    )
    assert _seen(db_session, "sophie.cip") == ALL_A_WORKERS
    assert _seen(db_session, "paul.encadrant") == {"lea"}


def test_an_encadrant_who_is_also_conseiller_sees_both_sets(db_session):
    claire = _member(db_session, "claire.admin").user
    paul = _member(db_session, "paul.encadrant")
    structures.set_roles(
        db_session,
        actor=claire,
        membership=paul,
        roles={Role.ENCADRANT, Role.CONSEILLER},
        now=NOW,
    )
    structures.set_follow_up(
        db_session,
        actor=claire,
        membership=_member(db_session, "julie"),
        referent=paul,
        sees_all_workers=False,
        now=NOW,
    )
    assert _seen(db_session, "paul.encadrant") == {"lea", "julie"}
    assert _seen(db_session, "sophie.cip") == {"karim", "ousmane"}


def test_ended_members_leave_the_list_but_stay_reachable_for_history(db_session):
    claire = _member(db_session, "claire.admin")
    karim = _member(db_session, "karim")
    structures.end_membership(
        db_session, actor=claire.user, membership=karim, on=NOW.date(), now=NOW
    )
    for viewer in ("claire.admin", "nadia.validatrice", "sophie.cip", "marc.encadrant"):
        assert "karim" not in _seen(db_session, viewer)
    # Admins, validateurs and the referent still reach the record of the past contract.
    for viewer in ("claire.admin", "nadia.validatrice", "sophie.cip"):
        assert _finds(db_session, viewer, "karim")
    # Ending the contract removed him from the team, so his encadrant no longer reaches him.
    assert not _finds(db_session, "marc.encadrant", "karim")
    assert not _finds(db_session, "paul.encadrant", "karim")


def test_nobody_in_structure_a_reaches_structure_b_workers_even_with_sees_all(db_session):
    claire = _member(db_session, "claire.admin").user
    b_worker = _member(db_session, "b.salarie")
    for login in ("claire.admin", "nadia.validatrice", "marc.encadrant", "sophie.cip"):
        membership = _member(db_session, login)
        if not membership.has_role(Role.ADMIN):
            structures.set_follow_up(
                db_session,
                actor=claire,
                membership=membership,
                referent=None,
                sees_all_workers=True,
                now=NOW,
            )
        assert people.visible_worker(db_session, membership, b_worker.public_id) is None
        assert "b.salarie" not in _seen(db_session, login)
    # An unknown public id finds nobody.
    assert people.visible_worker(db_session, _member(db_session, "claire.admin"), "x" * 22) is None


def test_being_a_plain_member_of_a_team_gives_no_sight_of_its_workers(db_session):
    """Only leading a team shows its workers, not being in it (an encadrant in training);
    and a leader who also holds the salarié role is not a worker of the team they lead."""
    claire = _member(db_session, "claire.admin").user
    paul = _member(db_session, "paul.encadrant")
    structures.set_roles(
        db_session, actor=claire, membership=paul, roles={Role.ENCADRANT, Role.SALARIE}, now=NOW
    )
    team = next(t for t in paul.structure.teams if t.name == "Espaces verts")
    structures.set_team_members(
        db_session,
        actor=claire,
        team=team,
        leaders=[_member(db_session, "marc.encadrant")],
        members=[_member(db_session, login) for login in ("karim", "julie", "ousmane")] + [paul],
        now=NOW,
    )
    assert _seen(db_session, "paul.encadrant") == {"lea"}
    assert _seen(db_session, "marc.encadrant") == {"karim", "julie", "ousmane", "paul.encadrant"}
