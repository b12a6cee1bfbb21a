"""Property-based tests of the assessment engine (issue #7; ASM-02, ASM-03, ASM-04).

Counts are recomputed here independently of ``app.domain.assessments`` (local days through
``datetime.fromtimestamp`` rather than ``astimezone``) and compared with the explanation.
Every run is deterministic: ``derandomize=True``, no example database, no deadline.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.assessments import (
    MIN_OBSERVATIONS_FLOOR,
    Assessment,
    Criteria,
    Evidence,
    Status,
    evaluate,
)
from app.domain.wording import blocked_terms

PROPS = settings(max_examples=100, deadline=None, derandomize=True, database=None)
ZONES = (
    "Europe/Paris",
    "UTC",
    "Pacific/Auckland",
    "Pacific/Noumea",
    "America/Cayenne",
    "America/Sao_Paulo",
    "Indian/Reunion",
)
START = datetime(2026, 3, 1, tzinfo=UTC)  # the window holds both DST changes of 2026
LAST_DAY = 245
#: Minutes after UTC midnight that fall just before or after a local midnight somewhere.
EDGE_MINUTES = (0, 1, 59, 60, 21 * 60 + 59, 22 * 60, 22 * 60 + 30, 23 * 60, 23 * 60 + 30, 1439)

zones = st.sampled_from(ZONES)
moments = st.builds(
    lambda day, minute: START + timedelta(days=day, minutes=minute),
    st.integers(0, LAST_DAY),
    st.one_of(st.sampled_from(EDGE_MINUTES), st.integers(0, 1439)),
)
levels = st.sampled_from((None, 1, 2, 3, 4, 5))
rows = st.tuples(
    levels,
    st.sampled_from(("obs-a", "obs-b", "obs-c", "obs-d")),
    st.sampled_from(("sit-1", "sit-2", "sit-3")),
    moments,
    st.integers(0, 4).map(lambda n: n == 0),  # withdrawn, one time in five
)


def to_evidence(prefix: str, drawn: list[tuple]) -> list[Evidence]:
    return [
        Evidence(f"{prefix}{i}", level, observer, situation, at, withdrawn)
        for i, (level, observer, situation, at, withdrawn) in enumerate(drawn)
    ]


evidence_lists = st.lists(rows, max_size=12).map(lambda drawn: to_evidence("e", drawn))
criteria_values = st.builds(
    Criteria,
    min_level=st.integers(1, 5),
    min_observations=st.integers(0, 4),
    distinct_observers=st.integers(0, 3),
    distinct_situations=st.integers(0, 3),
    min_span_days=st.integers(0, 20),
    max_age_days=st.none() | st.integers(0, 60),
    self_assessment_required=st.booleans(),
    hold_latest=st.none() | st.integers(0, 3),
)


@st.composite
def cases(draw, evidence=evidence_lists):
    """(criteria, evidence, now, time zone, has_self_assessment)."""
    return (
        draw(criteria_values),
        draw(evidence),
        draw(moments),
        draw(zones),
        draw(st.booleans()),
    )


def run(case, evidence=None, now=None) -> Assessment:
    criteria, base, drawn_now, tz, has_self = case
    return evaluate(
        criteria,
        base if evidence is None else evidence,
        now=drawn_now if now is None else now,
        timezone=tz,
        has_self_assessment=has_self,
    )


def found(assessment: Assessment) -> dict[str, int]:
    return {c.code: c.found for c in assessment.criteria}


def failing(assessment: Assessment) -> set[str]:
    return {c.code for c in assessment.criteria if not c.met}


# --- The independent oracle -------------------------------------------------------------


def current(evidence, now) -> list[Evidence]:
    """Latest versions that count at all: not withdrawn, observed (a level), not future."""
    kept = [e for e in evidence if not e.withdrawn and e.level is not None and e.observed_at <= now]
    return sorted(kept, key=lambda e: (e.observed_at.timestamp(), e.observation_id))


def local_day(moment: datetime, tz: str):
    return datetime.fromtimestamp(moment.timestamp(), ZoneInfo(tz)).date()


def oracle(criteria: Criteria, evidence, now, tz, has_self) -> dict[str, tuple[int, int, bool]]:
    """Per criterion code: (target, found, met), computed without the engine."""
    live = current(evidence, now)
    counted = [e for e in live if e.level >= criteria.min_level]
    days = sorted({local_day(e.observed_at, tz) for e in counted})
    span = (days[-1] - days[0]).days if days else 0
    need = max(criteria.min_observations, MIN_OBSERVATIONS_FLOOR)
    observers = len({e.observer_id for e in counted})
    situations = len({e.situation_id for e in counted})
    out = {
        "observations": (need, len(counted), len(counted) >= need),
        "observers": (
            criteria.distinct_observers,
            observers,
            observers >= criteria.distinct_observers,
        ),
        "situations": (
            criteria.distinct_situations,
            situations,
            situations >= criteria.distinct_situations,
        ),
        "span": (criteria.min_span_days, span, span >= criteria.min_span_days),
    }
    if criteria.max_age_days is not None:
        if days:
            age = (local_day(now, tz) - days[-1]).days
            out["max_age"] = (criteria.max_age_days, age, age <= criteria.max_age_days)
        else:
            out["max_age"] = (criteria.max_age_days, None, False)
    if criteria.hold_latest:
        latest = live[-criteria.hold_latest :]
        held = sum(1 for e in latest if e.level >= criteria.min_level)
        ok = len(latest) == criteria.hold_latest and held == criteria.hold_latest
        out["hold_latest"] = (criteria.hold_latest, held, ok)
    if criteria.self_assessment_required:
        out["self_assessment"] = (1, int(has_self), has_self)
    return out


# --- ASM-03: the explanation's found values are the independently computed counts -------


@PROPS
@given(cases())
def test_found_values_equal_independent_counts(case):
    criteria, evidence, now, tz, has_self = case
    assessment = run(case)
    expected = oracle(criteria, evidence, now, tz, has_self)
    assert [c.code for c in assessment.criteria] == list(expected)
    for result in assessment.criteria:
        target, count, met = expected[result.code]
        assert (result.target, result.met) == (target, met), result.code
        if count is not None:  # max_age without any counted observation has no age
            assert result.found == count, result.code
    live = current(evidence, now)
    counted_ids = {e.observation_id for e in live if e.level >= criteria.min_level}
    assert set(assessment.used) == counted_ids and len(assessment.used) == len(counted_ids)
    if all(met for _, _, met in expected.values()):
        assert assessment.status is Status.CRITERIA_MET
    else:
        assert assessment.status is (Status.IN_PROGRESS if live else Status.NOT_STARTED)


# --- ASM-02: input order never matters --------------------------------------------------


@PROPS
@given(cases(), st.data())
def test_permutation_of_input_order_never_changes_the_result(case, data):
    reference = run(case)
    shuffled = data.draw(st.permutations(case[1]))
    for order in (shuffled, list(reversed(case[1])), iter(shuffled)):
        again = run(case, evidence=order)
        assert again == reference
        assert (again.status, found(again), set(again.used)) == (
            reference.status,
            found(reference),
            set(reference.used),
        )


# --- Withdrawn, « non observé » and future-dated evidence changes nothing ---------------


@st.composite
def ignored_evidence(draw, now: datetime):
    kind = draw(st.sampled_from(("withdrawn", "not_observed", "future")))
    level, observer, situation, at, _ = draw(rows)
    if kind == "withdrawn":
        return level, observer, situation, at, True
    if kind == "not_observed":
        return None, observer, situation, at, draw(st.booleans())
    later = now + timedelta(seconds=draw(st.integers(1, 90 * 24 * 3600)))
    return level, observer, situation, later, draw(st.booleans())


@PROPS
@given(cases(), st.data())
def test_withdrawn_not_observed_and_future_evidence_never_change_anything(case, data):
    now = case[2]
    extra = to_evidence("x", data.draw(st.lists(ignored_evidence(now), min_size=1, max_size=6)))
    mixed = data.draw(st.permutations(case[1] + extra))
    assert run(case, evidence=mixed) == run(case)


# --- Monotonicity: more evidence never undoes « critères atteints » ---------------------


def among_latest(new: Evidence, evidence, now, k: int) -> bool:
    return new in current(evidence, now)[-k:]


def breaks_hold_latest(criteria: Criteria, new: Evidence, after, now) -> bool:
    """The one allowed exception: a lower observation lands among the latest K."""
    return bool(
        criteria.hold_latest
        and not new.withdrawn
        and new.level is not None
        and new.level < criteria.min_level
        and new.observed_at <= now
        and among_latest(new, after, now, criteria.hold_latest)
    )


@PROPS
@given(cases(), rows)
def test_adding_an_observation_only_breaks_met_through_hold_latest(case, row):
    criteria, evidence, now, _, _ = case
    before = run(case)
    new = to_evidence("new", [row])[0]
    after = run(case, evidence=evidence + [new])
    if before.status is Status.CRITERIA_MET and after.status is not Status.CRITERIA_MET:
        assert failing(after) == {"hold_latest"}
        assert breaks_hold_latest(criteria, new, evidence + [new], now)
    if new.level is not None and new.level >= criteria.min_level:
        assert before.status is not Status.CRITERIA_MET or after.status is Status.CRITERIA_MET


@st.composite
def met_cases(draw):
    """A case built to meet its criteria, with every observation at or above the level."""
    latest_k = draw(st.sampled_from((None, 1, 2, 3)))  # latest-K is the rule at stake here
    criteria = replace(draw(criteria_values), hold_latest=latest_k)
    now, tz = draw(moments), draw(zones)
    count = max(
        MIN_OBSERVATIONS_FLOOR,
        criteria.min_observations,
        criteria.distinct_observers,
        criteria.distinct_situations,
        criteria.hold_latest or 0,
    )
    # 24 h × (span + 1) apart is at least ``span`` local days, whatever DST does.
    first = now - timedelta(days=criteria.min_span_days + 1)
    steps = sorted(draw(st.lists(st.integers(0, 100), min_size=count - 2, max_size=count - 2)))
    moments_ = [first] + [first + (now - first) * s / 100 for s in steps] + [now]
    evidence = [
        Evidence(
            f"m{i}",
            draw(st.integers(criteria.min_level, 5)),
            f"observer-{i % max(criteria.distinct_observers, 1)}",
            f"situation-{i % max(criteria.distinct_situations, 1)}",
            at,
        )
        for i, at in enumerate(moments_)
    ]
    return criteria, evidence, now, tz, True


@PROPS
@given(met_cases(), rows, st.data())
def test_one_more_observation_keeps_met_except_a_lower_one_among_the_latest(case, row, data):
    criteria, evidence, now, _, _ = case
    assert run(case).status is Status.CRITERIA_MET
    level, observer, situation, at, withdrawn = row
    if data.draw(st.booleans()):
        # Half the time a lower, current observation somewhere among the existing ones:
        # the case where latest-K decides.
        first = min(e.observed_at for e in evidence)
        at = first + (now - first) * data.draw(st.integers(0, 100)) / 100
        level = data.draw(st.integers(1, max(criteria.min_level - 1, 1)))
        withdrawn = False
    new = Evidence("new", level, observer, situation, at, withdrawn)
    after = run(case, evidence=evidence + [new])
    exception = breaks_hold_latest(criteria, new, evidence + [new], now)
    assert (after.status is not Status.CRITERIA_MET) == exception
    assert failing(after) == ({"hold_latest"} if exception else set())


@PROPS
@given(cases(), st.integers(1, 120 * 24 * 60))
def test_time_passing_only_breaks_met_through_recency_or_new_lower_evidence(case, minutes):
    criteria, evidence, now, _, _ = case
    later = now + timedelta(minutes=minutes)
    before, after = run(case), run(case, now=later)
    if before.status is Status.CRITERIA_MET and after.status is not Status.CRITERIA_MET:
        assert failing(after) <= {"max_age", "hold_latest"}
        if "hold_latest" in failing(after):
            arrived = [e for e in current(evidence, later) if e.observed_at > now]
            assert any(e.level < criteria.min_level for e in arrived)


# --- Distinct observers -------------------------------------------------------------------


@PROPS
@given(cases(), st.integers(1, 5), st.data())
def test_removing_the_only_observation_of_an_observer_lowers_the_count_by_one(case, level, data):
    criteria, evidence, now, tz, _ = case
    at = now - timedelta(minutes=data.draw(st.integers(0, 60 * 24 * 60)))
    solo = Evidence("solo", max(level, criteria.min_level), "observer-solo", "sit-1", at)
    with_solo = run(case, evidence=evidence + [solo])
    assert found(with_solo)["observers"] == found(run(case))["observers"] + 1
    # And the same for any drawn observer whose single counted observation is removed.
    counted = [e for e in current(evidence, now) if e.level >= criteria.min_level]
    for observer in {e.observer_id for e in counted}:
        own = [e for e in counted if e.observer_id == observer]
        if len(own) == 1:
            rest = [e for e in evidence if e is not own[0]]
            assert found(run(case, evidence=rest))["observers"] == found(run(case))["observers"] - 1


# --- ASM-04: a single observation never suffices -----------------------------------------


@PROPS
@given(criteria_values, rows, moments, zones, st.booleans())
def test_a_single_observation_never_suffices(criteria, row, now, tz, has_self):
    single = to_evidence("only", [row])
    for chosen in (criteria, Criteria()):
        result = evaluate(chosen, single, now=now, timezone=tz, has_self_assessment=has_self)
        assert result.status is not Status.CRITERIA_MET
    level_five = [Evidence("five", 5, "obs-a", "sit-1", now)]
    assert evaluate(Criteria(), level_five, now=now, timezone=tz).status is Status.IN_PROGRESS
    assert evaluate(criteria, [], now=now, timezone=tz).status is Status.NOT_STARTED


# --- Texts ----------------------------------------------------------------------------------


@PROPS
@given(cases())
def test_worker_texts_are_plain_and_show_no_level(case):
    criteria = case[0]
    for result in run(case).criteria:
        text = result.worker_text
        assert (text is None) == result.met
        assert result.staff_text.endswith("✓" if result.met else "✗")
        if text is None:
            continue
        assert not blocked_terms(text)
        assert "niveau" not in text.lower()
        digits = re.findall(r"\d+", text)
        if result.code in ("observations", "observers", "situations") and (
            result.target - result.found >= 2
        ):
            # The only number a worker may read is how many are still missing.
            assert digits == [str(result.target - result.found)]
        else:
            assert digits == [], (text, criteria.min_level)
