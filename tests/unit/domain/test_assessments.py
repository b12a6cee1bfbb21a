"""Table-driven tests of the assessment engine, one criterion at a time (issue #7, ASM-01..04).

Days are local days in the structure's time zone: the Europe/Paris cases straddle the two
DST changes of 2026 (29 March, 25 October), where 24 hours are not one local day.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from app.domain.assessments import (
    Assessment,
    Criteria,
    CriterionResult,
    Evidence,
    Status,
    evaluate,
)
from app.domain.wording import blocked_terms

PARIS = "Europe/Paris"
NOW = "2026-06-30T10:00Z"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ev(oid, level, when, observer="obs-a", situation="sit-1", withdrawn=False) -> Evidence:
    return Evidence(oid, level, observer, situation, at(when), withdrawn)


def assess(criteria, evidence, now=NOW, tz=PARIS, self_done=False) -> Assessment:
    return evaluate(criteria, evidence, now=at(now), timezone=tz, has_self_assessment=self_done)


def crit(assessment: Assessment, code: str) -> CriterionResult:
    (result,) = [c for c in assessment.criteria if c.code == code]
    return result


def loose(**changes) -> Criteria:
    """Criteria where only the criterion under test bites (and the two-observation floor)."""
    base = {"distinct_observers": 1, "distinct_situations": 1, "min_span_days": 0}
    return Criteria(**{**base, **changes})


def pair(first: str, second: str, level=3) -> list[Evidence]:
    return [ev("e1", level, first, "obs-a", "sit-1"), ev("e2", level, second, "obs-b", "sit-2")]


# --- Status ---------------------------------------------------------------------------------


def test_default_criteria_met_by_two_observers_in_two_situations_over_fourteen_days():
    result = assess(Criteria(), pair("2026-06-01T08:00Z", "2026-06-15T08:00Z"))
    assert result.status is Status.CRITERIA_MET
    assert [c.code for c in result.criteria] == ["observations", "observers", "situations", "span"]
    assert [c.staff_text for c in result.criteria] == [
        "2 observations au niveau visé sur 2 requises ✓",
        "2 observateur·rices sur 2 requis·es ✓",
        "2 situations de travail sur 2 requises ✓",
        "14 jours entre la première et la dernière observation sur 14 requis ✓",
    ]
    assert result.worker_steps == [] and result.used == ("e1", "e2")


@pytest.mark.parametrize(
    ("evidence", "status"),
    [
        ([], Status.NOT_STARTED),
        ([ev("e1", None, "2026-06-01T08:00Z")], Status.NOT_STARTED),
        ([ev("e1", 4, "2026-06-01T08:00Z", withdrawn=True)], Status.NOT_STARTED),
        ([ev("e1", 4, "2026-07-01T08:00Z")], Status.NOT_STARTED),  # future-dated
        ([ev("e1", 1, "2026-06-01T08:00Z")], Status.IN_PROGRESS),  # below the level
        ([ev("e1", 5, "2026-06-01T08:00Z")], Status.IN_PROGRESS),
    ],
)
def test_status_before_criteria_are_met(evidence, status):
    assert assess(Criteria(), evidence).status is status


@pytest.mark.parametrize(
    "criteria",
    [
        Criteria(),
        Criteria(min_observations=1, distinct_observers=1, distinct_situations=1, min_span_days=0),
        Criteria(min_observations=0, distinct_observers=0, distinct_situations=0, min_span_days=0),
    ],
)
def test_a_single_observation_never_suffices_asm04(criteria):
    result = assess(criteria, [ev("e1", 5, "2026-06-01T08:00Z")])
    assert result.status is Status.IN_PROGRESS
    assert crit(result, "observations").target == 2 and not crit(result, "observations").met
    assert assess(criteria, []).status is Status.NOT_STARTED


# --- Observations at or above the level -----------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "found", "met"),
    [
        ((3, 3, 3), 3, True),  # exactly at the threshold, each exactly at the level
        ((3, 3, 2), 2, False),  # one below: a level 2 does not count
        ((5, 4, None), 2, False),  # « non observé » is not a level
        ((5, 5, 5, 1), 3, True),
    ],
)
def test_observations_at_or_above_the_level(levels, found, met):
    evidence = [ev(f"e{i}", lv, f"2026-06-0{i + 1}T08:00Z") for i, lv in enumerate(levels)]
    result = crit(assess(Criteria(min_observations=3, min_span_days=0), evidence), "observations")
    assert (result.target, result.found, result.met) == (3, found, met)


def test_min_level_is_the_threshold_of_every_count():
    evidence = pair("2026-06-01T08:00Z", "2026-06-20T08:00Z", level=4)
    assert assess(Criteria(min_level=4), evidence).status is Status.CRITERIA_MET
    assert assess(Criteria(min_level=5), evidence).status is Status.IN_PROGRESS


# --- Distinct observers and situations ------------------------------------------------------


@pytest.mark.parametrize(
    ("observers", "found", "met"),
    [(("a", "b"), 2, True), (("a", "a"), 1, False), (("a", "a", "b"), 2, True)],
)
def test_distinct_observers(observers, found, met):
    evidence = [ev(f"e{i}", 3, "2026-06-01T08:00Z", obs) for i, obs in enumerate(observers)]
    result = crit(assess(loose(distinct_observers=2), evidence), "observers")
    assert (result.found, result.met) == (found, met)


def test_an_observer_counts_only_through_observations_at_the_level():
    evidence = [
        ev("e1", 3, "2026-06-01T08:00Z", "obs-a"),
        ev("e2", 3, "2026-06-02T08:00Z", "obs-a"),
        ev("e3", 2, "2026-06-03T08:00Z", "obs-b"),
    ]
    assert crit(assess(Criteria(), evidence), "observers").found == 1


@pytest.mark.parametrize(
    ("situations", "found", "met"),
    [(("s1", "s2", "s3", "s4"), 4, True), (("s1", "s2", "s3", "s3"), 3, False)],
)
def test_distinct_situations(situations, found, met):
    evidence = [
        ev(f"e{i}", 4, "2026-06-01T08:00Z", "obs-a", sit) for i, sit in enumerate(situations)
    ]
    result = crit(assess(Criteria(distinct_situations=4, min_span_days=0), evidence), "situations")
    assert (result.found, result.met) == (found, met)
    assert (
        result.staff_text == f"{found} situations de travail sur 4 requises {'✓' if met else '✗'}"
    )


# --- Span, in local days --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "tz", "span"),
    [
        ("2026-06-01T08:00Z", "2026-06-01T08:00Z", PARIS, 0),  # equal dates
        ("2026-06-01T04:00Z", "2026-06-01T21:00Z", PARIS, 0),  # same local day
        ("2026-06-01T21:59Z", "2026-06-01T22:00Z", PARIS, 1),  # one minute, across midnight
        ("2026-03-28T23:30Z", "2026-03-29T22:30Z", PARIS, 1),  # spring forward
        ("2026-03-28T22:30Z", "2026-03-29T22:30Z", PARIS, 2),  # 24 h, two local days
        ("2026-10-24T22:30Z", "2026-10-25T23:30Z", PARIS, 1),  # fall back
        ("2026-10-24T22:30Z", "2026-10-25T22:30Z", PARIS, 0),  # 24 h in a 25-hour day
        ("2026-03-21T00:30Z", "2026-04-03T22:30Z", PARIS, 14),  # 13 UTC days apart
        ("2026-03-20T23:30Z", "2026-04-03T21:30Z", PARIS, 13),  # 14 UTC days apart
        ("2026-03-21T00:30Z", "2026-04-03T22:30Z", "UTC", 13),
        ("2026-03-20T23:30Z", "2026-04-03T21:30Z", "UTC", 14),
        ("2026-06-01T13:30Z", "2026-06-15T12:30Z", "Pacific/Noumea", 13),  # UTC+11
    ],
)
def test_span_counts_local_days(first, last, tz, span):
    result = assess(Criteria(), pair(first, last), now="2026-12-31T12:00Z", tz=tz)
    assert result.used == ("e1", "e2")
    assert (crit(result, "span").found, crit(result, "span").met) == (span, span >= 14)


def test_span_is_measured_between_observations_at_the_level_only():
    evidence = pair("2026-06-10T08:00Z", "2026-06-12T08:00Z") + [ev("e0", 2, "2026-05-01T08:00Z")]
    assert crit(assess(Criteria(), evidence), "span").found == 2


# --- Recency: max_age_days, in local days relative to now -----------------------------------


AGES = [
    ("2026-04-03T21:30Z", "2026-04-10T22:30Z", PARIS, 8),  # 7 UTC days
    ("2026-04-03T21:30Z", "2026-04-10T22:30Z", "UTC", 7),
    ("2026-04-10T21:59Z", "2026-04-10T22:30Z", PARIS, 1),  # 31 minutes, across midnight
    ("2026-04-10T22:00Z", "2026-04-10T22:30Z", PARIS, 0),
    ("2026-03-28T23:30Z", "2026-03-29T22:30Z", PARIS, 1),  # spring forward
    ("2026-10-24T22:30Z", "2026-10-25T22:30Z", PARIS, 0),  # fall back: same local day
    ("2026-04-10T22:30Z", "2026-04-10T22:30Z", PARIS, 0),  # observed exactly at now
]


@pytest.mark.parametrize(
    ("last", "now", "tz", "age", "max_age"),
    # At the threshold, one day more than the age, and one day less (when there is one).
    [(*case, case[3] + d) for case in AGES for d in (-1, 0, 1) if case[3] + d >= 0],
)
def test_max_age_in_local_days(last, now, tz, age, max_age):
    evidence = [ev("e1", 3, "2026-03-01T08:00Z"), ev("e2", 3, last, "obs-b", "sit-2")]
    result = crit(assess(loose(max_age_days=max_age), evidence, now, tz), "max_age")
    assert (result.target, result.found, result.met) == (max_age, age, age <= max_age)


def test_max_age_looks_at_the_last_observation_at_the_level():
    evidence = [
        ev("e1", 3, "2026-06-01T08:00Z"),
        ev("e2", 4, "2026-06-10T08:00Z", "obs-b"),
        ev("e3", 1, "2026-06-29T08:00Z", "obs-b"),  # recent but below the level
    ]
    result = assess(loose(max_age_days=10), evidence)
    assert crit(result, "max_age").found == 20 and result.status is Status.IN_PROGRESS
    assert crit(result, "max_age").worker_text == "Il faut une observation récente."


def test_max_age_without_any_observation_at_the_level_is_not_met():
    result = assess(loose(max_age_days=30), [ev("e1", 2, "2026-06-29T08:00Z")])
    assert not crit(result, "max_age").met


# --- Latest K observations must hold the level ----------------------------------------------


def chronological(levels, start_day=1) -> list[Evidence]:
    return [
        ev(f"e{i}", lv, f"2026-06-{start_day + i:02d}T08:00Z", f"obs-{i % 2}", f"sit-{i % 2}")
        for i, lv in enumerate(levels)
    ]


@pytest.mark.parametrize(
    ("levels", "held", "met"),
    [
        ((4, 4, 2), 1, False),  # a lower last observation
        ((2, 4, 4), 2, True),  # an early low one is history
        ((4, 2, 4), 1, False),
        ((4, 4, None), 2, True),  # « non observé » is not a lower observation
        ((4,), 1, False),  # fewer than K observations
    ],
)
def test_hold_latest(levels, held, met):
    result = assess(loose(hold_latest=2), chronological(levels))
    assert (crit(result, "hold_latest").found, crit(result, "hold_latest").met) == (held, met)


def test_hold_latest_ignores_withdrawn_and_future_lower_observations():
    evidence = chronological((4, 4)) + [
        ev("late", 1, "2026-06-20T08:00Z", withdrawn=True),
        ev("future", 1, "2026-07-02T08:00Z"),
    ]
    assert assess(loose(hold_latest=2), evidence).status is Status.CRITERIA_MET


def test_a_lower_last_observation_undoes_criteria_met():
    criteria = loose(hold_latest=1)
    evidence = chronological((4, 4))
    assert assess(criteria, evidence).status is Status.CRITERIA_MET
    lower = assess(criteria, evidence + chronological((2,), start_day=10))
    assert lower.status is Status.IN_PROGRESS
    assert [c.code for c in lower.criteria if not c.met] == ["hold_latest"]


# --- Self-assessment ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("required", "done", "status", "text"),
    [
        (True, True, Status.CRITERIA_MET, "Auto-évaluation faite ✓"),
        (True, False, Status.IN_PROGRESS, "Auto-évaluation à faire ✗"),
        (False, False, Status.CRITERIA_MET, None),
        (False, True, Status.CRITERIA_MET, None),
    ],
)
def test_self_assessment_required(required, done, status, text):
    criteria = loose(self_assessment_required=required)
    result = assess(criteria, chronological((3, 3)), self_done=done)
    assert result.status is status
    codes = [c.code for c in result.criteria]
    assert ("self_assessment" in codes) == required
    if required:
        assert crit(result, "self_assessment").staff_text == text
    if required and not done:
        assert result.worker_steps == ["Faites votre auto-évaluation."]


# --- Corrected, withdrawn and future evidence -----------------------------------------------


def test_a_corrected_observation_counts_in_its_latest_version_only():
    original = pair("2026-06-01T08:00Z", "2026-06-15T08:00Z", level=4)
    assert assess(Criteria(), original).status is Status.CRITERIA_MET
    corrected = [original[0], Evidence("e2", 2, "obs-b", "sit-2", original[1].observed_at)]
    result = assess(Criteria(), corrected)  # the caller passes the latest version: 4 → 2
    assert result.status is Status.IN_PROGRESS and result.used == ("e1",)
    assert {c.code: c.found for c in result.criteria} == {
        "observations": 1,
        "observers": 1,
        "situations": 1,
        "span": 0,
    }


def test_a_withdrawn_observation_no_longer_counts():
    evidence = pair("2026-06-01T08:00Z", "2026-06-15T08:00Z")
    withdrawn = [evidence[0], Evidence("e2", 3, "obs-b", "sit-2", evidence[1].observed_at, True)]
    result = assess(Criteria(), withdrawn)
    assert result.status is Status.IN_PROGRESS and result.used == ("e1",)
    assert crit(result, "observers").found == 1


def test_evidence_observed_exactly_at_now_counts_and_a_second_later_does_not():
    evidence = pair("2026-06-01T08:00Z", "2026-06-15T08:00Z")
    assert assess(Criteria(), evidence, now="2026-06-15T08:00Z").status is Status.CRITERIA_MET
    assert assess(Criteria(), evidence, now="2026-06-15T07:59:59Z").status is Status.IN_PROGRESS


# --- Texts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "target", "found", "staff", "worker"),
    [
        ("observers", 2, 2, "2 observateur·rices sur 2 requis·es ✓", None),
        (
            "observers",
            2,
            1,
            "1 observateur·rices sur 2 requis·es ✗",
            "Encore une personne doit vous observer.",
        ),
        (
            "observers",
            3,
            0,
            "0 observateur·rices sur 3 requis·es ✗",
            "Encore 3 personnes doivent vous observer.",
        ),
        (
            "situations",
            4,
            3,
            "3 situations de travail sur 4 requises ✗",
            "Encore une situation de travail à observer.",
        ),
        (
            "situations",
            4,
            2,
            "2 situations de travail sur 4 requises ✗",
            "Encore 2 situations de travail à observer.",
        ),
        (
            "observations",
            2,
            1,
            "1 observations au niveau visé sur 2 requises ✗",
            "Encore une observation à faire.",
        ),
        (
            "span",
            14,
            3,
            "3 jours entre la première et la dernière observation sur 14 requis ✗",
            "Continuez : il faut un peu plus de temps.",
        ),
        (
            "hold_latest",
            2,
            1,
            "1 dernières observations au niveau sur 2 requises ✗",
            "Continuez : les prochaines observations comptent.",
        ),
    ],
)
def test_staff_and_worker_texts(code, target, found, staff, worker):
    result = CriterionResult(code, target, found, found >= target)
    assert result.staff_text == staff
    assert result.worker_text == worker


def test_worker_steps_read_in_criterion_order():
    result = assess(Criteria(distinct_situations=4), [ev("e1", 5, "2026-06-01T08:00Z")])
    assert result.worker_steps == [
        "Encore une observation à faire.",
        "Encore une personne doit vous observer.",
        "Encore 3 situations de travail à observer.",
        "Continuez : il faut un peu plus de temps.",
    ]


CODES = (
    "observations",
    "observers",
    "situations",
    "span",
    "max_age",
    "self_assessment",
    "hold_latest",
)


@pytest.mark.parametrize("code", CODES)
def test_worker_texts_show_no_level_and_no_blocked_word(code):
    """The only number a worker may read is how many are missing, and only from two on."""
    for target in range(1, 16):
        for found in range(target):
            text = CriterionResult(code, target, found, False).worker_text
            assert text and not blocked_terms(text)
            assert "niveau" not in text.lower()
            numbers = re.findall(r"\d+", text)
            assert numbers in ([], [str(target - found)]) and "1" not in numbers
