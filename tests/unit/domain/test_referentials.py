"""Referential and scale files: the shipped data and the validation of broken files."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml

from app.domain import wording
from app.domain.enums import SituationType
from app.domain.errors import DomainError
from app.domain.referentials import (
    InvalidReferential,
    ReferentialIssue,
    ReferentialSpec,
    ScaleSpec,
    localized,
    parse_document,
    parse_referential,
    parse_scale,
)
from app.domain.schemas import field_path, load_schema

ROOT = Path(__file__).resolve().parents[3]
REFERENTIALS = ROOT / "referentials"
BROKEN = ROOT / "tests" / "data" / "referentials" / "broken"
SHIPPED = sorted(REFERENTIALS.rglob("*.yaml"))
SECTORS = (
    "espaces-verts",
    "maraichage",
    "menuiserie",
    "batiment",
    "restauration",
    "logistique",
    "accueil-mediation",
    "economie-circulaire",
    "service-a-la-personne",
)

# REQUIREMENTS §3.1: dimension → (exact French name, default indicator).
BUNK = {
    "Compétences méthodologiques": [
        ("s'adapter", "Change de méthode quand la consigne ou le chantier change"),
        ("être autonome", "Termine une tâche connue sans rappel"),
        ("planifier", "Annonce l'ordre des étapes avant de commencer"),
        ("anticiper", "Prépare le matériel nécessaire avant la tâche"),
        ("analyser", "Explique ce qui s'est passé lors d'un incident"),
        ("résoudre des problèmes", "Propose une solution quand le travail bloque"),
        ("jugement critique", "Repère une erreur dans son travail et la corrige"),
        ("qualité du travail", "Rend un travail conforme à la consigne"),
    ],
    "Compétences sociales": [
        ("communiquer", "Parle poliment aux clients et collègues, même en désaccord"),
        ("travailler en équipe", "Aide un·e collègue et partage les tâches"),
        ("s'intégrer", "Respecte les règles de l'équipe et du site"),
        ("confidentialité", "Garde pour soi les informations des clients et de la structure"),
    ],
    "Compétences contributionnelles": [
        (
            "prise en compte de ses capacités d'intervention",
            "Demande de l'aide quand une tâche dépasse ce qu'il/elle sait faire",
        ),
        ("prioriser", "Commence par la tâche la plus urgente"),
        ("organiser", "Range son poste et le matériel en fin de journée"),
        ("conscience professionnelle", "Arrive à l'heure et respecte les temps de pause"),
    ],
}


def load(path: Path) -> ReferentialSpec | ScaleSpec:
    return parse_document(
        path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), known_bunk_codes=bunk_codes()
    )


@cache
def bunk() -> ReferentialSpec:
    return parse_referential((REFERENTIALS / "bunk.yaml").read_text(encoding="utf-8"), "bunk")


@cache
def bunk_codes() -> frozenset[str]:
    return frozenset(c.code for c in bunk().competences)


def referential(relative: str) -> ReferentialSpec:
    spec = load(REFERENTIALS / relative)
    assert isinstance(spec, ReferentialSpec)
    return spec


def scale() -> ScaleSpec:
    return parse_scale((REFERENTIALS / "scale.yaml").read_text(encoding="utf-8"), "scale.yaml")


def all_texts(spec: ReferentialSpec) -> list[dict[str, str]]:
    texts = [spec.name, spec.description]
    texts += [t for g in spec.groups for t in (g.name, g.description)]
    for comp in spec.competences:
        texts += [comp.name, comp.description, comp.statement, *(i.text for i in comp.indicators)]
    texts += [t for s in spec.situations for t in (s.name, s.description)]
    return texts


# --- Shipped files --------------------------------------------------------------------------


def test_the_expected_files_are_shipped():
    names = {str(p.relative_to(REFERENTIALS)) for p in SHIPPED}
    assert {
        "scale.yaml",
        "bunk.yaml",
        "situations.yaml",
        "packs/engagement-au-travail.yaml",
        "packs/reperes-transversaux.yaml",
    } <= names
    assert {f"trades/{sector}.yaml" for sector in SECTORS} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REFERENTIALS)))
def test_every_shipped_file_parses_and_has_no_listed_term(path):
    load(path)
    text = path.read_text(encoding="utf-8")
    assert wording.scan(text) == []  # neither blocked nor review terms, comments included


def test_codes_are_unique_across_shipped_files():
    codes = [load(path).code for path in SHIPPED]
    assert len(codes) == len(set(codes))


def test_bunk_has_three_dimensions_with_8_4_4_competences_named_as_in_the_source():
    spec = bunk()
    assert spec.kind == "soft_skills" and spec.version >= 2  # v2 added the worker statements
    assert [g.name["fr"] for g in spec.groups] == list(BUNK)
    for group in spec.groups:
        competences = spec.competences_in(group.code)
        expected = BUNK[group.name["fr"]]
        assert [c.name["fr"] for c in competences] == [name for name, _ in expected]
        assert [c.indicators[0].text["fr"] for c in competences] == [ind for _, ind in expected]
    assert [len(spec.competences_in(g.code)) for g in spec.groups] == [8, 4, 4]


def test_every_bunk_competence_is_complete_and_has_its_own_pictogram():
    spec = bunk()
    for comp in spec.competences:
        assert set(comp.name) >= {"fr", "en", "it"}
        assert set(comp.description) >= {"fr", "en", "it"}
        assert 2 <= len(comp.indicators) <= 3
        for indicator in comp.indicators:
            assert set(indicator.text) >= {"fr", "en", "it"}
            assert not wording.is_deficit_phrasing(indicator.text["fr"])
        assert comp.pictogram and comp.code.isascii()
    assert len({c.pictogram for c in spec.competences}) == 16


def test_the_three_workplace_rules_are_positive_indicators():
    spec = bunk()
    conscience = [i.text["fr"] for i in spec.competence("conscience-professionnelle").indicators]
    assert "Arrive à l'heure et respecte les temps de pause" in conscience
    assert any("prise de service" in text and "pauses" in text for text in conscience)
    communiquer = spec.competence("communiquer").indicators[0].text["fr"]
    assert communiquer.startswith("Parle poliment aux clients et collègues")


def test_every_shipped_text_is_in_three_languages():
    for path in SHIPPED:
        spec = load(path)
        if isinstance(spec, ReferentialSpec):
            for texts in all_texts(spec):
                assert not texts or set(texts) >= {"fr", "en", "it"}, (path, texts)


@pytest.mark.parametrize("sector", SECTORS)
def test_each_trade_has_hard_skills_a_safety_competence_and_three_situations(sector):
    spec = referential(f"trades/{sector}.yaml")
    assert spec.kind == "trade" and spec.code == sector
    assert 3 <= len(spec.competences) <= 6
    assert any(c.name["fr"] == "Appliquer les règles de sécurité" for c in spec.competences)
    assert len(spec.situations) >= 3
    codes = {c.code for c in spec.competences}
    for situation in spec.situations:
        assert situation.type in set(SituationType)
        for ref in situation.competences:
            assert ref in codes or ref.removeprefix("bunk:") in bunk_codes()
    for comp in spec.competences:
        for alignment in comp.alignments:
            assert alignment.framework == "ROME"
            assert alignment.url.endswith(alignment.code)


def test_the_engagement_pack_is_neutral_positive_and_linked_to_bunk():
    spec = referential("packs/engagement-au-travail.yaml")
    assert spec.kind == "pack" and spec.name["fr"] == "Engagement au travail"
    links = {c.name["fr"]: c.links_to for c in spec.competences}
    assert links == {
        "ponctualité": "conscience-professionnelle",
        "assiduité": "conscience-professionnelle",
        "respect des règles": "s-integrer",
        "présentation": "conscience-professionnelle",
        "dynamisme": "etre-autonome",
        "persévérance dans la démarche": "etre-autonome",
    }
    assert set(links.values()) <= bunk_codes()


@pytest.mark.parametrize("pack", ["engagement-au-travail", "reperes-transversaux"])
def test_no_pack_text_mentions_justice(pack):
    text = wording.normalize((REFERENTIALS / "packs" / f"{pack}.yaml").read_text("utf-8"))
    for word in (
        "justice",
        "judiciaire",
        "tribunal",
        "court",
        "prison",
        "carcere",
        "r2s",
        "reussir sa sortie",
        "sanction",
        "detenu",
        "probation",
    ):
        assert word not in text


def test_the_transferable_basics_pack():
    spec = referential("packs/reperes-transversaux.yaml")
    assert [c.name["fr"] for c in spec.competences] == [
        "s'orienter",
        "lire un guide",
        "utiliser un sommaire",
        "comprendre un tableau à double entrée",
        "compétences numériques de base",
    ]


# --- Worker statements (SELF-01, ACC-02) ----------------------------------------------------

WITH_STATEMENTS = [
    "bunk.yaml",
    "packs/engagement-au-travail.yaml",
    "packs/reperes-transversaux.yaml",
    *(f"trades/{s}.yaml" for s in SECTORS),
]


@pytest.mark.parametrize("relative", WITH_STATEMENTS)
def test_every_competence_has_a_short_first_person_statement_in_three_languages(relative):
    spec = referential(relative)
    for comp in spec.competences:
        statement = comp.statement
        assert set(statement) >= {"fr", "en", "it"}, comp.code
        assert statement["fr"].startswith(("Je ", "J'")) and len(statement["fr"]) <= 60
        assert statement["en"].startswith("I ")
        for text in statement.values():
            assert wording.scan(text) == [], text  # neither blocked nor review terms
        said = (
            statement["fr"].removeprefix("Je ").removeprefix("J'"),
            statement["en"].removeprefix("I "),
            statement["it"],
        )
        assert not any(wording.is_deficit_phrasing(text) for text in said), statement
    assert len({c.statement["fr"] for c in spec.competences}) == len(spec.competences)


def test_the_bunk_statements_say_the_workplace_rules_in_plain_words():
    spec = bunk()
    said = {c.code: c.statement["fr"] for c in spec.competences}
    assert said["conscience-professionnelle"] == "Je suis à l'heure et je respecte les pauses"
    assert said["capacites-d-intervention"] == "Je demande de l'aide quand une tâche est trop dure"
    assert said["s-adapter"] == "Je change ma façon de faire quand il faut"
    assert said["etre-autonome"] == "Je finis mon travail sans qu'on me le rappelle"


def _pack(statement: str) -> str:
    """A one-competence pack whose line 8 is ``statement``."""
    return (
        "code: x\nversion: 1\nkind: pack\nname: {fr: Test}\ncompetences:\n"
        "  - code: c\n    name: {fr: ponctualité}\n"
        f"{statement}"
        "    indicators: [{code: i, text: {fr: Arrive à l'heure}}]\n"
    )


@pytest.mark.parametrize(
    ("statement", "field", "message"),
    [
        (
            "{fr: Je suis à l'heure le matin et je respecte bien les temps de pause}",
            "fr",
            "texte trop long : 60 caractères",
        ),
        ("{fr: Arrive à l'heure}", "fr", "commencez par « Je » ou « J' »"),
        ("{fr: Je ne suis jamais en retard}", "fr", "formulation négative"),
        ("{fr: J'arrive à l'heure, en: I'm not late}", "en", "formulation négative"),
        ("{fr: J'arrive à l'heure, it: Non arrivo in ritardo}", "it", "formulation négative"),
        ("{fr: Je fais mon travail seul}", "fr", "« seul·e »"),
        ("{fr: Je suis toujours prête}", "fr", "« prêt·e »"),
        ("{fr: Je garde ma motivation}", "fr", "mot à éviter dans la phrase de la personne"),
        ("{fr: Je parle de la prison}", "fr", "terme stigmatisant interdit"),
        ("{en: I am on time}", "fr", "champ obligatoire manquant : fr"),
        ("Je suis à l'heure", "", "un texte par langue"),
    ],
)
def test_a_bad_statement_is_refused_with_its_line_and_field(statement, field, message):
    issues = _issues_of(_pack(f"    statement: {statement}\n"))
    located = [(i.line, i.field, i.message) for i in issues]
    path = "competences[0].statement" + (f".{field}" if field else "")
    assert any((line, where) == (8, path) and message in text for line, where, text in located), (
        located
    )


def test_inclusive_and_determined_words_are_accepted():
    for statement in (
        "Je fais mon travail seul·e",
        "Je prends un seul outil à la fois",
        "Je suis prêt·e à l'heure",
        "Je suis sur le chantier à l'heure",
    ):
        spec = parse_referential(_pack(f"    statement: {{fr: {statement}}}\n"), "t.yaml")
        assert spec.competences[0].statement == {"fr": statement}


def test_a_statement_is_required_in_grids_and_packs_and_optional_in_trades():
    (issue,) = _issues_of(_pack(""))
    assert (issue.line, issue.field) == (6, "competences[0].statement")
    trade = (REFERENTIALS / "trades" / "batiment.yaml").read_text(encoding="utf-8")
    lines = trade.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "statement:")
    without = "".join(lines[:start] + lines[start + 4 :])
    spec = parse_referential(without, "t.yaml", known_bunk_codes=bunk_codes())
    assert spec.competences[0].statement == {}
    assert spec.competences[1].statement["fr"].startswith("Je ")


def test_the_recurring_situations_refer_to_bunk():
    spec = referential("situations.yaml")
    assert spec.kind == "situations" and len(spec.situations) == 10
    assert {s.type for s in spec.situations} >= {
        "production",
        "atelier",
        "immersion",
        "mise_en_situation",
        "formation",
    }
    for situation in spec.situations:
        assert situation.competences
        assert all(ref.startswith("bunk:") for ref in situation.competences)


def test_the_scale_has_five_levels_and_level_3_as_usable_minimum():
    spec = scale()
    assert spec.code == "echelle-5-niveaux" and spec.version == 1 and spec.usable_min == 3
    assert [level.level for level in spec.levels] == [1, 2, 3, 4, 5]
    assert [level.public for level in spec.levels] == [False, False, True, True, True]
    assert [level.worker["fr"] for level in spec.levels] == [
        "Je découvre",
        "J'apprends, avec de l'aide",
        "Je sais faire",
        "Je fais seul·e",
        "Je fais seul·e et je trouve comment mieux faire",
    ]
    assert spec.level(3).staff["fr"] == "Mobilisable en situation de travail"
    assert all(level.source["fr"] for level in spec.levels)


def test_not_observed_is_not_a_level():
    spec = scale()
    assert spec.not_observed.label == {
        "fr": "Non observé",
        "en": "Not observed",
        "it": "Non osservato",
    }
    assert spec.not_observed.code not in {str(level.level) for level in spec.levels}
    assert len(spec.levels) == 5


def test_self_assessment_maps_three_pictograms_to_levels():
    spec = scale()
    assert [choice.levels for choice in spec.self_assessment_choices] == [(1, 2), (3,), (4, 5)]
    assert spec.choice_for(4).code == spec.choice_for(5).code
    assert len({choice.pictogram for choice in spec.self_assessment_choices}) == 3


def test_worker_wording_is_short():
    spec = scale()
    worker = [lv.worker for lv in spec.levels] + [c.worker for c in spec.self_assessment_choices]
    for texts in worker:
        for text in texts.values():
            assert len(text.split()) <= 10, text


# --- Content hash and versioning ------------------------------------------------------------


def test_content_hash_ignores_yaml_layout_and_comments():
    text = (REFERENTIALS / "bunk.yaml").read_text(encoding="utf-8")
    reformatted = "# another layout\n" + yaml.safe_dump(
        yaml.safe_load(text), allow_unicode=True, default_flow_style=True, width=60, sort_keys=True
    )
    assert reformatted != text
    assert parse_referential(reformatted, "b").content_hash == bunk().content_hash


def test_content_hash_changes_with_the_meaning():
    text = (REFERENTIALS / "bunk.yaml").read_text(encoding="utf-8")
    changed = text.replace("Termine une tâche connue sans rappel", "Termine une tâche seul·e")
    assert parse_referential(changed, "b").content_hash != bunk().content_hash


def test_content_hash_changes_with_a_statement():
    text = (REFERENTIALS / "bunk.yaml").read_text(encoding="utf-8")
    changed = text.replace("fr: Je range mon poste et mes outils", "fr: Je range mon poste")
    assert changed != text
    assert parse_referential(changed, "b").content_hash != bunk().content_hash


# --- Broken files ---------------------------------------------------------------------------

BROKEN_CASES = [
    ("missing-indicator.yaml", 13, "competences[1].indicators", "au moins un indicateur"),
    ("empty-indicators.yaml", 10, "competences[0].indicators", "au moins un indicateur"),
    ("duplicate-competence-code.yaml", 13, "competences[1].code", "en double : « organiser »"),
    ("yaml-syntax-error.yaml", 8, "(syntaxe)", "syntaxe YAML invalide"),
    ("deficit-phrasing.yaml", 15, "competences[0].indicators[1].text.fr", "formulation négative"),
    ("blocked-term.yaml", 11, "competences[0].description.en", "« inmate »"),
    (
        "unknown-situation-competence.yaml",
        23,
        "situations[1].competences[1]",
        "compétence inconnue : « soudure »",
    ),
    ("wrong-type.yaml", 3, "version", "type attendu : un nombre entier"),
    ("unknown-situation-type.yaml", 12, "situations[1].type", "valeur non autorisée"),
    ("missing-fr.yaml", 9, "competences[0].name.fr", "champ obligatoire manquant : fr"),
    ("trade-without-safety.yaml", 6, "competences", "règles de sécurité"),
    ("unknown-field.yaml", 10, "competences[0].indicator", "champ inconnu : indicator"),
    ("duplicate-yaml-key.yaml", 10, "competences[0].description", "champ écrit deux fois"),
    ("scale-public-internal-level.yaml", 9, "levels[1].public", "reste interne"),
    ("scale-usable-min-not-a-level.yaml", 6, "usable_min", "l'un des niveaux"),
    ("missing-statement.yaml", 17, "competences[1].statement", "phrase « Je … » obligatoire"),
    (
        "statement-not-first-person.yaml",
        10,
        "competences[0].statement.fr",
        "commencez par « Je » ou « J' »",
    ),
]


def test_every_broken_file_has_a_case():
    assert {case[0] for case in BROKEN_CASES} == {p.name for p in BROKEN.glob("*.yaml")}


@pytest.mark.parametrize(
    ("name", "line", "field", "message"), BROKEN_CASES, ids=[case[0] for case in BROKEN_CASES]
)
def test_a_broken_file_is_refused_with_source_line_and_field(name, line, field, message):
    source = f"broken/{name}"
    with pytest.raises(InvalidReferential) as caught:
        parse_document(
            (BROKEN / name).read_text(encoding="utf-8"), source, known_bunk_codes=bunk_codes()
        )
    located = [(i.source, i.line, i.field) for i in caught.value.issues]
    assert (source, line, field) in located
    issue = next(i for i in caught.value.issues if (i.line, i.field) == (line, field))
    assert message in issue.message
    assert str(issue) == f"{source}:{line}: {field}: {issue.message}"


def test_a_missing_key_points_to_its_parent_mapping():
    (issue,) = _issues("missing-indicator.yaml")
    lines = (BROKEN / "missing-indicator.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[issue.line - 1].strip() == "- code: dynamisme"


def test_unknown_bunk_references_are_refused_when_bunk_codes_are_known():
    text = (REFERENTIALS / "situations.yaml").read_text(encoding="utf-8")
    text = text.replace('"bunk:anticiper"]', '"bunk:deviner"]', 1)
    parse_referential(text, "s.yaml")  # without the Bunk codes, only the syntax is checked
    with pytest.raises(InvalidReferential) as caught:
        parse_referential(text, "s.yaml", known_bunk_codes=bunk_codes())
    (issue,) = caught.value.issues
    assert issue.field == "situations[1].competences[1]" and "bunk:deviner" in issue.message


def test_unknown_links_to_is_refused_when_bunk_codes_are_known():
    path = REFERENTIALS / "packs" / "engagement-au-travail.yaml"
    text = path.read_text(encoding="utf-8").replace("links_to: s-integrer", "links_to: obeir")
    with pytest.raises(InvalidReferential) as caught:
        parse_referential(text, "p.yaml", known_bunk_codes=bunk_codes())
    assert [i.field for i in caught.value.issues] == ["competences[2].links_to"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "le fichier est vide"),
        ("code: x\n\tversion: 1\n", 2, "tabulation interdite"),
        ("code: x\nname: [a, b\n", 3, "syntaxe YAML invalide"),
        ("- a\n- b\n", 1, "type attendu : une table"),
    ],
)
def test_malformed_documents_give_one_located_issue(text, line, message):
    with pytest.raises(InvalidReferential) as caught:
        parse_referential(text, "x.yaml")
    assert caught.value.issues[0].line == line
    assert message in caught.value.issues[0].message


def test_all_issues_are_reported_at_once_in_file_order():
    text = (
        "code: Pas Un Code\nversion: 0\nkind: pack\nname: {en: Test}\n"
        "competences:\n  - code: a\n    name: {fr: Ne pas crier}\n    description: {fr: x}\n"
        "    statement: {fr: Je parle calmement}\n"
    )
    issues = _issues_of(text)
    assert [i.field for i in issues] == [
        "code",
        "version",
        "name.fr",
        "competences[0].indicators",
        "competences[0].name.fr",
    ]


def test_invalid_referential_is_a_domain_error_with_a_french_message():
    error = InvalidReferential([ReferentialIssue("f.yaml", 3, "version", "type attendu")])
    assert isinstance(error, DomainError) and error.code == "invalid_referential"
    assert error.message.startswith("Fichier de référentiel non chargé : 1 problème")
    assert str(error).endswith("f.yaml:3: version: type attendu")


def test_a_scale_is_not_a_referential_and_parse_document_dispatches():
    text = (REFERENTIALS / "scale.yaml").read_text(encoding="utf-8")
    assert isinstance(parse_document(text, "scale.yaml"), ScaleSpec)
    with pytest.raises(InvalidReferential):
        parse_referential(text, "scale.yaml")


def test_schema_situation_types_match_the_enum():
    schema = load_schema("referential")
    assert schema["$defs"]["situation"]["properties"]["type"]["enum"] == [
        t.value for t in SituationType
    ]


def test_helpers():
    assert field_path(["competences", 3, "indicators"]) == "competences[3].indicators"
    assert field_path([]) == "(racine)"
    texts = {"fr": "organiser", "it": "organizzare"}
    assert localized(texts, "it") == "organizzare"
    assert localized(texts, "en") == "organiser"
    assert localized(texts, "it-CH") == "organizzare"


def _issues(name: str) -> list[ReferentialIssue]:
    return _issues_of((BROKEN / name).read_text(encoding="utf-8"))


def _issues_of(text: str) -> list[ReferentialIssue]:
    with pytest.raises(InvalidReferential) as caught:
        parse_document(text, "t.yaml")
    return caught.value.issues


def test_schema_messages_are_in_plain_french_and_located():
    text = (
        "code: x\nversion: 1\nkind: pack\nname: {FR: Test, fr: ok}\nextra: 1\n"
        "competences:\n"
        "  - code: a\n"
        "    name: {fr: a}\n"
        "    description: {fr: '  '}\n"
        "    pictogram: Bad_Pic\n"
        "    alignments: [{framework: ROME, label: l, code: A1, url: 'ftp://x'}]\n"
        "    indicators: [{code: i, text: {fr: Fait}}]\n"
        "    statement: {fr: Je fais}\n"
    )
    located = {(i.line, i.field): i.message for i in _issues_of(text)}
    assert located == {
        (4, "name.FR"): "code de langue invalide : « FR » (ex. fr, en, it)",
        (5, "extra"): "champ inconnu : extra",
        (9, "competences[0].description.fr"): "le texte ne doit pas être vide",
        (
            10,
            "competences[0].pictogram",
        ): "code invalide : lettres minuscules sans accent, chiffres et tirets (ex. s-adapter)",
        (
            11,
            "competences[0].alignments[0].url",
        ): "adresse web invalide : elle doit commencer par https://",
    }


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (
            "code: x\nversion: 1\nkind: situations\nname: {fr: a, no: b}\n",
            4,
            "name",
            "entre guillemets",
        ),
        ("code: x\n---\ncode: y\n", 2, "(syntaxe)", "un seul document par fichier"),
    ],
)
def test_yaml_pitfalls_are_explained(text, line, field, message):
    issues = _issues_of(text)
    assert any((i.line, i.field) == (line, field) and message in i.message for i in issues)
