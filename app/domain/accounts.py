"""Pure rules for accounts: identifiers, sign-in secrets, phone numbers, one-time codes."""

from __future__ import annotations

import re
import secrets
import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from app.domain.errors import InvalidEmail, InvalidLogin, InvalidPhone, WeakSecret

LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# No 0/O, 1/I/L: codes are read aloud and copied from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def normalise_login(raw: str) -> str:
    """Lower-case, strip, and check a sign-in identifier."""
    login = raw.strip().lower()
    if not LOGIN_RE.match(login):
        raise InvalidLogin()
    return login


def suggest_login(first_name: str, last_name: str) -> str:
    """A readable identifier from a name: ``marie.dupont`` (accents and spaces removed)."""

    def ascii_part(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text)
        kept = "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in " -"))
        return re.sub(r"[\s-]+", "-", kept.strip().lower()).strip("-")

    base = ".".join(p for p in (ascii_part(first_name), ascii_part(last_name)) if p)
    return (base or "personne")[:56]


def is_short_code(secret: str) -> bool:
    """A short code is digits only; a password is anything else."""
    return secret.isdigit()


def check_new_secret(secret: str, *, min_password: int = 10, min_code: int = 6) -> None:
    """Refuse a secret that is too easy to guess (a password, or a short numeric code)."""
    if is_short_code(secret):
        digits = [int(c) for c in secret]
        steps = {b - a for a, b in zip(digits, digits[1:], strict=False)}
        if len(secret) < min_code or len(set(secret)) == 1 or steps in ({1}, {-1}):
            raise WeakSecret()
        return
    if len(secret) < min_password or len(set(secret)) < 4:
        raise WeakSecret()


def normalise_phone(raw: str, country: str = "FR") -> str:
    """A phone number in E.164 form (``+33612345678``), read in the structure's country."""
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone() from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """A syntactically valid e-mail address, lower-cased (no DNS look-up)."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail() from exc
    return result.normalized.lower()


def new_one_time_code(length: int = 8) -> str:
    """A random code like ``K7QM-X2RT``, easy to read aloud and to copy from paper."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
    return f"{raw[: length // 2]}-{raw[length // 2 :]}"


def canonical_code(typed: str) -> str:
    """What a person typed, compared without case, spaces or dashes."""
    return re.sub(r"[\s-]", "", typed).upper()
