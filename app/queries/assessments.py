"""Reading proposals, statuses and decision history."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import (
    AssessmentState,
    AuditEvent,
    BadgeTemplate,
    Membership,
    Notification,
    Observation,
    Proposal,
    User,
)


def queue(session: Session, structure_id: int) -> list[Proposal]:
    """Proposals waiting for a validateur (pending, or flagged after evidence was withdrawn)."""
    return list(
        session.scalars(
            select(Proposal)
            .where(
                Proposal.structure_id == structure_id, Proposal.status.in_(("pending", "flagged"))
            )
            .options(
                selectinload(Proposal.worker).selectinload(Membership.user),
                selectinload(Proposal.template),
                selectinload(Proposal.notes),
            )
            .order_by(Proposal.status.desc(), Proposal.created_at)
        )
    )


def proposal(session: Session, structure_id: int, public_id: str) -> Proposal | None:
    """One proposal of the structure by public id."""
    return session.scalar(
        select(Proposal)
        .where(Proposal.structure_id == structure_id, Proposal.public_id == public_id)
        .options(selectinload(Proposal.notes), selectinload(Proposal.template))
    )


def evidence_observations(session: Session, public_ids: list[str]) -> list[Observation]:
    """The observations a decision relied on, newest first."""
    if not public_ids:
        return []
    return list(
        session.scalars(
            select(Observation)
            .where(Observation.public_id.in_(public_ids))
            .options(
                selectinload(Observation.competence),
                selectinload(Observation.situation),
                selectinload(Observation.author),
            )
            .order_by(Observation.observed_at.desc())
        )
    )


def history(session: Session, proposal: Proposal) -> list[AuditEvent]:
    """Every audit row about a proposal, oldest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.target == proposal.public_id)
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    )


def worker_states(session: Session, worker: Membership) -> list[AssessmentState]:
    """The worker's computed statuses, by template and level."""
    return list(
        session.scalars(
            select(AssessmentState)
            .join(BadgeTemplate)
            .where(AssessmentState.worker_id == worker.id, BadgeTemplate.superseded_at.is_(None))
            .options(selectinload(AssessmentState.template))
            .order_by(BadgeTemplate.code, AssessmentState.level)
        )
    )


def worker_proposals(session: Session, worker: Membership) -> list[Proposal]:
    """Every proposal about the worker, newest first."""
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.worker_id == worker.id)
            .options(selectinload(Proposal.template))
            .order_by(Proposal.created_at.desc())
        )
    )


def notifications(session: Session, user: User, limit: int = 20) -> list[Notification]:
    """A person's latest in-app notifications, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )
