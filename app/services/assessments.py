"""Assessment statuses, proposals and decisions (issue #7).

The pure engine (app.domain.assessments) decides; this module feeds it the worker's
latest observation versions, stores its answers, opens proposals when criteria are met,
and records every decision with its audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import assessments as engine
from app.domain.assessments import Criteria, Evidence, Status
from app.models import (
    AssessmentState,
    BadgeTemplate,
    Competence,
    Membership,
    Observation,
    Proposal,
    Referential,
    SelfAssessment,
    SelfAssessmentAnswer,
    User,
)
from app.services import audit

OPEN = ("pending", "approved", "flagged")


def current_templates(session: Session) -> list[BadgeTemplate]:
    """The current version of every badge template."""
    return list(
        session.scalars(
            select(BadgeTemplate)
            .where(BadgeTemplate.superseded_at.is_(None))
            .order_by(BadgeTemplate.code)
        )
    )


def competence_ids(session: Session, refs: Iterable[str]) -> set[int]:
    """Every competence row (all versions) named by ``referential:code`` references."""
    return set().union(*_ids_by_ref(session, refs).values())


def _ids_by_ref(session: Session, refs: Iterable[str]) -> dict[str, set[int]]:
    """``competence_ids`` of each reference, in one query."""
    wanted = {ref: tuple(ref.split(":", 1)) if ":" in ref else (ref, "") for ref in refs}
    found: dict[tuple[str, ...], set[int]] = {}
    if wanted:
        rows = session.execute(
            select(Referential.code, Competence.code, Competence.id)
            .join(Referential)
            .where(
                Referential.code.in_({key[0] for key in wanted.values()}),
                Competence.code.in_({key[1] for key in wanted.values()}),
            )
        )
        for ref_code, code, pk in rows:
            found.setdefault((ref_code, code), set()).add(pk)
    return {ref: found.get(key, set()) for ref, key in wanted.items()}


def criteria_for(template: BadgeTemplate, level: int) -> Criteria:
    """The engine's criteria for one tier (the tier's level is the minimum level)."""
    tier = template.tier(level) or {}
    values = dict(tier.get("criteria") or {})
    values["min_level"] = level
    allowed = Criteria.__dataclass_fields__
    return Criteria(**{k: v for k, v in values.items() if k in allowed})


def evidence(session: Session, worker: Membership, ids: set[int]) -> list[Evidence]:
    """The worker's observations of those competences, latest versions only."""
    return [e for found in _evidence_by_competence(session, worker, ids).values() for e in found]


def _evidence_by_competence(
    session: Session, worker: Membership, ids: set[int]
) -> dict[int, list[Evidence]]:
    if not ids:
        return {}
    rows = session.execute(
        select(
            Observation.competence_id,
            Observation.public_id,
            Observation.level,
            User.public_id,
            Observation.situation_id,
            Observation.observed_at,
            Observation.withdrawn_at,
        )
        .join(User, User.id == Observation.author_id)
        .where(Observation.worker_id == worker.id, Observation.competence_id.in_(ids))
    )
    found: dict[int, list[Evidence]] = {}
    for competence, oid, level, author, situation, at, withdrawn in rows:
        item = Evidence(oid, level, author, str(situation), at, withdrawn is not None)
        found.setdefault(competence, []).append(item)
    return found


def has_self_assessment(session: Session, worker: Membership, ids: set[int]) -> bool:
    """Whether the worker has a confirmed self-assessment of one of those competences."""
    return bool(_self_assessed(session, worker, ids))


def _self_assessed(session: Session, worker: Membership, ids: set[int]) -> set[int]:
    """Those competences that the worker's confirmed self-assessments answer."""
    if not ids:
        return set()
    return set(
        session.scalars(
            select(SelfAssessmentAnswer.competence_id)
            .join(SelfAssessment)
            .where(
                SelfAssessment.worker_id == worker.id,
                SelfAssessment.confirmed_at.is_not(None),
                SelfAssessmentAnswer.competence_id.in_(ids),
            )
        )
    )


@dataclass(frozen=True)
class Inputs:
    """What the engine needs about one worker for one template (read once, all tiers)."""

    evidence: list[Evidence]
    has_self_assessment: bool


def inputs(session: Session, worker: Membership, template: BadgeTemplate) -> Inputs:
    ids = competence_ids(session, template.competences)
    return Inputs(evidence(session, worker, ids), has_self_assessment(session, worker, ids))


def _all_inputs(
    session: Session, worker: Membership, templates: list[BadgeTemplate]
) -> dict[int, Inputs]:
    """``inputs`` of every template (by id) in three queries, for ``recompute_worker``."""
    by_ref = _ids_by_ref(session, {ref for t in templates for ref in t.competences})
    ids = {t.id: set().union(*(by_ref[ref] for ref in t.competences)) for t in templates}
    every = set().union(*ids.values())
    found = _evidence_by_competence(session, worker, every)
    assessed = _self_assessed(session, worker, every)
    return {
        pk: Inputs([e for c in mine for e in found.get(c, [])], bool(mine & assessed))
        for pk, mine in ids.items()
    }


def assess(
    session: Session,
    *,
    worker: Membership,
    template: BadgeTemplate,
    level: int,
    now: datetime,
    given: Inputs | None = None,
) -> engine.Assessment:
    """Run the engine for one worker × template × level, now."""
    data = given or inputs(session, worker, template)
    return engine.evaluate(
        criteria_for(template, level),
        data.evidence,
        now=now,
        timezone=worker.structure.timezone,
        has_self_assessment=data.has_self_assessment,
    )


@dataclass(frozen=True)
class StatusChange:
    worker: Membership
    template: BadgeTemplate
    level: int
    before: str | None
    after: str


def proposals_of(session: Session, worker: Membership, template: BadgeTemplate, level: int):  # type: ignore[no-untyped-def]
    return session.scalars(
        select(Proposal)
        .where(
            Proposal.worker_id == worker.id,
            Proposal.template_id == template.id,
            Proposal.level == level,
        )
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
    ).all()


def _overlay(result: engine.Assessment, proposals) -> str:  # type: ignore[no-untyped-def]
    """Decisions win over computed status: approved → délivré, revoked → retiré."""
    for proposal in proposals:
        if proposal.status in ("approved", "flagged"):
            return Status.ISSUED.value
        if proposal.status == "revoked":
            return Status.REVOKED.value
    return result.status.value


def recompute_worker(
    session: Session,
    *,
    worker: Membership,
    now: datetime,
    templates: Iterable[BadgeTemplate] | None = None,
    apply: bool = True,
) -> list[StatusChange]:
    """Recompute ``worker``'s statuses (all templates, or only ``templates``).

    With ``apply`` the states are stored, proposals opened when criteria become met, and
    approved decisions whose evidence was withdrawn are flagged for the validateur.
    """
    chosen = list(templates) if templates is not None else current_templates(session)
    chosen = list({t.id: t for t in chosen}.values())  # each template once
    given, states, proposals_by_tier = _reads(session, worker, chosen)
    withdrawn: set[str] | None = None  # read once, when a decision needs it
    changes = []
    for template in chosen:
        for tier in template.tiers:
            level = tier["level"]
            result = assess(
                session,
                worker=worker,
                template=template,
                level=level,
                now=now,
                given=given[template.id],
            )
            proposals = proposals_by_tier.get((template.id, level), [])
            status = _overlay(result, proposals)
            state = states.get((template.id, level))
            before = state.status if state else None
            if before != status:
                changes.append(StatusChange(worker, template, level, before, status))
            if not apply:
                continue
            if state is None:
                state = AssessmentState(worker_id=worker.id, template_id=template.id, level=level)
                session.add(state)
            state.status = status
            state.criteria = [criterion_json(c) for c in result.criteria]
            state.used = list(result.used)
            state.computed_at = now
            if withdrawn is None and any(p.status == "approved" for p in proposals):
                withdrawn = _withdrawn(session, worker)
            _follow_up(session, worker, template, level, result, proposals, now, withdrawn)
    session.flush()
    return changes


def _withdrawn(session: Session, worker: Membership) -> set[str]:
    query = select(Observation.public_id).where(
        Observation.worker_id == worker.id, Observation.withdrawn_at.is_not(None)
    )
    return set(session.scalars(query))


def _reads(session: Session, worker: Membership, templates: list[BadgeTemplate]):  # type: ignore[no-untyped-def]
    """What ``recompute_worker`` reads, in five queries whatever the number of templates:
    the inputs of each template, the stored states and the proposals of each tier
    (newest first, as ``proposals_of``)."""
    pks = [t.id for t in templates]
    states = {
        (s.template_id, s.level): s
        for s in session.scalars(
            select(AssessmentState).where(
                AssessmentState.worker_id == worker.id, AssessmentState.template_id.in_(pks)
            )
        )
    }
    proposals: dict[tuple[int, int], list[Proposal]] = {}
    for p in session.scalars(
        select(Proposal)
        .where(Proposal.worker_id == worker.id, Proposal.template_id.in_(pks))
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
    ):
        proposals.setdefault((p.template_id, p.level), []).append(p)
    return _all_inputs(session, worker, templates), states, proposals


def criterion_json(c: engine.CriterionResult) -> dict[str, object]:
    return {
        "code": c.code,
        "target": c.target,
        "found": c.found,
        "met": c.met,
        "staff": c.staff_text,
        "worker": c.worker_text,
    }


def _follow_up(session, worker, template, level, result, proposals, now, withdrawn) -> None:  # type: ignore[no-untyped-def]
    for proposal in proposals:
        if proposal.status == "approved" and withdrawn & set(proposal.evidence):
            proposal.status = "flagged"
            audit.record(
                session,
                action="proposal.flagged",
                now=now,
                subject=worker.user,
                structure=worker.structure,
                target=proposal.public_id,
                details={"reason": "evidence_withdrawn"},
            )
    if result.status is not Status.CRITERIA_MET:
        return
    if any(p.status in OPEN for p in proposals):
        return
    closed = [p for p in proposals if p.status in ("rejected", "revoked")]
    if closed and set(result.used) <= set(closed[0].evidence):
        return  # after a refusal or a revocation, re-proposed only after new evidence
    open_proposal(
        session,
        worker=worker,
        template=template,
        level=level,
        origin="criteria",
        result=result,
        author=None,
        now=now,
    )


def open_proposal(session, *, worker, template, level, origin, result, author, now) -> Proposal:  # type: ignore[no-untyped-def]
    proposal = Proposal(
        structure_id=worker.structure_id,
        worker_id=worker.id,
        template_id=template.id,
        level=level,
        origin=origin,
        status="pending",
        proposed_by_id=author.id if author else None,
        created_at=now,
        criteria=[criterion_json(c) for c in result.criteria],
        evidence=list(result.used),
    )
    session.add(proposal)
    session.flush()
    audit.record(
        session,
        action="proposal.created",
        now=now,
        actor=author,
        subject=worker.user,
        structure=worker.structure,
        target=proposal.public_id,
        details={"origin": origin, "template": template.code, "level": level},
    )
    return proposal


def recompute_for_competences(
    session: Session, *, worker: Membership, competence_ids_changed: set[int], now: datetime
) -> list[StatusChange]:
    """Recompute only the templates that recognise one of the changed competences."""
    keys = set(
        f"{ref}:{code}"
        for ref, code in session.execute(
            select(Referential.code, Competence.code)
            .join(Competence)
            .where(Competence.id.in_(competence_ids_changed))
        )
    )
    affected = [t for t in current_templates(session) if keys & set(t.competences)]
    return recompute_worker(session, worker=worker, now=now, templates=affected)
