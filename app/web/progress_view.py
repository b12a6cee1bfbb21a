"""What the progress pages show, gathered once: the side by side per competence, the
chart, the reviews with what changed, the assisted self-assessments to confirm.

The same gathering serves the worker's page and the conseiller's, so the figures on both
come from one place (``domain.progress.summarize``). Only wording differs: the worker
reads the scale's worker words and never a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.domain import progress as rules
from app.domain.progress import ObservationSummary
from app.models import Competence, Membership, ProgressReview, SelfAssessment
from app.models import SelfAssessmentAnswer as Answer
from app.queries import progress as queries
from app.queries import referentials as referential_queries
from app.web.charts import OBSERVATION, SELF, ChartPoint, progress_svg
from app.web.i18n import localized
from app.web.timez import to_local

WORKER, STAFF = "worker", "staff"


@dataclass
class Row:
    """One competence, side by side: the person's own view and what was observed."""

    key: str
    competence: Competence
    name: str
    statement: str
    pictogram: str | None
    summary: ObservationSummary | None = None
    first_view: str | None = None
    last_view: str | None = None
    first_view_max: int = 0
    view_progressed: bool = False

    @property
    def progressed(self) -> bool:
        return bool(self.summary and self.summary.progressed) or self.view_progressed


@dataclass
class ReviewView:
    review: ProgressReview
    first: bool
    changes: list[str]


@dataclass
class Progress:
    """Everything a progress page of one worker shows."""

    rows: list[Row]
    strengths: list[Row]
    progressing: list[Row]
    focus: Row | None
    reviews: list[ReviewView]
    pending: list[SelfAssessment]
    confirmed: list[SelfAssessment]
    level_words: dict[int, str]
    answer_label: Any
    chart: Markup
    table: list[tuple[date, str, str, str]] = field(default_factory=list)

    @property
    def latest_review(self) -> ProgressReview | None:
        return self.reviews[0].review if self.reviews else None


def scale_payload(session: Session) -> dict[str, Any]:
    """The current scale's payload (levels, worker words, the three pictogram choices)."""
    scale = referential_queries.current_scale(session)
    return dict(scale.payload) if scale else {}


def level_words(payload: dict[str, Any], audience: str, locale: str) -> dict[int, str]:
    """Level -> words: the worker's words (« Je sais faire ») or the staff's."""
    wording = "worker" if audience == WORKER else "staff"
    return {lv["level"]: localized(lv.get(wording), locale) for lv in payload.get("levels", [])}


def statement_of(competence: Competence, locale: str) -> str:
    """The first-person sentence, or the competence name while it has none."""
    return localized(competence.statement, locale) or localized(competence.name, locale)


def _local_day(moment: datetime, timezone: str) -> date:
    local = to_local(moment, timezone)
    assert local is not None
    return local.date()


def gather(
    session: Session, worker: Membership, *, audience: str, locale: str, timezone: str
) -> Progress:
    """The progress of ``worker`` for ``audience`` (a bounded number of queries)."""
    payload = scale_payload(session)
    words = level_words(payload, audience, locale)
    labels: dict[tuple[str, str], str] = {}
    for fmt in rules.FORMATS:
        for c in rules.choices_for(fmt, payload):
            labels[(fmt, c.code)] = localized(c.label, locale)

    def answer_label(record: SelfAssessment, answer: Answer) -> str:
        found = labels.get((record.format, answer.choice))
        if found:
            return found
        return " – ".join(dict.fromkeys((words[answer.level_min], words[answer.level_max])))

    competences = queries.soft_skills(session)
    facts = queries.observation_facts(session, worker)
    records = queries.self_assessments(session, worker)
    answer_ids = {a.competence_id for r in records for a in r.answers}
    keys = queries.competence_keys(
        session, {c.id for c in competences} | {f.competence_id for f in facts} | answer_ids
    )
    current = {keys[c.id]: c for c in competences}
    canonical = {cid: current[key].id for cid, key in keys.items() if key in current}
    summaries = rules.summarize(
        replace(f, competence_id=canonical[f.competence_id])
        for f in facts
        if f.competence_id in canonical
    )
    rows = {
        c.id: Row(
            key=keys[c.id],
            competence=c,
            name=localized(c.name, locale),
            statement=statement_of(c, locale),
            pictogram=c.pictogram,
            summary=summaries.get(c.id),
        )
        for c in competences
    }
    confirmed = [r for r in records if r.confirmed_at is not None]
    points: list[ChartPoint] = []
    table: list[tuple[date, str, str, str]] = []
    self_label = _("Mon avis") if audience == WORKER else _("Auto-évaluation")
    seen_label = _("Vu au travail") if audience == WORKER else _("Observation")
    # Oldest first, so that the last answer seen is the latest view.
    for record in reversed(confirmed):
        day = _local_day(record.created_at, timezone)
        for answer in record.answers:
            cid = canonical.get(answer.competence_id)
            if cid is None:
                continue
            row, label = rows[cid], answer_label(record, answer)
            if row.first_view is None:
                row.first_view, row.first_view_max = label, answer.level_max
            elif answer.level_max > row.first_view_max:
                row.view_progressed = True
            row.last_view = label
            points.append(ChartPoint(row.key, day, SELF, answer.level_min, answer.level_max))
            table.append((day, row.name, self_label, label))
    for f in facts:
        cid = canonical.get(f.competence_id)
        if cid is None or f.withdrawn or f.level is None:
            continue
        day = _local_day(f.observed_at, timezone)
        points.append(ChartPoint(rows[cid].key, day, OBSERVATION, f.level, f.level))
        table.append((day, rows[cid].name, seen_label, words[f.level]))
    table.sort(key=lambda t: (t[0], t[1], t[2]))

    ordered = [rows[c.id] for c in competences]
    ids = [c.id for c in competences]
    by_strength = [rows[cid] for cid in rules.strengths_first(ids, summaries)]
    baseline = next((r for r in confirmed if r.is_baseline), None)
    focus = queries.focus(session, worker)
    focus_key = keys.get(focus.id) if focus else None
    if focus is not None and focus_key is None:
        focus_key = queries.competence_keys(session, {focus.id}).get(focus.id)
    chart = progress_svg(
        points,
        title=_("Ma progression") if audience == WORKER else _("Progression par compétence"),
        competence_names={row.key: row.name for row in ordered},
        level_names=words,
        legend=(
            (_("Ce qui a été vu au travail"), _("Mon avis"))
            if audience == WORKER
            else (_("Observation"), _("Auto-évaluation"))
        ),
        description=(
            _("Ronds pleins : vu au travail. Carrés vides : mon avis.")
            if audience == WORKER
            else _("Ronds pleins : observations. Carrés vides : auto-évaluations.")
        ),
        baseline=_local_day(baseline.created_at, timezone) if baseline else None,
        start_label=_("Départ"),
    )
    return Progress(
        rows=ordered,
        strengths=[r for r in by_strength if r.summary and r.summary.usable],
        progressing=[r for r in ordered if r.progressed],
        focus=next((r for r in ordered if r.key == focus_key), None),
        reviews=review_views(queries.reviews(session, worker), locale),
        pending=[r for r in records if r.confirmed_at is None],
        confirmed=confirmed,
        level_words=words,
        answer_label=answer_label,
        chart=chart,
        table=table,
    )


def change_text(kind: str, name: str) -> str:
    """One line of « ce qui a changé depuis le point précédent »."""
    if kind == "goal_added":
        return _("Nouvel objectif : %(name)s", name=name)
    if kind == "goal_removed":
        return _("Objectif retiré : %(name)s", name=name)
    if kind == "goal_changed":
        return _("Objectif modifié : %(name)s", name=name)
    if kind == "steps_changed":
        return _("Les prochaines étapes ont changé.")
    return _("La date du prochain point a changé.")


def review_views(reviews: list[ProgressReview], locale: str) -> list[ReviewView]:
    """Reviews newest first, each with what changed since the one before it (ASM-07)."""
    names = {
        g.competence_id: localized(g.competence.name, locale) for r in reviews for g in r.goals
    }
    result = []
    for index, review in enumerate(reviews):
        previous = reviews[index + 1] if index + 1 < len(reviews) else None
        if previous is None:
            result.append(ReviewView(review, True, []))
            continue
        changes = rules.review_changes(queries.snapshot(previous), queries.snapshot(review))
        result.append(
            ReviewView(
                review,
                False,
                [change_text(c.kind, names.get(c.competence_id or 0, "")) for c in changes],
            )
        )
    return result
