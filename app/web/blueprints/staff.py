"""Staff pages of one structure: home per role, workers, a worker's file, code reset."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, g, render_template, url_for
from flask_login import current_user

from app.domain.enums import WITHDRAWAL_REASON_LABELS, CodeKind, Role
from app.extensions import db
from app.queries import assessments as assessment_queries
from app.queries import observations as obs_queries
from app.queries import people
from app.queries import referentials as referential_queries
from app.services import accounts
from app.services import progress as progress_service
from app.web.forms import EmptyForm, WithdrawForm
from app.web.utils import now

bp = Blueprint("staff", __name__, url_prefix="/s/<structure_id>")


@bp.get("/")
def home(structure_id: str):  # type: ignore[no-untyped-def]
    membership = g.membership
    return render_template(
        "staff/home.html",
        teams=people.led_teams(db.session, membership)
        if membership.has_role(Role.ENCADRANT)
        else [],
        caseload=[
            w
            for w in people.visible_workers(db.session, membership)
            if w.referent_id == membership.id
        ],
        workers_count=len(people.visible_workers(db.session, membership)),
        members_count=len(people.structure_members(db.session, g.structure))
        if membership.has_role(Role.ADMIN)
        else None,
    )


@bp.get("/salaries")
def workers(structure_id: str):  # type: ignore[no-untyped-def]
    return render_template(
        "staff/workers.html", workers=people.visible_workers(db.session, g.membership)
    )


def _worker_or_404(worker_id: str):  # type: ignore[no-untyped-def]
    worker = people.visible_worker(db.session, g.membership, worker_id)
    if worker is None:
        abort(404)
    return worker


@bp.get("/salaries/<worker_id>")
def worker(structure_id: str, worker_id: str):  # type: ignore[no-untyped-def]
    worker = _worker_or_404(worker_id)
    observations = obs_queries.worker_observations(db.session, worker)
    by_role: dict[Role, list] = {}
    for observation in observations:
        by_role.setdefault(observation.author_role, []).append(observation)
    withdraw_form = WithdrawForm()
    withdraw_form.reason.choices = [
        (r.value, label) for r, label in WITHDRAWAL_REASON_LABELS.items()
    ]
    progress_service.log_file_read(
        db.session, reader=current_user, worker=worker, page="fiche", now=now()
    )
    db.session.commit()
    return render_template(
        "staff/worker.html",
        worker=worker,
        badge_states=assessment_queries.worker_states(db.session, worker),
        form=EmptyForm(),
        by_role=by_role,
        withdraw_form=withdraw_form,
        reason_labels=WITHDRAWAL_REASON_LABELS,
        scale=dict(referential_queries.scale_choices(db.session)),
        correction_deadline=now()
        - timedelta(days=current_app.config["OBSERVATION_CORRECTION_DAYS"]),
    )


@bp.post("/salaries/<worker_id>/code")
def reset_code(structure_id: str, worker_id: str):  # type: ignore[no-untyped-def]
    """A one-time code for a worker who lost theirs: shown once, changed at next sign-in."""
    worker = _worker_or_404(worker_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    code = accounts.issue_one_time_code(
        db.session,
        user=worker.user,
        kind=CodeKind.RESET,
        now=now(),
        actor=current_user,
        structure=g.structure,
        valid_days=current_app.config["ONE_TIME_CODE_DAYS"],
    )
    db.session.commit()
    return render_template(
        "admin/code_issued.html",
        person=worker.user,
        code=code,
        back=url_for("staff.worker", structure_id=structure_id, worker_id=worker_id),
    )


@bp.get("/referentiel")
def referential(structure_id: str):  # type: ignore[no-untyped-def]
    return render_template(
        "staff/referential.html",
        grids=referential_queries.current_grids(db.session),
        local=referential_queries.structure_referential(db.session, g.structure),
    )
