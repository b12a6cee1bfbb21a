"""Reading situations and observations, always within what the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.models import (
    Competence,
    Membership,
    Observation,
    Team,
    WorkSituation,
    WorkSituationCompetence,
)
from app.queries import people

#: An observation older than this no longer counts as "recent" on the team page (OBS-13).
RECENT = timedelta(days=30)


def active_situations(
    session: Session, structure_id: int, *, team_ids: set[int] | None = None
) -> list[WorkSituation]:
    """Open situations of a structure (of some teams, plus those with no team), newest first."""
    query = (
        select(WorkSituation)
        .where(WorkSituation.structure_id == structure_id, WorkSituation.archived_at.is_(None))
        .options(
            selectinload(WorkSituation.competence_links)
            .selectinload(WorkSituationCompetence.competence)
            .selectinload(Competence.indicators),
            selectinload(WorkSituation.team),
        )
        .order_by(WorkSituation.starts_on.desc(), WorkSituation.id.desc())
    )
    if team_ids is not None:
        query = query.where(WorkSituation.team_id.in_(team_ids) | WorkSituation.team_id.is_(None))
    return list(session.scalars(query))


def situation(session: Session, structure_id: int, public_id: str) -> WorkSituation | None:
    """One situation of the structure by public id."""
    return session.scalar(
        select(WorkSituation).where(
            WorkSituation.structure_id == structure_id, WorkSituation.public_id == public_id
        )
    )


@dataclass
class CompetenceStatus:
    competence: Competence
    count: int = 0
    last_at: datetime | None = None

    def is_recent(self, now: datetime) -> bool:
        return self.last_at is not None and now - self.last_at <= RECENT


@dataclass
class WorkerOverview:
    worker: Membership
    statuses: list[CompetenceStatus] = field(default_factory=list)

    def gaps(self, now: datetime) -> list[Competence]:
        """Competences with no recent observation (never a ranking, OBS-13)."""
        return [s.competence for s in self.statuses if not s.is_recent(now)]


@dataclass
class TeamOverview:
    team: Team
    workers: list[WorkerOverview]
    situations: list[WorkSituation]


def team_overviews(session: Session, viewer: Membership) -> list[TeamOverview]:
    """For each team ``viewer`` leads: its workers and, per competence of the team's open
    situations, how many observations exist and when the last one was made."""
    teams = people.led_teams(session, viewer)
    situations = active_situations(session, viewer.structure_id, team_ids={t.id for t in teams})
    result = []
    for team in teams:
        team_situations = [s for s in situations if s.team_id in (team.id, None)]
        competences: dict[int, Competence] = {}
        for s in team_situations:
            for c in s.competences:
                competences.setdefault(c.id, c)
        workers = [
            link.membership
            for link in team.members
            if not link.is_leader and link.membership.is_current
        ]
        counts = _counts(session, [w.id for w in workers], list(competences))
        overviews = [
            WorkerOverview(
                worker=w,
                statuses=[
                    CompetenceStatus(c, *counts.get((w.id, c.id), (0, None)))
                    for c in competences.values()
                ],
            )
            for w in sorted(workers, key=lambda m: (m.user.last_name, m.user.first_name))
        ]
        result.append(TeamOverview(team, overviews, team_situations))
    return result


def _counts(
    session: Session, worker_ids: list[int], competence_ids: list[int]
) -> dict[tuple[int, int], tuple[int, datetime | None]]:
    if not worker_ids or not competence_ids:
        return {}
    rows = session.execute(
        select(
            Observation.worker_id,
            Observation.competence_id,
            func.count(),
            func.max(Observation.observed_at),
        )
        .where(
            Observation.worker_id.in_(worker_ids),
            Observation.competence_id.in_(competence_ids),
            Observation.withdrawn_at.is_(None),
            Observation.level.is_not(None),
        )
        .group_by(Observation.worker_id, Observation.competence_id)
    )
    # max() keeps the column's type, so the dates come back aware (UTC).
    return {(w, c): (n, last) for w, c, n, last in rows}


def worker_observations(session: Session, worker: Membership) -> list[Observation]:
    """Every observation of a worker (withdrawn ones included), newest first, with history."""
    return list(
        session.scalars(
            select(Observation)
            .where(Observation.worker_id == worker.id)
            .options(
                selectinload(Observation.versions),
                selectinload(Observation.comments),
                selectinload(Observation.competence),
                selectinload(Observation.situation),
                selectinload(Observation.author),
            )
            .order_by(Observation.observed_at.desc(), Observation.id.desc())
        )
    )


def visible_observation(session: Session, viewer: Membership, public_id: str) -> Observation | None:
    """One observation, only if its worker is visible to ``viewer``."""
    observation = session.scalar(
        select(Observation).where(
            Observation.public_id == public_id,
            Observation.structure_id == viewer.structure_id,
        )
    )
    if observation is None:
        return None
    if people.visible_worker(session, viewer, observation.worker.public_id) is None:
        return None
    return observation


def visible_observations(
    session: Session,
    viewer: Membership,
    *,
    worker_public_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Observation]:
    """Observations of the workers ``viewer`` may see, newest first (for the API)."""
    visible = people.visible_workers_query(viewer, include_ended=True).with_only_columns(
        Membership.id
    )
    query = (
        select(Observation)
        .where(Observation.structure_id == viewer.structure_id, Observation.worker_id.in_(visible))
        .options(
            selectinload(Observation.comments),
            selectinload(Observation.competence),
            selectinload(Observation.situation),
            selectinload(Observation.worker).selectinload(Membership.user),
            selectinload(Observation.author),
        )
        .order_by(Observation.recorded_at.desc(), Observation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if worker_public_id is not None:
        query = query.join(Observation.worker).where(Membership.public_id == worker_public_id)
    return list(session.scalars(query))
