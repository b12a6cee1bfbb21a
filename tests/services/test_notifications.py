"""Claim codes and notifications (services.accounts, services.notifications, services.senders).

Senders are real (outbox file, SMTP client against a fake ``smtplib.SMTP``) or the test
providers of ``tests/support/senders.py``, loaded by dotted path like a real one.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session

from app.domain.enums import CodeKind
from app.models import Assertion, AuditEvent, OneTimeCode, OutboundNotification, Structure, User
from app.queries import notifications as notification_queries
from app.services import accounts, notifications, senders
from app.services.badges import badge_name
from app.services.senders import Message, OutboxSender, Senders, SmtpEmailSender
from tests.support.senders import FailingSms, RecordingSms
from tests.support.world import BASE_URL, NOW

pytestmark = pytest.mark.db

KARIM_PHONE = "+33612345678"
LEA_EMAIL = "lea.petit@exemple.fr"


def _user(session: Session, login: str) -> User:
    return session.scalars(select(User).where(User.login == login)).one()


def _structure_a(session: Session) -> Structure:
    return session.scalars(select(Structure).where(Structure.name == "Les Jardins du Val")).one()


def _claim(session: Session, login: str, *, now=NOW, days: int = 30) -> str:
    return accounts.issue_one_time_code(
        session,
        user=_user(session, login),
        kind=CodeKind.CLAIM,
        now=now,
        actor=_user(session, "sophie.cip"),
        structure=_structure_a(session),
        valid_days=days,
    )


def _pending_badge(session: Session, login: str) -> Assertion:
    """One of the person's badges, made to wait for their answer again."""
    badge = session.scalars(
        select(Assertion).join(Assertion.user).where(User.login == login).order_by(Assertion.id)
    ).first()
    assert badge is not None
    badge.consent, badge.revoked_at = "pending", None
    session.flush()
    return badge


def _config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "OUTBOX_PATH": str(tmp_path / "outbox.jsonl"),
        "EMAIL_BACKEND": "outbox",
        "SMS_BACKEND": "outbox",
        "SMTP_HOST": "smtp.example",
        "SMTP_PORT": 2525,
        "SMTP_USER": None,
        "SMTP_PASSWORD": None,
        "SMTP_FROM": "Jalon <ne-pas-repondre@jalon.example>",
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT": 5,
    }
    config.update(overrides)
    return config


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(autouse=True)
def _fresh_recording() -> None:
    RecordingSms.sent.clear()


# --- Claim codes ------------------------------------------------------------------------


def test_a_claim_code_signs_in_once_then_forces_a_new_secret(db_session):
    code = _claim(db_session, "julie")
    signed = accounts.authenticate(db_session, login="julie", secret=code, now=NOW)
    assert signed is not None and signed.used_one_time_code
    assert signed.user.must_change_password
    stored = db_session.scalars(
        select(OneTimeCode).where(
            OneTimeCode.kind == CodeKind.CLAIM, OneTimeCode.user_id == signed.user.id
        )
    )
    assert [c.used_at for c in stored] == [NOW]
    later = NOW + timedelta(minutes=1)
    assert accounts.authenticate(db_session, login="julie", secret=code, now=later) is None
    issued = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "account.claim_code_issued",
            AuditEvent.subject_id == _user(db_session, "julie").id,
        )
    ).all()
    assert [(e.actor.login, e.structure_id, e.details) for e in issued] == [
        ("sophie.cip", _structure_a(db_session).id, {"valid_days": 30})
    ]


def test_two_sign_ins_racing_with_one_claim_code_let_only_one_in(
    db_factory, world_url, monkeypatch
):
    """The second sign-in read the code as usable before the first one used it. (SQLite's
    deferred transactions, not the app's BEGIN IMMEDIATE, let the two interleave here.)"""
    engine = create_engine(db_factory.copy(world_url))
    with Session(engine) as session:
        code = _claim(session, "julie")
        session.commit()
    read = accounts._usable_codes
    first: list[accounts.SignIn | None] = []

    def then_the_other_sign_in_wins(session, user, now):  # type: ignore[no-untyped-def]
        usable = read(session, user, now)
        monkeypatch.setattr(accounts, "_usable_codes", read)  # the other one reads plainly
        with Session(engine) as other:  # the racing sign-in, between this read and its use
            first.append(accounts.authenticate(other, login="julie", secret=code, now=NOW))
            other.commit()
        return usable

    monkeypatch.setattr(accounts, "_usable_codes", then_the_other_sign_in_wins)
    try:
        with Session(engine) as session:
            late = accounts.authenticate(session, login="julie", secret=code, now=NOW)
            session.commit()
        assert first[0] is not None and first[0].used_one_time_code
        assert late is None
        with Session(engine) as session:
            used = session.scalars(
                select(AuditEvent.action).where(AuditEvent.action == "auth.one_time_code_used")
            )
            assert list(used) == ["auth.one_time_code_used"]
    finally:
        engine.dispose()


def test_a_claim_code_stops_working_when_it_expires(db_session):
    code = _claim(db_session, "julie", days=30)
    late = NOW + timedelta(days=30, seconds=1)
    assert accounts.authenticate(db_session, login="julie", secret=code, now=late) is None
    in_time = NOW + timedelta(days=29, hours=23)
    assert accounts.authenticate(db_session, login="julie", secret=code, now=in_time) is not None


def test_a_new_claim_code_replaces_the_previous_one_but_no_other_code(db_session):
    reset = accounts.issue_one_time_code(
        db_session,
        user=_user(db_session, "julie"),
        kind=CodeKind.RESET,
        now=NOW,
        actor=None,
        structure=None,
        valid_days=7,
    )
    first = _claim(db_session, "julie")
    second = _claim(db_session, "julie", now=NOW + timedelta(minutes=5))
    later = NOW + timedelta(minutes=6)
    assert accounts.authenticate(db_session, login="julie", secret=first, now=later) is None
    assert accounts.authenticate(db_session, login="julie", secret=second, now=later) is not None
    assert accounts.authenticate(db_session, login="julie", secret=reset, now=later) is not None


def test_the_claim_link_carries_the_identifier_and_the_code():
    url = notifications.claim_url("https://jalon.example/", "marie.dupont2", "ABCD-EFGH")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "jalon.example", CLAIM)
    assert parse_qs(parts.query) == {"identifiant": ["marie.dupont2"], "code": ["ABCD-EFGH"]}


CLAIM = "/connexion/retrait"


# --- Senders ----------------------------------------------------------------------------


def _message(**overrides: Any) -> Message:
    fields: dict[str, Any] = {
        "to": KARIM_PHONE,
        "channel": "sms",
        "subject": "Un nouveau badge numérique",
        "body": "Vous avez un nouveau badge numérique.",
        "structure": "s-public-id",
        "kind": "badge_pending",
    }
    fields.update(overrides)
    return Message(**fields)


def test_the_outbox_writes_one_json_line_and_logs_no_address(tmp_path, caplog):
    path = tmp_path / "instance" / "outbox.jsonl"
    outbox = OutboxSender(path)
    with caplog.at_level(logging.INFO, logger="app.services.senders"):
        outbox.send(_message())
        outbox.send(_message(to=LEA_EMAIL, channel="email", structure="other"))
    first, second = _lines(path)
    assert first["channel"] == "sms" and first["structure"] == "s-public-id"
    assert first["body"] == "Vous avez un nouveau badge numérique."
    assert first["to"] == "••••••78" and second["to"] == "l•••@•••.fr"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged.count("nothing sent") == 2 and "s-public-id" in logged
    for secret in (KARIM_PHONE, "0612345678", "612345678", LEA_EMAIL, "lea.petit", "exemple"):
        assert secret not in logged
        assert secret not in path.read_text(encoding="utf-8")
    assert [m["structure"] for m in senders.read_outbox(path, "other")] == ["other"]
    assert senders.read_outbox(tmp_path / "absent.jsonl", "other") == []


def test_addresses_are_masked():
    assert senders.mask_address(KARIM_PHONE) == "••••••78"
    assert senders.mask_address("06 12 34 56 78") == "••••••78"
    assert senders.mask_address(LEA_EMAIL) == "l•••@•••.fr"
    assert senders.mask_address(None) == "—"


class FakeSMTP:
    """Stands for ``smtplib.SMTP``: records the session instead of opening a socket."""

    sessions: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.session: dict[str, Any] = {"host": host, "port": port, "timeout": timeout}
        FakeSMTP.sessions.append(self.session)

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.session["closed"] = True

    def starttls(self, context: object) -> None:
        self.session["starttls"] = context is not None

    def login(self, user: str, password: str) -> None:
        self.session["login"] = (user, password)

    def send_message(self, message: Any) -> None:
        self.session["message"] = message


def test_the_smtp_sender_sends_one_mail_per_message(monkeypatch, tmp_path):
    FakeSMTP.sessions.clear()
    monkeypatch.setattr(senders.smtplib, "SMTP", FakeSMTP)
    config = _config(
        tmp_path,
        EMAIL_BACKEND="smtp",
        SMTP_USER="jalon",
        SMTP_PASSWORD=123456,  # from_prefixed_env reads numbers as numbers
        SMTP_STARTTLS=True,
    )
    chosen = senders.senders_from_config(config)
    assert isinstance(chosen.email, SmtpEmailSender)
    assert isinstance(chosen.sms, OutboxSender) and chosen.outbox_path == tmp_path / "outbox.jsonl"
    chosen.for_channel("email").send(_message(to=LEA_EMAIL, channel="email"))
    (session,) = FakeSMTP.sessions
    assert (session["host"], session["port"], session["timeout"]) == ("smtp.example", 2525, 5.0)
    assert session["starttls"] is True and session["login"] == ("jalon", "123456")
    assert session["closed"] is True
    mail = session["message"]
    assert mail["To"] == LEA_EMAIL and mail["From"] == "Jalon <ne-pas-repondre@jalon.example>"
    assert mail["Subject"] == "Un nouveau badge numérique"
    assert mail.get_content().strip() == "Vous avez un nouveau badge numérique."


def test_without_starttls_nor_user_the_smtp_sender_only_sends(monkeypatch, tmp_path):
    FakeSMTP.sessions.clear()
    monkeypatch.setattr(senders.smtplib, "SMTP", FakeSMTP)
    sender = SmtpEmailSender.from_config(_config(tmp_path))
    sender.send(_message(to=LEA_EMAIL, channel="email"))
    (session,) = FakeSMTP.sessions
    assert "starttls" not in session and "login" not in session and "message" in session


def test_an_sms_provider_is_loaded_from_its_dotted_path(tmp_path):
    config = _config(tmp_path, SMS_BACKEND="tests.support.senders:RecordingSms")
    chosen = senders.senders_from_config(config)
    assert isinstance(chosen.sms, RecordingSms) and chosen.sms.config is config
    # E-mail still goes to the outbox.
    assert isinstance(chosen.email, OutboxSender) and chosen.outbox_path is not None
    chosen.for_channel("sms").send(_message())
    assert [m.to for m in RecordingSms.sent] == [KARIM_PHONE]
    assert not (tmp_path / "outbox.jsonl").exists()


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("tests.support.senders:NotASender", TypeError),
        ("tests.support.senders:Missing", AttributeError),
        ("tests.support.nowhere:RecordingSms", ModuleNotFoundError),
        ("tests.support.senders", ValueError),
    ],
)
def test_a_wrong_sms_provider_is_refused(tmp_path, path, error):
    with pytest.raises(error):
        senders.senders_from_config(_config(tmp_path, SMS_BACKEND=path))


def test_without_the_outbox_no_outbox_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(senders.smtplib, "SMTP", FakeSMTP)
    config = _config(
        tmp_path, EMAIL_BACKEND="smtp", SMS_BACKEND="tests.support.senders:RecordingSms"
    )
    assert senders.senders_from_config(config).outbox_path is None


# --- Notifications ----------------------------------------------------------------------


def _recording(tmp_path: Path) -> Senders:
    return senders.senders_from_config(
        _config(tmp_path, SMS_BACKEND="tests.support.senders:RecordingSms")
    )


def test_the_channel_follows_the_person(db_session):
    channels = {
        login: notifications.channel_for(_user(db_session, login))
        for login in ("karim", "lea", "julie")
    }
    assert channels == {"karim": "sms", "lea": "email", "julie": "none"}


def test_a_new_badge_is_told_by_sms_with_the_link_to_the_badges(db_session, tmp_path):
    badge = _pending_badge(db_session, "karim")
    sent = notifications.notify_badge_pending(
        db_session, assertion=badge, senders=_recording(tmp_path), base_url=BASE_URL, now=NOW
    )
    (message,) = RecordingSms.sent
    assert message.to == KARIM_PHONE and message.kind == "badge_pending"
    assert message.structure == badge.structure.public_id
    name = badge_name(badge.badge_class.template, badge.badge_class.level)
    assert f"vous avez un nouveau badge numérique : {name}." in message.body
    assert message.body.endswith(f"Connectez-vous pour le voir et choisir : {BASE_URL}/moi/badges")
    assert (sent.channel, sent.attempts, sent.sent_at, sent.last_error) == ("sms", 1, NOW, None)
    assert (sent.assertion_id, sent.user_id) == (badge.id, badge.user_id)


def test_an_email_goes_to_the_outbox_by_default_and_nothing_of_it_is_stored(db_session, tmp_path):
    badge = _pending_badge(db_session, "lea")
    chosen = senders.senders_from_config(_config(tmp_path))
    sent = notifications.notify_badge_pending(
        db_session, assertion=badge, senders=chosen, base_url=BASE_URL, now=NOW
    )
    (line,) = _lines(tmp_path / "outbox.jsonl")
    assert line["channel"] == "email" and line["subject"] == "Un nouveau badge numérique"
    # Written to the file is not sent: no date of sending, no provider tried.
    assert (sent.channel, sent.attempts, sent.sent_at, sent.last_error) == (
        "email",
        0,
        None,
        notifications.OUTBOX,
    )
    stored = db_session.execute(
        select(OutboundNotification.__table__).where(OutboundNotification.id == sent.id)
    ).one()
    assert LEA_EMAIL not in repr(stored) and "badge numérique" not in repr(stored)


def test_without_phone_nor_email_nothing_is_sent_and_the_team_tells_the_person(
    db_session, tmp_path
):
    badge = _pending_badge(db_session, "ousmane")
    sent = notifications.notify_badge_pending(
        db_session, assertion=badge, senders=_recording(tmp_path), base_url=BASE_URL, now=NOW
    )
    assert RecordingSms.sent == []
    assert (sent.channel, sent.attempts, sent.sent_at, sent.last_error) == ("none", 0, None, None)


def test_a_failed_send_is_recorded_without_the_address_and_undoes_nothing(db_session, tmp_path):
    badge = _pending_badge(db_session, "karim")
    failing = senders.senders_from_config(
        _config(tmp_path, SMS_BACKEND="tests.support.senders:FailingSms")
    )
    assert isinstance(failing.sms, FailingSms)
    sent = notifications.notify_badge_pending(
        db_session, assertion=badge, senders=failing, base_url=BASE_URL, now=NOW
    )
    assert (sent.attempts, sent.sent_at, sent.last_error) == (1, None, "ConnectionRefusedError")
    assert sent.failed
    db_session.flush()  # the session is usable: nothing was rolled back
    assert db_session.get(Assertion, badge.id) is badge
    assert db_session.scalar(
        select(func.count(OutboundNotification.id)).where(OutboundNotification.id == sent.id)
    )


def _resend_by_admin(
    session: Session, notification: OutboundNotification, tmp_path: Path, now: datetime
) -> bool:
    """Claire (admin) presses « Renvoyer », an SMS provider now recording what it sends."""
    return notifications.resend(
        session,
        notification,
        senders=_recording(tmp_path),
        base_url=BASE_URL,
        now=now,
        actor=_user(session, "claire.admin"),
        claim_days=30,
    )


def test_resending_a_badge_message_renders_it_again_from_the_badge(db_session, tmp_path):
    badge = _pending_badge(db_session, "karim")
    failing = senders.senders_from_config(
        _config(tmp_path, SMS_BACKEND="tests.support.senders:FailingSms")
    )
    sent = notifications.notify_badge_pending(
        db_session, assertion=badge, senders=failing, base_url=BASE_URL, now=NOW
    )
    later = NOW + timedelta(hours=2)
    ok = _resend_by_admin(db_session, sent, tmp_path, later)
    assert ok is True
    assert (sent.attempts, sent.sent_at, sent.last_error) == (2, later, None)
    (message,) = RecordingSms.sent
    assert message.kind == "badge_pending" and "/moi/badges" in message.body


def test_a_badge_already_answered_is_not_told_again(db_session, tmp_path):
    badge = _pending_badge(db_session, "karim")
    sent = notifications.notify_badge_pending(
        db_session, assertion=badge, senders=_recording(tmp_path), base_url=BASE_URL, now=NOW
    )
    badge.consent = "accepted"
    with pytest.raises(notifications.CannotResend):
        notifications.prepare_resend(
            db_session,
            sent,
            base_url=BASE_URL,
            now=NOW,
            actor=_user(db_session, "claire.admin"),
            claim_days=30,
        )
    assert sent.attempts == 1


def test_a_claim_code_is_sent_as_a_link_and_resending_issues_a_new_code(db_session, tmp_path):
    karim, structure = _user(db_session, "karim"), _structure_a(db_session)
    code = _claim(db_session, "karim")
    chosen = _recording(tmp_path)
    sent = notifications.send_claim_code(
        db_session,
        user=karim,
        structure=structure,
        code=code,
        expires_at=NOW + timedelta(days=30),
        senders=chosen,
        base_url=BASE_URL,
        now=NOW,
    )
    assert (sent.kind, sent.channel, sent.sent_at, sent.assertion_id) == (
        "claim_code",
        "sms",
        NOW,
        None,
    )
    link = notifications.claim_url(BASE_URL, "karim", code)
    assert link in RecordingSms.sent[0].body
    assert "Il ne marche plus à partir du " in RecordingSms.sent[0].body

    later = NOW + timedelta(days=1)
    admin = _user(db_session, "claire.admin")
    assert notifications.resend(
        db_session, sent, senders=chosen, base_url=BASE_URL, now=later, actor=admin, claim_days=30
    )
    (link,) = re.findall(r"https?://\S+", RecordingSms.sent[1].body)
    new_code = parse_qs(urlsplit(link).query)["code"][0]
    assert new_code != code and sent.attempts == 2
    assert accounts.authenticate(db_session, login="karim", secret=code, now=later) is None
    assert accounts.authenticate(db_session, login="karim", secret=new_code, now=later)


def test_resending_to_someone_without_phone_nor_email_issues_no_code(db_session, tmp_path):
    julie, structure = _user(db_session, "julie"), _structure_a(db_session)
    code = _claim(db_session, "julie")
    outgoing = notifications.queue_claim_code(
        db_session,
        user=julie,
        structure=structure,
        code=code,
        expires_at=NOW + timedelta(days=30),
        base_url=BASE_URL,
        now=NOW,
    )
    assert outgoing.message is None and outgoing.notification.channel == "none"
    codes_before = db_session.scalar(select(func.count(OneTimeCode.id)))
    again = notifications.prepare_resend(
        db_session,
        outgoing.notification,
        base_url=BASE_URL,
        now=NOW,
        actor=_user(db_session, "claire.admin"),
        claim_days=30,
    )
    assert again.message is None
    assert (again.notification.attempts, again.notification.last_error) == (1, "no_channel")
    assert db_session.scalar(select(func.count(OneTimeCode.id))) == codes_before
    assert accounts.authenticate(db_session, login="julie", secret=code, now=NOW) is not None


def test_the_outbox_lives_in_the_instance_folder_and_unknown_backends_stop_the_start(tmp_path):
    from flask import Flask

    from app.config import load_config, validate_config

    app = Flask("jalon_test", instance_path=str(tmp_path))
    load_config(app, {"SECRET_KEY": "s" * 32})
    assert app.config["OUTBOX_PATH"] == str(tmp_path / "outbox.jsonl")
    assert (app.config["EMAIL_BACKEND"], app.config["SMS_BACKEND"]) == ("outbox", "outbox")
    assert app.config["CLAIM_CODE_DAYS"] == 30
    validate_config(app)
    for key, value in (("EMAIL_BACKEND", "pigeon"), ("SMS_BACKEND", "provider.sms")):
        wrong = Flask("jalon_test", instance_path=str(tmp_path))
        load_config(wrong, {"SECRET_KEY": "s" * 32, key: value})
        with pytest.raises(RuntimeError, match=f"JALON_{key}"):
            validate_config(wrong)


def test_listing_notifications_reads_what_resendable_needs_up_front(db_session):
    """The outbox page asks ``resendable`` of each row: no query per row."""
    badges = db_session.scalars(select(Assertion).where(Assertion.revoked_at.is_(None))).all()
    for badge in badges[:6]:
        for kind in ("badge_pending", "claim_code"):
            db_session.add(
                OutboundNotification(
                    structure_id=badge.structure_id,
                    user_id=badge.user_id,
                    assertion_id=badge.id if kind == "badge_pending" else None,
                    kind=kind,
                    channel="sms",
                    created_at=NOW,
                    attempts=0,
                )
            )
    db_session.flush()
    structure = _structure_a(db_session)
    db_session.expunge_all()
    structure = db_session.get(Structure, structure.id)
    listed = notification_queries.structure_notifications(db_session, structure)
    assert {n.kind for n in listed} >= {"badge_pending", "claim_code"}
    statements: list[str] = []

    def seen(conn, cursor, statement, *rest):  # type: ignore[no-untyped-def]
        statements.append(statement)

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        answers = [notifications.resendable(n) for n in listed]
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert statements == []
    assert True in answers


# --- The outbox is not a delivery -------------------------------------------------------

CLAIM_CODE = "ABCD-EFGH"


def _smtp_and_sms_outbox(monkeypatch, tmp_path: Path) -> Senders:
    FakeSMTP.sessions.clear()
    monkeypatch.setattr(senders.smtplib, "SMTP", FakeSMTP)
    return senders.senders_from_config(_config(tmp_path, EMAIL_BACKEND="smtp"))


class StandIn:
    """A backend that says it sends nothing, as the outbox does."""

    delivers = False

    def __init__(self, config: Any = None) -> None:
        self.seen: list[Message] = []

    def send(self, message: Message) -> None:
        self.seen.append(message)


def test_senders_say_per_channel_whether_they_really_deliver(monkeypatch, tmp_path):
    default = senders.senders_from_config(_config(tmp_path))
    assert (default.delivers("sms"), default.delivers("email")) == (False, False)
    assert (_recording(tmp_path).delivers("sms"), _recording(tmp_path).delivers("email")) == (
        True,
        False,
    )
    smtp = _smtp_and_sms_outbox(monkeypatch, tmp_path)
    assert (smtp.delivers("sms"), smtp.delivers("email")) == (False, True)
    # A provider that does not say is taken as real; one may say it is a stand-in.
    assert Senders(email=StandIn(), sms=RecordingSms({})).delivers("sms") is True
    assert Senders(email=StandIn(), sms=RecordingSms({})).delivers("email") is False


def test_an_outbox_write_is_recorded_apart_and_not_counted_as_an_attempt(db_session, tmp_path):
    badge = _pending_badge(db_session, "karim")
    chosen = senders.senders_from_config(_config(tmp_path))
    outgoing = notifications.queue_badge_pending(
        db_session, assertion=badge, base_url=BASE_URL, now=NOW
    )
    assert notifications.deliver(db_session, outgoing, senders=chosen, now=NOW) is False
    sent = outgoing.notification
    assert (sent.attempts, sent.sent_at, sent.last_error) == (0, None, "outbox")
    assert len(_lines(tmp_path / "outbox.jsonl")) == 1
    # Once a provider is configured, « Renvoyer » really sends it.
    later = NOW + timedelta(hours=1)
    ok = _resend_by_admin(db_session, sent, tmp_path, later)
    assert ok is True and (sent.attempts, sent.sent_at, sent.last_error) == (1, later, None)
    assert [m.to for m in RecordingSms.sent] == [KARIM_PHONE]


def _with_email(session: Session, login: str, email: str) -> User:
    user = _user(session, login)
    user.email = email
    session.flush()
    return user


def test_with_a_phone_and_an_email_the_channel_that_really_delivers_is_chosen(
    db_session, monkeypatch, tmp_path
):
    karim = _with_email(db_session, "karim", "karim.benali@exemple.fr")
    smtp_only = _smtp_and_sms_outbox(monkeypatch, tmp_path)
    assert notifications.channel_for(karim) == "sms"  # no senders at hand: the person's
    assert notifications.channel_for(karim, smtp_only) == "email"
    assert notifications.channel_for(karim, _recording(tmp_path)) == "sms"
    assert notifications.channel_for(karim, senders.senders_from_config(_config(tmp_path))) == (
        "sms"
    )
    both = senders.senders_from_config(
        _config(tmp_path, EMAIL_BACKEND="smtp", SMS_BACKEND="tests.support.senders:RecordingSms")
    )
    assert notifications.channel_for(karim, both) == "sms"
    # Only a phone: SMS, even when only e-mail would deliver.
    ousmane = _user(db_session, "ousmane")
    ousmane.phone = "+33600000001"
    assert notifications.channel_for(ousmane, smtp_only) == "sms"


def test_a_message_written_for_sms_goes_by_email_when_only_email_delivers(
    db_session, monkeypatch, tmp_path
):
    _with_email(db_session, "karim", "karim.benali@exemple.fr")
    badge = _pending_badge(db_session, "karim")
    chosen = _smtp_and_sms_outbox(monkeypatch, tmp_path)
    outgoing = notifications.queue_badge_pending(
        db_session, assertion=badge, base_url=BASE_URL, now=NOW
    )
    assert notifications.deliver(db_session, outgoing, senders=chosen, now=NOW) is True
    (session,) = FakeSMTP.sessions
    assert session["message"]["To"] == "karim.benali@exemple.fr"
    assert "/moi/badges" in session["message"].get_content()
    sent = outgoing.notification
    assert (sent.channel, sent.attempts, sent.sent_at, sent.last_error) == ("email", 1, NOW, None)
    assert not (tmp_path / "outbox.jsonl").exists()


def test_claim_codes_are_masked_in_the_outbox_file_and_when_read(db_session, tmp_path):
    karim = _user(db_session, "karim")
    chosen = senders.senders_from_config(_config(tmp_path))
    notifications.send_claim_code(
        db_session,
        user=karim,
        structure=_structure_a(db_session),
        code=CLAIM_CODE,
        expires_at=NOW + timedelta(days=30),
        senders=chosen,
        base_url=BASE_URL,
        now=NOW,
    )
    path = tmp_path / "outbox.jsonl"
    assert CLAIM_CODE not in path.read_text(encoding="utf-8")
    (line,) = _lines(path)
    assert f"{BASE_URL}/connexion/retrait?identifiant=karim&code=•••• ." in line["body"]
    # A line written before codes were masked shows none either.
    with path.open("a", encoding="utf-8") as file:
        old = line | {"body": f"ouvrez {notifications.claim_url(BASE_URL, 'karim', 'WXYZ-2345')} ."}
        file.write(json.dumps(old, ensure_ascii=False) + "\n")
    read = senders.read_outbox(path, _structure_a(db_session).public_id)
    assert [m["body"].count("code=••••") for m in read] == [1, 1]
    assert all("WXYZ-2345" not in m["body"] and CLAIM_CODE not in m["body"] for m in read)


def test_redact_codes_masks_only_the_code_of_each_link():
    text = "a https://j.example/x?identifiant=k&code=AB-CD . b https://j.example/y?code=EF#z"
    assert senders.redact_codes(text) == (
        "a https://j.example/x?identifiant=k&code=•••• . b https://j.example/y?code=••••#z"
    )
    assert senders.redact_codes("no link, no code=here") == "no link, no code=here"


def test_a_failure_logs_the_error_class_but_not_the_address(db_session, tmp_path, caplog):
    badge = _pending_badge(db_session, "karim")
    failing = senders.senders_from_config(
        _config(tmp_path, SMS_BACKEND="tests.support.senders:FailingSms")
    )
    with caplog.at_level(logging.WARNING, logger="app.services.notifications"):
        sent = notifications.notify_badge_pending(
            db_session, assertion=badge, senders=failing, base_url=BASE_URL, now=NOW
        )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ConnectionRefusedError" in logged and sent.public_id in logged
    assert KARIM_PHONE not in logged and "provider down" not in logged
