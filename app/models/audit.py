"""The append-only audit trail (REQUIREMENTS VAL-04, ADM-07).

Rows hold ids and reason categories only, never free text, so that a later erasure can
anonymise a person without rewriting history. The ORM refuses updates and deletes, and
the migration adds database triggers that refuse them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, created_at, intpk

if TYPE_CHECKING:
    from app.models.accounts import User


class AuditEvent(Base):
    """Who did what, when, to whom: written in the same transaction as the action."""

    __tablename__ = "audit_events"

    id: Mapped[intpk]
    occurred_at: Mapped[created_at]
    action: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    target: Mapped[str | None] = mapped_column(String(80))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], viewonly=True)
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id], viewonly=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.occurred_at:%Y-%m-%d}>"


class AppendOnlyError(RuntimeError):
    """An attempt to change or remove an audit row."""


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise AppendOnlyError("audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise AppendOnlyError("audit events are append-only")
