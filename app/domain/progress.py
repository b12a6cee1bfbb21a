"""Pure rules for self-assessment, side-by-side views and reviews (SELF, ASM-06/07).

Nothing here knows about the database: inputs are plain values, so that the figures shown
to workers and conseillers can be checked against counts computed independently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.domain.errors import DomainError

FORMAT_PICTOS = "pictos3"
FORMAT_LEVELS = "levels5"
FORMATS = (FORMAT_PICTOS, FORMAT_LEVELS)
GOAL_KINDS = ("accompagnement", "professionnel", "personnel")
USABLE_LEVEL = 3


class InvalidChoice(DomainError):
    code = "invalid_choice"
    status = 422
    message = "Une réponse n'est pas dans la liste proposée."


@dataclass(frozen=True)
class Choice:
    """One answer a worker can give: a range of levels, a plain sentence, a pictogram."""

    code: str
    level_min: int
    level_max: int
    label: Mapping[str, str]
    pictogram: str | None = None


def choices_for(format: str, scale: Mapping[str, Any]) -> list[Choice]:
    """The answers offered for ``format``: 3 pictogram choices or the 5 levels in words."""
    if format == FORMAT_PICTOS:
        return [
            Choice(c["code"], min(c["levels"]), max(c["levels"]), c["worker"], c.get("pictogram"))
            for c in scale.get("self_assessment_choices", [])
        ]
    if format == FORMAT_LEVELS:
        return [
            Choice(f"niveau-{lv['level']}", lv["level"], lv["level"], lv["worker"])
            for lv in scale.get("levels", [])
        ]
    raise InvalidChoice("Ce format d'auto-évaluation est inconnu.")


def choice(choices: Sequence[Choice], code: str) -> Choice:
    """The choice named ``code``, or ``InvalidChoice``."""
    for candidate in choices:
        if candidate.code == code:
            return candidate
    raise InvalidChoice()


@dataclass(frozen=True)
class ObservationFact:
    """What the side-by-side view needs of one observation."""

    competence_id: int
    level: int | None
    observer_id: int
    situation_id: int
    observed_at: datetime
    withdrawn: bool = False


@dataclass
class ObservationSummary:
    """Per competence: how many observations, at which levels, by how many observers."""

    count: int = 0
    levels: Counter[int] = field(default_factory=Counter)
    observers: set[int] = field(default_factory=set)
    situations: set[int] = field(default_factory=set)
    first_at: datetime | None = None
    last_at: datetime | None = None
    first_level: int | None = None
    last_level: int | None = None

    @property
    def best_level(self) -> int | None:
        return max(self.levels) if self.levels else None

    @property
    def usable(self) -> bool:
        """Seen at least once at the first usable level (3) or above."""
        return any(level >= USABLE_LEVEL for level in self.levels)

    @property
    def progressed(self) -> bool:
        """Seen since at a higher level than the first time (a gain, never a loss)."""
        return self.first_level is not None and (self.best_level or 0) > self.first_level


def summarize(facts: Iterable[ObservationFact]) -> dict[int, ObservationSummary]:
    """Summaries per competence. Withdrawn and « non observé » records change no count."""
    result: dict[int, ObservationSummary] = {}
    # A total order, so that the first and last levels do not depend on the input order
    # when two observations share a time.
    ordered = sorted(
        facts,
        key=lambda f: (f.observed_at, f.level or 0, f.observer_id, f.situation_id),
    )
    for fact in ordered:
        if fact.withdrawn or fact.level is None:
            continue
        summary = result.setdefault(fact.competence_id, ObservationSummary())
        summary.count += 1
        summary.levels[fact.level] += 1
        summary.observers.add(fact.observer_id)
        summary.situations.add(fact.situation_id)
        if summary.first_at is None:
            summary.first_at, summary.first_level = fact.observed_at, fact.level
        summary.last_at = fact.observed_at
        summary.last_level = fact.level
    return result


def strengths_first(
    competence_ids: Sequence[int], summaries: Mapping[int, ObservationSummary]
) -> list[int]:
    """Competences ordered strengths first: seen at a usable level, then the others;
    never a ranking of people, only of one person's own competences (SELF-06)."""

    def key(cid: int) -> tuple[int, int, int]:
        s = summaries.get(cid)
        if s is None:
            return (2, 0, competence_ids.index(cid))
        return (0 if s.usable else 1, -(s.best_level or 0), competence_ids.index(cid))

    return sorted(competence_ids, key=key)


@dataclass(frozen=True)
class GoalSnapshot:
    competence_id: int
    kind: str
    target_level: int | None
    text: str


@dataclass(frozen=True)
class ReviewSnapshot:
    held_on: date
    next_review_on: date | None
    next_steps: str
    goals: tuple[GoalSnapshot, ...]


@dataclass(frozen=True)
class Change:
    """One difference between two reviews, for « ce qui a changé »."""

    kind: str  # goal_added, goal_removed, goal_changed, steps_changed, date_changed
    competence_id: int | None = None


def review_changes(previous: ReviewSnapshot | None, current: ReviewSnapshot) -> list[Change]:
    """What changed since the previous review: goals added, removed or changed, steps, date."""
    if previous is None:
        return [Change("goal_added", g.competence_id) for g in current.goals]
    before = {g.competence_id: g for g in previous.goals}
    after = {g.competence_id: g for g in current.goals}
    changes = [Change("goal_added", cid) for cid in after if cid not in before]
    changes += [Change("goal_removed", cid) for cid in before if cid not in after]
    changes += [
        Change("goal_changed", cid) for cid in after if cid in before and after[cid] != before[cid]
    ]
    if previous.next_steps.strip() != current.next_steps.strip():
        changes.append(Change("steps_changed"))
    if previous.next_review_on != current.next_review_on:
        changes.append(Change("date_changed"))
    return changes


def review_status(next_review_on: date | None, today: date, *, soon_days: int = 7) -> str | None:
    """« overdue », « soon » or None for a review's next date (shown to the conseiller)."""
    if next_review_on is None:
        return None
    if next_review_on < today:
        return "overdue"
    if (next_review_on - today).days <= soon_days:
        return "soon"
    return None
