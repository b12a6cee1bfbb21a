"""Writing the append-only audit trail, always inside the action's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import AuditEvent, Structure, User


def record(
    session: Session,
    *,
    action: str,
    now: datetime,
    actor: User | None = None,
    structure: Structure | None = None,
    subject: User | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit row (ids and categories only, never free text) and flush it."""
    event = AuditEvent(
        **entry(
            action=action,
            now=now,
            actor=actor,
            structure=structure,
            subject=subject,
            target=target,
            details=details,
        )
    )
    session.add(event)
    session.flush()
    return event


def entry(
    *,
    action: str,
    now: datetime,
    actor: User | None = None,
    structure: Structure | None = None,
    subject: User | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit row's values, for ``record`` or for an action that inserts many at once."""
    return {
        "action": action,
        "occurred_at": now,
        "actor_id": actor.id if actor else None,
        "structure_id": structure.id if structure else None,
        "subject_id": subject.id if subject else None,
        "target": target,
        "details": details or {},
    }
