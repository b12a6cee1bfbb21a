"""Loading ``badge_templates/`` (all or nothing, immutable versions, BDG-02)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.badge_templates import BadgeTemplateSpec, InvalidBadgeTemplate, parse_badge_template
from app.models import BadgeTemplate, Competence, Referential, User
from app.services import audit
from app.services.referentials import sort_version


@dataclass
class TemplatePlan:
    new: list[BadgeTemplateSpec] = field(default_factory=list)
    unchanged: list[BadgeTemplateSpec] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        return bool(self.new)


def known_competences(session: Session) -> set[str]:
    """Every ``referential:competence`` reference loaded (all versions)."""
    return {
        f"{ref}:{code}"
        for ref, code in session.execute(select(Referential.code, Competence.code).join(Competence))
    }


def plan_load(session: Session, files: list[tuple[str, str]]) -> TemplatePlan:
    """Parse every file (any problem anywhere: nothing loads) and compare with the database."""
    known = known_competences(session)
    issues = []
    parsed: list[tuple[str, BadgeTemplateSpec]] = []
    for source, text in files:
        try:
            parsed.append((source, parse_badge_template(text, source, known_competences=known)))
        except InvalidBadgeTemplate as error:
            issues.extend(error.issues)
    if issues:
        raise InvalidBadgeTemplate(issues)
    plan = TemplatePlan()
    for source, spec in parsed:
        sort_version(session, BadgeTemplate, spec, source, plan, label=f"du badge « {spec.code} »")
    return plan


def apply_plan(
    session: Session, plan: TemplatePlan, *, now: datetime, actor: User | None
) -> list[BadgeTemplate]:
    """Insert the new versions; earlier versions stay (issued badges keep pointing at them)."""
    loaded = []
    for spec in plan.new:
        for old in session.scalars(
            select(BadgeTemplate).where(
                BadgeTemplate.code == spec.code,
                BadgeTemplate.version < spec.version,
                BadgeTemplate.superseded_at.is_(None),
            )
        ):
            old.superseded_at = now
        template = BadgeTemplate(
            code=spec.code,
            version=spec.version,
            kind=spec.kind,
            name=dict(spec.name),
            description=dict(spec.description),
            narrative=dict(spec.criteria_narrative),
            competences=list(spec.competences),
            tiers=[
                {"level": t.level, "name": dict(t.name), "criteria": asdict(t.criteria)}
                for t in spec.tiers
            ],
            alignments=[asdict(a) for a in spec.alignments],
            tags=list(spec.tags),
            image=spec.image,
            validity_days=spec.validity_days,
            content_hash=spec.content_hash,
            source=plan.sources.get(spec.code),
            loaded_at=now,
        )
        session.add(template)
        session.flush()
        audit.record(
            session,
            action="badge_template.loaded",
            now=now,
            actor=actor,
            target=template.public_id,
            details={"code": spec.code, "version": spec.version},
        )
        loaded.append(template)
    return loaded


def current(session: Session, code: str) -> BadgeTemplate | None:
    """The current version of one badge template."""
    return session.scalar(
        select(BadgeTemplate).where(
            BadgeTemplate.code == code, BadgeTemplate.superseded_at.is_(None)
        )
    )
