"""``flask notifications send-due``: the reminders after an exit, sent once when due (SHR-11).

Karim (phone), Léa (e-mail), Ousmane (no address) and Julie (no badge) leave structure A on
the world's day; their first reminders are due a month later at 09:00, Paris time.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.cli import notifications as notifications_cli
from app.extensions import db
from app.models import OutboundNotification, User
from app.services import structures
from tests.api import member
from tests.support.routes import changed_tables, snapshot
from tests.support.senders import RecordingSms
from tests.support.world import NOW

FIRST_DUE = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
ADDRESSES = ("+33612345678", "06 12 34 56 78", "lea.petit@exemple.fr")


def _leave(app: Flask, *logins: str) -> None:
    with app.app_context():
        admin = member(db.session, "claire.admin").user
        for login in logins:
            structures.end_membership(
                db.session,
                actor=admin,
                membership=member(db.session, login),
                on=NOW.date(),
                now=NOW,
                reminder_months=app.config["EXIT_REMINDER_MONTHS"],
            )
        db.session.commit()


def _app(world_app_with, tmp_path: Path, **config: object) -> Flask:  # type: ignore[no-untyped-def]
    app = world_app_with(
        SMS_BACKEND="tests.support.senders:RecordingSms",
        OUTBOX_PATH=str(tmp_path / "outbox.jsonl"),
        **config,
    )
    _leave(app, "karim", "lea", "ousmane", "julie")
    return app


def _run(app: Flask, monkeypatch, now: datetime, *args: str):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(notifications_cli, "utcnow", lambda: now)
    result = app.test_cli_runner().invoke(args=["notifications", "send-due", *args])
    assert result.exit_code == 0, result.output
    return result


def _rows(app: Flask) -> list[tuple[str, datetime | None, datetime | None, int, str | None]]:
    with app.app_context():
        return [
            tuple(row)  # type: ignore[misc]
            for row in db.session.execute(
                select(
                    User.login,
                    OutboundNotification.due_at,
                    OutboundNotification.sent_at,
                    OutboundNotification.attempts,
                    OutboundNotification.last_error,
                )
                .join(User, User.id == OutboundNotification.user_id)
                .where(OutboundNotification.kind == "exit_reminder")
                .order_by(OutboundNotification.due_at, User.login)
            )
        ]


@pytest.fixture(autouse=True)
def _fresh_recording() -> None:
    RecordingSms.sent.clear()


def test_the_app_schedules_one_month_three_and_six_by_default(world_app_with, tmp_path):
    app = _app(world_app_with, tmp_path)
    assert app.config["EXIT_REMINDER_MONTHS"] == (1, 3, 6)
    dues = sorted({row[1] for row in _rows(app)})
    assert dues == [
        FIRST_DUE,
        datetime(2027, 2, 2, 8, 0, tzinfo=UTC),
        datetime(2027, 5, 2, 7, 0, tzinfo=UTC),
    ]


def test_a_dry_run_says_what_it_would_send_masked_and_writes_nothing(
    world_app_with, tmp_path, monkeypatch
):
    app = _app(world_app_with, tmp_path)
    before = snapshot(app)
    early = _run(app, monkeypatch, FIRST_DUE - timedelta(minutes=1))
    assert early.output == "Nothing is due.\n"
    result = _run(app, monkeypatch, FIRST_DUE)
    lines = result.output.splitlines()
    assert lines[-1] == "Dry run: 4 message(s) due, nothing written. Add --apply to send."
    would = sorted(line.split(" exit_reminder ")[0] for line in lines[:-1])
    assert would == [
        "would record, no phone or e-mail:",
        "would send:",
        "would send:",
        "would skip (nothing_to_share):",
    ]
    assert "\tLes Jardins du Val\tsms ••••••78\tdue 2026-12-02T08:00+00:00" in result.output
    assert "\temail l•••@•••.fr\t" in result.output and "\tnone —\t" in result.output
    for secret in (*ADDRESSES, "Karim", "Benali"):
        assert secret not in result.output
    assert changed_tables(before, snapshot(app)) == ()
    assert RecordingSms.sent == [] and not (tmp_path / "outbox.jsonl").exists()


def test_apply_sends_the_due_reminders_once_and_leaves_the_later_ones(
    world_app_with, tmp_path, monkeypatch, caplog
):
    app = _app(world_app_with, tmp_path)
    when = FIRST_DUE + timedelta(hours=1)
    with caplog.at_level(logging.DEBUG):
        result = _run(app, monkeypatch, when, "--apply")
    assert result.output == (
        "4 due: 2 sent, 0 failed, 1 without phone or e-mail, 1 skipped (nothing_to_share: 1)\n"
    )
    (sms,) = RecordingSms.sent
    assert sms.to == "+33612345678" and sms.body.startswith("Bonjour Karim, vos badges")
    (line,) = [json.loads(x) for x in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert (line["to"], line["kind"], line["channel"]) == ("l•••@•••.fr", "exit_reminder", "email")
    assert line["body"].startswith(
        "Bonjour Léa, vos badges numériques de la structure Les Jardins du Val"
    )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "exit_reminder" in logged
    for secret in ADDRESSES:
        assert secret not in logged and secret not in result.output
    first = [row for row in _rows(app) if row[1] == FIRST_DUE]
    assert first == [
        ("julie", FIRST_DUE, None, 0, "nothing_to_share"),
        ("karim", FIRST_DUE, when, 1, None),
        ("lea", FIRST_DUE, when, 1, None),
        ("ousmane", FIRST_DUE, None, 1, "no_channel"),
    ]
    assert all(row[2:] == (None, 0, None) for row in _rows(app) if row[1] != FIRST_DUE)
    # A second run (cron, an hour later) sends nothing and writes nothing.
    before = snapshot(app)
    again = _run(app, monkeypatch, when + timedelta(hours=1), "--apply")
    assert again.output == "Nothing is due.\n"
    assert changed_tables(before, snapshot(app)) == ()
    assert len(RecordingSms.sent) == 1


def test_a_failed_provider_is_counted_and_its_error_kept_without_the_number(
    world_app_with, tmp_path, monkeypatch
):
    app = world_app_with(
        SMS_BACKEND="tests.support.senders:FailingSms", OUTBOX_PATH=str(tmp_path / "o.jsonl")
    )
    _leave(app, "karim")
    result = _run(app, monkeypatch, FIRST_DUE, "--apply")
    assert result.output == "1 due: 0 sent, 1 failed, 0 without phone or e-mail, 0 skipped\n"
    assert _rows(app)[0][2:] == (None, 1, "ConnectionRefusedError")
    assert "+33612345678" not in result.output
    # Tried again on the next runs, three times in all.
    _run(app, monkeypatch, FIRST_DUE + timedelta(hours=1), "--apply")
    _run(app, monkeypatch, FIRST_DUE + timedelta(hours=2), "--apply")
    assert _rows(app)[0][2:] == (None, 3, "ConnectionRefusedError")
    assert _run(app, monkeypatch, FIRST_DUE + timedelta(hours=3)).output == "Nothing is due.\n"


def test_months_come_from_jalon_exit_reminder_months(world_app_with, tmp_path):
    app = world_app_with(EXIT_REMINDER_MONTHS="2", OUTBOX_PATH=str(tmp_path / "o.jsonl"))
    _leave(app, "karim")
    assert [row[1] for row in _rows(app)] == [datetime(2027, 1, 2, 8, 0, tzinfo=UTC)]
    none = world_app_with(EXIT_REMINDER_MONTHS="", OUTBOX_PATH=str(tmp_path / "o.jsonl"))
    _leave(none, "karim")
    assert _rows(none) == []
