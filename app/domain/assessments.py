"""The assessment engine: from observations to an explained status (ASM-01..05).

Pure and deterministic: plain data in (criteria, evidence, ``now``, a time zone), a status
and a per-criterion explanation out, whatever the order of the evidence. Days are counted
in the structure's time zone. A single observation never suffices by default (ASM-04).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
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


@dataclass(frozen=True)
class Evidence:
    """One observation as the engine sees it: its latest version only."""

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


def evaluate(
    criteria: Criteria,
    evidence: Iterable[Evidence],
    *,
    now: datetime,
    timezone: str,
    has_self_assessment: bool = False,
) -> Assessment:
    """Evaluate one worker × template × level. Order of ``evidence`` never matters."""
    tz = ZoneInfo(timezone)
    today = _local_day(now, tz)
    current = sorted(
        (e for e in evidence if not e.withdrawn and e.level is not None and e.observed_at <= now),
        key=lambda e: (e.observed_at, e.observation_id),
    )
    qualifying = [e for e in current if e.level is not None and e.level >= criteria.min_level]
    days = sorted({_local_day(e.observed_at, tz) for e in qualifying})
    span = (days[-1] - days[0]).days if days else 0
    min_observations = max(criteria.min_observations, MIN_OBSERVATIONS_FLOOR)
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
            len({e.observer_id for e in qualifying}),
            len({e.observer_id for e in qualifying}) >= criteria.distinct_observers,
        ),
        CriterionResult(
            "situations",
            criteria.distinct_situations,
            len({e.situation_id for e in qualifying}),
            len({e.situation_id for e in qualifying}) >= criteria.distinct_situations,
        ),
        CriterionResult("span", criteria.min_span_days, span, span >= criteria.min_span_days),
    ]
    if criteria.max_age_days is not None:
        age = (today - days[-1]).days if days else criteria.max_age_days + 1
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
