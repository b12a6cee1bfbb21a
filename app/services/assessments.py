"""Assessment statuses, proposals and decisions (issue #7).

The pure engine (app.domain.assessments) decides; this module feeds it the worker's
latest observation versions, stores its answers, opens proposals when criteria are met,
and records every decision with its audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Result, Select, select
from sqlalchemy.orm import Session, defer, selectinload

from app.domain import assessments as engine
from app.domain.assessments import Criteria, Evidence, Status
from app.domain.enums import Role
from app.models import (
    AssessmentState,
    BadgeTemplate,
    Competence,
    Membership,
    MembershipRole,
    Observation,
    Proposal,
    Referential,
    SelfAssessment,
    SelfAssessmentAnswer,
    Structure,
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
        rows = _rows(
            session,
            select(Referential.code, Competence.code, Competence.id)
            .join(Referential)
            .where(
                Referential.code.in_({key[0] for key in wanted.values()}),
                Competence.code.in_({key[1] for key in wanted.values()}),
            ),
        )
        for ref_code, code, pk in rows:
            found.setdefault((ref_code, code), set()).add(pk)
    return {ref: found.get(key, set()) for ref, key in wanted.items()}


def _rows(session: Session, query: Select[Any]) -> Result[Any]:
    """The rows of ``query``, a select of plain columns, through the session's connection:
    they need none of the ORM's row handling, which costs more than the query itself on a
    worker's hundreds of observations. Pending changes are flushed first, as the ORM's own
    ``execute`` would (unless autoflush is off)."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(query)


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


class StatusChange(NamedTuple):
    """A status that a recompute changed (or would change, in a dry run)."""

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

    With ``apply`` the states are stored, proposals opened when criteria are met, and
    approved decisions whose evidence was withdrawn are flagged for the validateur.
    """
    return recompute_workers(session, workers=[worker], now=now, templates=templates, apply=apply)


#: Workers read together by ``recompute_workers`` (bound parameters stay few).
BATCH = 500


def workers_to_recompute(session: Session, structure_id: str | None = None) -> list[Membership]:
    """The workers ``flask assessments recompute`` goes through: every salarié·e of the
    active structures (of one structure, by public id), their user loaded (changes name
    them)."""
    query = (
        select(Membership)
        .join(MembershipRole)
        .join(Structure)
        .where(MembershipRole.role == Role.SALARIE, Structure.deactivated_at.is_(None))
        .options(selectinload(Membership.user))
        .order_by(Membership.id)
    )
    if structure_id:
        query = query.where(Structure.public_id == structure_id)
    return list(session.scalars(query).unique().all())


def recompute_workers(
    session: Session,
    *,
    workers: Sequence[Membership],
    now: datetime,
    templates: Iterable[BadgeTemplate] | None = None,
    apply: bool = True,
    done: Callable[[int], object] | None = None,
) -> list[StatusChange]:
    """``recompute_worker`` for each of ``workers``, reading what the engine needs in a
    few queries per ``BATCH`` workers whatever the number of templates; changes in the
    order of the workers, then of the templates and tiers. ``done`` is told how many
    workers each batch recomputed (a progress bar)."""
    if templates is None:
        chosen = _current_versions(session)
    else:  # each template once
        chosen = [_Version(t.id, _spec(t), t) for t in {t.id: t for t in templates}.values()]
    by_ref = _ids_by_ref(session, {ref for v in chosen for ref in v.spec.competences})
    return _recompute_workers(session, workers, chosen, by_ref, now, apply, done)


def _recompute_workers(
    session: Session,
    workers: Sequence[Membership],
    chosen: list[_Version],
    by_ref: dict[str, set[int]],
    now: datetime,
    apply: bool,
    done: Callable[[int], object] | None = None,
) -> list[StatusChange]:
    """``recompute_workers`` with its templates chosen and their competences read."""
    plan = [
        _TemplatePlan(
            v.template,
            v.pk,
            frozenset().union(*(by_ref[ref] for ref in v.spec.competences)),
            v.spec.tiers,
        )
        for v in chosen
    ]
    every = set().union(*(p.competences for p in plan))
    # Self-assessments change an answer only where a tier asks for one.
    asked = any(t.criteria.self_assessment_required for p in plan for t in p.tiers)
    changes: list[StatusChange] = []
    for start in range(0, len(workers), BATCH):
        batch = workers[start : start + BATCH]
        reads = _read(session, [w.id for w in batch], [v.pk for v in chosen], every, apply, asked)
        for worker in batch:
            changes += _recompute(session, worker, plan, reads, now, apply)
        if done is not None:
            done(len(batch))
    session.flush()
    return changes


class _Tier(NamedTuple):
    """A tier's level and criteria, and the engine's answer without any current observation
    (without, then with a self-assessment), which most of a structure's pairs get."""

    level: int
    criteria: Criteria
    without_evidence: tuple[engine.Assessment, engine.Assessment]


def _tier(template: BadgeTemplate, level: int) -> _Tier:
    criteria = criteria_for(template, level)
    empty = engine.prepare((), now=_EPOCH, timezone="UTC")
    return _Tier(
        level,
        criteria,
        (
            engine.evaluate_prepared(criteria, empty, False),
            engine.evaluate_prepared(criteria, empty, True),
        ),
    )


#: Any moment: the engine's answer without evidence does not depend on the date.
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _Spec:
    """What the recompute needs of one template version: its competence references and its
    tiers, read once per process (``_spec``)."""

    competences: tuple[str, ...]
    tiers: tuple[_Tier, ...]


#: ``_Spec`` by template version, ``(public_id, content_hash)``. A version's row never
#: changes once loaded (a new version is a new row, which supersedes the old one), so an
#: entry never goes stale; which versions are current is read from the database each time.
_SPECS: dict[tuple[str, str], _Spec] = {}
#: Entries kept at most (each database of a test run loads its own rows).
_SPECS_MAX = 1024


def _spec(template: BadgeTemplate) -> _Spec:
    """``template``'s ``_Spec``, parsed on its first use in this process."""
    key = (template.public_id, template.content_hash)
    spec = _SPECS.get(key)
    if spec is None:
        spec = _Spec(
            tuple(template.competences),
            tuple(_tier(template, tier["level"]) for tier in template.tiers),
        )
        if len(_SPECS) >= _SPECS_MAX:
            _SPECS.clear()
        _SPECS[key] = spec
    return spec


class _Version(NamedTuple):
    """A template version to recompute: its row id, its ``_Spec``, and its row when loaded
    (else read by ``_template`` when a change or a proposal names it)."""

    pk: int
    spec: _Spec
    template: BadgeTemplate | None


def _current_versions(session: Session) -> list[_Version]:
    """The current version of every badge template, by code (as ``current_templates``),
    in one light query: the rows themselves are read only for versions not parsed yet."""
    rows = session.execute(
        select(BadgeTemplate.id, BadgeTemplate.public_id, BadgeTemplate.content_hash)
        .where(BadgeTemplate.superseded_at.is_(None))
        .order_by(BadgeTemplate.code)
    ).all()
    specs = {pk: _SPECS.get((public_id, digest)) for pk, public_id, digest in rows}
    loaded: dict[int, BadgeTemplate] = {}
    missing = [pk for pk, spec in specs.items() if spec is None]
    if missing:
        for template in session.scalars(select(BadgeTemplate).where(BadgeTemplate.id.in_(missing))):
            loaded[template.id] = template
            specs[template.id] = _spec(template)
    return [_Version(pk, spec, loaded.get(pk)) for pk, spec in specs.items() if spec is not None]


@dataclass(frozen=True)
class _TemplatePlan:
    """A template as the recompute uses it: its row (or only its id, see ``_template``),
    its competence rows and its tiers."""

    template: BadgeTemplate | None
    template_pk: int
    competences: frozenset[int]
    tiers: tuple[_Tier, ...]


def _template(session: Session, item: _TemplatePlan) -> BadgeTemplate:
    """The plan's template row (from the session's identity map when already there)."""
    if item.template is not None:
        return item.template
    template = session.get(BadgeTemplate, item.template_pk)
    if template is None:  # pragma: no cover - the row was listed in this transaction
        raise LookupError(item.template_pk)
    return template


@dataclass(frozen=True)
class _Reads:
    """What the recompute reads about a batch of workers, by worker id: current evidence by
    competence, self-assessed competences, stored states (entities with ``apply``, else
    statuses) and proposals by template and tier (newest first, as ``proposals_of``)."""

    evidence: dict[int, dict[int, list[Evidence]]]
    assessed: dict[int, set[int]]
    states: dict[tuple[int, int, int], Any]
    proposals: dict[tuple[int, int, int], list[Proposal]]


def _recompute(
    session: Session,
    worker: Membership,
    plan: list[_TemplatePlan],
    reads: _Reads,
    now: datetime,
    apply: bool,
) -> list[StatusChange]:
    found = reads.evidence.get(worker.id, {})
    assessed = reads.assessed.get(worker.id, set())
    timezone = worker.structure.timezone
    prepared: dict[frozenset[int], engine.Prepared] = {}  # templates on the same evidence
    withdrawn: set[str] | None = None  # read once, when a decision needs it
    changes = []
    worker_pk = worker.id
    for item in plan:
        template_pk = item.template_pk
        present = item.competences.intersection(found)
        ready = prepared.get(present) if present else None
        if present and ready is None:
            ready = engine.prepare(
                [e for c in present for e in found[c]], now=now, timezone=timezone
            )
            prepared[present] = ready
        self_assessed = not item.competences.isdisjoint(assessed)
        for level, criteria, without_evidence in item.tiers:
            result = (
                engine.evaluate_prepared(criteria, ready, self_assessed)
                if ready is not None and ready.current
                else without_evidence[self_assessed]
            )
            key = (worker_pk, template_pk, level)
            proposals = reads.proposals.get(key, [])
            status = _overlay(result, proposals) if proposals else result.status.value
            state = reads.states.get(key)
            before = (state.status if apply else state) if state is not None else None
            if before != status:
                changes.append(
                    StatusChange(worker, _template(session, item), level, before, status)
                )
            if not apply:
                continue
            if state is None:
                state = AssessmentState(worker_id=worker_pk, template_id=template_pk, level=level)
                session.add(state)
            state.status = status
            state.criteria = [criterion_json(c) for c in result.criteria]
            state.used = list(result.used)
            state.computed_at = now
            if withdrawn is None and any(p.status == "approved" for p in proposals):
                withdrawn = _withdrawn(session, worker)
            _follow_up(session, worker, item, level, result, proposals, now, withdrawn)
    return changes


def _withdrawn(session: Session, worker: Membership) -> set[str]:
    query = select(Observation.public_id).where(
        Observation.worker_id == worker.id, Observation.withdrawn_at.is_not(None)
    )
    return set(session.scalars(query))


def _read(
    session: Session,
    workers: list[int],
    templates: list[int],
    competences: set[int],
    apply: bool,
    self_assessments: bool = True,
) -> _Reads:
    """What ``recompute_workers`` reads about ``workers``, in four queries (three without
    ``self_assessments``). Withdrawn and « non observé » observations are left out: the
    engine would set them aside."""
    evidence: dict[int, dict[int, list[Evidence]]] = {}
    if competences:
        rows = _rows(
            session,
            select(
                Observation.worker_id,
                Observation.competence_id,
                Observation.public_id,
                Observation.level,
                User.public_id,
                Observation.situation_id,
                Observation.observed_at,
            )
            .join(User, User.id == Observation.author_id)
            .where(
                Observation.worker_id.in_(workers),
                Observation.competence_id.in_(competences),
                Observation.withdrawn_at.is_(None),
                Observation.level.is_not(None),
            ),
        )
        for worker, competence, oid, level, author, situation, at in rows:
            item = Evidence(oid, level, author, str(situation), at)
            evidence.setdefault(worker, {}).setdefault(competence, []).append(item)
    assessed: dict[int, set[int]] = {}
    if competences and self_assessments:
        for worker, competence in _rows(
            session,
            select(SelfAssessment.worker_id, SelfAssessmentAnswer.competence_id)
            .join(SelfAssessment)
            .where(
                SelfAssessment.worker_id.in_(workers),
                SelfAssessment.confirmed_at.is_not(None),
                SelfAssessmentAnswer.competence_id.in_(competences),
            ),
        ):
            assessed.setdefault(worker, set()).add(competence)
    where = (AssessmentState.worker_id.in_(workers), AssessmentState.template_id.in_(templates))
    states: dict[tuple[int, int, int], Any]
    if apply:
        states = {
            (s.worker_id, s.template_id, s.level): s
            # Their explanation and evidence are rewritten, never read: left unloaded.
            for s in session.scalars(
                select(AssessmentState)
                .where(*where)
                .options(defer(AssessmentState.criteria), defer(AssessmentState.used))
            )
        }
    else:  # a dry run compares statuses only
        states = {
            (w, t, level): status
            for w, t, level, status in session.execute(
                select(
                    AssessmentState.worker_id,
                    AssessmentState.template_id,
                    AssessmentState.level,
                    AssessmentState.status,
                ).where(*where)
            )
        }
    proposals: dict[tuple[int, int, int], list[Proposal]] = {}
    for p in session.scalars(
        select(Proposal)
        .where(Proposal.worker_id.in_(workers), Proposal.template_id.in_(templates))
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
    ):
        proposals.setdefault((p.worker_id, p.template_id, p.level), []).append(p)
    return _Reads(evidence, assessed, states, proposals)


def criterion_json(c: engine.CriterionResult) -> dict[str, object]:
    return {
        "code": c.code,
        "target": c.target,
        "found": c.found,
        "met": c.met,
        "staff": c.staff_text,
        "worker": c.worker_text,
    }


def _follow_up(session, worker, item, level, result, proposals, now, withdrawn) -> None:  # type: ignore[no-untyped-def]
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
        template=_template(session, item),
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
    versions = _current_versions(session)
    by_ref = _ids_by_ref(session, {ref for v in versions for ref in v.spec.competences})
    affected = [
        v
        for v in versions
        if any(by_ref[ref] & competence_ids_changed for ref in v.spec.competences)
    ]
    return _recompute_workers(session, [worker], affected, by_ref, now, apply=True)
