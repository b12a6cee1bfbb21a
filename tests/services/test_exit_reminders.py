"""Reminders after a worker leaves (SHR-11): scheduled at the exit, sent when due.

In the test world (structure A, Europe/Paris): Karim has a phone and a shown badge, Léa an
e-mail address and a shown badge, Ousmane a private badge and no address, Julie no badge.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.models import Assertion, Membership, OneTimeCode, OutboundNotification, Structure, User
from app.services import exit_reminders, notifications, structures
from app.services.senders import Senders
from tests.support.senders import RecordingSms
from tests.support.world import B_NAME, BASE_URL, NOW

pytestmark = pytest.mark.db

MONTHS = (1, 3, 6)


def _user(session: Session, login: str) -> User:
    return session.scalars(select(User).where(User.login == login)).one()


def _member(session: Session, login: str) -> Membership:
    return session.scalars(
        select(Membership).join(Membership.user).where(User.login == login)
    ).one()


def _end(
    session: Session, login: str, on: date, months: tuple[int, ...] = MONTHS, admin="claire.admin"
) -> None:
    structures.end_membership(
        session,
        actor=_user(session, admin),
        membership=_member(session, login),
        on=on,
        now=NOW,
        reminder_months=months,
    )


def _reminders(session: Session, login: str | None = None) -> list[OutboundNotification]:
    query = select(OutboundNotification).where(
        OutboundNotification.kind == notifications.EXIT_REMINDER
    )
    if login is not None:
        query = query.where(OutboundNotification.user_id == _user(session, login).id)
    return list(session.scalars(query.order_by(OutboundNotification.due_at)))


def _due(session: Session, now: datetime) -> dict[str, str | None]:
    return {
        item.notification.user.login: item.skip for item in exit_reminders.due(session, now=now)
    }


@pytest.fixture(autouse=True)
def _fresh_recording() -> None:
    RecordingSms.sent.clear()


def test_a_worker_s_exit_schedules_one_reminder_per_month_at_nine_paris_time(db_session):
    _end(db_session, "karim", date(2027, 1, 31))
    reminders = _reminders(db_session, "karim")
    # 31 January + 1 month is 28 February; 09:00 in Paris is 08:00 UTC in winter, 07:00 in
    # summer.
    assert [r.due_at for r in reminders] == [
        datetime(2027, 2, 28, 8, 0, tzinfo=UTC),
        datetime(2027, 4, 30, 7, 0, tzinfo=UTC),
        datetime(2027, 7, 31, 7, 0, tzinfo=UTC),
    ]
    structure_a = _member(db_session, "karim").structure
    assert {
        (r.structure_id, r.channel, r.created_at, r.sent_at, r.attempts, r.last_error)
        for r in reminders
    } == {(structure_a.id, "sms", NOW, None, 0, None)}
    assert all(r.scheduled for r in reminders)


def test_the_due_hour_follows_the_structure_s_time_zone(db_session):
    b = db_session.scalars(select(Structure).where(Structure.name == B_NAME)).one()
    b.timezone = "America/Martinique"  # UTC-4, no summer time
    _end(db_session, "b.salarie", date(2028, 1, 31), months=(1,), admin="b.admin")
    (reminder,) = _reminders(db_session, "b.salarie")
    assert reminder.due_at == datetime(2028, 2, 29, 13, 0, tzinfo=UTC)
    assert (reminder.structure_id, reminder.channel) == (b.id, "none")


def test_no_reminder_for_a_staff_member_nor_without_months(db_session):
    _end(db_session, "sophie.cip", NOW.date())
    _end(db_session, "karim", NOW.date(), months=())
    structures.end_membership(
        db_session,
        actor=_user(db_session, "claire.admin"),
        membership=_member(db_session, "lea"),
        on=NOW.date(),
        now=NOW,
    )
    assert _reminders(db_session) == []


def test_a_worker_who_is_also_staff_still_gets_reminders(db_session):
    structures.set_roles(
        db_session,
        actor=_user(db_session, "claire.admin"),
        membership=_member(db_session, "karim"),
        roles={Role.SALARIE, Role.ENCADRANT},
        now=NOW,
    )
    _end(db_session, "karim", NOW.date(), months=(2,))
    assert len(_reminders(db_session, "karim")) == 1


def test_an_exit_recorded_late_gets_no_reminder_for_months_already_past(db_session):
    _end(db_session, "karim", date(2026, 9, 2))  # 2 months before NOW
    assert [r.due_at for r in _reminders(db_session, "karim")] == [
        datetime(2026, 12, 2, 8, 0, tzinfo=UTC),
        datetime(2027, 3, 2, 8, 0, tzinfo=UTC),
    ]


def test_leaving_again_replaces_the_reminders_still_waiting(db_session):
    _end(db_session, "karim", NOW.date())
    first = _reminders(db_session, "karim")
    db_session.expire_all()  # as between two requests: the team links are gone
    structures.add_member(
        db_session,
        actor=_user(db_session, "claire.admin"),
        structure=_member(db_session, "karim").structure,
        user=_user(db_session, "karim"),
        roles={Role.SALARIE},
        now=NOW,
    )
    _end(db_session, "karim", NOW.date() + timedelta(days=10), months=(1,))
    assert [r.last_error for r in first] == ["superseded"] * 3
    assert [r for r in _reminders(db_session, "karim") if r.scheduled] == [
        r for r in _reminders(db_session, "karim") if r not in first
    ]
    assert len([r for r in _reminders(db_session, "karim") if r.scheduled]) == 1


def test_only_due_reminders_are_listed_with_what_stops_each(db_session):
    for login in ("karim", "lea", "julie", "ousmane"):
        _end(db_session, login, NOW.date())
    month = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert _due(db_session, month - timedelta(seconds=1)) == {}
    # Julie has no badge to show; Ousmane's private badge counts (he may share it).
    assert _due(db_session, month) == {
        "karim": None,
        "lea": None,
        "julie": "nothing_to_share",
        "ousmane": None,
    }
    db_session.rollback()


def test_a_person_back_in_a_structure_or_deactivated_is_not_reminded(db_session):
    _end(db_session, "karim", NOW.date())
    _end(db_session, "lea", NOW.date())
    b = db_session.scalars(select(Structure).where(Structure.name == B_NAME)).one()
    structures.add_member(
        db_session,
        actor=_user(db_session, "b.admin"),
        structure=b,
        user=_user(db_session, "karim"),
        roles={Role.SALARIE},
        now=NOW,
    )
    _user(db_session, "lea").deactivated_at = NOW
    db_session.flush()
    assert _due(db_session, NOW + timedelta(days=31)) == {
        "karim": "back_in_structure",
        "lea": "account_deactivated",
    }


def test_withdrawn_expired_pending_or_declined_badges_are_nothing_to_share(db_session):
    _end(db_session, "karim", NOW.date())
    _end(db_session, "lea", NOW.date())
    # Karim's one valid accepted badge expires; his others are pending, revoked or expired.
    badge = db_session.scalars(
        select(Assertion).where(
            Assertion.user_id == _user(db_session, "karim").id,
            Assertion.consent == "accepted",
            Assertion.expires_at.is_(None),
        )
    ).one()
    badge.expires_at = NOW + timedelta(days=20)
    # Léa's shown badge is withdrawn; her declined one does not count.
    shown = db_session.scalars(
        select(Assertion).where(
            Assertion.user_id == _user(db_session, "lea").id,
            Assertion.consent == "accepted",
            Assertion.revoked_at.is_(None),
        )
    ).one()
    shown.revoked_at = NOW
    db_session.flush()
    assert _due(db_session, NOW + timedelta(days=31)) == {
        "karim": "nothing_to_share",
        "lea": "nothing_to_share",
    }


def test_when_several_are_due_at_once_only_the_latest_goes(db_session):
    _end(db_session, "karim", NOW.date())
    items = exit_reminders.due(db_session, now=NOW + timedelta(days=200))
    assert [i.skip for i in items] == ["overtaken", "overtaken", None]
    assert items[-1].notification.due_at == datetime(2027, 5, 2, 7, 0, tzinfo=UTC)


def _senders() -> Senders:
    sms = RecordingSms({})
    return Senders(email=sms, sms=sms)


def _send_due(session: Session, now: datetime) -> list[bool | None]:
    """What ``flask notifications send-due --apply`` does, without the commits."""
    results: list[bool | None] = []
    for item in exit_reminders.due(session, now=now):
        assert exit_reminders.claim(session, item.notification)
        outgoing = exit_reminders.prepare(session, item, base_url=BASE_URL)
        results.append(
            None
            if outgoing is None
            else notifications.deliver(session, outgoing, senders=_senders(), now=now)
        )
    return results


def test_sending_says_badges_stay_theirs_with_the_first_name_only(db_session):
    _end(db_session, "karim", NOW.date())
    _end(db_session, "lea", NOW.date())
    when = NOW + timedelta(days=31)
    assert _send_due(db_session, when) == [True, True]
    karim, lea = RecordingSms.sent
    assert (karim.to, karim.channel, karim.kind) == ("+33612345678", "sms", "exit_reminder")
    assert karim.body == (
        "Bonjour Karim, vos badges numériques de la structure Les Jardins du Val restent à vous. "
        "Vous pouvez les montrer à un employeur : http://localhost/moi/badges"
    )
    assert (lea.to, lea.channel, lea.subject) == (
        "lea.petit@exemple.fr",
        "email",
        "Vos badges numériques",
    )
    assert lea.body.startswith("Bonjour Léa, ")
    for message in (karim, lea):
        assert "Benali" not in message.body and "Petit" not in message.body
    sent = [r for r in _reminders(db_session) if r.sent_at is not None]
    assert [(r.user.login, r.sent_at, r.attempts, r.last_error) for r in sent] == [
        ("karim", when, 1, None),
        ("lea", when, 1, None),
    ]
    # Sent once: the next run finds nothing, and the later months still wait.
    assert exit_reminders.due(db_session, now=when) == []
    assert len([r for r in _reminders(db_session) if r.scheduled]) == 4


def test_without_phone_nor_e_mail_nothing_is_sent_and_a_skip_is_kept(db_session):
    _end(db_session, "ousmane", NOW.date())
    _end(db_session, "julie", NOW.date())
    when = NOW + timedelta(days=31)
    assert _send_due(db_session, when) == [False, None]
    assert RecordingSms.sent == []
    first = {r.user.login: r for r in _reminders(db_session) if not r.scheduled}
    assert (first["ousmane"].channel, first["ousmane"].attempts) == ("none", 1)
    assert first["ousmane"].last_error == "no_channel"
    assert (first["julie"].attempts, first["julie"].last_error) == (0, "nothing_to_share")
    assert exit_reminders.due(db_session, now=when) == []


def test_a_provider_failure_is_tried_again_three_times_in_all(db_session):
    _end(db_session, "karim", NOW.date())
    when = NOW + timedelta(days=31)

    class Down:
        def send(self, message: object) -> None:
            raise ConnectionRefusedError("down")

    for attempt in range(1, 4):
        (item,) = exit_reminders.due(db_session, now=when)
        outgoing = exit_reminders.prepare(db_session, item, base_url=BASE_URL)
        assert outgoing is not None
        assert not notifications.deliver(
            db_session, outgoing, senders=Senders(email=Down(), sms=Down()), now=when
        )
        assert (item.notification.attempts, item.notification.last_error) == (
            attempt,
            "ConnectionRefusedError",
        )
    assert exit_reminders.due(db_session, now=when) == []


def test_a_reminder_cannot_be_resent_by_hand(db_session):
    _end(db_session, "karim", NOW.date())
    reminder = _reminders(db_session, "karim")[0]
    codes = db_session.scalar(select(func.count(OneTimeCode.id)))
    with pytest.raises(notifications.CannotResend):
        notifications.prepare_resend(
            db_session,
            reminder,
            base_url=BASE_URL,
            now=NOW,
            actor=_user(db_session, "claire.admin"),
            claim_days=30,
        )
    assert db_session.scalar(select(func.count(OneTimeCode.id))) == codes
    assert (reminder.attempts, reminder.last_error) == (0, None)
