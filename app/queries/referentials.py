"""Reading referentials: current grids, one version, the scale, a structure's own items."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Competence, CompetenceGroup, Referential, Structure

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
