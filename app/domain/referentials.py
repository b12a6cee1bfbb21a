"""Referential and scale files parsed into immutable value objects (REF-01 to REF-09).

A referential is a grid (``soft_skills``: the Bunk model), an optional ``pack``, a
``trade`` (hard skills and work situations) or a list of ``situations``; the mastery
scale has its own format. Files are read by the caller: functions here take the text
and the name of its source, check it against a JSON Schema and then against rules a
schema cannot express, and either return a spec or raise ``InvalidReferential`` with
every issue found, each located by line and field. See ``referentials/README.md``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import Node

from app.domain.enums import SituationType
from app.domain.errors import InvalidReferential, ReferentialIssue
from app.domain.schemas import duplicate_key_issues, read_yaml, schema_issues, sorted_unique
from app.domain.schemas.rules import referential_rule_issues, scale_rule_issues, text_issues

__all__ = [
    "AlignmentSpec",
    "CompetenceSpec",
    "GroupSpec",
    "IndicatorSpec",
    "InvalidReferential",
    "NotObservedSpec",
    "ReferentialIssue",
    "ReferentialSpec",
    "ScaleLevel",
    "ScaleSpec",
    "SelfAssessmentChoice",
    "SituationSpec",
    "content_hash",
    "localized",
    "parse_document",
    "parse_referential",
    "parse_scale",
]

Texts = dict[str, str]


@dataclass(frozen=True)
class IndicatorSpec:
    """An observable action at work that shows a competence."""

    code: str
    text: Texts


@dataclass(frozen=True)
class AlignmentSpec:
    """A link to an external framework (ROME, ESCO, RNCP/RS, CléA), as in OB 2.0."""

    framework: str
    label: str
    code: str
    url: str


@dataclass(frozen=True)
class CompetenceSpec:
    """A competence, its indicators, and optionally its group, pictogram and links.

    ``statement`` is the worker's own sentence, in the first person and plain words
    (« Je suis à l'heure »), shown with the pictogram for self-assessment (SELF-01);
    every grid and pack competence has one, a trade's may.
    """

    code: str
    group: str | None
    name: Texts
    description: Texts
    indicators: tuple[IndicatorSpec, ...]
    statement: Texts = field(default_factory=dict)
    pictogram: str | None = None
    alignments: tuple[AlignmentSpec, ...] = ()
    links_to: str | None = None


@dataclass(frozen=True)
class GroupSpec:
    """A dimension of a grid, e.g. « Compétences sociales »."""

    code: str
    name: Texts
    description: Texts


@dataclass(frozen=True)
class SituationSpec:
    """A work situation and the competences it lets staff observe.

    ``competences`` holds codes of the same file, or ``bunk:<code>`` for the Bunk grid.
    """

    code: str
    name: Texts
    type: SituationType
    competences: tuple[str, ...]
    description: Texts = field(default_factory=dict)


@dataclass(frozen=True)
class ReferentialSpec:
    """One version of a referential file.

    ``content_hash`` covers every field of the file (statements included) and ignores
    YAML formatting.
    """

    code: str
    version: int
    kind: str
    name: Texts
    description: Texts
    groups: tuple[GroupSpec, ...]
    competences: tuple[CompetenceSpec, ...]
    situations: tuple[SituationSpec, ...]
    content_hash: str

    def competence(self, code: str) -> CompetenceSpec:
        """The competence with this code (KeyError if absent)."""
        for competence in self.competences:
            if competence.code == code:
                return competence
        raise KeyError(code)

    def competences_in(self, group: str) -> tuple[CompetenceSpec, ...]:
        """The competences of one group, in file order."""
        return tuple(c for c in self.competences if c.group == group)


@dataclass(frozen=True)
class ScaleLevel:
    """One level of the scale; levels below ``usable_min`` are never ``public``."""

    level: int
    staff: Texts
    worker: Texts
    source: Texts
    public: bool


@dataclass(frozen=True)
class NotObservedSpec:
    """« Non observé »: a value of its own, not a level, that changes no count."""

    code: str
    label: Texts


@dataclass(frozen=True)
class SelfAssessmentChoice:
    """A pictogram of the worker's self-assessment and the levels it stands for."""

    code: str
    levels: tuple[int, ...]
    pictogram: str
    worker: Texts


@dataclass(frozen=True)
class ScaleSpec:
    """The mastery scale: 5 levels, the minimum usable level, and « non observé »."""

    code: str
    version: int
    usable_min: int
    levels: tuple[ScaleLevel, ...]
    not_observed: NotObservedSpec
    self_assessment_choices: tuple[SelfAssessmentChoice, ...]
    name: Texts = field(default_factory=dict)
    content_hash: str = ""

    def level(self, number: int) -> ScaleLevel:
        """The level with this number (KeyError if absent)."""
        for level in self.levels:
            if level.level == number:
                return level
        raise KeyError(number)

    def choice_for(self, number: int) -> SelfAssessmentChoice:
        """The self-assessment pictogram that stands for this level (KeyError if none)."""
        for choice in self.self_assessment_choices:
            if number in choice.levels:
                return choice
        raise KeyError(number)


def localized(texts: Texts, lang: str) -> str:
    """The text in ``lang``, else in French (ACC-04)."""
    return texts.get(lang) or texts.get(lang.split("-")[0]) or texts.get("fr", "")


def content_hash(data: Any) -> str:
    """sha256 of the canonical JSON of parsed content: the same for any YAML layout."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _load(text: str, source: str, schema: str) -> tuple[Any, Node, list[ReferentialIssue]]:
    data, root = read_yaml(text, source)
    issues = duplicate_key_issues(root, source) + text_issues(data, root, source)
    issues += schema_issues(data, root, schema, source)
    return data, root, issues


def _build_referential(data: dict[str, Any]) -> ReferentialSpec:
    return ReferentialSpec(
        code=data["code"],
        version=data["version"],
        kind=data["kind"],
        name=data["name"],
        description=data.get("description", {}),
        groups=tuple(
            GroupSpec(g["code"], g["name"], g.get("description", {}))
            for g in data.get("groups", [])
        ),
        competences=tuple(
            CompetenceSpec(
                code=c["code"],
                group=c.get("group"),
                name=c["name"],
                description=c.get("description", {}),
                indicators=tuple(IndicatorSpec(i["code"], i["text"]) for i in c["indicators"]),
                statement=c.get("statement", {}),
                pictogram=c.get("pictogram"),
                alignments=tuple(AlignmentSpec(**a) for a in c.get("alignments", [])),
                links_to=c.get("links_to"),
            )
            for c in data.get("competences", [])
        ),
        situations=tuple(
            SituationSpec(
                s["code"],
                s["name"],
                SituationType(s["type"]),
                tuple(s["competences"]),
                s.get("description", {}),
            )
            for s in data.get("situations", [])
        ),
        content_hash=content_hash(data),
    )


def parse_referential(
    text: str, source: str, *, known_bunk_codes: Collection[str] | None = None
) -> ReferentialSpec:
    """Parse and check a grid, pack, trade or situations file.

    ``source`` names the file in issues. When ``known_bunk_codes`` is given, ``bunk:``
    references and ``links_to`` must name one of them. Raises ``InvalidReferential``.
    """
    data, root, issues = _load(text, source, "referential")
    if not issues:
        issues = referential_rule_issues(data, root, source, known_bunk_codes)
    if issues:
        raise InvalidReferential(sorted_unique(issues))
    return _build_referential(data)


def parse_scale(text: str, source: str) -> ScaleSpec:
    """Parse and check the mastery scale file. Raises ``InvalidReferential``."""
    data, root, issues = _load(text, source, "scale")
    if not issues:
        issues = scale_rule_issues(data, root, source)
    if issues:
        raise InvalidReferential(sorted_unique(issues))
    return ScaleSpec(
        code=data["code"],
        version=data["version"],
        usable_min=data["usable_min"],
        levels=tuple(
            ScaleLevel(lv["level"], lv["staff"], lv["worker"], lv["source"], lv["public"])
            for lv in data["levels"]
        ),
        not_observed=NotObservedSpec(data["not_observed"]["code"], data["not_observed"]["label"]),
        self_assessment_choices=tuple(
            SelfAssessmentChoice(c["code"], tuple(c["levels"]), c["pictogram"], c["worker"])
            for c in data.get("self_assessment_choices", [])
        ),
        name=data["name"],
        content_hash=content_hash(data),
    )


def parse_document(
    text: str, source: str, *, known_bunk_codes: Collection[str] | None = None
) -> ReferentialSpec | ScaleSpec:
    """Parse a scale (``kind: scale``) or any referential file, by its ``kind``."""
    data, _root = read_yaml(text, source)
    if isinstance(data, dict) and data.get("kind") == "scale":
        return parse_scale(text, source)
    return parse_referential(text, source, known_bunk_codes=known_bunk_codes)
