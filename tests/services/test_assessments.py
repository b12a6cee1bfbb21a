"""Assessment statuses kept up to date by the observation use cases (ASM-02, ASM-03).

Recording, correcting or withdrawing an observation recomputes only the affected
worker × templates; the stored explanation is the engine's; met criteria open exactly one
proposal, and a rejected one comes back only with new evidence (VAL-01, VAL-03).

The ``Scene`` helpers are shared with the decision, page and CLI tests of issue #7. They
use julie, who has no observation in the world, so that nothing of the world's demo
journey (karim) changes what they find.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import DefaultConfig
from app.domain import assessments as engine
from app.domain.assessments import Criteria, Evidence
from app.domain.enums import SituationType, WithdrawalReason
from app.models import (
    AssessmentState,
    AuditEvent,
    BadgeTemplate,
    Competence,
    Membership,
    Observation,
    Proposal,
    Referential,
    WorkSituation,
)
from app.services import assessments, decisions, demo, observations
from app.services import badge_templates as templates
from app.services.observations import CaptureItem
from tests.api import member
from tests.support.world import NOW

#: When the tests record: a day after the world was built (its rows carry other times).
T = NOW + timedelta(days=1)
TEAMWORK = "travailler-en-equipe"
#: The criteria of « Travailler en équipe » at level 3, written out independently.
TEAMWORK_3 = Criteria(
    min_level=3,
    min_observations=2,
    distinct_observers=2,
    distinct_situations=2,
    min_span_days=14,
    max_age_days=365,
)


@dataclass
class Scene:
    """A worker of « Espaces verts », two situations where teamwork is observed."""

    session: Session
    worker: Membership
    places: tuple[WorkSituation, WorkSituation]
    competence: Competence
    template: BadgeTemplate

    def observe(
        self, login: str, place: int, level: int | None = 3, *, at: datetime, now: datetime = T
    ) -> Observation:
        """One observation of the worker's teamwork by ``login``, recorded at ``now``."""
        result = observations.record_capture(
            self.session,
            author=member(self.session, login),
            situation_id=self.places[place].public_id,
            observed_at=at,
            items=[CaptureItem(self.worker.public_id, self.competence.public_id, level)],
            idempotency_key=f"test-{uuid4().hex}",
            now=now,
        )
        (observation,) = result.observations
        return observation

    def met(self) -> tuple[Observation, Observation]:
        """Level 3 met: Marc then Sophie, two situations, 17 days apart, recorded at T."""
        first = self.observe("marc.encadrant", 0, at=T - timedelta(days=20))
        second = self.observe("sophie.cip", 1, at=T - timedelta(days=3))
        return first, second

    def proposals(self) -> list[Proposal]:
        """The worker's proposals of the template, oldest first."""
        return list(
            self.session.scalars(
                select(Proposal)
                .where(Proposal.worker_id == self.worker.id)
                .order_by(Proposal.created_at, Proposal.id)
            )
        )

    def state(self, level: int = 3) -> AssessmentState:
        """The stored status of the worker for the template at ``level``."""
        return self.session.scalars(
            select(AssessmentState).where(
                AssessmentState.worker_id == self.worker.id,
                AssessmentState.template_id == self.template.id,
                AssessmentState.level == level,
            )
        ).one()


def teamwork(session: Session) -> Competence:
    """The current version of bunk:travailler-en-equipe."""
    return session.scalars(
        select(Competence)
        .join(Referential)
        .where(
            Referential.code == "bunk",
            Referential.superseded_at.is_(None),
            Competence.code == TEAMWORK,
        )
    ).one()


def scene(session: Session, worker: str = "julie") -> Scene:
    """The demo situation of « Espaces verts » and a second one opened by Marc at T."""
    competence = teamwork(session)
    first = session.scalars(
        select(WorkSituation).where(WorkSituation.name == demo.SITUATIONS["Espaces verts"][0])
    ).one()
    second = observations.create_situation(
        session,
        author=member(session, "marc.encadrant"),
        name="Désherbage du jardin partagé",
        type=SituationType.PRODUCTION,
        starts_on=(T - timedelta(days=60)).date(),
        competences=[competence],
        now=T,
        team=first.team,
        place="Jardin partagé",
    )
    template = templates.current(session, TEAMWORK)
    assert template is not None
    return Scene(session, member(session, worker), (first, second), competence, template)


def stamps(session: Session) -> dict[tuple[int, int, int], tuple[str, datetime]]:
    """Every stored status with when it was computed, by worker × template × level."""
    return {
        (s.worker_id, s.template_id, s.level): (s.status, s.computed_at)
        for s in session.scalars(select(AssessmentState))
    }


def expected_explanation(session: Session, scene: Scene, now: datetime) -> engine.Assessment:
    """The engine's answer from evidence read here, independently of the service."""
    rows = session.scalars(
        select(Observation).where(
            Observation.worker_id == scene.worker.id,
            Observation.competence_id == scene.competence.id,
        )
    )
    evidence = [
        Evidence(
            o.public_id,
            o.level,
            o.author.public_id,
            str(o.situation_id),
            o.observed_at,
            o.withdrawn_at is not None,
        )
        for o in rows
    ]
    return engine.evaluate(TEAMWORK_3, evidence, now=now, timezone="Europe/Paris")


def _as_stored(result: engine.Assessment) -> list[dict[str, object]]:
    return [
        {
            "code": c.code,
            "target": c.target,
            "found": c.found,
            "met": c.met,
            "staff": c.staff_text,
            "worker": c.worker_text,
        }
        for c in result.criteria
    ]


def test_an_observation_recomputes_only_its_worker_and_the_templates_of_its_competence(
    db_session,
):
    s = scene(db_session, "karim")
    before = stamps(db_session)
    karim_elsewhere = {k for k in before if k[0] == s.worker.id and k[1] != s.template.id}
    assert karim_elsewhere, "the world gives karim statuses of other templates"
    s.observe("marc.encadrant", 1, at=T - timedelta(hours=1))
    after = stamps(db_session)
    touched = {k for k in after if before.get(k) != after[k]}
    assert touched == {(s.worker.id, s.template.id, level) for level in (3, 4, 5)}
    assert {after[k][1] for k in touched} == {T}
    assert all(after[k] == before[k] for k in before if k not in touched)


def test_a_first_observation_gives_in_progress_and_a_new_status_row_per_tier(db_session):
    s = scene(db_session)
    assert not [k for k in stamps(db_session) if k[0] == s.worker.id]
    s.observe("marc.encadrant", 0, level=5, at=T - timedelta(days=1))
    assert [s.state(level).status for level in (3, 4, 5)] == ["en_cours"] * 3
    mine = {k[1] for k in stamps(db_session) if k[0] == s.worker.id}
    assert mine == {s.template.id}


def test_the_stored_explanation_is_the_engines_with_the_observations_used(db_session):
    s = scene(db_session)
    first, second = s.met()
    state = s.state(3)
    expected = expected_explanation(db_session, s, T)
    assert state.status == "criteres_atteints" == expected.status.value
    assert state.criteria == _as_stored(expected)
    assert (
        sorted(state.used) == sorted(expected.used) == sorted([first.public_id, second.public_id])
    )
    staff = [c["staff"] for c in state.criteria]
    assert "2 observateur·rices sur 2 requis·es ✓" in staff
    assert "17 jours entre la première et la dernière observation sur 14 requis ✓" in staff
    assert [s.state(level).status for level in (4, 5)] == ["en_cours", "en_cours"]


def test_a_correction_recomputes_with_the_latest_version(db_session):
    s = scene(db_session)
    first, _second = s.met()
    before = stamps(db_session)
    later = T + timedelta(hours=1)
    observations.correct_observation(
        db_session,
        observation=first,
        editor=first.author,
        level=2,
        observed_at=first.observed_at,
        comment=None,
        now=later,
        window=timedelta(days=7),
    )
    state = s.state(3)
    assert (state.status, state.computed_at) == ("en_cours", later)
    assert state.criteria == _as_stored(expected_explanation(db_session, s, later))
    assert first.public_id not in state.used
    assert "1 observations au niveau visé sur 2 requises ✗" in [c["staff"] for c in state.criteria]
    after = stamps(db_session)
    assert {k for k in after if after[k] != before.get(k)} == {
        (s.worker.id, s.template.id, level) for level in (3, 4, 5)
    }


def test_a_withdrawal_recomputes_without_the_withdrawn_observation(db_session):
    s = scene(db_session)
    _first, second = s.met()
    later = T + timedelta(hours=2)
    observations.withdraw_observation(
        db_session,
        observation=second,
        actor=member(db_session, "sophie.cip"),
        reason=WithdrawalReason.ENTRY_ERROR,
        now=later,
    )
    state = s.state(3)
    assert (state.status, state.computed_at) == ("en_cours", later)
    assert second.public_id not in state.used
    assert state.criteria == _as_stored(expected_explanation(db_session, s, later))
    worker_steps = [c["worker"] for c in state.criteria if c["worker"]]
    assert "Encore une personne doit vous observer." in worker_steps


def test_met_criteria_open_exactly_one_proposal_and_more_evidence_adds_none(db_session):
    s = scene(db_session)
    first = s.observe("marc.encadrant", 0, at=T - timedelta(days=20))
    assert s.proposals() == []
    second = s.observe("sophie.cip", 1, at=T - timedelta(days=3))
    (proposal,) = s.proposals()
    assert (proposal.status, proposal.origin, proposal.level) == ("pending", "criteria", 3)
    assert proposal.proposed_by_id is None and proposal.created_at == T
    assert sorted(proposal.evidence) == sorted([first.public_id, second.public_id])
    assert proposal.criteria == s.state(3).criteria
    (created,) = db_session.scalars(
        select(AuditEvent).where(AuditEvent.target == proposal.public_id)
    ).all()
    assert created.action == "proposal.created" and created.actor_id is None
    assert created.details == {"origin": "criteria", "template": TEAMWORK, "level": 3}
    s.observe("marc.encadrant", 1, level=4, at=T - timedelta(days=1), now=T + timedelta(hours=1))
    s.observe("sophie.cip", 0, level=3, at=T, now=T + timedelta(hours=2))
    assert s.proposals() == [proposal]
    # The state stays « criteria met » while the proposal waits (no decision yet).
    assert s.state(3).status == "criteres_atteints"


def test_after_a_rejection_only_new_evidence_brings_the_badge_back(db_session):
    s = scene(db_session)
    s.met()
    (rejected,) = s.proposals()
    decisions.reject(
        db_session,
        validator=member(db_session, "nadia.validatrice"),
        proposal=rejected,
        comment="Attendre un deuxième chantier.",
        now=T + timedelta(hours=1),
    )
    assessments.recompute_worker(db_session, worker=s.worker, now=T + timedelta(days=1))
    assessments.recompute_for_competences(
        db_session,
        worker=s.worker,
        competence_ids_changed={s.competence.id},
        now=T + timedelta(days=2),
    )
    assert s.proposals() == [rejected] and rejected.status == "rejected"
    assert s.state(3).status == "criteres_atteints"
    # An observation below the level is no new evidence for level 3.
    s.observe("marc.encadrant", 1, level=2, at=T + timedelta(days=2), now=T + timedelta(days=3))
    assert s.proposals() == [rejected]
    fresh = s.observe(
        "marc.encadrant", 1, level=3, at=T + timedelta(days=3), now=T + timedelta(days=4)
    )
    old, new = s.proposals()
    assert old is rejected and old.status == "rejected"
    assert (new.status, new.origin) == ("pending", "criteria")
    assert fresh.public_id in new.evidence and fresh.public_id not in rejected.evidence


def test_a_new_template_version_is_used_as_soon_as_it_supersedes_the_parsed_one(db_session):
    """Templates are parsed once per process; a new version still takes over at once."""
    s = scene(db_session)
    s.observe("marc.encadrant", 0, at=T - timedelta(days=20))  # version 1 parsed and used
    text = (Path(DefaultConfig.BADGE_TEMPLATES_DIR) / "travailler-en-equipe.yaml").read_text(
        encoding="utf-8"
    )
    text = text.replace("version: 1\n", "version: 2\n").replace(
        "  min_observations: 2\n", "  min_observations: 3\n"
    )
    plan = templates.plan_load(db_session, [("travailler-en-equipe.yaml", text)])
    (newer,) = templates.apply_plan(db_session, plan, now=T, actor=None)
    s.observe("sophie.cip", 1, at=T - timedelta(days=3))
    state = db_session.scalars(
        select(AssessmentState).where(
            AssessmentState.worker_id == s.worker.id,
            AssessmentState.template_id == newer.id,
            AssessmentState.level == 3,
        )
    ).one()
    assert state.criteria[0]["target"] == 3 and state.status == "en_cours"
    assert s.state(3).criteria[0]["target"] == 2  # the old version's row, left as it was
    assert s.proposals() == []
