"""Work situations and observations: record (one or many workers), correct, withdraw."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.domain import observations as rules
from app.domain import wording
from app.domain.enums import Role, SituationType, WithdrawalReason
from app.domain.errors import (
    AlreadyWithdrawn,
    CompetenceNotInSituation,
    IdempotencyConflict,
    NotAllowed,
    NotTheAuthor,
    ObservationError,
    SituationNotInScope,
    WorkerNotInScope,
)
from app.models import (
    Capture,
    Competence,
    Membership,
    Observation,
    ObservationComment,
    ObservationVersion,
    Referential,
    Team,
    User,
    WorkSituation,
    WorkSituationCompetence,
)
from app.models.base import new_public_id
from app.queries import people
from app.services import assessments, audit

#: Roles that may record observations, by order of preference for ``author_role``.
OBSERVER_ROLES = (Role.ENCADRANT, Role.CONSEILLER, Role.VALIDATEUR)


@dataclass(frozen=True)
class CaptureItem:
    """One worker's line in a capture: their level for one competence, and a comment."""

    worker_id: str
    competence_id: str
    level: int | None
    comment: str | None = None


@dataclass(frozen=True)
class CaptureResult:
    capture: Capture
    observations: list[Observation]
    created: bool


def observer_role(membership: Membership) -> Role:
    """The role under which ``membership`` observes; refuses members who do not observe."""
    for role in OBSERVER_ROLES:
        if membership.has_role(role):
            return role
    raise NotAllowed("Votre rôle ne permet pas d'enregistrer des observations.")


def create_situation(
    session: Session,
    *,
    author: Membership,
    name: str,
    type: SituationType,
    starts_on: date,
    competences: Sequence[Competence],
    now: datetime,
    place: str | None = None,
    ends_on: date | None = None,
    team: Team | None = None,
) -> WorkSituation:
    """A work situation of the author's structure, with the competences it lets one observe."""
    name = " ".join(name.split())
    if not name:
        raise ObservationError("Donnez un nom à la situation de travail.")
    for text in (name, place or ""):
        blocked = wording.blocked_terms(text)
        if blocked:
            raise ObservationError(f"Le mot « {blocked[0]} » ne peut pas figurer ici.")
    if ends_on is not None and ends_on < starts_on:
        raise ObservationError("La date de fin doit suivre la date de début.")
    if team is not None and team.structure_id != author.structure_id:
        raise SituationNotInScope()
    if not competences:
        raise ObservationError("Choisissez au moins une compétence observable.")
    situation = WorkSituation(
        structure_id=author.structure_id,
        team=team,
        name=name,
        place=(place or "").strip() or None,
        type=type,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=author.user_id,
        created_at=now,
    )
    situation.competence_links = [WorkSituationCompetence(competence=c) for c in competences]
    session.add(situation)
    session.flush()
    audit.record(
        session,
        action="situation.opened",
        now=now,
        actor=author.user,
        structure=author.structure,
        target=situation.public_id,
    )
    return situation


def _situation(session: Session, author: Membership, situation_id: str) -> WorkSituation:
    situation = session.scalar(
        select(WorkSituation).where(
            WorkSituation.public_id == situation_id,
            WorkSituation.structure_id == author.structure_id,
            WorkSituation.archived_at.is_(None),
        )
    )
    if situation is None:
        raise SituationNotInScope()
    return situation


def _allowed_competences(
    session: Session, situation: WorkSituation, public_ids: set[str]
) -> dict[str, Competence]:
    """Those of ``public_ids`` that ``situation`` lets one observe, by public id, each with
    its referential (the answer names it; its text payload is left until asked for)."""
    return {
        c.public_id: c
        for c in session.scalars(
            select(Competence)
            .join(WorkSituationCompetence, WorkSituationCompetence.competence_id == Competence.id)
            .where(
                WorkSituationCompetence.situation_id == situation.id,
                Competence.public_id.in_(public_ids),
            )
            .options(joinedload(Competence.referential).defer(Referential.payload))
        )
    }


def _payload(situation_id: str, observed_at: datetime | None, items: Sequence[CaptureItem]) -> dict:
    rows = [[i.worker_id, i.competence_id, i.level, i.comment or ""] for i in items]
    # Sorted without comparing a level with « non observé » (None), which would raise.
    rows.sort(key=lambda r: (r[0], r[1], r[2] is not None, r[2] or 0, r[3]))
    return {
        "situation": situation_id,
        "observed_at": observed_at.isoformat() if observed_at else None,
        "items": rows,
    }


def record_capture(
    session: Session,
    *,
    author: Membership,
    situation_id: str,
    observed_at: datetime | None,
    items: Sequence[CaptureItem],
    idempotency_key: str,
    now: datetime,
) -> CaptureResult:
    """Record one capture: one observation per item, all or nothing.

    ``observed_at`` defaults to ``now``; the fingerprint uses the value as sent, so that a
    resend without a date is still recognised.

    A resend with the same key and body returns the first result; the same key with another
    body raises ``IdempotencyConflict``. The database's unique constraint decides, so
    concurrent resends still make one capture: a first send inserts without looking the key
    up first, and a resend is recognised when its insert is refused (or when its checks
    fail, since what it names may have changed since the first send).
    """
    role = observer_role(author)
    key = idempotency_key.strip()
    if not (8 <= len(key) <= 80):
        raise ObservationError("La clé d'envoi (idempotence) doit compter 8 à 80 caractères.")
    if not items:
        raise ObservationError("Choisissez au moins une personne et une compétence.")
    body_hash = rules.fingerprint(_payload(situation_id, observed_at, items))
    try:
        observed_at = rules.check_observed_at(observed_at or now, now=now)
        situation, rows = _checked(session, author, situation_id, items)
    except ObservationError:
        if (resent := _resent(session, author, key, body_hash)) is None:
            raise
        return resent

    try:
        # Capture, observations and audit row in one flush, undone together if the key is
        # taken.
        with session.begin_nested():
            capture = Capture(
                public_id=new_public_id(),  # known before the flush: the audit row names it
                author_id=author.user_id,
                idempotency_key=key,
                body_hash=body_hash,
                created_at=now,
            )
            session.add(capture)
            created = [
                _new_observation(session, capture, author, role, situation, row, observed_at, now)
                for row in rows
            ]
            audit.record(
                session,
                action="observation.recorded",
                now=now,
                actor=author.user,
                structure=author.structure,
                target=capture.public_id,
                details={"count": len(created)},
            )
    except IntegrityError:
        if (resent := _resent(session, author, key, body_hash)) is None:
            raise
        return resent

    for worker in {o.worker for o in created}:
        assessments.recompute_for_competences(
            session,
            worker=worker,
            now=now,
            competence_ids_changed={o.competence_id for o in created if o.worker is worker},
        )
    return CaptureResult(capture, created, created=True)


#: One checked line of a capture: the worker, the competence, the level and the comment.
_Row = tuple[Membership, Competence, int | None, str | None]


def _checked(
    session: Session, author: Membership, situation_id: str, items: Sequence[CaptureItem]
) -> tuple[WorkSituation, list[_Row]]:
    """The situation and each item's worker, competence, level and comment, all checked."""
    situation = _situation(session, author, situation_id)
    allowed = _allowed_competences(session, situation, {i.competence_id for i in items})
    visible = people.visible_workers_by_id(session, author, {i.worker_id for i in items})
    rows: list[_Row] = []
    for item in items:
        worker = visible.get(item.worker_id)
        if worker is None or not worker.is_current:
            raise WorkerNotInScope()
        competence = allowed.get(item.competence_id)
        if competence is None:
            raise CompetenceNotInSituation()
        rows.append(
            (worker, competence, rules.check_level(item.level), rules.check_comment(item.comment))
        )
    return situation, rows


def _resent(session: Session, author: Membership, key: str, body_hash: str) -> CaptureResult | None:
    """The first result of the capture sent earlier under ``key`` (``IdempotencyConflict``
    if it had another body), or None when the key is new."""
    capture = session.scalar(
        select(Capture).where(Capture.author_id == author.user_id, Capture.idempotency_key == key)
    )
    if capture is None:
        return None
    if capture.body_hash != body_hash:
        raise IdempotencyConflict()
    return CaptureResult(capture, list(capture.observations), created=False)


def _new_observation(
    session: Session,
    capture: Capture,
    author: Membership,
    role: Role,
    situation: WorkSituation,
    row: _Row,
    observed_at: datetime,
    now: datetime,
) -> Observation:
    worker, competence, level, comment = row
    observation = Observation(
        structure_id=author.structure_id,
        worker=worker,
        competence=competence,
        situation=situation,
        author_id=author.user_id,
        author_role=role,
        capture=capture,
        version=1,
        level=level,
        observed_at=observed_at,
        recorded_at=now,
        versions=[],  # new: nothing to read back (its rows are added below)
        comments=[],
    )
    session.add(observation)
    _add_version(session, observation, author.user_id, comment, now)
    return observation


def _add_version(
    session: Session, observation: Observation, author_id: int, comment: str | None, now: datetime
) -> None:
    """The history row of the observation's current version, and its comment in a row of its
    own (so that an erasure can blank the text without rewriting history); flushed with the
    audit row that follows."""
    session.add(
        ObservationVersion(
            observation=observation,
            number=observation.version,
            level=observation.level,
            observed_at=observation.observed_at,
            recorded_at=now,
            author_id=author_id,
        )
    )
    if comment:
        session.add(
            ObservationComment(
                observation=observation,
                version=observation.version,
                author_id=author_id,
                text=comment,
                created_at=now,
            )
        )


def correct_observation(
    session: Session,
    *,
    observation: Observation,
    editor: User,
    level: int | None,
    observed_at: datetime,
    comment: str | None,
    now: datetime,
    window: timedelta,
) -> Observation:
    """A correction by the author, within the window: a new version, history kept."""
    if observation.is_withdrawn:
        raise AlreadyWithdrawn()
    rules.check_can_correct(
        author_id=observation.author_id,
        editor_id=editor.id,
        recorded_at=observation.recorded_at,
        now=now,
        window=window,
    )
    level = rules.check_level(level)
    rules.check_observed_at(observed_at, now=now)
    text = rules.check_comment(comment)
    observation.version += 1
    observation.level, observation.observed_at = level, observed_at
    _add_version(session, observation, editor.id, text, now)
    audit.record(
        session,
        action="observation.corrected",
        now=now,
        actor=editor,
        subject=observation.worker.user,
        structure=observation.worker.structure,
        target=observation.public_id,
        details={"version": observation.version},
    )
    assessments.recompute_for_competences(
        session,
        worker=observation.worker,
        now=now,
        competence_ids_changed={observation.competence_id},
    )
    return observation


def withdraw_observation(
    session: Session,
    *,
    observation: Observation,
    actor: Membership,
    reason: WithdrawalReason,
    now: datetime,
) -> None:
    """Withdraw an observation (author, or a structure admin); it stays in history."""
    if observation.is_withdrawn:
        raise AlreadyWithdrawn()
    if observation.author_id != actor.user_id and not actor.has_role(Role.ADMIN):
        raise NotTheAuthor(
            "Seule la personne qui a fait l'observation, ou un·e administrateur·rice, "
            "peut la retirer."
        )
    observation.withdrawn_at = now
    observation.withdrawal_reason = reason
    observation.withdrawn_by_id = actor.user_id
    session.flush()
    audit.record(
        session,
        action="observation.withdrawn",
        now=now,
        actor=actor.user,
        subject=observation.worker.user,
        structure=actor.structure,
        target=observation.public_id,
        details={"reason": reason.value},
    )
    assessments.recompute_for_competences(
        session,
        worker=observation.worker,
        now=now,
        competence_ids_changed={observation.competence_id},
    )
