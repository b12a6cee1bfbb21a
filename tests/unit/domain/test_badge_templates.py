"""Badge templates as data: the shipped files, the validation of broken ones, the criteria."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import wording
from app.domain.assessments import Criteria, Evidence, Status, evaluate
from app.domain.badge_templates import (
    BadgeTemplateSpec,
    InvalidBadgeTemplate,
    competence_refs,
    criteria_for,
    parse_badge_template,
)
from app.domain.errors import DomainError, ReferentialIssue
from app.domain.referentials import ReferentialSpec, parse_document
from app.domain.schemas import load_schema

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "badge_templates"
BROKEN = ROOT / "tests" / "data" / "badge_templates" / "broken"
PICTOS = ROOT / "app" / "web" / "static" / "pictos"
SHIPPED = sorted(TEMPLATES.glob("*.yaml"))
ASM_04 = {
    "min_observations": 2,
    "distinct_observers": 2,
    "distinct_situations": 2,
    "min_span_days": 14,
    "self_assessment_required": False,
    "hold_latest": None,
}


@cache
def referentials() -> tuple[ReferentialSpec, ...]:
    specs = [
        parse_document(p.read_text(encoding="utf-8"), p.name)
        for p in sorted((ROOT / "referentials").rglob("*.yaml"))
    ]
    return tuple(s for s in specs if isinstance(s, ReferentialSpec))


@cache
def known() -> frozenset[str]:
    return competence_refs(referentials())


def bunk_codes() -> list[str]:
    (bunk,) = [s for s in referentials() if s.code == "bunk"]
    return [c.code for c in bunk.competences]


def load(path: Path) -> BadgeTemplateSpec:
    return parse_badge_template(
        path.read_text(encoding="utf-8"), f"badge_templates/{path.name}", known_competences=known()
    )


@cache
def shipped() -> dict[str, BadgeTemplateSpec]:
    return {path.name: load(path) for path in SHIPPED}


def q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


NARRATIVE = (
    "Ce badge numérique atteste une compétence observée plusieurs fois au travail. "
    "Ce badge numérique n'est ni un diplôme ni une certification."
)


DESCRIPTION = "A montré en situation de travail qu'il ou elle aide ses collègues."


def template(
    *,
    name: str = "Travailler en équipe",
    description: str = DESCRIPTION,
    tag: str = "relations au travail",
    tier_name: str = "Mobilisable en situation de travail",
    narrative: str = NARRATIVE,
    extra: str = "",
) -> str:
    """A valid template; each text sits on a line of its own (see SLOTS)."""
    return f"""code: test-badge
version: 1
kind: competence
name:
  fr: {q(name)}
  en: Teamwork
description:
  fr: {q(description)}
competences:
  - bunk:travailler-en-equipe
image: team
tags: [savoir-être, {q(tag)}]
criteria:
  min_observations: 2
  distinct_observers: 2
levels:
  - level: 3
    name: {{fr: {q(tier_name)}}}
  - level: 4
criteria_narrative:
  fr: {q(narrative)}
{extra}"""


# slot of template() → (line, field) where an issue about it must point.
SLOTS = {
    "name": (5, "name.fr"),
    "description": (8, "description.fr"),
    "tag": (12, "tags[1]"),
    "tier_name": (18, "levels[0].name.fr"),
    "narrative": (21, "criteria_narrative.fr"),
}


def issues_of(text: str, source: str = "t.yaml") -> list[ReferentialIssue]:
    with pytest.raises(InvalidBadgeTemplate) as caught:
        parse_badge_template(text, source, known_competences=known())
    return caught.value.issues


# --- Shipped templates ----------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_template_parses_and_has_no_listed_term(path):
    spec = load(path)
    assert spec.code == path.stem and spec.kind == "competence" and spec.version >= 1
    assert wording.scan(path.read_text(encoding="utf-8")) == []  # comments included


def test_one_template_per_bunk_competence_plus_punctuality():
    by_ref = {spec.competences: spec for spec in shipped().values()}
    assert len(SHIPPED) == 17 and len(bunk_codes()) == 16
    for code in bunk_codes():
        spec = by_ref[(f"bunk:{code}",)]
        assert spec.code == code and spec.levels == (3, 4, 5)  # ASM-09
    assert by_ref[("engagement-au-travail:ponctualite",)].levels == (3, 4, 5)


def test_shipped_criteria_are_the_defaults_with_a_recent_observation_at_level_3():
    for spec in shipped().values():
        assert criteria_for(spec, 3) == Criteria(min_level=3, max_age_days=365, **ASM_04)
        assert criteria_for(spec, 4) == Criteria(min_level=4, max_age_days=None, **ASM_04)
        assert criteria_for(spec, 5) == Criteria(min_level=5, max_age_days=None, **ASM_04)


def test_a_single_observation_never_meets_a_shipped_template():  # ASM-04
    now = datetime(2026, 3, 2, 10, tzinfo=UTC)
    one = [Evidence("o1", 5, "marc", "tonte", now - timedelta(days=1))]
    two = [*one, Evidence("o2", 5, "paul", "taille", now - timedelta(days=20))]
    for spec in shipped().values():
        for level in spec.levels:
            criteria = criteria_for(spec, level)
            assert evaluate(criteria, one, now=now, timezone="Europe/Paris").status == (
                Status.IN_PROGRESS
            )
            assert evaluate(criteria, two, now=now, timezone="Europe/Paris").status == (
                Status.CRITERIA_MET
            )


def test_shipped_texts_are_complete_neutral_and_say_it_is_not_a_diploma():
    names = [spec.name["fr"] for spec in shipped().values()]
    assert len(set(names)) == len(names)
    for spec in shipped().values():
        for texts in (
            spec.name,
            spec.description,
            spec.criteria_narrative,
            *(tier.name for tier in spec.tiers),
        ):
            assert set(texts) == {"fr", "en", "it"}
        assert spec.description["fr"].startswith("A montré en situation de travail réelle")
        narrative = spec.criteria_narrative["fr"]
        assert "badge numérique" in narrative and "plusieurs" in narrative
        assert "n'est ni un diplôme ni une certification" in narrative  # BDG-12
        assert spec.tags and all(len(tag) <= 40 for tag in spec.tags)
        assert not wording.is_deficit_phrasing(spec.name["fr"])


def test_shipped_images_are_pictograms_and_template_codes_are_unique():
    for spec in shipped().values():
        assert (PICTOS / f"{spec.image}.svg").is_file(), spec.image
    codes = [spec.code for spec in shipped().values()]
    assert len(set(codes)) == len(codes)


def test_the_schema_is_valid_draft_2020_12():
    schema = load_schema("badge_template")
    assert schema["properties"]["kind"]["enum"] == ["competence", "milestone"]


# --- Broken files ---------------------------------------------------------------------------

BROKEN_CASES = [
    ("missing-field.yaml", 2, "criteria_narrative", "champ obligatoire manquant"),
    ("wrong-type.yaml", 17, "criteria.min_span_days", "type attendu : un nombre entier"),
    ("unknown-competence.yaml", 12, "competences[1]", "compétence inconnue : « bunk:deviner »"),
    ("malformed-reference.yaml", 11, "competences[0]", "<référentiel>:<compétence>"),
    ("level-2-tier.yaml", 20, "levels[1].level", "niveau non autorisé : 2"),
    ("duplicate-tier.yaml", 21, "levels[2].level", "niveau en double : 4 (déjà ligne 20)"),
    (
        "impossible-criteria.yaml",
        21,
        "levels[1].criteria.distinct_observers",
        "distinct_observers (3) dépasse min_observations (2)",
    ),
    ("min-level-in-criteria.yaml", 15, "criteria.min_level", "celui du palier"),
    ("single-observation.yaml", 15, "criteria.min_observations", "au moins 2"),
    ("blocked-handicape.yaml", 9, "description.fr", "« handicapé »"),
    ("blocked-handicapee.yaml", 8, "name.it", "« Handicapée »"),
    ("blocked-inclusive.yaml", 13, "tags[1]", "« HANDICAPÉ·E »"),
    ("blocked-detenus.yaml", 22, "criteria_narrative.fr", "« détenus »"),
    ("blocked-detenu-inclusive.yaml", 9, "description.fr", "« détenu·es »"),
    ("blocked-reinsertion.yaml", 19, "levels[0].name.fr", "« Réinsertion »"),
    ("blocked-chantier-insertion.yaml", 9, "description.fr", "« Chantier d’insertion »"),
    ("diplome.yaml", 6, "name.fr", "« diplôme » interdit"),
    ("certification-claimed.yaml", 22, "criteria_narrative.fr", "« certification » interdit"),
    ("low-level-wording.yaml", 19, "levels[0].name.fr", "« je découvre » interdit"),
    ("deficit-phrasing.yaml", 6, "name.fr", "formulation négative"),
    ("bad-esco-uri.yaml", 17, "alignments[0].url", "adresse ESCO invalide"),
    ("yaml-syntax-error.yaml", 13, "(syntaxe)", "syntaxe YAML invalide"),
]


def test_every_broken_file_has_a_case():
    assert {case[0] for case in BROKEN_CASES} == {p.name for p in BROKEN.glob("*.yaml")}


@pytest.mark.parametrize(
    ("name", "line", "field", "message"), BROKEN_CASES, ids=[case[0] for case in BROKEN_CASES]
)
def test_a_broken_file_is_refused_with_source_line_and_field(name, line, field, message):
    source = f"broken/{name}"
    (issue,) = issues_of((BROKEN / name).read_text(encoding="utf-8"), source)
    assert (issue.source, issue.line, issue.field) == (source, line, field)
    assert message in issue.message
    assert str(issue) == f"{source}:{line}: {field}: {issue.message}"


def test_a_missing_key_points_to_its_parent_mapping():
    (issue,) = issues_of((BROKEN / "missing-field.yaml").read_text(encoding="utf-8"))
    lines = (BROKEN / "missing-field.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[issue.line - 1] == "code: test-badge"


def test_the_error_is_a_domain_error_listing_every_issue_in_file_order():
    text = template(name="Diplôme", tag="détenus").replace("  - level: 4", "  - level: 1")
    with pytest.raises(InvalidBadgeTemplate) as caught:
        parse_badge_template(text, "t.yaml", known_competences=known())
    error = caught.value
    assert isinstance(error, DomainError) and error.code == "invalid_badge_template"
    # A schema error stops the rule checks; blocked terms are always reported.
    assert [(i.line, i.field) for i in error.issues] == [(12, "tags[1]"), (19, "levels[1].level")]
    assert str(error).splitlines()[1:] == [str(i) for i in error.issues]


# --- Wording: blocked terms in any spelling, diploma, internal levels ------------------------

SPELLINGS = [
    "handicapé",
    "Handicapée",
    "HANDICAPÉ·E",
    "handicapé·es",
    "détenus",
    "DÉTENUS",
    "détenu·e·s",
    "Réinsertion",
    "REINSERTION",
    "chantier d'insertion",
    "Chantiers d’insertion",
    "éloigné·es de l'emploi",
    "demandeur·euse d'asile",
    "ex-offenders",
    "disabili",
]


@pytest.mark.parametrize("slot", SLOTS)
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_stigmatising_word_is_refused_in_any_spelling_and_any_text(spelling, slot):
    (issue,) = issues_of(template(**{slot: f"Équipe {spelling}"}))
    assert (issue.line, issue.field) == SLOTS[slot]
    assert issue.message.startswith(f"terme stigmatisant interdit : « {spelling} »")


def test_a_stigmatising_word_in_a_code_is_refused():
    (issue,) = issues_of(template().replace("code: test-badge", "code: equipe-detenus"))
    assert (issue.line, issue.field) == (1, "code")


@pytest.mark.parametrize("slot", ["name", "description", "tag", "tier_name"])
@pytest.mark.parametrize(
    "word",
    [
        "diplôme",
        "Diplômes",
        "DIPLÔMÉ·E",
        "certification",
        "Certifié",
        "certificat",
        "diploma",
        "certificazione",
    ],
)
def test_a_badge_is_never_called_a_diploma(word, slot):
    (issue,) = issues_of(template(**{slot: f"Travail en équipe {word}"}))
    assert (issue.line, issue.field) == SLOTS[slot]
    assert "interdit : un badge numérique n'est ni un diplôme ni une certification" in (
        issue.message
    )


@pytest.mark.parametrize(
    ("narrative", "accepted"),
    [
        (NARRATIVE, True),
        ("Badge numérique, pas un diplôme.", True),
        ("This digital badge is neither a diploma nor a certification.", True),
        ("Questo badge non è un diploma.", True),
        ("Ce badge numérique est une certification de compétence.", False),
        ("Pas de doute. Ce diplôme atteste une compétence.", False),
        ("Ce badge n'est pas un titre ; il vaut diplôme.", False),
    ],
)
def test_only_the_narrative_may_deny_being_a_diploma(narrative, accepted):
    text = template(narrative=narrative)
    if accepted:
        assert parse_badge_template(text, "t.yaml").criteria_narrative["fr"] == narrative
    else:
        (issue,) = issues_of(text)
        assert issue.field == "criteria_narrative.fr" and "interdit" in issue.message


@pytest.mark.parametrize("slot", SLOTS)
@pytest.mark.parametrize(
    "words",
    ["Je découvre", "niveau 2", "Niveaux 1", "Non acquis", "échec", "pas encore mobilisable"],
)
def test_wording_of_levels_below_3_is_refused(words, slot):
    (issue,) = issues_of(template(**{slot: f"Équipe : {words}"}))
    assert (issue.line, issue.field) == SLOTS[slot]
    assert "rien sous le niveau 3 n'est public" in issue.message


@pytest.mark.parametrize("slot", ["name", "description", "tag", "tier_name"])
def test_a_text_opening_on_a_lack_is_refused(slot):
    (issue,) = issues_of(template(**{slot: "Ne fait pas d'erreur"}))
    assert (issue.line, issue.field) == SLOTS[slot]
    assert "formulation négative" in issue.message


# --- wording.py: inclusive forms (added with the badge templates) ----------------------------


@pytest.mark.parametrize(
    "form",
    [
        "détenu·es",
        "détenu·e·s",
        "Détenu•e•s",
        "détenu.e.s",
        "détenu-e-s",
        "détenu(e)s",
        "éloigné·es de l'emploi",
        "ÉLOIGNÉ·E·S DE L’EMPLOI",
        "éloigné(e)s de l'emploi",
        "demandeur·euse·s d'asile",
        "demandeur(euse)s d'asile",
        "chômeur.euse.s de longue durée",
        "décrocheur·euse",
        "réfugié⋅e",
        "illettré/e",
        "detenutə",
        "detenut*",
    ],
)
def test_inclusive_forms_of_blocked_terms_are_found_whole(form):
    hits = [hit for hit in wording.scan(f"Avant : {form}, fin.") if hit.kind == "blocked"]
    assert [hit.matched for hit in hits] == [form]


def test_a_sentence_end_is_not_taken_for_an_inclusive_ending():
    (hit,) = wording.scan("Un détenu. Ensuite, tout va bien.")
    assert hit.matched == "détenu"
    assert wording.scan("Aide ses collègues·es et range") == []


SINGLE_WORDS = [
    t
    for t in wording.BLOCKED_FR
    if " " not in t and "'" not in t and not t.isupper() and len(t) >= 4 and "(" not in t
]


@settings(database=None, max_examples=200)
@given(
    term=st.sampled_from(SINGLE_WORDS),
    ending=st.sampled_from(["·e", "·es", "·e·s", ".e.s", "-e-s", "(e)", "(e)s", "/e", "•es"]),
    upper=st.booleans(),
)
def test_any_blocked_word_with_an_inclusive_ending_is_found_whole(term, ending, upper):
    form = (term + ending).upper() if upper else term + ending
    text = f"Range son poste {form} et aide"
    hits = [hit for hit in wording.scan(text) if hit.kind == "blocked"]
    assert [(hit.start, hit.end) for hit in hits] == [(16, 16 + len(form))]


# --- Competence references, kinds, alignments -----------------------------------------------


def test_known_competences_come_from_every_referential():
    refs = known()
    assert {"bunk:travailler-en-equipe", "engagement-au-travail:ponctualite"} <= refs
    assert any(ref.startswith("espaces-verts:") for ref in refs)
    assert {f"bunk:{code}" for code in bunk_codes()} <= refs


def test_without_known_competences_only_the_form_of_references_is_checked():
    text = template().replace("bunk:travailler-en-equipe", "bunk:deviner")
    assert parse_badge_template(text, "t.yaml").competences == ("bunk:deviner",)


def test_a_competence_listed_twice_is_refused():
    text = template().replace(
        "  - bunk:travailler-en-equipe\n",
        "  - bunk:travailler-en-equipe\n  - bunk:travailler-en-equipe\n",
    )
    (issue,) = issues_of(text)
    assert (issue.line, issue.field) == (11, "competences[1]") and "en double" in issue.message


def test_a_competence_template_needs_competences_and_levels_a_milestone_does_not():
    competence = (
        template().split("competences:")[0]
        + "image: team\n"
        + (f"criteria_narrative:\n  fr: {q(NARRATIVE)}\n")
    )
    fields = {i.field for i in issues_of(competence)}
    assert fields == {"competences", "levels"}
    milestone = parse_badge_template(
        competence.replace("kind: competence", "kind: milestone"), "m.yaml"
    )
    assert milestone.kind == "milestone" and milestone.tiers == () and milestone.competences == ()
    with pytest.raises(KeyError):
        criteria_for(milestone, 3)


def test_well_formed_alignments_are_kept():
    extra = (
        "alignments:\n"
        "  - {framework: ROME, label: Aménagement et entretien des espaces verts,"
        " code: A1203, url: https://candidat.francetravail.fr/metierscope/fiche-metier/A1203}\n"
        "  - {framework: ESCO, label: exemple, code: exemple,"
        " url: http://data.europa.eu/esco/skill/00000000-0000-0000-0000-000000000000}\n"
    )
    spec = parse_badge_template(template(extra=extra), "t.yaml")
    assert [(a.framework, a.code) for a in spec.alignments] == [
        ("ROME", "A1203"),
        ("ESCO", "exemple"),
    ]


@pytest.mark.parametrize(
    ("framework", "code", "message"),
    [
        ("ROME", "A12O3", "code ROME invalide"),
        ("RNCP", "RNCP-12345", "code RNCP invalide"),
        ("Wikipedia", "x", "valeur non autorisée"),
    ],
)
def test_malformed_alignments_are_refused(framework, code, message):
    extra = (
        f"alignments:\n  - {{framework: {framework}, label: x, code: {code},"
        " url: https://example.org/x}\n"
    )
    (issue,) = issues_of(template(extra=extra))
    assert issue.line == 23 and issue.field.startswith("alignments[0].")
    assert message in issue.message


# --- Criteria per tier ----------------------------------------------------------------------


def test_criteria_for_applies_the_template_criteria_then_the_tier_overrides():
    text = (
        template()
        .replace(
            "  - level: 4\n",
            "  - level: 5\n    criteria: {self_assessment_required: true, min_span_days: 30}\n"
            "  - level: 4\n    criteria: {min_observations: 4, hold_latest: 2}\n",
        )
        .replace("  distinct_observers: 2\n", "  distinct_observers: 2\n  min_observations: 3\n")
    )
    text = text.replace("  min_observations: 2\n", "")
    spec = parse_badge_template(text, "t.yaml")
    assert spec.levels == (3, 4, 5)  # sorted, whatever the file order
    base = Criteria(min_level=3, min_observations=3)
    assert criteria_for(spec, 3) == base
    assert criteria_for(spec, 4) == replace(base, min_level=4, min_observations=4, hold_latest=2)
    assert criteria_for(spec, 5) == replace(
        base, min_level=5, self_assessment_required=True, min_span_days=30
    )
    with pytest.raises(KeyError):
        criteria_for(spec, 2)


def test_without_criteria_the_asm_04_defaults_apply():
    text = template().replace("criteria:\n  min_observations: 2\n  distinct_observers: 2\n", "")
    spec = parse_badge_template(text, "t.yaml")
    assert criteria_for(spec, 3) == Criteria(min_level=3, **ASM_04)
    assert criteria_for(spec, 4) == Criteria(min_level=4, **ASM_04)


def test_an_impossible_default_is_pointed_at_the_template_criteria():
    text = template().replace("  distinct_observers: 2\n", "  distinct_situations: 3\n")
    issues = issues_of(text)
    assert {(i.line, i.field) for i in issues} == {(15, "criteria.distinct_situations")}


# --- Content hash ---------------------------------------------------------------------------


def test_content_hash_ignores_yaml_layout_and_comments():
    path = TEMPLATES / "travailler-en-equipe.yaml"
    text = path.read_text(encoding="utf-8")
    reformatted = "# another layout\n" + yaml.safe_dump(
        yaml.safe_load(text), allow_unicode=True, default_flow_style=True, width=60, sort_keys=True
    )
    assert reformatted != text
    assert load(path).content_hash == parse_badge_template(reformatted, "b").content_hash
    assert len(load(path).content_hash) == 64


def test_content_hash_changes_with_the_meaning():
    path = TEMPLATES / "travailler-en-equipe.yaml"
    text = path.read_text(encoding="utf-8")
    changed = text.replace("max_age_days: 365", "max_age_days: 180")
    assert changed != text
    assert parse_badge_template(changed, "b").content_hash != load(path).content_hash
