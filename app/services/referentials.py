"""Loading referential files (all or nothing) and a structure's own competences."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import wording
from app.domain.errors import DomainError
from app.domain.referentials import (
    InvalidReferential,
    ReferentialSpec,
    ScaleSpec,
    parse_document,
)
from app.models import (
    Competence,
    CompetenceGroup,
    Indicator,
    Referential,
    SituationTemplate,
    Structure,
    User,
)
from app.services import audit


class ReferentialConflict(DomainError):
    code = "referential_conflict"


@dataclass
class LoadPlan:
    """What loading a set of files would do."""

    new: list[ReferentialSpec | ScaleSpec] = field(default_factory=list)
    unchanged: list[ReferentialSpec | ScaleSpec] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        return bool(self.new)


def parse_files(files: list[tuple[str, str]]) -> list[tuple[str, ReferentialSpec | ScaleSpec]]:
    """Parse every ``(source, text)``; any problem in any file raises, with every issue.

    The Bunk grid is parsed first, so that ``bunk:`` references in the other files are
    checked against its competence codes.
    """
    parsed: list[tuple[str, ReferentialSpec | ScaleSpec]] = []
    issues = []
    bunk_codes: set[str] | None = None
    ordered = sorted(files, key=lambda f: 0 if Path(f[0]).name == "bunk.yaml" else 1)
    for source, text in ordered:
        try:
            spec = parse_document(text, source, known_bunk_codes=bunk_codes)
        except InvalidReferential as error:
            issues.extend(error.issues)
            continue
        if isinstance(spec, ReferentialSpec) and spec.code == "bunk":
            bunk_codes = {c.code for c in spec.competences}
        parsed.append((source, spec))
    if issues:
        raise InvalidReferential(issues)
    return parsed


def plan_load(session: Session, files: list[tuple[str, str]]) -> LoadPlan:
    """Compare files with what is loaded; a loaded version with other content is refused."""
    plan = LoadPlan()
    seen: set[tuple[str, int]] = set()
    for source, spec in parse_files(files):
        key = (spec.code, spec.version)
        if key in seen:
            raise ReferentialConflict(f"{source} : {spec.code} v{spec.version} figure deux fois.")
        seen.add(key)
        sort_version(session, Referential, spec, source, plan, label=f"de « {spec.code} »")
    return plan


def sort_version(session: Session, model, spec, source: str, plan, *, label: str) -> None:  # type: ignore[no-untyped-def]
    """Put ``spec`` in ``plan.new`` or ``plan.unchanged``; a loaded version whose content
    differs is refused: a loaded version never changes (REF-04, BDG-02)."""
    loaded = session.scalar(
        select(model).where(model.code == spec.code, model.version == spec.version)
    )
    if loaded is None:
        plan.new.append(spec)
        plan.sources[spec.code] = source
    elif loaded.content_hash == spec.content_hash:
        plan.unchanged.append(spec)
    else:
        raise ReferentialConflict(
            f"{source} : la version {spec.version} {label} est déjà chargée avec un autre "
            "contenu. Une version chargée ne change plus : augmentez « version »."
        )


def apply_plan(session: Session, plan: LoadPlan, *, now: datetime, actor: User | None) -> None:
    """Insert the new versions; earlier versions stay, marked as superseded."""
    for spec in plan.new:
        previous = session.scalars(
            select(Referential).where(
                Referential.code == spec.code,
                Referential.version < spec.version,
                Referential.superseded_at.is_(None),
            )
        ).all()
        for old in previous:
            old.superseded_at = now
        newer = session.scalar(
            select(Referential.id).where(
                Referential.code == spec.code, Referential.version > spec.version
            )
        )
        ref = _insert(session, spec, plan.sources.get(spec.code), now)
        if newer is not None:
            ref.superseded_at = now
        audit.record(
            session,
            action="referential.loaded",
            now=now,
            actor=actor,
            target=ref.public_id,
            details={"code": spec.code, "version": spec.version},
        )
    session.flush()


def _insert(
    session: Session, spec: ReferentialSpec | ScaleSpec, source: str | None, now: datetime
) -> Referential:
    if isinstance(spec, ScaleSpec):
        ref = Referential(
            code=spec.code,
            version=spec.version,
            kind="scale",
            name={"fr": "Échelle"},
            description={},
            content_hash=spec.content_hash,
            source=source,
            loaded_at=now,
            payload=_scale_payload(spec),
        )
        session.add(ref)
        session.flush()
        return ref
    ref = Referential(
        code=spec.code,
        version=spec.version,
        kind=spec.kind,
        name=dict(spec.name),
        description=dict(spec.description or {}),
        content_hash=spec.content_hash,
        source=source,
        loaded_at=now,
    )
    session.add(ref)
    session.flush()
    groups: dict[str, CompetenceGroup] = {}
    for pos, g in enumerate(spec.groups):
        groups[g.code] = CompetenceGroup(
            referential=ref,
            code=g.code,
            name=dict(g.name),
            description=dict(g.description or {}),
            position=pos,
        )
        session.add(groups[g.code])
    for pos, c in enumerate(spec.competences):
        comp = Competence(
            referential=ref,
            group=groups.get(c.group) if c.group else None,
            code=c.code,
            name=dict(c.name),
            description=dict(c.description or {}),
            statement=dict(c.statement),
            pictogram=c.pictogram,
            links_to=c.links_to,
            alignments=[_plain(a) for a in c.alignments],
            position=pos,
            created_at=now,
        )
        session.add(comp)
        for ipos, ind in enumerate(c.indicators):
            session.add(
                Indicator(competence=comp, code=ind.code, text=dict(ind.text), position=ipos)
            )
    for pos, s in enumerate(spec.situations):
        session.add(
            SituationTemplate(
                referential=ref,
                code=s.code,
                name=dict(s.name),
                type=str(s.type),
                competence_codes=list(s.competences),
                position=pos,
            )
        )
    session.flush()
    return ref


def _plain(value: Any) -> Any:
    """A dataclass (or mapping) as plain JSON data."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _scale_payload(spec: ScaleSpec) -> dict[str, Any]:
    data = _plain(spec)
    data.pop("content_hash", None)
    return data


# --- A structure's own competences and situations (REQUIREMENTS REF-05) ---------------


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:80] or "item"


def _check_wording(*texts: str) -> None:
    for text in texts:
        blocked = [h for h in wording.scan(text) if h.kind == "blocked"]
        if blocked:
            raise DomainError(
                f"Le mot « {blocked[0].term} » ne peut pas figurer ici : il peut stigmatiser. "
                "Décrivez une action visible au travail."
            )


def structure_referential(session: Session, structure: Structure, now: datetime) -> Referential:
    """The referential holding ``structure``'s own competences, created on first use."""
    code = f"structure-{structure.public_id}"
    ref = session.scalar(select(Referential).where(Referential.code == code))
    if ref is None:
        ref = Referential(
            code=code,
            version=1,
            kind="local",
            structure_id=structure.id,
            name={"fr": "Compétences propres à la structure"},
            description={},
            content_hash=hashlib.sha256(code.encode()).hexdigest(),
            loaded_at=now,
        )
        session.add(ref)
        session.flush()
    return ref


def add_structure_competence(
    session: Session,
    *,
    actor: User,
    structure: Structure,
    name: str,
    description: str,
    indicators: list[str],
    now: datetime,
) -> Competence:
    """A competence of the structure's own, with at least one observable indicator."""
    name, description = name.strip(), description.strip()
    indicators = [i.strip() for i in indicators if i.strip()]
    if not indicators:
        raise DomainError("Ajoutez au moins un indicateur observable (une action visible).")
    for text in indicators:
        if wording.is_deficit_phrasing(text):
            raise DomainError(
                f"« {text} » : écrivez l'indicateur sous forme positive (ce que la personne fait)."
            )
    _check_wording(name, description, *indicators)
    ref = structure_referential(session, structure, now)
    code = _slug(name)
    taken = {c.code for c in ref.competences}
    if code in taken:
        raise DomainError("La structure a déjà une compétence de ce nom.")
    comp = Competence(
        referential=ref,
        code=code,
        name={"fr": name},
        description={"fr": description},
        position=len(ref.competences),
        created_at=now,
    )
    session.add(comp)
    for pos, text in enumerate(indicators):
        session.add(
            Indicator(competence=comp, code=f"{code}-{pos + 1}", text={"fr": text}, position=pos)
        )
    session.flush()
    audit.record(
        session,
        action="competence.created",
        now=now,
        actor=actor,
        structure=structure,
        target=comp.public_id,
    )
    return comp


def deactivate_structure_competence(
    session: Session, *, actor: User, structure: Structure, competence: Competence, now: datetime
) -> None:
    """Hide a structure's own competence from capture; it stays in history."""
    if competence.referential.structure_id != structure.id:
        raise DomainError("Seules les compétences propres à la structure peuvent être désactivées.")
    competence.is_inactive = True
    session.flush()
    audit.record(
        session,
        action="competence.deactivated",
        now=now,
        actor=actor,
        structure=structure,
        target=competence.public_id,
    )


def add_structure_situation(
    session: Session,
    *,
    actor: User,
    structure: Structure,
    name: str,
    type: str,
    competence_codes: list[str],
    now: datetime,
) -> SituationTemplate:
    """A work situation of the structure's own, with the competences it lets staff observe."""
    name = name.strip()
    _check_wording(name)
    if not competence_codes:
        raise DomainError("Choisissez au moins une compétence observable dans cette situation.")
    ref = structure_referential(session, structure, now)
    code = _slug(name)
    if code in {s.code for s in ref.situations}:
        raise DomainError("La structure a déjà une situation de ce nom.")
    situation = SituationTemplate(
        referential=ref,
        code=code,
        name={"fr": name},
        type=type,
        competence_codes=list(competence_codes),
        position=len(ref.situations),
    )
    session.add(situation)
    session.flush()
    audit.record(
        session,
        action="situation.created",
        now=now,
        actor=actor,
        structure=structure,
        target=situation.public_id,
    )
    return situation


def canonical_json(data: Any) -> str:
    """Sorted, compact JSON (used to compare contents)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
