"""SMS providers for the tests, named by ``JALON_SMS_BACKEND = "tests.support.senders:…"``, and
an SMTP server stand-in (``KeepingSmtp``) to monkeypatch over ``smtplib.SMTP``."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any, ClassVar

from app.services.senders import Message


class RecordingSms:
    """Keeps every message it is given (clear ``sent`` before use)."""

    sent: ClassVar[list[Message]] = []

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def send(self, message: Message) -> None:
        RecordingSms.sent.append(message)


class FailingSms:
    """A provider that is down; its error quotes the number, as real ones may."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def send(self, message: Message) -> None:
        raise ConnectionRefusedError(f"provider down, nothing sent to {message.to}")


class NotASender:
    """A class without ``send``: refused when loaded."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config


class KeepingSmtp:
    """Stands for ``smtplib.SMTP``: keeps the mails instead of opening a socket (clear
    ``mails`` before use)."""

    mails: ClassVar[list[EmailMessage]] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        pass

    def __enter__(self) -> KeepingSmtp:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def starttls(self, context: object) -> None:
        pass

    def send_message(self, message: EmailMessage) -> None:
        KeepingSmtp.mails.append(message)
