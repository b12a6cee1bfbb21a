"""Reads of the SMS and e-mail notifications of a structure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, not_, select
from sqlalchemy.orm import Session, selectinload

from app.models import Membership, OutboundNotification, Structure, User

#: What a listed notification's page reads: its person, with their memberships and roles
#: (whether a claim code may be re-sent), and its badge (whether it still waits).
_LISTED = (
    selectinload(OutboundNotification.user)
    .selectinload(User.memberships)
    .selectinload(Membership.roles),
    selectinload(OutboundNotification.assertion),
)


def _scheduled() -> ColumnElement[bool]:
    """Planned for later, and neither sent nor given up (``OutboundNotification.scheduled``)."""
    return and_(
        OutboundNotification.due_at.is_not(None),
        OutboundNotification.sent_at.is_(None),
        OutboundNotification.last_error.is_(None),
    )


def _when() -> ColumnElement[datetime]:
    """When a message was meant to go: its due date if it was planned, else its creation."""
    return func.coalesce(OutboundNotification.due_at, OutboundNotification.created_at)


def structure_notifications(
    session: Session, structure: Structure, limit: int = 200
) -> list[OutboundNotification]:
    """The structure's notifications, newest first, with their person; not the scheduled
    ones (``scheduled_notifications``)."""
    return list(
        session.scalars(
            select(OutboundNotification)
            .where(OutboundNotification.structure_id == structure.id, not_(_scheduled()))
            .options(*_LISTED)
            .order_by(_when().desc(), OutboundNotification.id.desc())
            .limit(limit)
        )
    )


def scheduled_notifications(
    session: Session, structure: Structure, limit: int = 200
) -> list[OutboundNotification]:
    """The structure's messages planned for later (reminders after an exit), soonest first."""
    return list(
        session.scalars(
            select(OutboundNotification)
            .where(OutboundNotification.structure_id == structure.id, _scheduled())
            .options(selectinload(OutboundNotification.user))
            .order_by(OutboundNotification.due_at, OutboundNotification.id)
            .limit(limit)
        )
    )


def worker_notifications(session: Session, worker: Membership) -> list[OutboundNotification]:
    """The notifications sent to one worker by their structure, newest first."""
    return list(
        session.scalars(
            select(OutboundNotification)
            .where(
                OutboundNotification.structure_id == worker.structure_id,
                OutboundNotification.user_id == worker.user_id,
            )
            .options(*_LISTED)
            .order_by(OutboundNotification.created_at.desc(), OutboundNotification.id.desc())
        )
    )


def structure_notification(
    session: Session, structure: Structure, public_id: str
) -> OutboundNotification | None:
    """One notification of the structure (another structure's id finds nothing)."""
    return session.scalar(
        select(OutboundNotification).where(
            OutboundNotification.public_id == public_id,
            OutboundNotification.structure_id == structure.id,
        )
    )


def recipient_membership(session: Session, notification: OutboundNotification) -> Membership | None:
    """The recipient's membership in the notification's structure."""
    return session.scalar(
        select(Membership)
        .where(
            Membership.user_id == notification.user_id,
            Membership.structure_id == notification.structure_id,
        )
        .order_by(Membership.id.desc())
    )
