"""A worker's contact details, changed by staff, and the re-issue of the badges that still
name the former ones (BDG-04)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.domain import errors
from app.extensions import db
from app.models import Membership
from app.queries import people
from app.services import accounts, badges, identities, notifications
from app.services import progress as progress_service
from app.web import notify
from app.web.errors import flash_error
from app.web.forms import ContactForm, EmptyForm
from app.web.utils import now

bp = Blueprint("identity", __name__, url_prefix="/s/<structure_id>/salaries/<worker_id>")

#: Which field of the form a refused value belongs to.
FIELD_OF_ERROR: dict[type[errors.DomainError], str] = {
    errors.InvalidEmail: "email",
    errors.EmailTaken: "email",
    errors.InvalidPhone: "phone",
}
#: What the person's badges are issued to, in words (app.services.badges.recipient_identity).
RECIPIENT_WORDS = {
    "email": _l("à son adresse e-mail"),
    "telephone": _l("à son numéro de téléphone"),
    "url": _l("à l'adresse de son compte Jalon (ni e-mail ni téléphone)"),
}
#: Where a badge to re-issue stands for its earner (Assertion.status).
STATUS_WORDS = {
    "pending": _l("en attente de sa réponse"),
    "declined": _l("refusé par la personne"),
    "valid": _l("accepté"),
    "expired": _l("expiré"),
}


def _worker_or_404(worker_id: str) -> Membership:
    worker = people.visible_worker(db.session, g.membership, worker_id)
    if worker is None:
        abort(404)
    return worker


def _page(worker: Membership, form: ContactForm, status: int = 200):  # type: ignore[no-untyped-def]
    """The contact page: the form, and the badges that still name a former identity."""
    issuing = badges.Issuing.from_config(current_app.config)
    stale = identities.stale_badges(db.session, worker.user, issuing, g.structure)
    at = now()
    kind, _identity = badges.recipient_identity(worker.user, g.structure, issuing.urls)
    return render_template(
        "identity/contact.html",
        worker=worker,
        form=form,
        recipient_words=RECIPIENT_WORDS[kind],
        stale=[
            (
                badges.badge_name(a.badge_class.template, a.badge_class.level),
                STATUS_WORDS.get(a.status(at), ""),
            )
            for a in stale
        ],
        reissue_form=EmptyForm(),
    ), status


@bp.route("/coordonnees", methods=["GET", "POST"])
def contact(structure_id: str, worker_id: str):  # type: ignore[no-untyped-def]
    """Change a current worker's email or telephone; then offer to re-issue their badges."""
    worker = _worker_or_404(worker_id)
    user = worker.user
    form = ContactForm(email=user.email, phone=user.phone)
    if not form.is_submitted():
        progress_service.log_file_read(
            db.session, reader=current_user, worker=worker, page="coordonnees", now=now()
        )
        db.session.commit()
        return _page(worker, form)
    if not worker.is_current:
        abort(404)  # the person has left: their account is no longer the structure's to edit
    accounts.check_managed_by(user, g.structure)
    if not form.validate():
        return _page(worker, form, 400)
    try:
        changed = identities.change_contact(
            db.session,
            user=user,
            email=form.email.data,
            phone=form.phone.data,
            country=g.structure.country,
            actor=current_user,
            structure=g.structure,
            now=now(),
        )
    except errors.AccountError as error:
        db.session.rollback()
        field = FIELD_OF_ERROR.get(type(error))
        if field is None:
            flash_error(error)
        else:  # shown under the field, which is marked invalid
            form[field].errors = [*form[field].errors, _(error.message)]
        return _page(worker, form, 400)
    db.session.commit()
    if changed:
        flash(_("Les coordonnées sont enregistrées."), "success")
    else:
        flash(_("Rien n'a changé."), "info")
    return redirect(url_for("identity.contact", structure_id=structure_id, worker_id=worker_id))


@bp.post("/badges/reemettre")
def reissue(structure_id: str, worker_id: str):  # type: ignore[no-untyped-def]
    """Re-issue, in one action, every badge of this structure that names the person's former
    email or telephone; the old ones are withdrawn as « Identité de la personne mise à jour »."""
    worker = _worker_or_404(worker_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        pairs = identities.reissue_to_current_identity(
            db.session,
            user=worker.user,
            issuing=badges.Issuing.from_config(current_app.config),
            now=now(),
            actor=current_user,
            structure=g.structure,
        )
        outgoing = notifications.queue_badges_renewed(
            db.session, pairs=pairs, base_url=notify.base_url(), now=now()
        )
    except errors.DomainError as error:
        db.session.rollback()
        flash_error(error)
        return _page(worker, ContactForm(email=worker.user.email, phone=worker.user.phone), 409)
    db.session.commit()
    if outgoing:
        notify.deliver_after_commit(outgoing)
    if pairs:
        flash(
            _("%(n)s badge(s) numérique(s) ré-émis à la nouvelle adresse.", n=len(pairs)),
            "success",
        )
    else:
        flash(_("Tous les badges numériques portent déjà la bonne adresse."), "info")
    return redirect(url_for("identity.contact", structure_id=structure_id, worker_id=worker_id))
