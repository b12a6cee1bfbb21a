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

_REFUSED = _l("Le fournisseur a refusé l'envoi")
_NO_ANSWER = _l("Le fournisseur n'a pas répondu")
#: A failed send in plain words, by the exception class kept as ``last_error`` (the class
#: name itself is only in the server's log). Any other error: ``SEND_FAILED``.
ERROR_LABELS = {
    **dict.fromkeys(
        (
            "SMTPException",
            "SMTPResponseException",
            "SMTPRecipientsRefused",
            "SMTPSenderRefused",
            "SMTPDataError",
            "SMTPAuthenticationError",
            "SMTPNotSupportedError",
            "SMTPHeloError",
        ),
        _REFUSED,
    ),
    **dict.fromkeys(
        (
            "SMTPConnectError",
            "SMTPServerDisconnected",
            "ConnectionError",
            "ConnectionRefusedError",
            "ConnectionResetError",
            "ConnectionAbortedError",
            "TimeoutError",
            "timeout",
            "gaierror",
        ),
        _NO_ANSWER,
    ),
}
SEND_FAILED = _l("L'envoi a échoué")


def error_label(last_error: str) -> str:
    """What a failed send's ``last_error`` says to staff, in French, never a class name."""
    return str(ERROR_LABELS.get(last_error, SEND_FAILED))


def senders() -> Senders:
    """The senders chosen by ``JALON_EMAIL_BACKEND`` and ``JALON_SMS_BACKEND``."""
    return senders_from_config(current_app.config)


def base_url() -> str:
    """``JALON_BASE_URL``: links in messages and QR codes never depend on the request."""
    return str(current_app.config["BASE_URL"])


def deliver_after_commit(outgoing: list[notifications.Outgoing]) -> list[notifications.Delivery]:
    """Right after the action's commit: send each message, then commit the attempts.

    A failed send is recorded on its notification; the action is already committed. Each
    result says what really happened (``notifications.Delivery``; every value is truthy).
    """
    chosen = senders()
    results = [
        notifications.outcome(
            item, notifications.deliver(db.session, item, senders=chosen, now=now())
        )
        for item in outgoing
    ]
    db.session.commit()
    return results
