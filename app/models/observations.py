"""Work situations and observations, with their versions and comments.

An observation's identity (who, which worker, which competence, which situation) never
changes; each correction adds a version (OBS-09). Its current level and date are copied onto
the observation row so that team pages read one table. Free-text comments live in rows of
their own, so that an erasure can blank them without rewriting history.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import Role, SituationType, WithdrawalReason
from app.models.accounts import Membership, Team, User, _enum
from app.models.base import Base, UTCDateTime, created_at, intpk, public_id
from app.models.referentials import Competence, SituationTemplate


class WorkSituation(Base):
    """A real work situation of a structure: activity, place, period, team, competences."""

    __tablename__ = "work_situations"

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("situation_templates.id"))
    name: Mapped[str] = mapped_column(String(160))
    place: Mapped[str | None] = mapped_column(String(160))
    type: Mapped[SituationType] = mapped_column(_enum(SituationType))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    team: Mapped[Team | None] = relationship()
    template: Mapped[SituationTemplate | None] = relationship()
    competence_links: Mapped[list[WorkSituationCompetence]] = relationship(
        back_populates="situation", cascade="all, delete-orphan"
    )

    @property
    def competences(self) -> list[Competence]:
        return sorted(
            (link.competence for link in self.competence_links),
            key=lambda c: (c.referential_id, c.position),
        )


class WorkSituationCompetence(Base):
    """A competence that a situation lets staff observe."""

    __tablename__ = "work_situation_competences"
    __table_args__ = (UniqueConstraint("situation_id", "competence_id"),)

    id: Mapped[intpk]
    situation_id: Mapped[int] = mapped_column(
        ForeignKey("work_situations.id", ondelete="CASCADE"), index=True
    )
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"))

    situation: Mapped[WorkSituation] = relationship(back_populates="competence_links")
    competence: Mapped[Competence] = relationship()


class Capture(Base):
    """One submission from a capture screen (one or several workers), keyed for resends.

    The unique (author, idempotency key) constraint is what makes a resend harmless, even
    when twenty copies arrive at once.
    """

    __tablename__ = "captures"
    __table_args__ = (UniqueConstraint("author_id", "idempotency_key"),)

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str] = mapped_column(String(80))
    body_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[created_at]

    observations: Mapped[list[Observation]] = relationship(back_populates="capture")


class Observation(Base):
    """What an observer saw a worker do, for one competence, in one situation."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_worker_competence", "worker_id", "competence_id"),)

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"))
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"))
    situation_id: Mapped[int] = mapped_column(ForeignKey("work_situations.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    author_role: Mapped[Role] = mapped_column(_enum(Role))
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"), index=True)
    # Current values, copied from the latest version.
    version: Mapped[int] = mapped_column(Integer, default=1)
    level: Mapped[int | None] = mapped_column(Integer)  # None: « non observé »
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[created_at]
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawal_reason: Mapped[WithdrawalReason | None] = mapped_column(_enum(WithdrawalReason))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    worker: Mapped[Membership] = relationship()
    competence: Mapped[Competence] = relationship()
    situation: Mapped[WorkSituation] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    capture: Mapped[Capture | None] = relationship(back_populates="observations")
    versions: Mapped[list[ObservationVersion]] = relationship(
        back_populates="observation", order_by="ObservationVersion.number"
    )
    comments: Mapped[list[ObservationComment]] = relationship(
        back_populates="observation", order_by="ObservationComment.id"
    )

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def comment(self) -> ObservationComment | None:
        """The comment of the current version, if any."""
        current = [c for c in self.comments if c.version == self.version]
        return current[-1] if current else None


class ObservationVersion(Base):
    """One version of an observation: the first record or a correction (history row)."""

    __tablename__ = "observation_versions"
    __table_args__ = (UniqueConstraint("observation_id", "number"),)

    id: Mapped[intpk]
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    level: Mapped[int | None] = mapped_column(Integer)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[created_at]
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    observation: Mapped[Observation] = relationship(back_populates="versions")
    author: Mapped[User] = relationship()


class ObservationComment(Base):
    """The free text of one version, kept apart so it can be erased on its own."""

    __tablename__ = "observation_comments"

    id: Mapped[intpk]
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created_at]

    observation: Mapped[Observation] = relationship(back_populates="comments")
