"""``flask badges issue --apply`` tells each worker about their new badge, after the commit."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import OutboundNotification, User
from tests.services.test_badges import approved_by_hand
from tests.support.senders import RecordingSms


def test_issuing_tells_by_sms_who_has_a_phone_and_counts_who_must_be_told_in_person(
    world_app_with, tmp_path
):
    app = world_app_with(
        SMS_BACKEND="tests.support.senders:RecordingSms",
        OUTBOX_PATH=str(tmp_path / "outbox.jsonl"),
    )
    with app.app_context():
        approved_by_hand(db.session, "karim", "organiser")
        approved_by_hand(db.session, "julie")
        db.session.commit()
    RecordingSms.sent.clear()
    result = app.test_cli_runner().invoke(args=["badges", "issue", "--apply"])
    assert result.exit_code == 0, result.output
    assert "issued: 2 badge(s)" in result.stdout
    assert (
        "notified: 1 sent, 0 in the outbox only, 0 failed, 1 without phone or e-mail"
        in result.stdout
    )
    (message,) = RecordingSms.sent
    assert message.to == "+33612345678" and message.body.endswith("http://localhost/moi/badges")
    with app.app_context():
        rows = db.session.execute(
            select(User.login, OutboundNotification.channel, OutboundNotification.attempts)
            .join(User, User.id == OutboundNotification.user_id)
            .where(OutboundNotification.assertion_id.is_not(None))
            .where(User.login.in_(["karim", "julie"]))
            .order_by(User.login)
        ).all()
    assert [tuple(r) for r in rows] == [("julie", "none", 0), ("karim", "sms", 1)]
    assert not (tmp_path / "outbox.jsonl").exists()


def test_without_a_provider_nobody_is_counted_as_told(world_app_with, tmp_path):
    outbox = tmp_path / "outbox.jsonl"
    app = world_app_with(OUTBOX_PATH=str(outbox))
    with app.app_context():
        approved_by_hand(db.session, "karim", "organiser")
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["badges", "issue", "--apply"])
    assert result.exit_code == 0, result.output
    assert "issued: 1 badge(s)" in result.stdout
    # Written to the outbox is not sent, and said so.
    assert "notified: 0 sent, 1 in the outbox only, 0 failed, 0 without" in result.stdout
    with app.app_context():
        rows = db.session.execute(
            select(
                OutboundNotification.channel,
                OutboundNotification.attempts,
                OutboundNotification.sent_at,
                OutboundNotification.last_error,
            )
            .join(User, User.id == OutboundNotification.user_id)
            .where(OutboundNotification.assertion_id.is_not(None), User.login == "karim")
        ).all()
    assert [tuple(r) for r in rows] == [("sms", 0, None, "outbox")]
    assert len(outbox.read_text(encoding="utf-8").splitlines()) == 1
