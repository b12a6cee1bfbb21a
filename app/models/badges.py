"""Issued Open Badges: one BadgeClass per issuer × template version × level, and assertions.

Both are immutable once written: a BadgeClass pins the template version it was made from
(BDG-02), an assertion pins the exact JSON it was issued with and its JWS (BDG-03).
Baked files are never stored: they are made on download from the class image.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import Membership, Structure, User
from app.models.assessments import BadgeTemplate, Proposal
from app.models.base import Base, UTCDateTime, created_at, intpk, public_id
from app.models.keys import SigningKey


class BadgeClass(Base):
    """An OB 2.0 BadgeClass: what a structure issues for one template version and level."""

    __tablename__ = "badge_classes"
    __table_args__ = (UniqueConstraint("structure_id", "template_id", "level"),)

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("badge_templates.id"))
    level: Mapped[int] = mapped_column(Integer)
    # What the class aligns to, pinned at creation: the Jalon referential version of each
    # competence (and its ROME/ESCO codes), then the template's own alignments (BDG-02).
    alignments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The artwork, rendered once (its JSON is built from the immutable template version) and
    # never updated. Deferred: loading a class (every badge lookup does) leaves them unread;
    # a download bakes from a layout cut once per class (services.badges.bake_class_png).
    image_png: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    image_svg: Mapped[str] = mapped_column(Text, deferred=True)
    created_at: Mapped[created_at]

    structure: Mapped[Structure] = relationship()
    template: Mapped[BadgeTemplate] = relationship()


class Assertion(Base):
    """One issued badge. ``public_id`` is its opaque public address (BDG-09)."""

    __tablename__ = "assertions"
    __table_args__ = (
        Index("ix_assertions_structure_issued", "structure_id", "issued_on"),
        # "Is this badge replaced?" is asked for every badge an earner's pages list; unique:
        # a badge has one replacement at most, even when two re-issues race (0011).
        Index("ix_assertions_replaces_id", "replaces_id", unique=True),
    )

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"))
    badge_class_id: Mapped[int] = mapped_column(ForeignKey("badge_classes.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    signing_key_id: Mapped[int] = mapped_column(ForeignKey("signing_keys.id"), index=True)
    # email | telephone | url; only the salted hash of the identity is kept.
    recipient_type: Mapped[str] = mapped_column(String(16))
    recipient_hash: Mapped[str] = mapped_column(String(80))
    salt: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evidence: Mapped[str] = mapped_column(Text)
    # The signed variant (compact JWS); the hosted JSON is built from the fields above.
    jws: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created_at]
    # Revocation writes these two (app.domain.badges.RevocationReason); nothing else changes.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(String(40))
    # The badge this one replaces (same decision, after a key compromise or identity change).
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("assertions.id"))
    # The earner's say (app.domain.consent, SHR-01): a badge is public only once accepted,
    # listed on their public profile only when ``on_profile``, named only as they chose.
    consent: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    on_profile: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    earner_name: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    consent_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    structure: Mapped[Structure] = relationship()
    badge_class: Mapped[BadgeClass] = relationship()
    proposal: Mapped[Proposal] = relationship()
    worker: Mapped[Membership] = relationship()
    user: Mapped[User] = relationship()
    signing_key: Mapped[SigningKey] = relationship()
    replaces: Mapped[Assertion | None] = relationship(remote_side="Assertion.id")

    @property
    def is_public(self) -> bool:
        """Accepted by its earner: only then does its hosted address answer (SHR-01)."""
        return self.consent == "accepted"

    def status(self, now: datetime) -> str:
        """What the badge is to its earner: ``pending`` or ``declined`` until accepted,
        then its public :meth:`state`. A withdrawn badge is ``revoked`` whatever came first."""
        if self.revoked_at is None and self.consent != "accepted":
            return self.consent
        return self.state(now)

    def state(self, now: datetime) -> str:
        """``revoked``, ``expired`` or ``valid``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "valid"


class BadgeVerification(Base):
    """One verification of one of our badges: the badge and the month, nothing about who
    checked it (VER-06). Append-only, like the staff-read log: one of the writes a GET may
    make."""

    __tablename__ = "badge_verifications"
    __table_args__ = (Index("ix_badge_verifications_assertion_month", "assertion_id", "month"),)

    id: Mapped[intpk]
    assertion_id: Mapped[int] = mapped_column(ForeignKey("assertions.id"))
    month: Mapped[str] = mapped_column(String(7))  # "2026-11"
