"""Who a member may see: workers of their teams, their caseload, or the whole structure."""

from __future__ import annotations

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager, selectinload

from app.domain.enums import Role
from app.models import Membership, MembershipRole, Structure, Team, TeamMember, User


def current_membership(session: Session, user: User, structure: Structure) -> Membership | None:
    """``user``'s current membership of ``structure``, if any."""
    return session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.structure_id == structure.id,
            Membership.ended_on.is_(None),
        )
    )


def staff_structures(session: Session, user: User) -> list[Structure]:
    """The structures where ``user`` currently holds a staff role."""
    staff_of = (
        select(Membership.structure_id)
        .join(MembershipRole)
        .where(
            Membership.user_id == user.id,
            Membership.ended_on.is_(None),
            MembershipRole.role != Role.SALARIE,
        )
    )
    return list(
        session.scalars(
            select(Structure)
            .where(Structure.id.in_(staff_of), Structure.deactivated_at.is_(None))
            .order_by(Structure.name)
        )
    )


def _has_role(role: Role):  # type: ignore[no-untyped-def]
    return exists().where(
        MembershipRole.membership_id == Membership.id, MembershipRole.role == role
    )


#: The team links of the encadrant's rule (made once: an alias is costly to build).
_LEADER = aliased(TeamMember)
_MEMBER = aliased(TeamMember)


def visible_workers_query(viewer: Membership, *, include_ended: bool = False) -> Select:  # type: ignore[type-arg]
    """Workers (salarié·es) of the viewer's structure that the viewer may see, by name,
    with their user and roles.

    Admins and validateurs see every worker; an encadrant sees the workers of the teams
    they lead; a conseiller the workers they are referent of; ``sees_all_workers`` widens
    either to the whole structure.
    """
    return _visible(viewer, include_ended=include_ended).options(
        selectinload(Membership.user), selectinload(Membership.roles)
    )


def visible_workers_by_id(
    session: Session, viewer: Membership, public_ids: set[str]
) -> dict[str, Membership]:
    """Those of ``public_ids`` that ``viewer`` may see (ended contracts included), by public
    id, each with its user, in one query."""
    query = (
        _visible(viewer, include_ended=True)
        .where(Membership.public_id.in_(public_ids))
        .options(contains_eager(Membership.user))
    )
    return {w.public_id: w for w in session.scalars(query)}


def _visible(viewer: Membership, *, include_ended: bool) -> Select:  # type: ignore[type-arg]
    """``visible_workers_query`` without loader options: joined to their user."""
    query = (
        select(Membership)
        .join(Membership.user)
        .where(Membership.structure_id == viewer.structure_id, _has_role(Role.SALARIE))
        .order_by(User.last_name, User.first_name)
    )
    if not include_ended:
        query = query.where(Membership.ended_on.is_(None))
    roles = viewer.role_set
    if roles & {Role.ADMIN, Role.VALIDATEUR} or viewer.sees_all_workers:
        return query
    conditions = []
    if Role.ENCADRANT in roles:
        leader, member = _LEADER, _MEMBER
        conditions.append(
            exists()
            .where(member.membership_id == Membership.id, member.is_leader.is_(False))
            .where(
                exists().where(
                    and_(
                        leader.team_id == member.team_id,
                        leader.membership_id == viewer.id,
                        leader.is_leader.is_(True),
                    )
                )
            )
        )
    if Role.CONSEILLER in roles:
        conditions.append(Membership.referent_id == viewer.id)
    if not conditions:
        return query.where(Membership.id.is_(None))

    return query.where(or_(*conditions))


def visible_workers(session: Session, viewer: Membership) -> list[Membership]:
    """The workers ``viewer`` may see, by name."""
    return list(session.scalars(visible_workers_query(viewer)))


def visible_worker(
    session: Session, viewer: Membership, membership_public_id: str
) -> Membership | None:
    """One worker by public id, only if ``viewer`` may see them (ended contracts included)."""
    query = visible_workers_query(viewer, include_ended=True).where(
        Membership.public_id == membership_public_id
    )
    return session.scalar(query)


def followed_worker(
    session: Session, viewer: Membership, membership_public_id: str
) -> Membership | None:
    """One worker by public id, only if ``viewer`` is their referent (conseiller·ère) and may
    see them: who may sit beside them for their choices (assisted mode). Seeing every worker
    of the structure, or another role, is not enough."""
    worker = visible_worker(session, viewer, membership_public_id)
    return worker if worker is not None and worker.referent_id == viewer.id else None


def led_teams(session: Session, viewer: Membership) -> list[Team]:
    """The active teams ``viewer`` leads, with their members loaded."""
    return list(
        session.scalars(
            select(Team)
            .join(TeamMember)
            .where(
                TeamMember.membership_id == viewer.id,
                TeamMember.is_leader.is_(True),
                Team.archived_at.is_(None),
            )
            .options(selectinload(Team.members).selectinload(TeamMember.membership))
            .order_by(Team.name)
        )
    )


def structure_members(session: Session, structure: Structure) -> list[Membership]:
    """Every membership of ``structure``, current first, by name."""
    return list(
        session.scalars(
            select(Membership)
            .join(Membership.user)
            .where(Membership.structure_id == structure.id)
            .options(selectinload(Membership.user), selectinload(Membership.roles))
            .order_by(Membership.ended_on.is_not(None), User.last_name, User.first_name)
        )
    )


def members_with_role(session: Session, structure: Structure, role: Role) -> list[Membership]:
    """Current members of ``structure`` holding ``role``."""
    return [m for m in structure_members(session, structure) if m.is_current and m.has_role(role)]
