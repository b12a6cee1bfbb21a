"""Reading a worker's progress: facts for the side-by-side view, reviews, journey."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.domain.progress import GoalSnapshot, ObservationFact, ReviewSnapshot
from app.models import (
    Competence,
    FocusCompetence,
    Membership,
    Observation,
    ProgressReview,
    Referential,
    ReviewComment,
    ReviewGoal,
    SelfAssessment,
    SelfAssessmentAnswer,
)


def soft_skills(session: Session) -> list[Competence]:
    """The competences a worker self-assesses: the current soft-skills grid, in order."""
    grid = session.scalar(
        select(Referential)
        .where(
            Referential.kind == "soft_skills",
            Referential.structure_id.is_(None),
            Referential.superseded_at.is_(None),
        )
        .options(selectinload(Referential.competences))
        .order_by(Referential.version.desc())
    )
    return list(grid.competences) if grid else []


def observation_facts(session: Session, worker: Membership) -> list[ObservationFact]:
    """Every observation of ``worker`` as plain facts (one query)."""
    rows = session.execute(
        select(
            Observation.competence_id,
            Observation.level,
            Observation.author_id,
            Observation.situation_id,
            Observation.observed_at,
            Observation.withdrawn_at,
        ).where(Observation.worker_id == worker.id)
    )
    return [
        ObservationFact(cid, level, author, situation, at, withdrawn is not None)
        for cid, level, author, situation, at, withdrawn in rows
    ]


def competence_keys(session: Session, ids: set[int]) -> dict[int, str]:
    """Referential-independent keys (``bunk:organiser``) for competence ids, so that
    observations made against an older version of a grid line up with the current one."""
    if not ids:
        return {}
    rows = session.execute(
        select(Competence.id, Referential.code, Competence.code)
        .join(Referential)
        .where(Competence.id.in_(ids))
    )
    return {cid: f"{ref}:{code}" for cid, ref, code in rows}


def self_assessments(session: Session, worker: Membership) -> list[SelfAssessment]:
    """The worker's self-assessments, newest first, with their answers."""
    return list(
        session.scalars(
            select(SelfAssessment)
            .where(SelfAssessment.worker_id == worker.id)
            .options(
                selectinload(SelfAssessment.answers).selectinload(SelfAssessmentAnswer.competence),
                selectinload(SelfAssessment.assisted_by),
            )
            .order_by(SelfAssessment.created_at.desc(), SelfAssessment.id.desc())
        )
    )


def reviews(session: Session, worker: Membership) -> list[ProgressReview]:
    """The worker's points d'étape, newest first, with goals, comments and authors."""
    return list(
        session.scalars(
            select(ProgressReview)
            .where(ProgressReview.worker_id == worker.id)
            .options(
                selectinload(ProgressReview.goals).selectinload(ReviewGoal.competence),
                selectinload(ProgressReview.comments).selectinload(ReviewComment.author),
                selectinload(ProgressReview.author),
            )
            .order_by(ProgressReview.held_on.desc(), ProgressReview.id.desc())
        )
    )


def review(session: Session, worker: Membership, public_id: str) -> ProgressReview | None:
    """One review of ``worker`` by public id."""
    return session.scalar(
        select(ProgressReview).where(
            ProgressReview.worker_id == worker.id, ProgressReview.public_id == public_id
        )
    )


def snapshot(review: ProgressReview) -> ReviewSnapshot:
    """A review as plain values, to compare it with the previous one."""
    return ReviewSnapshot(
        held_on=review.held_on,
        next_review_on=review.next_review_on,
        next_steps=review.next_steps,
        goals=tuple(
            GoalSnapshot(g.competence_id, g.kind, g.target_level, g.text) for g in review.goals
        ),
    )


def focus(session: Session, worker: Membership) -> Competence | None:
    """The competence the worker chose to work on, if any."""
    row = session.scalar(
        select(FocusCompetence)
        .where(FocusCompetence.worker_id == worker.id)
        .options(selectinload(FocusCompetence.competence))
    )
    return row.competence if row else None


@dataclass(frozen=True)
class DueReview:
    worker: Membership
    next_review_on: date


def due_reviews(
    session: Session, workers: list[Membership], today: date, *, soon_days: int = 7
) -> list[DueReview]:
    """Among ``workers``, those whose next review is overdue or due within ``soon_days``."""
    if not workers:
        return []
    latest = (
        select(ProgressReview.worker_id, func.max(ProgressReview.held_on).label("held"))
        .where(ProgressReview.worker_id.in_([w.id for w in workers]))
        .group_by(ProgressReview.worker_id)
        .subquery()
    )
    rows = session.execute(
        select(ProgressReview.worker_id, ProgressReview.next_review_on)
        .join(
            latest,
            (latest.c.worker_id == ProgressReview.worker_id)
            & (latest.c.held == ProgressReview.held_on),
        )
        .order_by(ProgressReview.id)
    )
    # Two reviews held the same day: the one recorded last is the latest.
    latest_next = {wid: day for wid, day in rows}
    by_id = {w.id: w for w in workers}
    limit = today + timedelta(days=soon_days)
    return sorted(
        (
            DueReview(by_id[wid], day)
            for wid, day in latest_next.items()
            if day is not None and day <= limit
        ),
        key=lambda d: d.next_review_on,
    )


@dataclass(frozen=True)
class JourneyEntry:
    at: datetime
    kind: str  # observation, self_assessment, review
    record: object


def journey(session: Session, worker: Membership) -> list[JourneyEntry]:
    """Observations, self-assessments and reviews of ``worker`` on one timeline, newest
    first — a bounded number of queries whatever the number of records."""
    observations = session.scalars(
        select(Observation)
        .where(Observation.worker_id == worker.id)
        .options(
            selectinload(Observation.competence),
            selectinload(Observation.situation),
            selectinload(Observation.author),
        )
    ).all()
    entries = [JourneyEntry(o.observed_at, "observation", o) for o in observations]
    entries += [
        JourneyEntry(s.created_at, "self_assessment", s) for s in self_assessments(session, worker)
    ]
    for r in reviews(session, worker):
        at = datetime.combine(r.held_on, datetime.min.time(), tzinfo=r.created_at.tzinfo)
        entries.append(JourneyEntry(at, "review", r))
    return sorted(entries, key=lambda e: e.at, reverse=True)
