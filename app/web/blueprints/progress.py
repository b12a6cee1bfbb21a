"""Self-assessment, the worker's own progress page, focus, points d'étape and journeys.

The worker's pages take no worker id: they are about ``g.membership``. Staff pages name
the worker, who must be one the viewer may see (``queries.people.visible_worker``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.domain import progress as rules
from app.domain.errors import DomainError
from app.extensions import db
from app.models import Membership
from app.queries import assessments as assessment_queries
from app.queries import people
from app.queries import progress as queries
from app.services import progress as service
from app.web.errors import flash_error
from app.web.forms import EmptyForm
from app.web.progress_forms import (
    KIND_LABELS,
    CommentForm,
    FocusForm,
    ReviewForm,
    answer_field_name,
    prepare_review_form,
    self_assessment_form,
)
from app.web.progress_view import STAFF, WORKER, gather, level_words, scale_payload
from app.web.timez import to_local
from app.web.utils import now

bp = Blueprint("progress", __name__, url_prefix="/s/<structure_id>")


def _locale() -> str:
    return str(get_locale() or "fr")


def _today() -> date:
    local = to_local(now(), g.structure.timezone)
    assert local is not None
    return local.date()


def _gather(worker: Membership, audience: str):  # type: ignore[no-untyped-def]
    return gather(
        db.session, worker, audience=audience, locale=_locale(), timezone=g.structure.timezone
    )


# --- Self-assessment (the worker, or a conseiller beside them) ------------------------


def _self_assessment(worker: Membership, *, assisted: bool):  # type: ignore[no-untyped-def]
    """The form, and on a valid POST the record (assisted: waits for the worker)."""
    competences = queries.soft_skills(db.session)
    fmt = g.structure.self_assessment_format
    choices = rules.choices_for(fmt, scale_payload(db.session))
    form = self_assessment_form(competences, choices, _locale())
    if form.validate_on_submit():
        answers = {
            c: form[answer_field_name(c)].data
            for c in competences
            if form[answer_field_name(c)].data
        }
        try:
            service.record_self_assessment(
                db.session,
                worker=worker,
                answers=answers,
                choices=choices,
                format=fmt,
                now=now(),
                assisted_by=current_user if assisted else None,
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
        else:
            db.session.commit()
            if assisted:
                flash(_("C'est enregistré. La personne confirmera ses réponses."), "success")
                return redirect(
                    url_for(
                        "progress.journey",
                        structure_id=g.structure.public_id,
                        worker_id=worker.public_id,
                    )
                )
            flash(_("Merci. Vos réponses sont enregistrées."), "success")
            return redirect(url_for("progress.mine", structure_id=g.structure.public_id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "progress/self_assessment.html",
        form=form,
        questions=[(c, form[answer_field_name(c)]) for c in competences],
        pictograms={c.code: c.pictogram for c in choices},
        steps={c.code: c.level_max for c in choices},
        fmt=fmt,
        worker=worker,
        assisted=assisted,
    ), status


@bp.route("/auto-evaluation", methods=["GET", "POST"])
def self_assessment(structure_id: str):  # type: ignore[no-untyped-def]
    return _self_assessment(g.membership, assisted=False)


# --- The worker's own progress page -----------------------------------------------------


def _mine_page(comment_form=None, comment_for: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    worker = g.membership
    progress = _gather(worker, WORKER)
    focus_form = FocusForm()
    focus_form.competence.choices = [(r.competence.public_id, r.name) for r in progress.rows]
    if progress.focus is not None and not focus_form.competence.data:
        focus_form.competence.data = progress.focus.competence.public_id
    return render_template(
        "progress/mine.html",
        worker=worker,
        progress=progress,
        focus_form=focus_form,
        comment_form=comment_form or CommentForm(formdata=None),
        comment_for=comment_for,
        kind_labels=KIND_LABELS,
        badge_states=assessment_queries.worker_states(db.session, worker),
        notifications=assessment_queries.notifications(db.session, worker.user),
    ), status


@bp.get("/mon-parcours")
def mine(structure_id: str):  # type: ignore[no-untyped-def]
    return _mine_page()


@bp.post("/point-fort")
def set_focus(structure_id: str):  # type: ignore[no-untyped-def]
    competences = {c.public_id: c for c in queries.soft_skills(db.session)}
    form = FocusForm()
    form.competence.choices = [(pid, pid) for pid in competences]
    if not form.validate_on_submit():
        flash(_("Choisissez un point dans la liste."), "error")
        return redirect(url_for("progress.mine", structure_id=structure_id, _anchor="point"))
    service.set_focus(
        db.session, worker=g.membership, competence=competences[form.competence.data], now=now()
    )
    db.session.commit()
    flash(_("C'est noté. Un seul point à la fois."), "success")
    return redirect(url_for("progress.mine", structure_id=structure_id, _anchor="point"))


@bp.post("/points-etape/<review_id>/commentaire")
def comment(structure_id: str, review_id: str):  # type: ignore[no-untyped-def]
    review = queries.review(db.session, g.membership, review_id)
    if review is None:
        abort(404)
    form = CommentForm()
    if not form.validate_on_submit():
        return _mine_page(form, review_id, 400)
    try:
        service.comment_review(
            db.session, review=review, author=current_user, text=form.text.data or "", now=now()
        )
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
        return _mine_page(form, review_id, error.status)
    db.session.commit()
    flash(_("Merci. Votre commentaire est enregistré."), "success")
    return redirect(url_for("progress.mine", structure_id=structure_id, _anchor="etapes"))


@bp.post("/auto-evaluation/<self_assessment_id>/confirmer")
def confirm(structure_id: str, self_assessment_id: str):  # type: ignore[no-untyped-def]
    record = next(
        (
            r
            for r in queries.self_assessments(db.session, g.membership)
            if r.public_id == self_assessment_id
        ),
        None,
    )
    if record is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    service.confirm_self_assessment(db.session, record=record, worker=g.membership, now=now())
    db.session.commit()
    flash(_("Merci. Vos réponses sont confirmées."), "success")
    return redirect(url_for("progress.mine", structure_id=structure_id))


# --- Staff: journey, assisted self-assessment, points d'étape ---------------------------


def _worker_or_404(worker_id: str) -> Membership:
    worker = people.visible_worker(db.session, g.membership, worker_id)
    if worker is None:
        abort(404)
    return worker


def _logged(worker: Membership, page: str, html: str) -> str:
    """Record the staff read of ``worker``'s file (PRIV-11), then answer."""
    service.log_file_read(db.session, reader=current_user, worker=worker, page=page, now=now())
    db.session.commit()
    return html


@bp.get("/salaries/<worker_id>/parcours")
def journey(structure_id: str, worker_id: str):  # type: ignore[no-untyped-def]
    worker = _worker_or_404(worker_id)
    html = render_template(
        "progress/journey.html",
        worker=worker,
        progress=_gather(worker, STAFF),
        entries=queries.journey(db.session, worker),
        kind_labels=KIND_LABELS,
    )
    return _logged(worker, "parcours", html)


@bp.route("/salaries/<worker_id>/auto-evaluation", methods=["GET", "POST"])
def assisted(structure_id: str, worker_id: str):  # type: ignore[no-untyped-def]
    worker = _worker_or_404(worker_id)
    if not worker.is_current:
        abort(404)
    return _self_assessment(worker, assisted=True)


@bp.route("/salaries/<worker_id>/points-etape", methods=["GET", "POST"])
def reviews(structure_id: str, worker_id: str):  # type: ignore[no-untyped-def]
    worker = _worker_or_404(worker_id)
    competences = queries.soft_skills(db.session)
    words = level_words(scale_payload(db.session), STAFF, _locale())
    today = _today()
    form = prepare_review_form(
        ReviewForm(held_on=today, next_review_on=today + timedelta(days=30))
        if request.method == "GET"
        else ReviewForm(),
        competences,
        words,
        _locale(),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if not worker.is_current:
            flash(_("Ce parcours est terminé : pas de nouveau point d'étape."), "error")
        elif form.validate_on_submit():
            by_id = {c.public_id: c for c in competences}
            goals = [
                service.GoalInput(
                    competence=by_id[entry.competence.data],
                    kind=entry.kind.data,
                    target_level=int(entry.target.data) if entry.target.data else None,
                    text=entry.text.data or "",
                )
                for entry in (e.form for e in form.goals)
                if entry.competence.data
            ]
            try:
                service.record_review(
                    db.session,
                    author=g.membership,
                    worker=worker,
                    held_on=form.held_on.data,
                    next_review_on=form.next_review_on.data,
                    next_steps=form.next_steps.data or "",
                    goals=goals,
                    adjusted=bool(form.adjusted.data),
                    now=now(),
                    today=today,
                )
            except DomainError as error:
                db.session.rollback()
                flash_error(error)
                status = error.status
            else:
                db.session.commit()
                flash(_("Le point d'étape est enregistré."), "success")
                return redirect(
                    url_for("progress.reviews", structure_id=structure_id, worker_id=worker_id)
                )
    html = render_template(
        "progress/reviews.html",
        worker=worker,
        form=form,
        progress=_gather(worker, STAFF),
        kind_labels=KIND_LABELS,
    )
    if request.method == "GET":
        return _logged(worker, "points-etape", html)
    return html, status


@bp.app_template_filter("local_date")
def local_date(value: date | datetime | None, timezone: str) -> str:
    """« 02/11/2026 »: a date, or the day of a moment in the structure's time zone."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        local = to_local(value, timezone)
        assert local is not None
        value = local.date()
    return value.strftime("%d/%m/%Y")


@bp.app_template_global()
def due_reviews(workers: list[Membership]) -> list[tuple[Membership, date, str]]:
    """For the conseiller's home: followed workers whose next review is soon or late."""
    today = _today()
    return [
        (due.worker, due.next_review_on, rules.review_status(due.next_review_on, today) or "")
        for due in queries.due_reviews(db.session, workers, today)
    ]
