"""Reading referentials: current grids, one version, the scale, a structure's own items."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Competence, CompetenceGroup, Referential, SituationTemplate, Structure

KIND_ORDER = {"soft_skills": 0, "pack": 1, "trade": 2, "situations": 3}

_FULL = (
    selectinload(Referential.groups)
    .selectinload(CompetenceGroup.competences)
    .selectinload(Competence.indicators),
    selectinload(Referential.competences).selectinload(Competence.indicators),
    selectinload(Referential.situations),
)


def current_grids(session: Session) -> list[Referential]:
    """The current version of every shared referential (the scale aside), in reading order."""
    rows = session.scalars(
        select(Referential)
        .where(
            Referential.structure_id.is_(None),
            Referential.superseded_at.is_(None),
            Referential.kind.in_(KIND_ORDER),
        )
        .options(*_FULL)
    ).all()
    return sorted(rows, key=lambda r: (KIND_ORDER[r.kind], r.code))


def referential_version(session: Session, code: str, version: int) -> Referential | None:
    """One shared referential version, with everything loaded."""
    return session.scalar(
        select(Referential)
        .where(
            Referential.code == code,
            Referential.version == version,
            Referential.structure_id.is_(None),
        )
        .options(*_FULL)
    )


def versions_of(session: Session, code: str) -> list[Referential]:
    """Every loaded version of a shared referential, newest first."""
    return list(
        session.scalars(
            select(Referential)
            .where(Referential.code == code, Referential.structure_id.is_(None))
            .order_by(Referential.version.desc())
        )
    )


def current_scale(session: Session) -> Referential | None:
    """The current level scale."""
    return session.scalar(
        select(Referential)
        .where(Referential.kind == "scale", Referential.superseded_at.is_(None))
        .order_by(Referential.version.desc())
    )


def structure_referential(session: Session, structure: Structure) -> Referential | None:
    """The referential of ``structure``'s own competences and situations, if any."""
    return session.scalar(
        select(Referential).where(Referential.structure_id == structure.id).options(*_FULL)
    )


def structure_competence(
    session: Session, structure: Structure, public_id: str
) -> Competence | None:
    """One of ``structure``'s own competences by public id."""
    return session.scalar(
        select(Competence)
        .join(Referential)
        .where(Referential.structure_id == structure.id, Competence.public_id == public_id)
    )


def observable_competences(session: Session, structure: Structure) -> list[Competence]:
    """Competences a structure can attach to a situation: current shared grids, then its own
    active ones (deactivated ones stay in history but are no longer offered)."""
    result: list[Competence] = []
    for ref in current_grids(session):
        result.extend(ref.competences)
    own = structure_referential(session, structure)
    if own is not None:
        result.extend(c for c in own.competences if not c.is_inactive)
    return result


def resolve_codes(
    session: Session, template_referential: Referential, codes: list[str]
) -> list[Competence]:
    """Competences named by a situation template: ``bunk:code`` or a code of its own file."""
    found: list[Competence] = []
    for code in codes:
        ref_code, _, comp_code = code.rpartition(":")
        ref = template_referential
        if ref_code:
            ref = session.scalar(
                select(Referential).where(
                    Referential.code == ref_code, Referential.superseded_at.is_(None)
                )
            )
        if ref is None:
            continue
        match = next((c for c in ref.competences if c.code == comp_code), None)
        if match is not None:
            found.append(match)
    return found


def situation_templates(session: Session) -> list[SituationTemplate]:
    """Situation templates of the current shared referentials."""
    return list(
        session.scalars(
            select(SituationTemplate)
            .join(Referential)
            .where(Referential.superseded_at.is_(None), Referential.structure_id.is_(None))
            .options(selectinload(SituationTemplate.referential))
            .order_by(Referential.code, SituationTemplate.position)
        )
    )


def scale_choices(session: Session, locale: str = "fr") -> list[tuple[str, str]]:
    """The level choices of the current scale in staff wording, then « non observé »."""
    scale = current_scale(session)
    levels = (scale.payload.get("levels") if scale else None) or []
    choices = []
    for level in levels:
        staff = level.get("staff") or {}
        choices.append((str(level["level"]), staff.get(locale) or staff.get("fr", "")))
    not_observed = (scale.payload.get("not_observed") or {}).get("label", {}) if scale else {}
    choices.append(
        ("non_observe", not_observed.get(locale) or not_observed.get("fr") or "Non observé")
    )
    return choices
