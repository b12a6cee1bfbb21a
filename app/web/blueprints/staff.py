"""Staff pages of one structure: home per role, workers, a worker's file, code reset,
printed claim sheets."""

from __future__ import annotations

import base64
from datetime import timedelta

from flask import Blueprint, abort, current_app, g, render_template, url_for
from flask_login import current_user

from app.domain.enums import WITHDRAWAL_REASON_LABELS, CodeKind, Role
from app.extensions import db
from app.queries import assessments as assessment_queries
from app.queries import notifications as notification_queries
from app.queries import observations as obs_queries
from app.queries import people
from app.queries import referentials as referential_queries
from app.services import accounts, notifications, qr
from app.services import progress as progress_service
from app.web import notify
from app.web.blueprints.portfolio import worker_cards
from app.web.forms import ClaimCodeForm, EmptyForm, WithdrawForm
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
        issued_badges=worker_cards(worker),
        form=EmptyForm(),
        claim_form=ClaimCodeForm(),
        claim_channel=notifications.channel_for(worker.user),
        sent_messages=notification_queries.worker_notifications(db.session, worker),
        message_kinds=notify.KIND_LABELS,
        account_refusal=accounts.managed_refusal(worker.user, g.structure),
        resendable=notifications.resendable,
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
    accounts.check_managed_by(worker.user, g.structure)
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


@bp.post("/salaries/<worker_id>/code-de-retrait")
def claim_code(structure_id: str, worker_id: str):  # type: ignore[no-untyped-def]
    """A printable claim sheet (identifier, code, QR code) for a worker without e-mail.

    The code works once, for ``CLAIM_CODE_DAYS`` days, and replaces the previous one; its
    link can be sent by SMS or e-mail too, after the commit (SHR-06).
    """
    worker = _worker_or_404(worker_id)
    if not worker.is_current:
        abort(404)
    if worker.user_id == current_user.id:
        abort(403)
    form = ClaimCodeForm()
    if not form.validate_on_submit():
        abort(400)
    accounts.check_managed_by(worker.user, g.structure)
    days = int(current_app.config["CLAIM_CODE_DAYS"])
    issued_at = now()
    code = accounts.issue_one_time_code(
        db.session,
        user=worker.user,
        kind=CodeKind.CLAIM,
        now=issued_at,
        actor=current_user,
        structure=g.structure,
        valid_days=days,
    )
    expires_at = issued_at + timedelta(days=days)
    outgoing = None
    if form.send.data:
        outgoing = notifications.queue_claim_code(
            db.session,
            user=worker.user,
            structure=g.structure,
            code=code,
            expires_at=expires_at,
            base_url=notify.base_url(),
            now=issued_at,
        )
    db.session.commit()
    sent = notify.deliver_after_commit([outgoing])[0] if outgoing else None
    link = notifications.claim_url(notify.base_url(), worker.user.login, code)
    return render_template(
        "staff/claim_sheet.html",
        worker=worker,
        code=code,
        link=link,
        login_url=notify.base_url() + url_for("auth.login"),
        qr_data=base64.b64encode(qr.make_qr_png(link)).decode("ascii"),
        expires_at=expires_at,
        channel=outgoing.notification.channel if outgoing else None,
        sent=sent,
        back=url_for("staff.worker", structure_id=structure_id, worker_id=worker_id),
    )


@bp.get("/referentiel")
def referential(structure_id: str):  # type: ignore[no-untyped-def]
    return render_template(
        "staff/referential.html",
        grids=referential_queries.current_grids(db.session),
        local=referential_queries.structure_referential(db.session, g.structure),
    )
