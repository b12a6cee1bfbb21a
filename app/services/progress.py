"""Self-assessments, focus, progress reviews and the staff-read log (issue #6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import observations as observation_rules
from app.domain import progress as rules
from app.domain.errors import DomainError, NotAllowed
from app.models import (
    Competence,
    FileReadLog,
    FocusCompetence,
    Membership,
    ProgressReview,
    ReviewComment,
    ReviewGoal,
    SelfAssessment,
    SelfAssessmentAnswer,
    User,
)
from app.services import audit


@dataclass(frozen=True)
class GoalInput:
    competence: Competence
    kind: str
    target_level: int | None
    text: str


def _clean_text(text: str | None, *, max_length: int, keep_lines: bool = False) -> str:
    """Free text that must stay about work: no health, social or justice words."""
    return (
        observation_rules.check_free_text(text, max_length=max_length, keep_lines=keep_lines) or ""
    )


def record_self_assessment(
    session: Session,
    *,
    worker: Membership,
    answers: Mapping[Competence, str],
    choices: Sequence[rules.Choice],
    format: str,
    now: datetime,
    assisted_by: User | None = None,
) -> SelfAssessment:
    """The worker's answers, as they gave them. In assisted mode the record is marked and
    waits for the worker's own confirmation (SELF-05)."""
    if not answers:
        raise DomainError("Répondez au moins à une question.")
    first = session.scalar(
        select(SelfAssessment.id).where(SelfAssessment.worker_id == worker.id).limit(1)
    )
    record = SelfAssessment(
        worker_id=worker.id,
        format=format,
        is_baseline=first is None,
        assisted_by_id=assisted_by.id if assisted_by else None,
        confirmed_at=None if assisted_by else now,
        created_at=now,
    )
    for competence, code in answers.items():
        picked = rules.choice(choices, code)
        record.answers.append(
            SelfAssessmentAnswer(
                competence=competence,
                choice=picked.code,
                level_min=picked.level_min,
                level_max=picked.level_max,
            )
        )
    session.add(record)
    session.flush()
    audit.record(
        session,
        action="self_assessment.recorded",
        now=now,
        actor=assisted_by or worker.user,
        subject=worker.user,
        structure=worker.structure,
        target=record.public_id,
        details={"assisted": assisted_by is not None, "answers": len(answers)},
    )
    return record


def confirm_self_assessment(
    session: Session, *, record: SelfAssessment, worker: Membership, now: datetime
) -> None:
    """The worker confirms answers given with a conseiller beside them."""
    if record.worker_id != worker.id:
        raise NotAllowed()
    if record.confirmed_at is None:
        record.confirmed_at = now
        session.flush()
        audit.record(
            session,
            action="self_assessment.confirmed",
            now=now,
            actor=worker.user,
            subject=worker.user,
            structure=worker.structure,
            target=record.public_id,
        )


def set_focus(
    session: Session, *, worker: Membership, competence: Competence, now: datetime
) -> None:
    """The one competence the worker chooses to work on; choosing another replaces it."""
    focus = session.scalar(select(FocusCompetence).where(FocusCompetence.worker_id == worker.id))
    if focus is None:
        session.add(FocusCompetence(worker_id=worker.id, competence=competence, chosen_at=now))
    else:
        focus.competence, focus.chosen_at = competence, now
    session.flush()
    audit.record(
        session,
        action="focus.chosen",
        now=now,
        actor=worker.user,
        subject=worker.user,
        structure=worker.structure,
        target=competence.public_id,
    )


def record_review(
    session: Session,
    *,
    author: Membership,
    worker: Membership,
    held_on: date,
    next_review_on: date | None,
    next_steps: str,
    goals: Sequence[GoalInput],
    adjusted: bool,
    now: datetime,
    today: date | None = None,
) -> ProgressReview:
    """A point d'étape held with the worker (ASM-07), with goals per competence.

    ``today`` is the date in the structure's time zone (it may differ from the UTC date
    of ``now``: in Nouméa, the morning is still the day before in UTC)."""
    if held_on > (today or now.date()):
        raise DomainError("La date du point d'étape ne peut pas être dans le futur.")
    if next_review_on is not None and next_review_on <= held_on:
        raise DomainError("Le prochain point d'étape doit venir après celui-ci.")
    seen: set[int] = set()
    for goal in goals:
        if goal.kind not in rules.GOAL_KINDS:
            raise DomainError("Le type d'objectif est inconnu.")
        if goal.target_level is not None and goal.target_level not in range(1, 6):
            raise DomainError("Le niveau visé va de 1 à 5.")
        if goal.competence.id in seen:
            raise DomainError("Un seul objectif par compétence.")
        seen.add(goal.competence.id)
    review = ProgressReview(
        worker_id=worker.id,
        author_id=author.user_id,
        held_on=held_on,
        next_review_on=next_review_on,
        next_steps=_clean_text(next_steps, max_length=2000, keep_lines=True),
        is_adjusted=adjusted,
        created_at=now,
        goals=[
            ReviewGoal(
                competence=g.competence,
                kind=g.kind,
                target_level=g.target_level,
                text=_clean_text(g.text, max_length=300),
            )
            for g in goals
        ],
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        action="review.recorded",
        now=now,
        actor=author.user,
        subject=worker.user,
        structure=worker.structure,
        target=review.public_id,
        details={"goals": len(goals)},
    )
    return review


def comment_review(
    session: Session, *, review: ProgressReview, author: User, text: str, now: datetime
) -> ReviewComment:
    """A comment on a review (the worker's voice), in a row of its own."""
    cleaned = _clean_text(text, max_length=500)
    if not cleaned:
        raise DomainError("Écrivez votre commentaire.")
    comment = ReviewComment(review=review, author_id=author.id, text=cleaned, created_at=now)
    session.add(comment)
    session.flush()
    audit.record(
        session,
        action="review.commented",
        now=now,
        actor=author,
        subject=review.worker.user,
        structure=review.worker.structure,
        target=review.public_id,
    )
    return comment


def log_file_read(
    session: Session, *, reader: User, worker: Membership, page: str, now: datetime
) -> None:
    """Append a staff read of a worker's file (PRIV-11): the one write a GET may make here."""
    session.add(FileReadLog(reader_id=reader.id, worker_id=worker.id, page=page, occurred_at=now))
    session.flush()
