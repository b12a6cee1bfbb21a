"""Badge templates as data: one YAML file per badge family (ASM-01, ASM-09, BDG-02, BDG-14).

A template names the competences it recognises (``<referential>:<competence>``), the
levels it can be issued at (tiers 3, 4 and 5 only: nothing below 3 leaves the structure,
ASM-05), its declarative criteria (defaults of ASM-04, overridable per tier), its public
texts and its alignments. The text is checked against ``badge_template.schema.json``, then
against rules a schema cannot express; every problem is reported at once with file, line
and field. Public texts never hold a §5 blocked term, a deficit phrasing, a level 1-2
wording, nor call the badge a diploma or a certification (BDG-06, BDG-11, BDG-12); the
criteria narrative alone may say that it is *not* one. See ``badge_templates/README.md``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from yaml.nodes import Node

from app.domain import wording
from app.domain.assessments import Criteria
from app.domain.errors import DomainError, InvalidReferential, ReferentialIssue
from app.domain.referentials import AlignmentSpec, ReferentialSpec, content_hash
from app.domain.schemas import (
    duplicate_key_issues,
    field_path,
    line_at,
    read_yaml,
    schema_issues,
    sorted_unique,
)

Texts = dict[str, str]
FieldPath = list[str | int]

BADGE_LEVELS = (3, 4, 5)

_REF = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*:[a-z0-9]+(?:-[a-z0-9]+)*$")
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ESCO = re.compile(rf"^https?://data\.europa\.eu/esco/(?:skill|occupation)/{_UUID}$")
# framework → (pattern, field checked, message when it does not match)
_ALIGNMENT_FORMATS = {
    "ESCO": (_ESCO, "url", "adresse ESCO invalide : http://data.europa.eu/esco/skill/<uuid>"),
    "ROME": (re.compile(r"^[A-N]\d{4}$"), "code", "code ROME invalide (ex. A1203)"),
    "RNCP": (re.compile(r"^RNCP\d+(?:BC\d+)?$"), "code", "code RNCP invalide (ex. RNCP12345)"),
    "RS": (re.compile(r"^RS\d+$"), "code", "code RS invalide (ex. RS5080)"),
}
_NEGATION = re.compile(r"(?<!\w)(?:n'|(?:ne|pas|ni|non|not|neither|nor)(?!\w))")


def _phrase(text: str) -> re.Pattern[str]:
    words = re.split(r"[\s'\-]+", wording.normalize(text))
    body = r"[\s'\-]+".join(re.escape(w) + "(?:e|s|es|x)?" for w in words)
    return re.compile(r"(?<!\w)" + body + r"(?!\w)")


# A badge is a « badge numérique », never a diploma or a certification (BDG-11, BDG-12).
_DIPLOMA_PATTERNS = tuple(
    (word, _phrase(word))
    for word in "diplôme diplômant certification certifiant certifié certificat "
    "diploma certificate certified certificazione certificato".split()
)
# Wording of the internal levels 1 and 2 and of failure (ASM-05, §5: no deficit labels).
_LOW_LEVEL_PATTERNS = tuple(
    (words, _phrase(words))
    for words in "niveau 1|niveau 2|level 1|level 2|livello 1|livello 2|très peu développé|"
    "pas encore mobilisable|je découvre|j'apprends|non acquis|en cours d'acquisition|"
    "échec".split("|")
)


class InvalidBadgeTemplate(DomainError):
    """A badge template file that cannot be loaded; nothing of it is loaded."""

    code = "invalid_badge_template"
    message = "Ce modèle de badge n'a pas été chargé : il contient des erreurs."

    def __init__(self, issues: Sequence[ReferentialIssue]) -> None:
        self.issues: list[ReferentialIssue] = list(issues)
        count, plural = len(self.issues), "s" if len(self.issues) > 1 else ""
        super().__init__(f"Modèle de badge non chargé : {count} problème{plural} à corriger.")

    def __str__(self) -> str:
        return "\n".join([self.message, *(str(issue) for issue in self.issues)])


@dataclass(frozen=True)
class BadgeTier:
    """One level a badge can be issued at, with the criteria that apply at it."""

    level: int
    name: Texts
    criteria: Criteria


@dataclass(frozen=True)
class BadgeTemplateSpec:
    """One version of a badge template; ``content_hash`` ignores YAML formatting (BDG-02)."""

    code: str
    version: int
    kind: str
    name: Texts
    description: Texts
    competences: tuple[str, ...]
    tiers: tuple[BadgeTier, ...]
    criteria_narrative: Texts
    alignments: tuple[AlignmentSpec, ...]
    image: str
    validity_days: int | None
    tags: tuple[str, ...]
    content_hash: str

    @property
    def levels(self) -> tuple[int, ...]:
        """The levels this badge can be issued at, ascending."""
        return tuple(tier.level for tier in self.tiers)

    def tier(self, level: int) -> BadgeTier:
        """The tier at this level (KeyError if the badge has none there)."""
        for tier in self.tiers:
            if tier.level == level:
                return tier
        raise KeyError(level)


def criteria_for(spec: BadgeTemplateSpec, level: int) -> Criteria:
    """The criteria of ``spec`` at ``level``: defaults, then template, then tier overrides."""
    return spec.tier(level).criteria


def competence_refs(referentials: Iterable[ReferentialSpec]) -> frozenset[str]:
    """Every ``<referential code>:<competence code>`` of the given referentials."""
    return frozenset(f"{spec.code}:{c.code}" for spec in referentials for c in spec.competences)


class _Issues(list[ReferentialIssue]):
    def __init__(self, root: Node, source: str) -> None:
        super().__init__()
        self.root, self.source = root, source

    def add(self, path: FieldPath, message: str) -> None:
        line = line_at(self.root, path)
        self.append(ReferentialIssue(self.source, line, field_path(path), message))


def _strings(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, [*path, str(key)])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, [*path, index])
    elif isinstance(value, str):
        yield path, value


def _public_texts(data: dict[str, Any]) -> Iterator[tuple[FieldPath, str]]:
    """Texts shown on the badge and its pages (alignment labels are third-party names)."""
    for key in ("name", "description", "criteria_narrative", "tags"):
        yield from _strings(data.get(key, {}), [key])
    for index, tier in enumerate(data.get("levels", [])):
        yield from _strings(tier.get("name", {}), ["levels", index, "name"])


def _negated(folded: str, start: int) -> bool:
    """True when the sentence holding ``start`` denies before it (« n'est ni un … »)."""
    sentence_start = max(folded.rfind(mark, 0, start) for mark in ".;!?\n") + 1
    return bool(_NEGATION.search(folded, sentence_start, start))


def _wording_issues(data: dict[str, Any], issues: _Issues) -> None:
    for path, text in _public_texts(data):
        folded = wording.normalize(text)
        for word, pattern in _DIPLOMA_PATTERNS:
            starts = [match.start() for match in pattern.finditer(folded)]
            denied = path[0] == "criteria_narrative" and all(_negated(folded, s) for s in starts)
            if starts and not denied:
                why = "un badge numérique n'est ni un diplôme ni une certification"
                issues.add(path, f"« {word} » interdit : {why}")
        for words, pattern in _LOW_LEVEL_PATTERNS:
            if pattern.search(folded):
                issues.add(path, f"« {words} » interdit : rien sous le niveau 3 n'est public")
        if path[0] != "criteria_narrative" and wording.is_deficit_phrasing(text):
            issues.add(path, "formulation négative : décrivez ce que la personne fait")


def _tier_criteria(base: dict[str, Any], tier: dict[str, Any]) -> Criteria:
    """ASM-04 defaults, then the template's criteria, then the tier's own; level = tier."""
    return Criteria(min_level=tier["level"], **{**base, **tier.get("criteria", {})})


def _criteria_issues(data: dict[str, Any], issues: _Issues) -> None:
    base = data.get("criteria", {})
    seen: dict[int, int] = {}
    for i, tier in enumerate(data.get("levels", [])):
        if tier["level"] in seen:
            message = f"niveau en double : {tier['level']} (déjà ligne {seen[tier['level']]})"
            issues.add(["levels", i, "level"], message)
        seen.setdefault(tier["level"], line_at(issues.root, ["levels", i, "level"]))
        criteria = _tier_criteria(base, tier)
        for key in ("distinct_observers", "distinct_situations"):
            if getattr(criteria, key) > criteria.min_observations:
                where: FieldPath = ["levels", i, "level"]
                if key in base:
                    where = ["criteria", key]
                if key in tier.get("criteria", {}):
                    where = ["levels", i, "criteria", key]
                issues.add(
                    where,
                    f"critère impossible : {key} ({getattr(criteria, key)}) dépasse "
                    f"min_observations ({criteria.min_observations})",
                )


def _rule_issues(data: dict[str, Any], issues: _Issues, known: Collection[str] | None) -> None:
    _wording_issues(data, issues)
    _criteria_issues(data, issues)
    first_line: dict[str, int] = {}
    for i, ref in enumerate(data.get("competences", [])):
        path: FieldPath = ["competences", i]
        if not _REF.match(ref):
            issues.add(
                path,
                f"référence invalide : « {ref} » (écrivez <référentiel>:<compétence>, "
                "ex. bunk:travailler-en-equipe)",
            )
        elif known is not None and ref not in known:
            issues.add(path, f"compétence inconnue : « {ref} »")
        if ref in first_line:
            issues.add(path, f"compétence en double : « {ref} » (déjà ligne {first_line[ref]})")
        first_line.setdefault(ref, line_at(issues.root, path))
    for i, alignment in enumerate(data.get("alignments", [])):
        rule = _ALIGNMENT_FORMATS.get(alignment["framework"])
        if rule is not None and not rule[0].match(alignment[rule[1]]):
            issues.add(["alignments", i, rule[1]], rule[2])


def _explain(issue: ReferentialIssue) -> ReferentialIssue:
    """Say why, for the schema errors whose reason is a rule of the product."""
    if re.fullmatch(r"levels\[\d+\]\.level", issue.field) and "«" in issue.message:
        value = issue.message.split("«")[1].split("»")[0].strip()
        why = "un badge se délivre aux niveaux 3, 4 ou 5 ; les niveaux 1 et 2 restent internes"
        return replace(issue, message=f"niveau non autorisé : {value} ({why})")
    if issue.field.endswith("criteria.min_level"):
        why = "le niveau visé est celui du palier : levels[].level"
        return replace(issue, message=f"champ inconnu : min_level ({why})")
    return issue


def parse_badge_template(
    text: str, source: str, *, known_competences: Collection[str] | None = None
) -> BadgeTemplateSpec:
    """Parse and check one badge template file; raise ``InvalidBadgeTemplate`` if it is wrong.

    ``source`` names the file in issues. When ``known_competences`` is given (see
    ``competence_refs``), every competence reference must be one of them.
    """
    try:
        data, root = read_yaml(text, source)
    except InvalidReferential as exc:
        raise InvalidBadgeTemplate(exc.issues) from None
    issues = _Issues(root, source)
    issues += duplicate_key_issues(root, source)
    for path, value in _strings(data, []):
        hits = [hit for hit in wording.scan(value) if hit.kind == "blocked"]
        for matched, term in dict.fromkeys((hit.matched, hit.term) for hit in hits):
            issues.add(path, f"terme stigmatisant interdit : « {matched} » (liste : {term})")
    issues += [_explain(i) for i in schema_issues(data, root, "badge_template", source)]
    if not issues:
        _rule_issues(data, issues, known_competences)
    if issues:
        raise InvalidBadgeTemplate(sorted_unique(issues))
    return _build(data)


def _build(data: dict[str, Any]) -> BadgeTemplateSpec:
    base = data.get("criteria", {})
    tiers = [
        BadgeTier(tier["level"], tier.get("name", {}), _tier_criteria(base, tier))
        for tier in data.get("levels", [])
    ]
    return BadgeTemplateSpec(
        code=data["code"],
        version=data["version"],
        kind=data["kind"],
        name=data["name"],
        description=data["description"],
        competences=tuple(data.get("competences", [])),
        tiers=tuple(sorted(tiers, key=lambda tier: tier.level)),
        criteria_narrative=data["criteria_narrative"],
        alignments=tuple(AlignmentSpec(**a) for a in data.get("alignments", [])),
        image=data["image"],
        validity_days=data.get("validity_days"),
        tags=tuple(data.get("tags", [])),
        content_hash=content_hash(data),
    )
