"""The §5 wording scan and the REF-09 deficit-phrasing lint (pure, no database)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import wording
from app.domain.wording import BLOCKED_EN, BLOCKED_FR, BLOCKED_IT, REVIEW, scan

ALL_BLOCKED = BLOCKED_FR + BLOCKED_EN + BLOCKED_IT


def blocked(text: str) -> list[wording.WordingHit]:
    return [hit for hit in scan(text) if hit.kind == "blocked"]


def plain_form(term: str) -> str:
    """The list entry as one would write it: "éloigné(e)s de l'emploi" → "éloignés de l'emploi"."""
    return term.replace("(e)", "")


def test_the_lists_are_those_of_section_5():
    assert len(BLOCKED_FR) == 35 and len(BLOCKED_EN) == 12 and len(BLOCKED_IT) == 9
    assert "chantier d'insertion" in BLOCKED_FR and "CDDI" in BLOCKED_FR
    assert REVIEW[0] == "insertion" and "manque" in REVIEW


@pytest.mark.parametrize("term", ALL_BLOCKED)
def test_every_blocked_term_is_found_in_a_sentence(term):
    text = f"Texte public : {plain_form(term)}, fin."
    hits = blocked(text)
    assert len(hits) == 1
    assert hits[0].matched.casefold() == plain_form(term).casefold()


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("Les Détenus du site", "Détenus"),
        ("une personne handicapée", "handicapée"),
        ("des personnes éloignées de l'emploi", "éloignées de l'emploi"),
        ("Éloignés de l’emploi", "Éloignés de l’emploi"),
        ("ELOIGNE DE L EMPLOI", "ELOIGNE DE L EMPLOI"),
        ("des chômeuses de longue durée", "chômeuses de longue durée"),
        ("deux demandeurs d'asile", "demandeurs d'asile"),
        ("réfugiées", "réfugiées"),
        ("DÉTENUE", "DÉTENUE"),
        ("un SDF", "SDF"),
        ("un sdf", "sdf"),
        ("sans abri", "sans abri"),
        ("Chantiers d’insertion", "Chantiers d’insertion"),
        ("former Inmates", "Inmates"),
        ("Long-term unemployed adults", "Long-term unemployed"),
        ("persone detenute", "detenute"),
        ("le carceri", "carceri"),
        ("disoccupati di lunga durata", "disoccupati di lunga durata"),
        ("percorsi di inserimento lavorativo", "inserimento lavorativo"),
    ],
)
def test_inflected_and_unaccented_forms_are_found(text, matched):
    hits = blocked(text)
    assert [hit.matched for hit in hits] == [matched]


@pytest.mark.parametrize(
    "text",
    [
        "une conversation",
        "un sol traversable",
        "SDFG",
        "sdf2",
        "des détentes",
        "un casse-tête",
        "probationary",
        "réinsérer",
        "Arrive à l'heure et respecte les temps de pause",
    ],
)
def test_terms_inside_unrelated_words_are_not_found(text):
    assert blocked(text) == []


def test_positions_point_into_the_original_text_even_with_decomposed_accents():
    text = unicodedata.normalize("NFD", "Avant : ancien détenu, puis salarié.")
    (hit,) = scan(text)
    assert text[hit.start : hit.end] == hit.matched
    assert unicodedata.normalize("NFC", hit.matched) == "détenu"
    assert hit.term == "détenu" and hit.lang == "fr"


def test_a_term_listed_in_two_languages_is_reported_once():
    assert [hit.term for hit in scan("prison")] == ["prison"]
    assert len(scan("NEET")) == 1


def test_review_terms_are_reported_as_review():
    hits = scan("Motivation et comportements ; difficultés ; Manque de temps")
    assert [(hit.kind, hit.term) for hit in hits] == [
        ("review", "motivation"),
        ("review", "comportement"),
        ("review", "difficulté"),
        ("review", "manque"),
    ]


def test_a_review_term_inside_a_blocked_term_is_not_reported_twice():
    assert [(h.kind, h.term) for h in scan("un chantier d'insertion")] == [
        ("blocked", "chantier d'insertion")
    ]
    assert [(h.kind, h.term) for h in scan("l'insertion")] == [("review", "insertion")]


def test_blocked_terms_helper():
    assert wording.blocked_terms("RSA et RQTH") == ["RSA", "RQTH"]
    assert wording.blocked_terms("Range son poste") == []


@pytest.mark.parametrize(
    "text",
    [
        "Ne pas fumer à la prise de service",
        "ne sait pas lire un plan",
        "Manque de ponctualité",
        "manque d'autonomie",
        "  - N'arrive pas à l'heure",
        "« Ne fume jamais »",
        "Does not follow instructions",
        "Lacks focus",
        "Non rispetta gli orari",
    ],
)
def test_deficit_phrasing_is_flagged(text):
    assert wording.is_deficit_phrasing(text)


@pytest.mark.parametrize(
    "text",
    [
        "Arrive à l'heure et respecte les temps de pause",
        "Termine une tâche connue sans rappel",
        "Signale ce qui manque avant la tâche",
        "Nettoie le poste",
        "Garde son calme",
        "Fume seulement pendant les pauses",
        "Neutralise la zone de travail",
    ],
)
def test_positive_phrasing_is_not_flagged(text):
    assert not wording.is_deficit_phrasing(text)


# --- Properties --------------------------------------------------------------------------

SAFE_WORDS = (
    "Arrive",
    "à",
    "l'heure",
    "range",
    "son",
    "poste",
    "aide",
    "un",
    "collègue",
    "et",
    "partage",
    "les",
    "tâches",
    "prépare",
    "le",
    "matériel",
    "avant",
    "la",
    "équipe",
    "client",
    "outil",
    "plan",
    "jardin",
    "cuisine",
    "propre",
    "calme",
    "Vérifie",
    "travail",
    "semaine",
    "conversation",
    "traversable",
    "service",
    "pause",
    "Équipe",
    "ordre",
    "—",
    ",",
)


@settings(database=None, max_examples=200)
@given(st.lists(st.sampled_from(SAFE_WORDS), max_size=30))
def test_text_made_of_safe_words_has_no_hit(words):
    assert scan(" ".join(words)) == []


@settings(database=None, max_examples=300)
@given(
    words=st.lists(st.sampled_from(SAFE_WORDS), max_size=20),
    term=st.sampled_from(ALL_BLOCKED),
    position=st.integers(min_value=0, max_value=20),
    upper=st.booleans(),
)
def test_a_blocked_term_inserted_anywhere_is_found(words, term, position, upper):
    form = plain_form(term).upper() if upper else plain_form(term)
    position = min(position, len(words))
    before = " ".join(words[:position])
    text = " ".join(filter(None, [before, form, " ".join(words[position:])]))
    start = len(before) + 1 if before else 0
    hits = blocked(text)
    assert [(hit.start, hit.end) for hit in hits] == [(start, start + len(form))]


@settings(database=None, max_examples=200)
@given(st.text(max_size=80))
def test_hit_positions_always_match_the_text(text):
    for hit in scan(text):
        assert text[hit.start : hit.end] == hit.matched
        assert re.search(r"\S", hit.matched)
