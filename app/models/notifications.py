"""Notifications sent outside the app (SMS, e-mail), one row per message and its attempts.

Neither the text (it may hold a sign-in code) nor the address is stored: the text is
rendered again from the badge, and the address read from the person, at each attempt.
The in-app messages of ``app.models.assessments.Notification`` are another thing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import Structure, User
from app.models.badges import Assertion
from app.models.base import Base, UTCDateTime, created_at, intpk, public_id


class OutboundNotification(Base):
    """A ``badge_pending``, ``claim_code`` or ``exit_reminder`` message to a person, by
    ``sms``, ``email``, or ``none`` (no address: the team tells the person face to face).

    ``due_at`` is set on a message scheduled for later (the reminders after a worker leaves,
    sent by ``flask notifications send-due``); None means "send now".
    """

    __tablename__ = "outbound_notifications"
    # The due query: scheduled messages not sent yet, by due date.
    __table_args__ = (Index("ix_outbound_notifications_due", "sent_at", "due_at"),)

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assertion_id: Mapped[int | None] = mapped_column(ForeignKey("assertions.id"))
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[created_at]
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A short error name (an exception class, "no_channel", why a reminder was not sent):
    # never an address or a text.
    last_error: Mapped[str | None] = mapped_column(String(120))

    structure: Mapped[Structure] = relationship()
    user: Mapped[User] = relationship()
    assertion: Mapped[Assertion | None] = relationship()

    @property
    def failed(self) -> bool:
        """The last attempt did not send the message."""
        return self.sent_at is None and self.last_error is not None

    @property
    def scheduled(self) -> bool:
        """Planned for ``due_at`` and neither sent nor given up yet."""
        return self.due_at is not None and self.sent_at is None and self.last_error is None
