"""Pure rules of self-assessment, side by side and reviews (app.domain.progress)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.progress import (
    FORMAT_LEVELS,
    FORMAT_PICTOS,
    Change,
    GoalSnapshot,
    InvalidChoice,
    ObservationFact,
    ObservationSummary,
    ReviewSnapshot,
    choice,
    choices_for,
    review_changes,
    review_status,
    strengths_first,
    summarize,
)

SCALE = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "referentials" / "scale.yaml").read_text("utf-8")
)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


# --- Choices ----------------------------------------------------------------------------


def test_three_pictogram_choices_cover_the_five_levels_in_worker_words():
    choices = choices_for(FORMAT_PICTOS, SCALE)
    assert [(c.level_min, c.level_max) for c in choices] == [(1, 2), (3, 3), (4, 5)]
    assert all(c.pictogram for c in choices)
    assert len({c.pictogram for c in choices}) == 3
    assert [c.label["fr"] for c in choices][1] == "Je sais faire"
    assert not any(ch.isdigit() for c in choices for ch in c.label["fr"])


def test_five_levels_are_offered_one_by_one_in_worker_words():
    choices = choices_for(FORMAT_LEVELS, SCALE)
    assert [(c.level_min, c.level_max) for c in choices] == [(n, n) for n in range(1, 6)]
    assert choices[0].label["fr"] == "Je découvre"
    assert all(c.pictogram is None for c in choices)
    assert not any(ch.isdigit() for c in choices for ch in c.label["fr"])


def test_an_unknown_format_or_choice_is_refused():
    with pytest.raises(InvalidChoice):
        choices_for("stars10", SCALE)
    choices = choices_for(FORMAT_PICTOS, SCALE)
    assert choice(choices, "je-fais-seul").level_max == 5
    with pytest.raises(InvalidChoice):
        choice(choices, "niveau-3")


# --- Summaries --------------------------------------------------------------------------

facts_strategy = st.lists(
    st.builds(
        ObservationFact,
        competence_id=st.integers(1, 3),
        level=st.one_of(st.none(), st.integers(1, 5)),
        observer_id=st.integers(1, 4),
        situation_id=st.integers(1, 3),
        observed_at=st.integers(0, 20).map(lambda d: T0 + timedelta(days=d)),
        withdrawn=st.booleans(),
    ),
    max_size=40,
)


@settings(database=None, max_examples=200)
@given(facts_strategy)
def test_summaries_equal_counts_computed_independently(facts):
    summaries = summarize(facts)
    kept = [f for f in facts if not f.withdrawn and f.level is not None]
    assert set(summaries) == {f.competence_id for f in kept}
    for cid, summary in summaries.items():
        mine = [f for f in kept if f.competence_id == cid]
        assert summary.count == len(mine)
        assert summary.levels == Counter(f.level for f in mine)
        assert summary.observers == {f.observer_id for f in mine}
        assert summary.situations == {f.situation_id for f in mine}
        assert summary.first_at == min(f.observed_at for f in mine)
        assert summary.last_at == max(f.observed_at for f in mine)
        assert summary.best_level == max(f.level for f in mine)
        assert summary.usable == any(f.level >= 3 for f in mine)
        assert summary.last_level in {f.level for f in mine if f.observed_at == summary.last_at}


@settings(database=None, max_examples=200)
@given(st.data(), facts_strategy)
def test_summaries_do_not_depend_on_the_order_of_the_facts(data, facts):
    shuffled = data.draw(st.permutations(facts))
    assert summarize(shuffled) == summarize(facts)


def test_withdrawn_and_not_observed_records_count_for_nothing():
    facts = [
        ObservationFact(1, None, 1, 1, T0),
        ObservationFact(1, 4, 1, 1, T0, withdrawn=True),
        ObservationFact(2, 2, 1, 1, T0),
    ]
    assert set(summarize(facts)) == {2}


def test_progress_is_a_gain_over_the_first_level_and_never_a_loss():
    facts = [
        ObservationFact(1, 2, 1, 1, T0),
        ObservationFact(1, 4, 2, 1, T0 + timedelta(days=3)),
        ObservationFact(1, 3, 2, 2, T0 + timedelta(days=9)),
        ObservationFact(2, 4, 1, 1, T0),
        ObservationFact(2, 3, 1, 1, T0 + timedelta(days=1)),
    ]
    summaries = summarize(facts)
    assert (summaries[1].first_level, summaries[1].best_level, summaries[1].last_level) == (2, 4, 3)
    assert summaries[1].progressed
    assert not summaries[2].progressed  # seen lower after: not shown as progress, nor as loss
    assert not ObservationSummary().progressed


def test_strengths_come_first_then_other_observed_then_the_rest_in_grid_order():
    facts = [
        ObservationFact(10, 2, 1, 1, T0),
        ObservationFact(20, 3, 1, 1, T0),
        ObservationFact(30, 5, 1, 1, T0),
        ObservationFact(50, 1, 1, 1, T0),
    ]
    order = strengths_first([10, 20, 30, 40, 50, 60], summarize(facts))
    assert order == [30, 20, 10, 50, 40, 60]


# --- Reviews ----------------------------------------------------------------------------


def review(goals=(), steps="Préparer le chantier.", next_on=date(2026, 12, 1)):  # type: ignore[no-untyped-def]
    return ReviewSnapshot(date(2026, 11, 2), next_on, steps, tuple(goals))


def test_the_first_review_lists_its_goals_as_new():
    goals = [GoalSnapshot(1, "professionnel", 3, ""), GoalSnapshot(2, "personnel", None, "")]
    assert review_changes(None, review(goals)) == [Change("goal_added", 1), Change("goal_added", 2)]


def test_changes_name_goals_added_removed_and_changed_then_steps_and_date():
    before = review(
        [GoalSnapshot(1, "professionnel", 3, ""), GoalSnapshot(2, "personnel", None, "Parler")],
        steps="Préparer le chantier.",
        next_on=date(2026, 12, 1),
    )
    after = review(
        [GoalSnapshot(2, "personnel", 4, "Parler"), GoalSnapshot(3, "accompagnement", None, "")],
        steps="Préparer le chantier suivant.",
        next_on=date(2026, 12, 15),
    )
    assert review_changes(before, after) == [
        Change("goal_added", 3),
        Change("goal_removed", 1),
        Change("goal_changed", 2),
        Change("steps_changed"),
        Change("date_changed"),
    ]


def test_the_same_review_again_changes_nothing_even_with_other_spacing():
    goals = [GoalSnapshot(1, "professionnel", 3, "")]
    assert review_changes(review(goals), review(goals, steps="  Préparer le chantier. ")) == []


@pytest.mark.parametrize(
    ("next_on", "expected"),
    [
        (None, None),
        (date(2026, 11, 1), "overdue"),
        (date(2026, 11, 2), "soon"),
        (date(2026, 11, 9), "soon"),
        (date(2026, 11, 10), None),
    ],
)
def test_review_status_for_the_conseillers_home(next_on, expected):
    assert review_status(next_on, date(2026, 11, 2)) == expected
