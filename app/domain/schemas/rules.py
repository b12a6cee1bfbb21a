"""Rules on referential and scale files that a JSON Schema cannot express.

They run on the parsed YAML data and point every issue to its line: §5 blocked terms
in any text, deficit phrasing (REF-09), unique codes, known references, a safety
competence in every trade (REF-07), the worker's first-person sentences (SELF-01), and
the shape of the scale (REF-03).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from yaml.nodes import Node

from app.domain import wording
from app.domain.errors import ReferentialIssue
from app.domain.schemas import field_path, line_at

BUNK_PREFIX = "bunk:"
# Texts where a deficit opening is refused: indicators, names, the worker's wording.
_PHRASED_FIELDS = ("text", "name", "worker")
# The subject a worker's sentence opens on, dropped before looking for a negation.
_SUBJECT = re.compile(r"^\s*(?:je\s+|j'|i'm\s+|i\s+am\s+|i\s+|io\s+)")
_NEGATION = re.compile(r"^(?:not|no\s+longer)\b")
# Words that describe the speaker and so take both genders: inclusive form -> folded forms.
_GENDERED = {
    "seul·e": ("seul", "seule", "seuls", "seules"),
    "prêt·e": ("pret", "prete"),
    "attentif·ve": ("attentif", "attentive"),
    "ponctuel·le": ("ponctuel", "ponctuelle"),
    "concentré·e": ("concentre", "concentree"),
    "organisé·e": ("organise", "organisee"),
    "patient·e": ("patient", "patiente"),
    "prudent·e": ("prudent", "prudente"),
    "précis·e": ("precis", "precise"),
    "discret·ète": ("discret", "discrete"),
    "assidu·e": ("assidu", "assidue"),
    "présent·e": ("present", "presente"),
    "content·e": ("content", "contente"),
    "fier·ère": ("fier", "fiere"),
    "sérieux·se": ("serieux", "serieuse"),
    "soigneux·se": ("soigneux", "soigneuse"),
    "rigoureux·se": ("rigoureux", "rigoureuse"),
}
_FORMS = {form: inclusive for inclusive, forms in _GENDERED.items() for form in forms}
# « seul » anywhere but after a determiner (« un seul outil »); the others after « je suis ».
_SEUL = re.compile(r"(?<!\bun )(?<!\bune )(?<!\ble )(?<!\bla )(?<!\bles )\b(seule?s?)(?![\w·])")
_ABOUT_ME = re.compile(
    r"\bje\s+(?:suis|reste|me\s+sens)\s+(?:\w+\s+)?(" + "|".join(_FORMS) + r")(?![\w·])"
)


class _Issues(list[ReferentialIssue]):
    """Issues of one file, located through its YAML node tree."""

    def __init__(self, root: Node, source: str) -> None:
        super().__init__()
        self.root, self.source = root, source

    def add(self, path: list[str | int], message: str, *, at_key: bool = False) -> None:
        """One issue at ``path`` (at its key rather than its value if ``at_key``)."""
        line = line_at(self.root, path, key=at_key)
        self.append(ReferentialIssue(self.source, line, field_path(path), message))

    def unique(self, items: list[dict[str, Any]], path: list[str | int], what: str) -> None:
        """An issue for each item whose ``code`` was already used by an earlier one."""
        first_line: dict[str, int] = {}
        for index, item in enumerate(items):
            where = [*path, index, "code"]
            line = line_at(self.root, where)
            if item["code"] in first_line:
                first = first_line[item["code"]]
                self.add(where, f"{what} en double : « {item['code']} » (déjà ligne {first})")
            first_line.setdefault(item["code"], line)


def text_issues(data: Any, root: Node, source: str) -> list[ReferentialIssue]:
    """§5 blocked terms in any string, and deficit phrasing in indicators and names."""
    issues = _Issues(root, source)

    def walk(value: Any, path: list[str | int]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, [*path, str(key)])
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, [*path, index])
        elif isinstance(value, str):
            for term in dict.fromkeys(wording.blocked_terms(value)):
                issues.add(
                    path,
                    f"terme stigmatisant interdit : « {term} » (décrivez une action au travail)",
                )
            phrased = len(path) >= 2 and path[-2] in _PHRASED_FIELDS
            if phrased and wording.is_deficit_phrasing(value):
                issues.add(
                    path,
                    "formulation négative : décrivez ce que la personne fait, "
                    "sans « ne pas… » ni « manque… »",
                )

    walk(data, [])
    return list(issues)


def referential_rule_issues(
    data: dict[str, Any], root: Node, source: str, known_bunk_codes: Collection[str] | None
) -> list[ReferentialIssue]:
    """Unique codes, known groups and references, a safety competence in every trade."""
    issues = _Issues(root, source)
    groups, competences = data.get("groups", []), data.get("competences", [])
    situations = data.get("situations", [])
    issues.unique(groups, ["groups"], "code de groupe")
    issues.unique(competences, ["competences"], "code de compétence")
    issues.unique(situations, ["situations"], "code de situation")
    group_codes = {g["code"] for g in groups}
    for i, comp in enumerate(competences):
        issues.unique(comp["indicators"], ["competences", i, "indicators"], "code d'indicateur")
        if "group" in comp and comp["group"] not in group_codes:
            issues.add(["competences", i, "group"], f"groupe inconnu : « {comp['group']} »")
        elif "group" not in comp and data["kind"] == "soft_skills":
            issues.add(["competences", i, "group"], "champ obligatoire manquant : group")
        link = comp.get("links_to")
        if link is not None and known_bunk_codes is not None and link not in known_bunk_codes:
            issues.add(
                ["competences", i, "links_to"],
                f"compétence inconnue dans la grille bunk : « {link} »",
            )
    for i, comp in enumerate(competences):
        _statement_issues(issues, ["competences", i, "statement"], comp.get("statement", {}))
    codes = {c["code"] for c in competences}
    for i, situation in enumerate(situations):
        for j, ref in enumerate(situation["competences"]):
            path: list[str | int] = ["situations", i, "competences", j]
            if not ref.startswith(BUNK_PREFIX):
                if ref not in codes:
                    issues.add(
                        path,
                        f"compétence inconnue : « {ref} » (ni dans ce fichier, ni « bunk:<code> »)",
                    )
            elif known_bunk_codes is not None and ref[len(BUNK_PREFIX) :] not in known_bunk_codes:
                issues.add(path, f"compétence inconnue dans la grille bunk : « {ref} »")
    if data["kind"] == "trade" and not any(_is_safety(c) for c in competences):
        issues.add(
            ["competences"],
            "une compétence « Appliquer les règles de sécurité » est requise pour un métier",
            at_key=True,
        )
    return list(issues)


def _statement_issues(issues: _Issues, path: list[str | int], texts: dict[str, str]) -> None:
    """A worker's sentence: no term to review, no negation, both genders in French."""
    for lang, text in texts.items():
        where: list[str | int] = [*path, lang]
        for term in dict.fromkeys(h.term for h in wording.scan(text) if h.kind == "review"):
            issues.add(where, f"mot à éviter dans la phrase de la personne : « {term} »")
        rest = _SUBJECT.sub("", wording.normalize(text), count=1)
        if wording.is_deficit_phrasing(rest) or _NEGATION.match(rest):
            issues.add(
                where,
                "formulation négative : la personne dit ce qu'elle fait "
                "(« Je suis à l'heure », pas « Je ne suis pas en retard »)",
            )
        if lang == "fr":
            folded = wording.normalize(text)
            found = [m.group(1) for m in (*_SEUL.finditer(folded), *_ABOUT_ME.finditer(folded))]
            for inclusive in dict.fromkeys(_FORMS[word] for word in found):
                issues.add(where, f"écrivez pour toutes et tous : « {inclusive} »")


def _is_safety(competence: dict[str, Any]) -> bool:
    name = wording.normalize(competence["name"]["fr"])
    return "securite" in competence["code"] or "securite" in name


def scale_rule_issues(data: dict[str, Any], root: Node, source: str) -> list[ReferentialIssue]:
    """Levels numbered 1 to 5, a usable minimum among them, internal levels below it."""
    issues = _Issues(root, source)
    numbers = [level["level"] for level in data["levels"]]
    usable_min = data["usable_min"]
    if usable_min not in numbers:
        issues.add(["usable_min"], "usable_min doit être l'un des niveaux (1 à 5)")
    for i, level in enumerate(data["levels"]):
        if level["level"] != i + 1:
            issues.add(["levels", i, "level"], "les niveaux sont numérotés de 1 à 5, dans l'ordre")
        if usable_min in numbers and level["public"] and level["level"] < usable_min:
            issues.add(
                ["levels", i, "public"],
                "un niveau sous le minimum utilisable reste interne : public: false",
            )
    choices = data.get("self_assessment_choices", [])
    covered = [number for choice in choices for number in choice["levels"]]
    if choices and sorted(covered) != sorted(numbers):
        issues.add(
            ["self_assessment_choices"],
            "chaque niveau de 1 à 5 doit correspondre à un seul pictogramme",
        )
    return list(issues)
