"""How messages leave the application: e-mail over SMTP, SMS through a provider, or the outbox.

Nothing is sent unless a real provider is configured: by default both channels go to the
*outbox*, a local JSON Lines file (``JALON_OUTBOX_PATH``) that a developer, or an admin's
page in development, reads to see what would have been sent; a line is also logged,
without the address or the text (PRIV-08). The file keeps no live secret either: the
address is masked and a claim link's one-time code is replaced by ``••••``
(``redact_codes``); the printed claim sheet is the only place that shows the code.

An outbox write is not a delivery: each sender says whether it really reaches people
(``delivers``, False for the outbox, True for any other backend unless it says otherwise),
and ``Senders.delivers(channel)`` tells the callers, which record an outbox write apart
from a message sent (``app.services.notifications.deliver``).

Settings (``app/config.py``):

- ``JALON_EMAIL_BACKEND``: ``outbox`` (default) or ``smtp`` (``JALON_SMTP_HOST``,
  ``_PORT``, ``_USER``, ``_PASSWORD``, ``_FROM``, ``_STARTTLS``, ``_TIMEOUT``).
- ``JALON_SMS_BACKEND``: ``outbox`` (default) or the dotted path of a provider class,
  ``"package.module:Class"``. The class is built with the application's config mapping,
  ``Class(config)``, and must have ``send(message)`` (the ``SmsSender`` protocol), raising
  any exception when the provider refuses the message. A class may set ``delivers = False``
  (a stand-in that sends nothing); without it, it is taken as a real provider.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

# A child of the application's logger ("app"), which Flask prints on the console.
log = logging.getLogger(__name__)

Channel = Literal["email", "sms"]


@dataclass(frozen=True)
class Message:
    """One message to one person; ``to`` is an e-mail address or an E.164 phone number."""

    to: str
    channel: Channel
    subject: str
    body: str
    structure: str  # the structure's public id
    kind: str  # "badge_pending", "claim_code" or "exit_reminder"


@runtime_checkable
class Sender(Protocol):
    """Sends a message or raises; a failure is recorded by the caller, never hidden."""

    def send(self, message: Message) -> None: ...


class SmsSender(Sender, Protocol):
    """An SMS provider: ``send(message)`` with ``message.to`` an E.164 number.

    The only built-in backend is the outbox; a real provider is a class named by
    ``JALON_SMS_BACKEND = "package.module:Class"`` and built as ``Class(config)``.
    """


def mask_address(address: str | None) -> str:
    """An address shown or logged without giving it away: ``••••••78``, ``l•••@•••.fr``."""
    if not address:
        return "—"
    if "@" in address:
        local, _, domain = address.partition("@")
        tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
        return f"{local[:1]}•••@•••" + (f".{tld}" if tld else "")
    digits = [c for c in address if c.isdigit()]
    return "••••••" + "".join(digits[-2:])


#: The value of a ``code`` query parameter in a link (``claim_url``): a one-time code.
_CODE_IN_LINK = re.compile(r"([?&]code=)[^&#\s]+")
#: What stands for a one-time code wherever a message is kept or shown.
MASKED_CODE = "••••"


def redact_codes(text: str) -> str:
    """``text`` with the one-time code of every link masked: ``…?identifiant=karim&code=••••``."""
    return _CODE_IN_LINK.sub(rf"\g<1>{MASKED_CODE}", text)


class OutboxSender:
    """Appends each message as one JSON line to a local file instead of sending it.

    Nothing reaches the person (``delivers`` is False). The line keeps the text with its
    claim codes masked and the address masked: the file holds no secret to steal.
    """

    delivers: ClassVar[bool] = False

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def send(self, message: Message) -> None:
        """Write the message (address and codes masked) and log that it was written, without
        the address or the text."""
        line = asdict(message) | {
            "to": mask_address(message.to),
            "body": redact_codes(message.body),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as outbox:
            outbox.write(json.dumps(line, ensure_ascii=False) + "\n")
        # A warning: in production it means that no real provider is configured.
        log.warning(
            "outbox: %s %s for structure %s written to %s (nothing sent)",
            message.channel,
            message.kind,
            message.structure,
            self.path,
        )


def read_outbox(path: str | Path, structure: str, limit: int = 20) -> list[dict[str, Any]]:
    """The last ``limit`` outbox messages of one structure, newest first.

    Codes are masked again on reading: a file written before they were masked at writing
    still shows none.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    found: list[dict[str, Any]] = []
    for line in reversed(lines):
        try:
            item = json.loads(line)
        except ValueError:  # a line cut short by a crash: skip it
            continue
        if isinstance(item, dict) and item.get("structure") == structure:
            if isinstance(item.get("body"), str):
                item["body"] = redact_codes(item["body"])
            found.append(item)
            if len(found) == limit:
                break
    return found


class SmtpEmailSender:
    """Sends e-mail through an SMTP server, with STARTTLS unless turned off."""

    delivers: ClassVar[bool] = True

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 10,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password = user, password
        self.starttls, self.timeout = starttls, timeout

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpEmailSender:
        """Built from the ``SMTP_*`` settings."""
        user = config.get("SMTP_USER")
        password = config.get("SMTP_PASSWORD")
        return cls(
            host=str(config["SMTP_HOST"]),
            port=int(config["SMTP_PORT"]),
            sender=str(config["SMTP_FROM"]),
            user=str(user) if user else None,
            password=str(password) if password is not None else None,
            starttls=bool(config["SMTP_STARTTLS"]),
            timeout=float(config["SMTP_TIMEOUT"]),
        )

    def send(self, message: Message) -> None:
        """One SMTP session per message (messages are few: a badge, a claim code)."""
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email.set_content(message.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(email)


def load_backend(path: str, config: Mapping[str, Any]) -> Sender:
    """The provider named ``"package.module:Class"``, built as ``Class(config)``."""
    module_name, _, class_name = path.partition(":")
    if not module_name or not class_name:
        raise ValueError(f"a backend is named 'package.module:Class', not {path!r}")
    backend = getattr(importlib.import_module(module_name), class_name)(config)
    if not isinstance(backend, Sender):
        raise TypeError(f"{path} has no send(message) method")
    return backend


@dataclass(frozen=True)
class Senders:
    """The sender of each channel, and the outbox file when a channel writes there."""

    email: Sender
    sms: Sender
    outbox_path: Path | None = None

    def for_channel(self, channel: str) -> Sender:
        """The sender of ``channel`` ("email" or "sms")."""
        return self.sms if channel == "sms" else self.email

    def delivers(self, channel: str) -> bool:
        """Whether a message on ``channel`` really reaches the person (not the outbox)."""
        return bool(getattr(self.for_channel(channel), "delivers", True))


def senders_from_config(config: Mapping[str, Any]) -> Senders:
    """The senders chosen by ``EMAIL_BACKEND`` and ``SMS_BACKEND``."""
    outbox = OutboxSender(config["OUTBOX_PATH"])
    email_backend = str(config.get("EMAIL_BACKEND", "outbox"))
    sms_backend = str(config.get("SMS_BACKEND", "outbox"))
    email: Sender = SmtpEmailSender.from_config(config) if email_backend == "smtp" else outbox
    sms: Sender = outbox if sms_backend == "outbox" else load_backend(sms_backend, config)
    uses_outbox = email is outbox or sms is outbox
    return Senders(email=email, sms=sms, outbox_path=outbox.path if uses_outbox else None)
