"""A person's own memberships and activity list."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from app.models import AuditEvent, Membership, Structure, TeamMember, User


def own_memberships(session: Session, user: User) -> list[Membership]:
    """Every membership of ``user``, current ones first (a worker keeps past ones)."""
    return list(
        session.scalars(
            select(Membership)
            .join(Structure)
            .where(Membership.user_id == user.id)
            .options(
                selectinload(Membership.structure),
                selectinload(Membership.roles),
                selectinload(Membership.referent).selectinload(Membership.user),
                selectinload(Membership.team_links).selectinload(TeamMember.team),
            )
            .order_by(Membership.ended_on.is_not(None), Structure.name)
        )
    )


def own_activity(session: Session, user: User, limit: int = 200) -> list[AuditEvent]:
    """What happened to or by ``user``, newest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(or_(AuditEvent.subject_id == user.id, AuditEvent.actor_id == user.id))
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def structure_activity(
    session: Session, structure: Structure, limit: int = 200
) -> list[AuditEvent]:
    """A structure's audit trail, newest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.structure_id == structure.id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
