"""The structure's SMS and e-mail notifications, and re-sending one (admin blueprint).

These routes belong to ``admin.bp`` (endpoints ``admin.outbox`` and
``admin.resend_notification``); ``admin`` imports this module once its blueprint exists.
"""

from __future__ import annotations

from functools import partial

from flask import abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.domain.enums import Role
from app.domain.errors import DomainError
from app.extensions import db
from app.queries import notifications as notification_queries
from app.queries import people
from app.services import notifications, senders
from app.web import notify
from app.web.blueprints.admin import bp
from app.web.errors import flash_error
from app.web.forms import EmptyForm
from app.web.utils import now


@bp.get("/envois")
def outbox(structure_id: str):  # type: ignore[no-untyped-def]
    """Every notification with its outcome, the reminders planned for later; in
    development, what the outbox holds (claim codes masked: only the printed sheet shows
    one)."""
    chosen = notify.senders()
    outbox_path = chosen.outbox_path
    written = senders.read_outbox(outbox_path, g.structure.public_id) if outbox_path else None
    return render_template(
        "admin/outbox.html",
        items=notification_queries.structure_notifications(db.session, g.structure),
        scheduled=notification_queries.scheduled_notifications(db.session, g.structure),
        written=written,
        form=EmptyForm(),
        mask=senders.mask_address,
        address_for=notifications.address_for,
        channel_for=partial(notifications.channel_for, senders=chosen),
        delivers=chosen.delivers,
        error_label=notify.error_label,
        kinds=notify.KIND_LABELS,
        resendable=notifications.resendable,
    )


@bp.post("/envois/<pid:notification_id>/renvoyer")
def resend_notification(structure_id: str, notification_id: str):  # type: ignore[no-untyped-def]
    """Send again: a badge message as it was, a claim code as a new code (after commit)."""
    notification = notification_queries.structure_notification(
        db.session, g.structure, notification_id
    )
    if notification is None:
        abort(404)
    member = notification_queries.recipient_membership(db.session, notification)
    # A conseiller re-sends only to the workers they follow.
    if member is None or people.visible_worker(db.session, g.membership, member.public_id) is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if g.membership.has_role(Role.ADMIN):
        back = url_for("admin.outbox", structure_id=structure_id)
    else:
        back = url_for("staff.worker", structure_id=structure_id, worker_id=member.public_id)
    try:
        outgoing = notifications.prepare_resend(
            db.session,
            notification,
            base_url=notify.base_url(),
            now=now(),
            actor=current_user,
            claim_days=int(current_app.config["CLAIM_CODE_DAYS"]),
        )
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
        return redirect(back)
    db.session.commit()
    if outgoing.message is None:
        flash(_("Cette personne n'a ni téléphone ni e-mail : dites-le-lui en personne."), "error")
        return redirect(back)
    delivery = notify.deliver_after_commit([outgoing])[0]
    if delivery == notifications.Delivery.SENT:
        flash(_("Le message est renvoyé."), "success")
    elif delivery == notifications.Delivery.OUTBOX:
        flash(
            _(
                "Le message n'est pas parti : aucun fournisseur d'envoi n'est configuré, "
                "il est seulement écrit dans le fichier local."
            ),
            "error",
        )
    else:
        flash(_("L'envoi a échoué. Réessayez plus tard."), "error")
    return redirect(back)
