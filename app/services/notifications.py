"""Telling a person about a new badge or a claim code, by SMS, e-mail, or face to face.

Each message is recorded (``OutboundNotification``) before it is sent; the web view and
the CLI commit that row with the action, then ``deliver`` after the commit, so that no one
is told about a badge that a failed commit undid, and a failed send never undoes the
action: it is kept as ``last_error`` and can be re-sent from the admin page.

The channel follows the person: SMS when they have a phone, else e-mail, else ``none``
(the conseiller·ère tells them in person); with both, e-mail when only e-mail has a real
provider (``channel_for``). Texts are in French, short and plain.

A message written to the outbox (no provider configured, ``app.services.senders``) is not
sent: it is recorded as ``OUTBOX``, never with ``sent_at`` (see ``deliver``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.domain.enums import CodeKind
from app.domain.errors import DomainError
from app.models import Assertion, OutboundNotification, Structure, User
from app.services import accounts
from app.services.badges import badge_name
from app.services.senders import Message, Senders

log = logging.getLogger(__name__)

BADGE_PENDING = "badge_pending"
CLAIM_CODE = "claim_code"
#: Sent some months after a worker left (``app.services.exit_reminders``, SHR-11).
EXIT_REMINDER = "exit_reminder"
#: Sent once staff re-issued badges the person had accepted to their new e-mail or phone:
#: the links they shared now show « Retiré : identité mise à jour ».
BADGES_RENEWED = "badges_renewed"
NO_CHANNEL = "none"
#: Recorded when there is nobody to send to: the team tells the person face to face.
NO_CHANNEL_ERROR = "no_channel"
#: Recorded (as ``last_error``, ``sent_at`` untouched) when the channel's backend is the
#: outbox: the message was written to the local file, nothing left the server.
OUTBOX = "outbox"
#: Where a worker sees and accepts their badges (the ``portfolio.index`` page).
BADGES_PATH = "/moi/badges"
CLAIM_PATH = "/connexion/retrait"


class CannotResend(DomainError):
    """A notification that cannot be sent again as it is."""

    code = "cannot_resend"
    message = "Ce message ne peut pas être renvoyé."


#: Kinds staff may send again from the outbox or the worker's file. A reminder after an exit
#: is sent at its date by ``flask notifications send-due``, never by hand.
RESENDABLE = frozenset({BADGE_PENDING, CLAIM_CODE, BADGES_RENEWED})


def resendable(notification: OutboundNotification) -> bool:
    """Whether ``prepare_resend`` would make this message again: a renewal notice always, a
    « nouveau badge » while its badge still waits for an answer, a claim code while the
    account is the structure's to manage (``accounts.managed_refusal``)."""
    if notification.kind not in RESENDABLE:
        return False
    if notification.kind == CLAIM_CODE:
        return accounts.managed_refusal(notification.user, notification.structure) is None
    if notification.kind == BADGES_RENEWED:
        return True
    assertion = notification.assertion
    return assertion is not None and assertion.revoked_at is None and assertion.consent == "pending"


@dataclass(frozen=True)
class Outgoing:
    """A recorded notification and its text, to ``deliver`` once the action is committed.

    ``message`` is None when the person has no phone and no e-mail address.
    """

    notification: OutboundNotification
    message: Message | None


def channel_for(user: User, senders: Senders | None = None) -> str:
    """``sms`` when the person has a phone, else ``email``, else ``none``.

    Given the ``senders``, a person with both is reached by ``email`` when only e-mail has a
    real provider (SMS left on the outbox); SMS stays first when both or neither deliver.
    Without them (a text being written, a dry run), the choice is the person's alone.
    """
    if user.phone and user.email and senders is not None:
        if senders.delivers("email") and not senders.delivers("sms"):
            return "email"
    if user.phone:
        return "sms"
    return "email" if user.email else NO_CHANNEL


def address_for(user: User, channel: str) -> str | None:
    """The person's current address on ``channel`` (never stored with the notification)."""
    return {"sms": user.phone, "email": user.email}.get(channel)


def claim_url(base_url: str, login: str, code: str) -> str:
    """The address in a claim QR code: it fills in the claim form, which signs in on POST."""
    query = urlencode({"identifiant": login, "code": code})
    return f"{base_url.rstrip('/')}{CLAIM_PATH}?{query}"


def _day(moment: datetime, structure: Structure) -> str:
    return moment.astimezone(ZoneInfo(structure.timezone)).strftime("%d/%m/%Y")


def _message(user: User, structure: Structure, kind: str, subject: str, body: str) -> Message:
    channel = channel_for(user)
    to = address_for(user, channel)
    assert to is not None, "only built when the person has an address"
    return Message(
        to=to,
        channel="sms" if channel == "sms" else "email",
        subject=subject,
        body=body,
        structure=structure.public_id,
        kind=kind,
    )


def badge_pending_message(assertion: Assertion, *, base_url: str) -> Message | None:
    """« Vous avez un nouveau badge numérique : … », or None without phone nor e-mail."""
    user, structure = assertion.user, assertion.structure
    if channel_for(user) == NO_CHANNEL:
        return None
    name = badge_name(assertion.badge_class.template, assertion.badge_class.level)
    body = (
        f"{structure.name} : vous avez un nouveau badge numérique : {name}. "
        f"Connectez-vous pour le voir et choisir : {base_url.rstrip('/')}{BADGES_PATH}"
    )
    return _message(user, structure, BADGE_PENDING, "Un nouveau badge numérique", body)


def claim_code_message(
    user: User, structure: Structure, *, code: str, expires_at: datetime, base_url: str
) -> Message | None:
    """The claim link with its code, or None without phone nor e-mail."""
    if channel_for(user) == NO_CHANNEL:
        return None
    body = (
        f"{structure.name} : pour récupérer vos badges numériques, ouvrez ce lien : "
        f"{claim_url(base_url, user.login, code)} . Il marche une seule fois. "
        f"Il ne marche plus à partir du {_day(expires_at, structure)}."
    )
    return _message(user, structure, CLAIM_CODE, "Récupérer mes badges numériques", body)


def exit_reminder_message(user: User, structure: Structure, *, base_url: str) -> Message | None:
    """« Vos badges numériques restent à vous », or None without phone nor e-mail.

    Only the first name: nothing else about the person, nothing asked of them. « de la
    structure » reads right before any name (« de Les Jardins du Val » would not).
    """
    if channel_for(user) == NO_CHANNEL:
        return None
    hello = f"Bonjour {user.first_name.strip()}," if user.first_name.strip() else "Bonjour,"
    body = (
        f"{hello} vos badges numériques de la structure {structure.name} restent à vous. "
        f"Vous pouvez les montrer à un employeur : {base_url.rstrip('/')}{BADGES_PATH}"
    )
    return _message(user, structure, EXIT_REMINDER, "Vos badges numériques", body)


def badges_renewed_message(user: User, structure: Structure, *, base_url: str) -> Message | None:
    """« Vos badges numériques ont un nouveau lien », or None without phone nor e-mail.

    Sent to the new address; it asks the person to replace the links they shared, which now
    show the old badges as withdrawn.
    """
    if channel_for(user) == NO_CHANNEL:
        return None
    body = (
        f"{structure.name} : vos coordonnées ont changé, vos badges numériques ont donc un "
        f"nouveau lien. Si vous les aviez partagés (LinkedIn, CV), remplacez le lien : "
        f"{base_url.rstrip('/')}{BADGES_PATH}"
    )
    return _message(user, structure, BADGES_RENEWED, "Vos badges numériques ont changé", body)


def _record(
    session: Session,
    *,
    user: User,
    structure: Structure,
    kind: str,
    now: datetime,
    assertion: Assertion | None = None,
) -> OutboundNotification:
    notification = OutboundNotification(
        structure_id=structure.id,
        user_id=user.id,
        assertion_id=assertion.id if assertion else None,
        kind=kind,
        channel=channel_for(user),
        created_at=now,
        attempts=0,
    )
    session.add(notification)
    session.flush()
    return notification


def queue_badge_pending(
    session: Session, *, assertion: Assertion, base_url: str, now: datetime
) -> Outgoing:
    """Record the « new badge » notification of ``assertion``; ``deliver`` it after commit."""
    notification = _record(
        session,
        user=assertion.user,
        structure=assertion.structure,
        kind=BADGE_PENDING,
        assertion=assertion,
        now=now,
    )
    return Outgoing(notification, badge_pending_message(assertion, base_url=base_url))


def queue_claim_code(
    session: Session,
    *,
    user: User,
    structure: Structure,
    code: str,
    expires_at: datetime,
    base_url: str,
    now: datetime,
) -> Outgoing:
    """Record the message carrying a claim code; ``deliver`` it after commit."""
    notification = _record(session, user=user, structure=structure, kind=CLAIM_CODE, now=now)
    message = claim_code_message(
        user, structure, code=code, expires_at=expires_at, base_url=base_url
    )
    return Outgoing(notification, message)


def queue_badges_renewed(
    session: Session, *, pairs: list[tuple[Assertion, Assertion]], base_url: str, now: datetime
) -> list[Outgoing]:
    """One message per person and structure whose accepted badges were just re-issued.

    ``pairs`` are the (old, new) badges of :func:`identities.reissue_to_current_identity`.
    Only badges the person had accepted count: nobody holds a link to the others, and a
    badge still waiting already has its « nouveau badge » message.
    """
    seen: set[tuple[int, int]] = set()
    queued = []
    for old, _new in pairs:
        key = (old.user_id, old.structure_id)
        if not old.is_public or key in seen:
            continue
        seen.add(key)
        user, structure = old.user, old.structure
        notification = _record(
            session, user=user, structure=structure, kind=BADGES_RENEWED, now=now
        )
        message = badges_renewed_message(user, structure, base_url=base_url)
        queued.append(Outgoing(notification, message))
    return queued


class Delivery(StrEnum):
    """What became of one message handed to ``deliver``."""

    SENT = "sent"  # a real provider took it
    OUTBOX = "outbox"  # written to the local file only: nothing left the server
    FAILED = "failed"  # the provider failed; kept on the notification
    IN_PERSON = "in_person"  # no phone and no e-mail: nothing was sent


def outcome(outgoing: Outgoing, delivered: bool) -> Delivery:
    """``deliver``'s result in words, for the pages and the commands that sum it up."""
    if delivered:
        return Delivery.SENT
    if outgoing.message is None:
        return Delivery.IN_PERSON
    if outgoing.notification.last_error == OUTBOX:
        return Delivery.OUTBOX
    return Delivery.FAILED


def summary(counts: Mapping[str, int]) -> str:
    """Outcomes counted by ``Delivery``, in one line for a command's output."""
    return (
        f"{counts.get(Delivery.SENT, 0)} sent, "
        f"{counts.get(Delivery.OUTBOX, 0)} in the outbox only, "
        f"{counts.get(Delivery.FAILED, 0)} failed, "
        f"{counts.get(Delivery.IN_PERSON, 0)} without phone or e-mail"
    )


def deliver(session: Session, outgoing: Outgoing, *, senders: Senders, now: datetime) -> bool:
    """Send, and record the attempt; True only when a real provider took the message.

    The channel is chosen again with the ``senders`` at hand (``channel_for``): a message
    written for SMS goes by e-mail when only e-mail really delivers. Without an address
    nothing is sent nor counted: the team tells the person.

    A provider failure is kept as ``last_error`` (the exception's class name, also logged,
    never its text: it may quote the address), never raised, and counts as an attempt.

    When the channel's backend is the outbox, the message is written to the local file and
    recorded as ``OUTBOX``: no ``sent_at``, no attempt counted (no provider was tried), so
    pages say that nothing left. Staff may « Renvoyer » it once a provider is configured.
    A message due at a date (a reminder after an exit, ``flask notifications send-due``)
    stays due: ``OUTBOX`` is not a final outcome (``exit_reminders.FINAL``) and attempts
    stay below ``exit_reminders.MAX_ATTEMPTS``, so the first run after a provider is
    configured sends it; meanwhile later runs do not write it to the file again.
    """
    notification, message = outgoing.notification, outgoing.message
    if message is None:
        return False
    channel = channel_for(notification.user, senders)
    to = address_for(notification.user, channel)
    if channel != message.channel and to:
        message = replace(message, channel="sms" if channel == "sms" else "email", to=to)
    delivers = senders.delivers(message.channel)
    if not delivers and notification.due_at is not None and notification.last_error == OUTBOX:
        return False  # already in the file; kept due until a provider is configured
    notification.channel = message.channel
    if delivers:
        notification.attempts += 1
    try:
        senders.for_channel(message.channel).send(message)
    except Exception as error:  # any provider failure; the action itself stands
        # The class name only: provider messages may quote the address.
        notification.last_error = type(error).__name__[:120]
        log.warning(
            "notification %s: %s %s not sent (%s)",
            notification.public_id,
            message.channel,
            message.kind,
            notification.last_error,
        )
        session.flush()
        return False
    if not delivers:
        notification.last_error = OUTBOX
        session.flush()
        return False
    notification.sent_at, notification.last_error = now, None
    session.flush()
    return True


def notify_badge_pending(
    session: Session, *, assertion: Assertion, senders: Senders, base_url: str, now: datetime
) -> OutboundNotification:
    """Record and send at once (when no commit has to come first)."""
    outgoing = queue_badge_pending(session, assertion=assertion, base_url=base_url, now=now)
    deliver(session, outgoing, senders=senders, now=now)
    return outgoing.notification


def send_claim_code(
    session: Session,
    *,
    user: User,
    structure: Structure,
    code: str,
    expires_at: datetime,
    senders: Senders,
    base_url: str,
    now: datetime,
) -> OutboundNotification:
    """Record and send a claim code at once."""
    outgoing = queue_claim_code(
        session,
        user=user,
        structure=structure,
        code=code,
        expires_at=expires_at,
        base_url=base_url,
        now=now,
    )
    deliver(session, outgoing, senders=senders, now=now)
    return outgoing.notification


def prepare_resend(
    session: Session,
    notification: OutboundNotification,
    *,
    base_url: str,
    now: datetime,
    actor: User,
    claim_days: int,
) -> Outgoing:
    """The same notification with its text made again, to ``deliver`` after commit.

    A badge message is rendered from its badge, while the badge still waits for an answer;
    a renewal notice is written again, with the person's current address.
    A claim code cannot be sent verbatim (only its hash is kept): a new one is issued, and
    the earlier one stops working. With no phone and no e-mail, nothing is issued and the
    attempt is recorded as ``no_channel`` (the message of the result is then None).
    """
    user, structure = notification.user, notification.structure
    if notification.kind == CLAIM_CODE:
        accounts.check_managed_by(user, structure)  # says why, where resendable() cannot
        if user.id == actor.id:
            raise CannotResend()
    if not resendable(notification):
        if notification.kind == BADGE_PENDING:
            raise CannotResend(
                "Ce badge numérique n'attend plus de réponse : il n'y a rien à renvoyer."
            )
        raise CannotResend()
    notification.channel = channel_for(user)
    if notification.channel == NO_CHANNEL:
        notification.attempts += 1
        notification.last_error = NO_CHANNEL_ERROR
        session.flush()
        return Outgoing(notification, None)
    if notification.kind == BADGE_PENDING:
        assert notification.assertion is not None  # resendable() checked it
        return Outgoing(
            notification, badge_pending_message(notification.assertion, base_url=base_url)
        )
    if notification.kind == BADGES_RENEWED:
        return Outgoing(notification, badges_renewed_message(user, structure, base_url=base_url))
    code = accounts.issue_one_time_code(
        session,
        user=user,
        kind=CodeKind.CLAIM,
        now=now,
        actor=actor,
        structure=structure,
        valid_days=claim_days,
    )
    message = claim_code_message(
        user,
        structure,
        code=code,
        expires_at=now + timedelta(days=claim_days),
        base_url=base_url,
    )
    return Outgoing(notification, message)


def resend(
    session: Session,
    notification: OutboundNotification,
    *,
    senders: Senders,
    base_url: str,
    now: datetime,
    actor: User,
    claim_days: int,
) -> bool:
    """Send a notification again at once; True when it went out."""
    outgoing = prepare_resend(
        session, notification, base_url=base_url, now=now, actor=actor, claim_days=claim_days
    )
    return deliver(session, outgoing, senders=senders, now=now)
