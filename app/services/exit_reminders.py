"""Reminders after a worker leaves (SHR-11): scheduled at the exit, sent when due.

When a worker's contract ends (``structures.end_membership``), one ``exit_reminder``
notification is recorded per month of ``JALON_EXIT_REMINDER_MONTHS`` (1, 3 and 6 by
default), due on the same day that many months later at 09:00 in the structure's time zone
(``app.domain.reminders``). ``flask notifications send-due`` sends those that are due, one
commit per message: « your badges stay yours, show them to an employer ».

When it is due, a reminder is not sent, and the reason is kept as its ``last_error``, when:

- the account is deactivated (``account_deactivated``);
- the person is back in a structure (``back_in_structure``): leaving is not their news;
- they have no badge of that structure to show: accepted, not withdrawn, not expired
  (``nothing_to_share``);
- a later reminder of the same exit is due too, after the command did not run for a while
  (``overtaken``): one message, not a burst;
- there is no phone and no e-mail address (``no_channel``): nothing is sent.

A reminder still waiting when the same person leaves the same structure again gives way to
the new ones (``superseded``). A provider failure is kept and tried again on the next runs,
``MAX_ATTEMPTS`` times in all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, selectinload

from app.domain import reminders
from app.domain.enums import Role
from app.models import Assertion, Membership, OutboundNotification
from app.services.notifications import (
    EXIT_REMINDER,
    NO_CHANNEL,
    NO_CHANNEL_ERROR,
    Outgoing,
    channel_for,
    exit_reminder_message,
)

ACCOUNT_DEACTIVATED = "account_deactivated"
BACK_IN_STRUCTURE = "back_in_structure"
NOTHING_TO_SHARE = "nothing_to_share"
OVERTAKEN = "overtaken"
SUPERSEDED = "superseded"
#: Why a reminder was not sent, without any attempt.
SKIP_REASONS = frozenset(
    {ACCOUNT_DEACTIVATED, BACK_IN_STRUCTURE, NOTHING_TO_SHARE, OVERTAKEN, SUPERSEDED}
)
#: Outcomes after which a reminder is never tried again.
FINAL = SKIP_REASONS | {NO_CHANNEL_ERROR}
#: Tries of one reminder when the provider keeps failing.
MAX_ATTEMPTS = 3


def _waiting() -> tuple[ColumnElement[bool], ...]:
    """Reminders not sent and not given up (a provider failure is tried again)."""
    return (
        OutboundNotification.kind == EXIT_REMINDER,
        OutboundNotification.sent_at.is_(None),
        OutboundNotification.attempts < MAX_ATTEMPTS,
        or_(
            OutboundNotification.last_error.is_(None),
            OutboundNotification.last_error.not_in(sorted(FINAL)),
        ),
    )


def schedule(
    session: Session, *, membership: Membership, months: Sequence[int], now: datetime
) -> list[OutboundNotification]:
    """Record the reminders of a worker's ended membership; none for a staff member's place.

    A month whose date has already passed (an exit recorded late) gets no reminder.
    """
    if not months or membership.ended_on is None or Role.SALARIE not in membership.role_set:
        return []
    for earlier in session.scalars(
        select(OutboundNotification).where(
            *_waiting(),
            OutboundNotification.user_id == membership.user_id,
            OutboundNotification.structure_id == membership.structure_id,
        )
    ):
        earlier.last_error = SUPERSEDED
    timezone = membership.structure.timezone
    scheduled = [
        OutboundNotification(
            structure_id=membership.structure_id,
            user_id=membership.user_id,
            kind=EXIT_REMINDER,
            channel=channel_for(membership.user),
            created_at=now,
            due_at=due,
            attempts=0,
        )
        for due in (reminders.due_at(membership.ended_on, n, timezone) for n in months)
        if due > now
    ]
    session.add_all(scheduled)
    session.flush()
    return scheduled


@dataclass(frozen=True)
class DueReminder:
    """A reminder due now, and why it will not be sent (None: it will be, if it can)."""

    notification: OutboundNotification
    skip: str | None


def due(session: Session, *, now: datetime) -> list[DueReminder]:
    """The reminders due at ``now``, oldest first, each with its reason to skip (read only)."""
    rows = list(
        session.scalars(
            select(OutboundNotification)
            .where(*_waiting(), OutboundNotification.due_at <= now)
            .options(
                selectinload(OutboundNotification.user),
                selectinload(OutboundNotification.structure),
            )
            .order_by(OutboundNotification.due_at, OutboundNotification.id)
        )
    )
    latest = {(row.user_id, row.structure_id): row for row in rows}
    return [
        DueReminder(
            row,
            OVERTAKEN
            if latest[(row.user_id, row.structure_id)] is not row
            else skip_reason(session, row, now=now),
        )
        for row in rows
    ]


def skip_reason(
    session: Session, notification: OutboundNotification, *, now: datetime
) -> str | None:
    """Why the reminder should not go out now, or None."""
    if notification.user.deactivated_at is not None:
        return ACCOUNT_DEACTIVATED
    back = session.scalar(
        select(Membership.id)
        .where(Membership.user_id == notification.user_id, Membership.ended_on.is_(None))
        .limit(1)
    )
    if back is not None:
        return BACK_IN_STRUCTURE
    badges = session.scalars(
        select(Assertion).where(
            Assertion.user_id == notification.user_id,
            Assertion.structure_id == notification.structure_id,
            Assertion.consent == "accepted",
            Assertion.revoked_at.is_(None),
        )
    )
    if not any(badge.state(now) == "valid" for badge in badges):
        return NOTHING_TO_SHARE
    return None


def claim(session: Session, notification: OutboundNotification) -> bool:
    """Lock the reminder for this run and check it still waits (another run may have sent
    it meanwhile). PostgreSQL skips a row another run holds; SQLite has one writer."""
    taken = session.scalar(
        select(OutboundNotification.id)
        .where(OutboundNotification.id == notification.id, *_waiting())
        .with_for_update(skip_locked=True)
    )
    if taken is None:
        return False
    session.refresh(notification)
    return True


def prepare(session: Session, item: DueReminder, *, base_url: str) -> Outgoing | None:
    """Record why a reminder is skipped (None), else its message, to ``deliver``.

    Without phone nor e-mail, the attempt is recorded as ``no_channel`` (message None).
    """
    notification = item.notification
    if item.skip is not None:
        notification.last_error = item.skip
        session.flush()
        return None
    notification.channel = channel_for(notification.user)
    if notification.channel == NO_CHANNEL:
        notification.attempts += 1
        notification.last_error = NO_CHANNEL_ERROR
        session.flush()
        return Outgoing(notification, None)
    message = exit_reminder_message(notification.user, notification.structure, base_url=base_url)
    return Outgoing(notification, message)
