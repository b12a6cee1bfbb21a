"""Observation in real work situations: team page, quick capture, corrections, situations."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.domain.enums import (
    SITUATION_TYPE_LABELS,
    WITHDRAWAL_REASON_LABELS,
    SituationType,
    WithdrawalReason,
)
from app.domain.errors import DomainError, WorkerNotInScope
from app.extensions import db
from app.queries import observations as obs_queries
from app.queries import people
from app.queries import referentials as referential_queries
from app.services import observations as service
from app.services import tokens
from app.web.errors import flash_error
from app.web.forms import (
    LEVEL_CHOICES_NOT_OBSERVED,
    CaptureForm,
    CorrectionForm,
    WithdrawForm,
    WorkSituationForm,
)
from app.web.timez import from_local, local_input_value, to_local
from app.web.utils import now

bp = Blueprint("observations", __name__, url_prefix="/s/<structure_id>")


def _level(value: str | None) -> int | None:
    return None if value in (None, "", LEVEL_CHOICES_NOT_OBSERVED) else int(value)


@bp.get("/equipe")
def team(structure_id: str):  # type: ignore[no-untyped-def]
    return render_template(
        "observations/team.html",
        overviews=obs_queries.team_overviews(db.session, g.membership),
        now=now(),
    )


def _capture_context(form: CaptureForm, workers, situation_id: str | None):  # type: ignore[no-untyped-def]
    teams = people.led_teams(db.session, g.membership)
    situations = obs_queries.active_situations(
        db.session, g.structure.id, team_ids={t.id for t in teams} if teams else None
    )
    worker_teams = {link.team_id for w in workers for link in w.team_links}
    situations.sort(key=lambda s: s.team_id not in worker_teams)
    chosen = next((s for s in situations if s.public_id == situation_id), None)
    chosen = chosen or (situations[0] if situations else None)
    if chosen is not None:
        form.situation.data = chosen.public_id
        form.competence.choices = [
            (c.public_id, c.name.get("fr", c.code)) for c in chosen.competences
        ]
    form.level.choices = referential_queries.scale_choices(db.session)
    return {"workers": workers, "situations": situations, "situation": chosen, "form": form}


def _chosen_workers(ids: list[str]):  # type: ignore[no-untyped-def]
    workers = []
    for worker_id in dict.fromkeys(ids):
        worker = people.visible_worker(db.session, g.membership, worker_id)
        if worker is None or not worker.is_current:
            raise WorkerNotInScope()
        workers.append(worker)
    return workers


@bp.get("/saisie")
def capture(structure_id: str):  # type: ignore[no-untyped-def]
    workers = _chosen_workers(request.args.getlist("w"))
    if not workers:
        flash(_("Choisissez d'abord une ou plusieurs personnes."), "error")
        return redirect(url_for("observations.team", structure_id=structure_id))
    form = CaptureForm(
        idempotency_key=secrets.token_urlsafe(18),
        level=request.args.get("level"),
    )
    form.observed_at.data = None
    context = _capture_context(form, workers, request.args.get("situation"))
    context["now_value"] = local_input_value(now(), g.structure.timezone)
    return render_template("observations/capture.html", **context)


@bp.post("/saisie")
def record(structure_id: str):  # type: ignore[no-untyped-def]
    workers = _chosen_workers(request.form.getlist("w"))
    form = CaptureForm()
    context = _capture_context(form, workers, request.form.get("situation"))
    context["now_value"] = local_input_value(now(), g.structure.timezone)
    if not workers or not form.validate_on_submit():
        return render_template("observations/capture.html", **context), 400
    observed_at = (
        from_local(form.observed_at.data, g.structure.timezone) if form.observed_at.data else None
    )
    items = [
        service.CaptureItem(
            worker_id=w.public_id,
            competence_id=form.competence.data or "",
            level=_level(request.form.get(f"level_{w.public_id}") or form.level.data),
            comment=form.comment.data,
        )
        for w in workers
    ]
    try:
        result = service.record_capture(
            db.session,
            author=g.membership,
            situation_id=form.situation.data or "",
            observed_at=observed_at,
            items=items,
            idempotency_key=form.idempotency_key.data or "",
            now=now(),
        )
    except (DomainError, ValueError) as error:
        db.session.rollback()
        if isinstance(error, DomainError):
            flash_error(error)
            status = error.status
        else:
            flash(_("Un niveau n'est pas valide."), "error")
            status = 400
        context = _capture_context(CaptureForm(), workers, request.form.get("situation"))
        context["form"].process(request.form)
        context["now_value"] = local_input_value(now(), g.structure.timezone)
        return render_template("observations/capture.html", **context), status
    db.session.commit()
    n = len(result.observations)
    flash(
        _("Observation enregistrée.") if n == 1 else _("%(n)s observations enregistrées.", n=n),
        "success",
    )
    return redirect(url_for("observations.team", structure_id=structure_id))


def _observation_or_404(observation_id: str):  # type: ignore[no-untyped-def]
    observation = obs_queries.visible_observation(db.session, g.membership, observation_id)
    if observation is None:
        abort(404)
    return observation


def _window() -> timedelta:
    return timedelta(days=current_app.config["OBSERVATION_CORRECTION_DAYS"])


@bp.route("/observations/<observation_id>/corriger", methods=["GET", "POST"])
def correct(structure_id: str, observation_id: str):  # type: ignore[no-untyped-def]
    observation = _observation_or_404(observation_id)
    form = CorrectionForm(
        level=str(observation.level) if observation.level else LEVEL_CHOICES_NOT_OBSERVED,
        comment=observation.comment.text if observation.comment else "",
    )
    form.level.choices = referential_queries.scale_choices(db.session)
    if request.method == "GET":
        form.observed_at.data = to_local(observation.observed_at, g.structure.timezone).replace(
            tzinfo=None
        )
    back = url_for(
        "staff.worker", structure_id=structure_id, worker_id=observation.worker.public_id
    )
    if form.validate_on_submit():
        try:
            service.correct_observation(
                db.session,
                observation=observation,
                editor=current_user,
                level=_level(form.level.data),
                observed_at=from_local(form.observed_at.data, g.structure.timezone),
                comment=form.comment.data,
                now=now(),
                window=_window(),
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
            return render_template(
                "observations/correct.html", form=form, observation=observation, back=back
            ), error.status
        db.session.commit()
        flash(_("La correction est enregistrée. L'historique reste visible."), "success")
        return redirect(back)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "observations/correct.html", form=form, observation=observation, back=back
    ), status


@bp.post("/observations/<observation_id>/retrait")
def withdraw(structure_id: str, observation_id: str):  # type: ignore[no-untyped-def]
    observation = _observation_or_404(observation_id)
    form = WithdrawForm()
    form.reason.choices = [(r.value, label) for r, label in WITHDRAWAL_REASON_LABELS.items()]
    back = url_for(
        "staff.worker", structure_id=structure_id, worker_id=observation.worker.public_id
    )
    if not form.validate_on_submit():
        flash(_("Choisissez une raison dans la liste."), "error")
        return redirect(back)
    try:
        service.withdraw_observation(
            db.session,
            observation=observation,
            actor=g.membership,
            reason=WithdrawalReason(form.reason.data),
            now=now(),
        )
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
        return redirect(back)
    db.session.commit()
    flash(_("L'observation est retirée. Elle reste dans l'historique."), "success")
    return redirect(back)


# --- Work situations --------------------------------------------------------------------


def _situation_form(form: WorkSituationForm) -> WorkSituationForm:
    form.type.choices = [(t.value, label) for t, label in SITUATION_TYPE_LABELS.items()]
    teams = [t for t in g.structure.teams if t.archived_at is None]
    form.team.choices = [("", _("Toutes les équipes"))] + [(t.public_id, t.name) for t in teams]
    form.competences.choices = [
        (c.public_id, c.name.get("fr", c.code))
        for c in referential_queries.observable_competences(db.session, g.structure)
    ]
    return form


def _situations_page(form: WorkSituationForm, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "observations/situations.html",
        form=form,
        situations=obs_queries.active_situations(db.session, g.structure.id),
        templates=referential_queries.situation_templates(db.session),
        type_labels=SITUATION_TYPE_LABELS,
    ), status


@bp.get("/situations")
def situations(structure_id: str):  # type: ignore[no-untyped-def]
    form = _situation_form(WorkSituationForm(starts_on=now().date()))
    template_id = request.args.get("modele")
    if template_id:
        template = next(
            (
                t
                for t in referential_queries.situation_templates(db.session)
                if t.public_id == template_id
            ),
            None,
        )
        if template is None:
            abort(404)
        form.name.data = template.name.get("fr", "")
        form.type.data = template.type
        form.competences.data = [
            c.public_id
            for c in referential_queries.resolve_codes(
                db.session, template.referential, template.competence_codes
            )
        ]
    led = people.led_teams(db.session, g.membership)
    if led and not form.team.data:
        form.team.data = led[0].public_id
    return _situations_page(form)


@bp.post("/situations")
def create_situation(structure_id: str):  # type: ignore[no-untyped-def]
    form = _situation_form(WorkSituationForm())
    if not form.validate_on_submit():
        return _situations_page(form, 400)
    by_id = {
        c.public_id: c for c in referential_queries.observable_competences(db.session, g.structure)
    }
    team = next((t for t in g.structure.teams if t.public_id == form.team.data), None)
    try:
        service.create_situation(
            db.session,
            author=g.membership,
            name=form.name.data or "",
            type=SituationType(form.type.data),
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
            place=form.place.data,
            team=team,
            competences=[by_id[c] for c in form.competences.data or []],
            now=now(),
        )
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
        return _situations_page(form, error.status)
    db.session.commit()
    flash(_("La situation de travail est créée."), "success")
    return redirect(url_for("observations.team", structure_id=structure_id))


@bp.post("/jeton-saisie")
def capture_token(structure_id: str):  # type: ignore[no-untyped-def]
    """A short-lived token for sending captures queued offline (JSON, CSRF-protected)."""
    plain, expires_at = tokens.issue_capture_token(
        db.session,
        user=current_user,
        session_nonce=session.setdefault("capture_nonce", secrets.token_urlsafe(16)),
        now=now(),
        lifetime=timedelta(hours=current_app.config["CAPTURE_TOKEN_HOURS"]),
    )
    db.session.commit()
    return {"token": plain, "expires_at": expires_at.isoformat(), "author": current_user.public_id}
