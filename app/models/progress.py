"""Self-assessments, progress reviews (points d'étape), focus, and the staff-read log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import Membership, User
from app.models.base import Base, UTCDateTime, bool_false, created_at, intpk, public_id
from app.models.referentials import Competence


class SelfAssessment(Base):
    """The worker's own view of their competences, at one moment (SELF-01..05).

    In assisted mode a conseiller fills the form beside the worker; the record says so and
    waits for the worker's own confirmation.
    """

    __tablename__ = "self_assessments"

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    worker_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    format: Mapped[str] = mapped_column(String(16))
    is_baseline: Mapped[bool_false]
    assisted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    worker: Mapped[Membership] = relationship()
    assisted_by: Mapped[User | None] = relationship()
    answers: Mapped[list[SelfAssessmentAnswer]] = relationship(
        back_populates="self_assessment", cascade="all, delete-orphan"
    )


class SelfAssessmentAnswer(Base):
    """One answer: a choice that maps to a range of levels (3 choices) or one level (5)."""

    __tablename__ = "self_assessment_answers"
    __table_args__ = (UniqueConstraint("self_assessment_id", "competence_id"),)

    id: Mapped[intpk]
    self_assessment_id: Mapped[int] = mapped_column(
        ForeignKey("self_assessments.id", ondelete="CASCADE"), index=True
    )
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    choice: Mapped[str] = mapped_column(String(32))
    level_min: Mapped[int] = mapped_column(Integer)
    level_max: Mapped[int] = mapped_column(Integer)

    self_assessment: Mapped[SelfAssessment] = relationship(back_populates="answers")
    competence: Mapped[Competence] = relationship()


class ProgressReview(Base):
    """A point d'étape held with the worker: goals, next steps, the next date (ASM-07)."""

    __tablename__ = "progress_reviews"

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    worker_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    held_on: Mapped[date] = mapped_column(Date)
    next_review_on: Mapped[date | None] = mapped_column(Date, index=True)
    next_steps: Mapped[str] = mapped_column(Text, default="")
    is_adjusted: Mapped[bool_false]
    created_at: Mapped[created_at]

    worker: Mapped[Membership] = relationship()
    author: Mapped[User] = relationship()
    goals: Mapped[list[ReviewGoal]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewGoal.id"
    )
    comments: Mapped[list[ReviewComment]] = relationship(
        back_populates="review", order_by="ReviewComment.id"
    )


class ReviewGoal(Base):
    """A goal agreed in a review, for one competence (kind: support, pro, personal)."""

    __tablename__ = "review_goals"

    id: Mapped[intpk]
    review_id: Mapped[int] = mapped_column(
        ForeignKey("progress_reviews.id", ondelete="CASCADE"), index=True
    )
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"))
    kind: Mapped[str] = mapped_column(String(16))
    target_level: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")

    review: Mapped[ProgressReview] = relationship(back_populates="goals")
    competence: Mapped[Competence] = relationship()


class ReviewComment(Base):
    """The worker's (or staff's) comment on a review, in a row of its own."""

    __tablename__ = "review_comments"

    id: Mapped[intpk]
    review_id: Mapped[int] = mapped_column(ForeignKey("progress_reviews.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created_at]

    review: Mapped[ProgressReview] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()


class FocusCompetence(Base):
    """The one competence a worker chose to work on ("un seul point", SELF-06)."""

    __tablename__ = "focus_competences"

    id: Mapped[intpk]
    worker_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), unique=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"))
    chosen_at: Mapped[created_at]

    competence: Mapped[Competence] = relationship()


class FileReadLog(Base):
    """Append-only log of staff reads of a worker's file (PRIV-11): one of the two writes
    a GET may make."""

    __tablename__ = "file_read_logs"

    id: Mapped[intpk]
    occurred_at: Mapped[created_at]
    reader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    page: Mapped[str] = mapped_column(String(40))
