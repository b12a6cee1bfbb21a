"""Validation workflow: the validateur's queue, decisions, manual proposals."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from app.domain.assessments import STATUS_LABELS
from app.domain.badges import REVOCATION_WORDING, STAFF_REVOCATION_REASONS
from app.domain.errors import DomainError
from app.extensions import db
from app.queries import assessments as queries
from app.queries import people
from app.services import assessments as service
from app.services import decisions, notifications
from app.services.badges import Issuing
from app.web import notify
from app.web.errors import flash_error
from app.web.forms import DecisionForm, ProposeForm, RevokeDecisionForm
from app.web.utils import now

bp = Blueprint("assessments", __name__, url_prefix="/s/<structure_id>")

#: Staff choose among the shared reasons, reading the words the public page will show.
REASON_LABELS = {r.value: REVOCATION_WORDING[r] for r in STAFF_REVOCATION_REASONS}
PROPOSAL_STATUS = {
    "pending": "En attente de décision",
    "approved": "Validé",
    "rejected": "Refusé",
    "flagged": "À revoir : une observation a été retirée",
    "revoked": "Retiré",
}


def _revoke_form() -> RevokeDecisionForm:
    form = RevokeDecisionForm()
    form.reason.choices = list(REASON_LABELS.items())
    return form


@bp.get("/validation")
def queue(structure_id: str):  # type: ignore[no-untyped-def]
    return render_template(
        "assessments/queue.html",
        proposals=queries.queue(db.session, g.structure.id),
        status_labels=PROPOSAL_STATUS,
    )


def _proposal_or_404(proposal_id: str):  # type: ignore[no-untyped-def]
    proposal = queries.proposal(db.session, g.structure.id, proposal_id)
    if proposal is None:
        abort(404)
    return proposal


def _page(proposal, status: int = 200):  # type: ignore[no-untyped-def]
    current = service.assess(
        db.session,
        worker=proposal.worker,
        template=proposal.template,
        level=proposal.level,
        now=now(),
    )
    return render_template(
        "assessments/proposal.html",
        proposal=proposal,
        current=current,
        status_labels=PROPOSAL_STATUS,
        computed_labels=STATUS_LABELS,
        evidence=queries.evidence_observations(db.session, list(current.used)),
        history=queries.history(db.session, proposal),
        decision_form=DecisionForm(),
        revoke_form=_revoke_form(),
        reason_labels=REASON_LABELS,
    ), status


@bp.get("/propositions/<proposal_id>")
def proposal(structure_id: str, proposal_id: str):  # type: ignore[no-untyped-def]
    return _page(_proposal_or_404(proposal_id))


def _decide(proposal_id: str, action):  # type: ignore[no-untyped-def]
    proposal = _proposal_or_404(proposal_id)
    try:
        action(proposal)
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
        return _page(_proposal_or_404(proposal_id), error.status)
    db.session.commit()
    return redirect(url_for("assessments.queue", structure_id=g.structure.public_id))


@bp.post("/propositions/<proposal_id>/decision")
def decide(structure_id: str, proposal_id: str):  # type: ignore[no-untyped-def]
    """One form, four decisions: approve, reject (pending); keep, revoke (after review)."""
    decision = request.form.get("decision", "")
    form = _revoke_form() if decision == "revoke" else DecisionForm()
    if decision not in ("approve", "reject", "keep", "revoke") or not form.validate_on_submit():
        flash(_("Choisissez une décision."), "error")
        return _page(_proposal_or_404(proposal_id), 400)
    comment = form.comment.data
    outgoing: list[notifications.Outgoing] = []

    def act(proposal):  # type: ignore[no-untyped-def]
        if decision == "approve":
            assertion = decisions.approve(
                db.session,
                validator=g.membership,
                proposal=proposal,
                comment=comment,
                now=now(),
                issuing=Issuing.from_config(current_app.config),
            )
            # Recorded with the badge; sent by SMS or e-mail once both are committed.
            outgoing.append(
                notifications.queue_badge_pending(
                    db.session, assertion=assertion, base_url=notify.base_url(), now=now()
                )
            )
            flash(_("Validé. La personne en est informée."), "success")
        elif decision == "reject":
            decisions.reject(
                db.session,
                validator=g.membership,
                proposal=proposal,
                comment=comment or "",
                now=now(),
            )
            flash(
                _("Refusé. La proposition pourra revenir avec de nouvelles observations."),
                "success",
            )
        else:
            decisions.settle_flagged(
                db.session,
                validator=g.membership,
                proposal=proposal,
                keep=decision == "keep",
                reason=getattr(form, "reason", None) and form.reason.data,
                comment=comment,
                now=now(),
            )
            flash(_("La décision est enregistrée."), "success")

    response = _decide(proposal_id, act)
    if outgoing:  # only filled once approved, and ``_decide`` has committed it since
        notify.deliver_after_commit(outgoing)
    return response


def _propose_form(worker):  # type: ignore[no-untyped-def]
    form = ProposeForm()
    form.badge.choices = [
        (f"{t.public_id}:{tier['level']}", f"{t.name.get('fr', t.code)} — niveau {tier['level']}")
        for t in service.current_templates(db.session)
        for tier in t.tiers
    ]
    return form


@bp.route("/salaries/<worker_id>/proposer", methods=["GET", "POST"])
def propose(structure_id: str, worker_id: str):  # type: ignore[no-untyped-def]
    worker = people.visible_worker(db.session, g.membership, worker_id)
    if worker is None or not worker.is_current:
        abort(404)
    form = _propose_form(worker)
    if request.method == "POST" and form.validate_on_submit():
        template_id, _sep, level = (form.badge.data or "").rpartition(":")
        template = next(
            (t for t in service.current_templates(db.session) if t.public_id == template_id), None
        )
        if template is None:
            abort(400)
        try:
            decisions.propose(
                db.session,
                author=g.membership,
                worker=worker,
                template=template,
                level=int(level),
                justification=form.justification.data or "",
                now=now(),
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
            return render_template(
                "assessments/propose.html", form=form, worker=worker
            ), error.status
        db.session.commit()
        flash(_("La proposition est envoyée aux validateur·rices."), "success")
        return redirect(url_for("staff.worker", structure_id=structure_id, worker_id=worker_id))
    status = 400 if request.method == "POST" else 200
    return render_template("assessments/propose.html", form=form, worker=worker), status
