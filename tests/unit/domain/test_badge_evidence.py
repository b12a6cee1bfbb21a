"""The evidence narrative of an issued badge: facts only, in plain French (BDG-05).

It counts observations, observers and situations, names the generic kinds of situation in
a fixed order and the period in months. Its inputs are ids, enum values and dates, so its
words come from a closed vocabulary: a property test checks nothing else can appear.
"""

from __future__ import annotations

import re
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from app.domain.badges import (
    MONTHS_FR,
    SITUATION_KIND_WORDS,
    EvidenceFacts,
    evidence_narrative,
    month_fr,
)
from app.domain.enums import SituationType

P = SituationType.PRODUCTION
A = SituationType.ATELIER
F = SituationType.FORMATION
I = SituationType.IMMERSION  # noqa: E741
M = SituationType.MISE_EN_SITUATION
CLOSING = "Observations vérifiées par une personne chargée de la validation avant la délivrance."


def facts(level: int, *rows: tuple[int, int, SituationType, date]) -> EvidenceFacts:
    return EvidenceFacts.gather(level, rows)


def test_three_observations_by_two_people_in_two_kinds_over_two_months():
    text = evidence_narrative(
        facts(
            4,
            (7, 1, P, date(2026, 10, 20)),
            (9, 2, A, date(2026, 10, 29)),
            (7, 2, A, date(2026, 11, 10)),
        )
    )
    assert text == (
        "Compétence observée 3 fois au niveau 4 ou plus, par 2 personnes différentes qui "
        "encadrent le travail, dans 2 situations de travail réelles (production, atelier), "
        f"entre octobre 2026 et novembre 2026. {CLOSING}"
    )


def test_one_observation_reads_in_the_singular():
    text = evidence_narrative(facts(3, (7, 1, I, date(2026, 3, 2))))
    assert text == (
        "Compétence observée 1 fois au niveau 3 ou plus, par 1 personne qui encadre le "
        "travail, dans 1 situation de travail réelle (immersion en entreprise), en mars 2026. "
        f"{CLOSING}"
    )


def test_observations_in_one_month_give_that_month_only():
    text = evidence_narrative(facts(5, (1, 1, P, date(2026, 2, 1)), (2, 2, P, date(2026, 2, 28))))
    assert "en février 2026." in text
    assert "entre" not in text
    assert "(production)" in text  # one kind, said once


def test_a_period_across_the_new_year_names_both_years():
    text = evidence_narrative(facts(3, (1, 1, P, date(2026, 1, 3)), (2, 2, P, date(2025, 12, 30))))
    assert "entre décembre 2025 et janvier 2026." in text


def test_the_same_month_of_another_year_is_a_range():
    text = evidence_narrative(facts(3, (1, 1, P, date(2025, 5, 3)), (2, 2, P, date(2026, 5, 3))))
    assert "entre mai 2025 et mai 2026." in text


def test_kinds_follow_the_fixed_order_whatever_the_order_observed():
    rows = [
        (1, 1, A, date(2026, 1, 1)),
        (2, 2, F, date(2026, 1, 2)),
        (3, 3, I, date(2026, 1, 3)),
        (4, 4, M, date(2026, 1, 4)),
        (5, 5, P, date(2026, 1, 5)),
    ]
    expected = "(production, mise en situation, immersion en entreprise, formation, atelier)"
    assert expected in evidence_narrative(facts(3, *rows))
    assert expected in evidence_narrative(facts(3, *reversed(rows)))


def test_repeated_observers_situations_and_kinds_are_counted_once():
    found = facts(
        3,
        (7, 1, P, date(2026, 4, 9)),
        (7, 1, P, date(2026, 4, 1)),
        (7, 1, P, date(2026, 4, 5)),
    )
    assert found.observers == {7} and found.situations == {1} and found.kinds == {P}
    assert found.days == (date(2026, 4, 1), date(2026, 4, 5), date(2026, 4, 9))
    text = evidence_narrative(found)
    assert text.startswith("Compétence observée 3 fois au niveau 3 ou plus, par 1 personne ")
    assert "dans 1 situation de travail réelle (production), en avril 2026." in text


def test_a_decision_without_observations_says_it_was_recognised_and_reviewed():
    assert evidence_narrative(facts(4)) == (
        "Compétence reconnue au niveau 4 par la structure, après examen par une personne "
        "chargée de la validation."
    )


def test_every_kind_has_words_and_every_month_its_name():
    assert set(SITUATION_KIND_WORDS) == set(SituationType)
    assert [month_fr(date(2026, m, 1)) for m in (1, 8, 12)] == [
        "janvier 2026",
        "août 2026",
        "décembre 2026",
    ]


# -- Closed vocabulary (BDG-05) ---------------------------------------------------------------

_FIXED = (
    "Compétence observée",
    "fois au niveau",
    "ou plus, par",
    "personnes différentes",
    "personne",
    "qui encadrent le travail, dans",
    "qui encadre le travail, dans",
    "situations de travail réelles",
    "situation de travail réelle",
    "Compétence reconnue au niveau",
    "par la structure, après examen par une personne chargée de la validation.",
    CLOSING,
    "entre",
    "et",
    "en",
)
_WORDS = sorted([*_FIXED, *SITUATION_KIND_WORDS.values(), *MONTHS_FR], key=len, reverse=True)
_VOCABULARY = re.compile("|".join(re.escape(w) for w in _WORDS) + r"|\d+|[ ,.()]")

rows = st.tuples(
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=1, max_value=10**9),
    st.sampled_from(list(SituationType)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
)


@given(level=st.integers(min_value=3, max_value=5), items=st.lists(rows, max_size=12))
def test_the_narrative_uses_only_counts_kinds_months_and_fixed_words(level, items):
    found = facts(level, *items)
    text = evidence_narrative(found)
    assert _VOCABULARY.sub("", text) == ""
    # ids never leak: only counts, the level and years are numbers in the text
    numbers = {int(n) for n in re.findall(r"\d+", text)}
    allowed = {level, len(found.days), len(found.observers), len(found.situations)}
    allowed |= {d.year for d in found.days}
    assert numbers <= allowed
