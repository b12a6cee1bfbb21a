"""Badge templates as loaded, computed statuses, proposals and decisions (issue #7).

Statuses are a cache of the pure engine's output, recomputed when evidence changes.
Proposals carry the decision workflow; their free-text justifications and comments live
in ``decision_notes`` rows that audit rows reference by id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import Membership, User
from app.models.base import Base, UTCDateTime, created_at, i18n_text, intpk, public_id


class BadgeTemplate(Base):
    """One version of a badge family from ``badge_templates/``: immutable once loaded."""

    __tablename__ = "badge_templates"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    code: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[i18n_text]
    description: Mapped[i18n_text]
    narrative: Mapped[i18n_text]
    competences: Mapped[list[str]] = mapped_column(JSON, default=list)
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    alignments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    image: Mapped[str | None] = mapped_column(String(40))
    validity_days: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(300))
    loaded_at: Mapped[created_at]
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def tier(self, level: int) -> dict[str, Any] | None:
        return next((t for t in self.tiers if t["level"] == level), None)


class AssessmentState(Base):
    """The engine's latest answer for one worker × template × level."""

    __tablename__ = "assessment_states"
    __table_args__ = (UniqueConstraint("worker_id", "template_id", "level"),)

    id: Mapped[intpk]
    worker_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("badge_templates.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    used: Mapped[list[str]] = mapped_column(JSON, default=list)
    computed_at: Mapped[created_at]

    template: Mapped[BadgeTemplate] = relationship()
    worker: Mapped[Membership] = relationship()


class Proposal(Base):
    """A badge proposed for a worker: from met criteria or by staff with a justification.

    status: pending → approved | rejected; approved → flagged (evidence withdrawn) →
    approved (confirmed) | revoked.
    """

    __tablename__ = "proposals"
    __table_args__ = (Index("ix_proposals_worker_template", "worker_id", "template_id", "level"),)

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"))
    template_id: Mapped[int] = mapped_column(ForeignKey("badge_templates.id"))
    level: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(16))  # criteria | manual
    status: Mapped[str] = mapped_column(String(16), index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The explanation and the evidence as they stood when the proposal was made.
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)

    worker: Mapped[Membership] = relationship()
    template: Mapped[BadgeTemplate] = relationship()
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    notes: Mapped[list[DecisionNote]] = relationship(
        back_populates="proposal", order_by="DecisionNote.id"
    )


class DecisionNote(Base):
    """Free text of a proposal (justification) or a decision (comment), kept apart."""

    __tablename__ = "decision_notes"

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created_at]

    proposal: Mapped[Proposal] = relationship(back_populates="notes")
    author: Mapped[User] = relationship()


class Notification(Base):
    """A message for a person in the app (no e-mail needed): decisions about their badges."""

    __tablename__ = "notifications"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[created_at]
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
