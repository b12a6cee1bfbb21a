"""``flask notifications send-due``: the reminders after an exit, sent once when due (SHR-11).

Karim (phone), Léa (e-mail), Ousmane (no address) and Julie (no badge) leave structure A on
the world's day; their first reminders are due a month later at 09:00, Paris time.

A reminder whose channel has no provider (the outbox) is written to the file once, recorded
as ``outbox``, and kept due: the first run after a provider is configured sends it.
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
from app.services import senders, structures
from tests.api import member
from tests.support.routes import changed_tables, snapshot
from tests.support.senders import KeepingSmtp, RecordingSms
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


#: E-mail through an SMTP server (``KeepingSmtp`` in these tests).
SMTP = {"EMAIL_BACKEND": "smtp", "SMTP_HOST": "smtp.example", "SMTP_FROM": "jalon@jalon.example"}


def _app(world_app_with, tmp_path: Path, **config: object) -> Flask:  # type: ignore[no-untyped-def]
    """Both channels with a provider, unless ``config`` says otherwise."""
    settings: dict[str, object] = {
        "SMS_BACKEND": "tests.support.senders:RecordingSms",
        "OUTBOX_PATH": str(tmp_path / "outbox.jsonl"),
        **SMTP,
    }
    app = world_app_with(**(settings | config))
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
def _fresh_recording(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    RecordingSms.sent.clear()
    KeepingSmtp.mails.clear()
    monkeypatch.setattr(senders.smtplib, "SMTP", KeepingSmtp)


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


def test_a_dry_run_says_which_messages_would_only_reach_the_outbox(
    world_app_with, tmp_path, monkeypatch
):
    # E-mail has a provider, SMS does not: Karim (phone only) would only be written down.
    app = _app(world_app_with, tmp_path, SMS_BACKEND="outbox")
    lines = _run(app, monkeypatch, FIRST_DUE).output.splitlines()
    verbs = {line.split("\t")[2]: line.split(": exit_reminder")[0] for line in lines[:-1]}
    assert verbs["sms ••••••78"] == "would write to the outbox only (no provider)"
    assert verbs["email l•••@•••.fr"] == "would send"


def test_apply_sends_the_due_reminders_once_and_leaves_the_later_ones(
    world_app_with, tmp_path, monkeypatch, caplog
):
    app = _app(world_app_with, tmp_path)
    when = FIRST_DUE + timedelta(hours=1)
    with caplog.at_level(logging.DEBUG):
        result = _run(app, monkeypatch, when, "--apply")
    assert result.output == (
        "4 due: 2 sent, 0 in the outbox only, 0 failed, 1 without phone or e-mail, "
        "1 skipped (nothing_to_share: 1)\n"
    )
    (sms,) = RecordingSms.sent
    assert sms.to == "+33612345678" and sms.body.startswith("Bonjour Karim, vos badges")
    (mail,) = KeepingSmtp.mails
    assert mail["To"] == "lea.petit@exemple.fr"
    assert mail.get_content().startswith(
        "Bonjour Léa, vos badges numériques de la structure Les Jardins du Val"
    )
    assert not (tmp_path / "outbox.jsonl").exists()
    logged = "\n".join(record.getMessage() for record in caplog.records)
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
    assert (len(RecordingSms.sent), len(KeepingSmtp.mails)) == (1, 1)


def test_a_reminder_written_to_the_outbox_stays_due_until_a_provider_sends_it(
    world_app_with, tmp_path, monkeypatch, caplog
):
    outbox = tmp_path / "outbox.jsonl"
    # No provider at all: both channels write to the outbox.
    app = world_app_with(OUTBOX_PATH=str(outbox))
    _leave(app, "karim", "lea")
    when = FIRST_DUE + timedelta(hours=1)
    with caplog.at_level(logging.DEBUG):
        result = _run(app, monkeypatch, when, "--apply")
    assert result.output.startswith("2 due: 0 sent, 2 in the outbox only, 0 failed")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "exit_reminder" in logged and "nothing sent" in logged
    lines = [json.loads(x) for x in outbox.read_text().splitlines()]
    assert sorted((line["to"], line["kind"], line["channel"]) for line in lines) == [
        ("l•••@•••.fr", "exit_reminder", "email"),
        ("••••••78", "exit_reminder", "sms"),
    ]
    assert any(
        line["body"].startswith("Bonjour Léa, vos badges numériques de la structure Les Jardins")
        for line in lines
    )
    for secret in ADDRESSES:
        assert secret not in outbox.read_text() and secret not in result.output
        assert secret not in logged
    first = [row for row in _rows(app) if row[1] == FIRST_DUE]
    # Recorded apart from a sent message, and not as an attempt: never given up.
    assert first == [
        ("karim", FIRST_DUE, None, 0, "outbox"),
        ("lea", FIRST_DUE, None, 0, "outbox"),
    ]
    # Later runs, still without a provider, write nothing again and change nothing.
    before = snapshot(app)
    for hours in (2, 3, 4):
        again = _run(app, monkeypatch, FIRST_DUE + timedelta(hours=hours), "--apply")
        assert again.output.startswith("2 due: 0 sent, 2 in the outbox only, 0 failed")
    assert changed_tables(before, snapshot(app)) == ()
    assert len(outbox.read_text().splitlines()) == 2
    # An SMS provider is configured: Karim's reminder goes at the next run, Léa's waits.
    provider = world_app_with(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        OUTBOX_PATH=str(outbox),
        SMS_BACKEND="tests.support.senders:RecordingSms",
    )
    later = FIRST_DUE + timedelta(days=3)
    sent = _run(provider, monkeypatch, later, "--apply")
    assert sent.output.startswith("2 due: 1 sent, 1 in the outbox only, 0 failed")
    (sms,) = RecordingSms.sent
    assert sms.to == "+33612345678" and sms.body.startswith("Bonjour Karim, vos badges")
    first = [row for row in _rows(provider) if row[1] == FIRST_DUE]
    assert first == [
        ("karim", FIRST_DUE, later, 1, None),
        ("lea", FIRST_DUE, None, 0, "outbox"),
    ]
    assert len(outbox.read_text().splitlines()) == 2


def test_a_failed_provider_is_counted_and_its_error_kept_without_the_number(
    world_app_with, tmp_path, monkeypatch
):
    app = world_app_with(
        SMS_BACKEND="tests.support.senders:FailingSms", OUTBOX_PATH=str(tmp_path / "o.jsonl")
    )
    _leave(app, "karim")
    result = _run(app, monkeypatch, FIRST_DUE, "--apply")
    assert result.output == (
        "1 due: 0 sent, 0 in the outbox only, 1 failed, 0 without phone or e-mail, 0 skipped\n"
    )
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
