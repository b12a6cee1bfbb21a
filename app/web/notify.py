"""Notifications from a request: senders from the config, sending after the commit."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.services import notifications
from app.services.senders import Senders, senders_from_config
from app.web.utils import now

#: What each kind of message is called on the staff's pages.
KIND_LABELS = {
    notifications.BADGE_PENDING: _l("Nouveau badge numérique"),
    notifications.CLAIM_CODE: _l("Code de retrait"),
    notifications.EXIT_REMINDER: _l("Rappel après le départ"),
    notifications.BADGES_RENEWED: _l("Badges ré-émis à la nouvelle adresse"),
}


def senders() -> Senders:
    """The senders chosen by ``JALON_EMAIL_BACKEND`` and ``JALON_SMS_BACKEND``."""
    return senders_from_config(current_app.config)


def base_url() -> str:
    """``JALON_BASE_URL``: links in messages and QR codes never depend on the request."""
    return str(current_app.config["BASE_URL"])


def deliver_after_commit(outgoing: list[notifications.Outgoing]) -> list[bool]:
    """Right after the action's commit: send each message, then commit the attempts.

    A failed send is recorded on its notification; the action is already committed.
    """
    chosen = senders()
    results = [
        notifications.deliver(db.session, item, senders=chosen, now=now()) for item in outgoing
    ]
    db.session.commit()
    return results
