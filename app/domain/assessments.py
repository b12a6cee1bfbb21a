"""The assessment engine: from observations to an explained status (ASM-01..05).

Pure and deterministic: plain data in (criteria, evidence, ``now``, a time zone), a status
and a per-criterion explanation out, whatever the order of the evidence. Days are counted
in the structure's time zone. A single observation never suffices by default (ASM-04).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo


class Status(StrEnum):
    NOT_STARTED = "pas_commence"
    IN_PROGRESS = "en_cours"
    CRITERIA_MET = "criteres_atteints"
    ISSUED = "delivre"
    REVOKED = "retire"


STATUS_LABELS = {
    Status.NOT_STARTED: "Pas commencé",
    Status.IN_PROGRESS: "En cours",
    Status.CRITERIA_MET: "Critères atteints",
    Status.ISSUED: "Délivré",
    Status.REVOKED: "Retiré",
}


#: ASM-04: a single observation never suffices, whatever a template asks for.
MIN_OBSERVATIONS_FLOOR = 2


@dataclass(frozen=True)
class Criteria:
    """What a badge template asks for, at one level (ASM-01). Defaults: ASM-04.

    Whatever ``min_observations`` says, the engine asks for at least
    ``MIN_OBSERVATIONS_FLOOR`` observations: a single observation never suffices (ASM-04).
    """

    min_level: int = 3
    min_observations: int = 2
    distinct_observers: int = 2
    distinct_situations: int = 2
    min_span_days: int = 14
    max_age_days: int | None = None
    self_assessment_required: bool = False
    hold_latest: int | None = None


class Evidence(NamedTuple):
    """One observation as the engine sees it: its latest version only (a named tuple: a
    structure's recompute makes one per observation)."""

    observation_id: str
    level: int | None
    observer_id: str
    situation_id: str
    observed_at: datetime
    withdrawn: bool = False


@dataclass(frozen=True)
class CriterionResult:
    code: str
    target: int
    found: int
    met: bool

    @property
    def staff_text(self) -> str:
        """« 2 observateurs sur 2 requis ✓ »."""
        noun, unit = _WORDS[self.code]
        mark = "✓" if self.met else "✗"
        if self.code == "self_assessment":
            return (
                f"Auto-évaluation faite {mark}" if self.met else f"Auto-évaluation à faire {mark}"
            )
        if self.code == "max_age":
            return f"Dernière observation il y a {self.found} jours (au plus {self.target}) {mark}"
        return f"{self.found} {noun} sur {self.target} {unit} {mark}"

    @property
    def worker_text(self) -> str | None:
        """What is left to do, in plain words for the worker (None when met)."""
        if self.met:
            return None
        missing = max(self.target - self.found, 1)
        return _WORKER[self.code](missing)


_WORDS = {
    "observations": ("observations au niveau visé", "requises"),
    "observers": ("observateur·rices", "requis·es"),
    "situations": ("situations de travail", "requises"),
    "span": ("jours entre la première et la dernière observation", "requis"),
    "max_age": ("", ""),
    "self_assessment": ("", ""),
    "hold_latest": ("dernières observations au niveau", "requises"),
}
_WORKER = {
    "observations": lambda n: (
        "Encore une observation à faire." if n == 1 else f"Encore {n} observations à faire."
    ),
    "observers": lambda n: (
        "Encore une personne doit vous observer."
        if n == 1
        else f"Encore {n} personnes doivent vous observer."
    ),
    "situations": lambda n: (
        "Encore une situation de travail à observer."
        if n == 1
        else f"Encore {n} situations de travail à observer."
    ),
    "span": lambda n: "Continuez : il faut un peu plus de temps.",
    "max_age": lambda n: "Il faut une observation récente.",
    "self_assessment": lambda n: "Faites votre auto-évaluation.",
    "hold_latest": lambda n: "Continuez : les prochaines observations comptent.",
}


@dataclass(frozen=True)
class Assessment:
    status: Status
    criteria: tuple[CriterionResult, ...]
    used: tuple[str, ...]

    @property
    def worker_steps(self) -> list[str]:
        return [t for c in self.criteria if (t := c.worker_text)]


def _local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


@dataclass(frozen=True)
class Prepared:
    """One worker's evidence for one template, read once for all its tiers: the current
    observations (not withdrawn, with a level, not in the future) in order, each with its
    local day."""

    current: tuple[Evidence, ...]
    days: tuple[date, ...]
    today: date


def prepare(evidence: Iterable[Evidence], *, now: datetime, timezone: str) -> Prepared:
    """The part of ``evaluate`` that does not depend on the criteria, done once."""
    tz = ZoneInfo(timezone)
    current = tuple(
        sorted(
            (
                e
                for e in evidence
                if not e.withdrawn and e.level is not None and e.observed_at <= now
            ),
            key=lambda e: (e.observed_at, e.observation_id),
        )
    )
    return Prepared(
        current, tuple(_local_day(e.observed_at, tz) for e in current), _local_day(now, tz)
    )


def evaluate(
    criteria: Criteria,
    evidence: Iterable[Evidence],
    *,
    now: datetime,
    timezone: str,
    has_self_assessment: bool = False,
) -> Assessment:
    """Evaluate one worker × template × level. Order of ``evidence`` never matters."""
    return evaluate_prepared(
        criteria, prepare(evidence, now=now, timezone=timezone), has_self_assessment
    )


def evaluate_prepared(
    criteria: Criteria, prepared: Prepared, has_self_assessment: bool = False
) -> Assessment:
    """``evaluate`` on evidence already prepared (one ``prepare`` for every tier)."""
    if not prepared.current:
        return _without_evidence(criteria, has_self_assessment)
    current = prepared.current
    level = criteria.min_level
    qualifying: list[Evidence] = []
    qualifying_days: set[date] = set()
    for e, day in zip(current, prepared.days, strict=True):
        if e.level is not None and e.level >= level:
            qualifying.append(e)
            qualifying_days.add(day)
    first, last = (min(qualifying_days), max(qualifying_days)) if qualifying_days else (None, None)
    return _assessment(
        criteria, current, qualifying, first, last, prepared.today, has_self_assessment
    )


@lru_cache(maxsize=1024)
def _without_evidence(criteria: Criteria, has_self_assessment: bool) -> Assessment:
    """Without any current observation the answer depends on the criteria alone (most
    worker × template pairs of a structure): computed once."""
    return _assessment(criteria, (), [], None, None, None, has_self_assessment)


def _assessment(
    criteria: Criteria,
    current: Sequence[Evidence],
    qualifying: list[Evidence],
    first: date | None,
    last: date | None,
    today: date | None,
    has_self_assessment: bool,
) -> Assessment:
    span = (last - first).days if first is not None and last is not None else 0
    min_observations = max(criteria.min_observations, MIN_OBSERVATIONS_FLOOR)
    observers = len({e.observer_id for e in qualifying})
    situations = len({e.situation_id for e in qualifying})
    results = [
        CriterionResult(
            "observations",
            min_observations,
            len(qualifying),
            len(qualifying) >= min_observations,
        ),
        CriterionResult(
            "observers",
            criteria.distinct_observers,
            observers,
            observers >= criteria.distinct_observers,
        ),
        CriterionResult(
            "situations",
            criteria.distinct_situations,
            situations,
            situations >= criteria.distinct_situations,
        ),
        CriterionResult("span", criteria.min_span_days, span, span >= criteria.min_span_days),
    ]
    if criteria.max_age_days is not None:
        age = (
            (today - last).days
            if last is not None and today is not None
            else criteria.max_age_days + 1
        )
        results.append(
            CriterionResult("max_age", criteria.max_age_days, age, age <= criteria.max_age_days)
        )
    if criteria.hold_latest:
        latest = current[-criteria.hold_latest :]
        held = sum(1 for e in latest if e.level is not None and e.level >= criteria.min_level)
        results.append(
            CriterionResult(
                "hold_latest",
                criteria.hold_latest,
                held,
                len(latest) == criteria.hold_latest and held == criteria.hold_latest,
            )
        )
    if criteria.self_assessment_required:
        results.append(
            CriterionResult("self_assessment", 1, int(has_self_assessment), has_self_assessment)
        )
    if all(r.met for r in results):
        status = Status.CRITERIA_MET
    elif current:
        status = Status.IN_PROGRESS
    else:
        status = Status.NOT_STARTED
    return Assessment(status, tuple(results), tuple(e.observation_id for e in qualifying))
