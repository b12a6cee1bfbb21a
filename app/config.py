"""Configuration: safe defaults, then ``JALON_*`` variables, then the test mapping.

Every key has a default here; ``validate_config`` runs last in the factory and refuses a
configuration that could not work (for example a missing secret key in production).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from flask import Flask

from app.domain.reminders import parse_months

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DefaultConfig:
    """Every setting with a safe default."""

    SECRET_KEY: str | None = None
    BASE_URL = "http://127.0.0.1:5000"
    SQLALCHEMY_DATABASE_URI: str | None = None  # filled from DATABASE_URL or instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    REFERENTIALS_DIR = str(PROJECT_ROOT / "referentials")
    BADGE_TEMPLATES_DIR = str(PROJECT_ROOT / "badge_templates")
    KEYS_DIR = str(PROJECT_ROOT / "keys")
    # RSA key size of new issuer keys (2048 or 3072); see docs/openbadges.md.
    KEY_SIZE = 2048
    # The employer's verification page (VER-06, VER-07): requests per client, the hosts of
    # other issuers it may fetch badges from (comma-separated), private addresses only in
    # development, and the largest upload.
    VERIFY_RATE_LIMIT = "30 per minute"
    VERIFY_ALLOWED_HOSTS = ""
    VERIFY_ALLOW_PRIVATE_ADDRESSES = False
    MAX_CONTENT_LENGTH = 6_000_000
    # The contact shown on an issuer profile when the structure gave no email (OB 2.0 needs one).
    CONTACT_EMAIL = "contact@jalon.invalid"
    # Only to let ``flask keys rotate`` run after a private key file was lost.
    ALLOW_MISSING_KEYS = False
    DEFAULT_TIMEZONE = "Europe/Paris"
    DEFAULT_COUNTRY = "FR"
    # Italian joins when its catalogue exists (a later issue); French is the source.
    LANGUAGES = ("fr", "en")
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    # Forms have no time limit (REQUIREMENTS ACC-01: no time limits).
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # forced on when BASE_URL is https
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute;30 per hour"
    ONE_TIME_CODE_DAYS = 7
    # A printed claim sheet (code + QR) works once, within this many days (SHR-06).
    CLAIM_CODE_DAYS = 30
    # Notifications (app/services/senders.py): "outbox" writes each message to OUTBOX_PATH
    # (default: instance/outbox.jsonl) and sends nothing. E-mail may use "smtp"; SMS a
    # provider class named "package.module:Class", built with the config: Class(config).
    EMAIL_BACKEND = "outbox"
    SMS_BACKEND = "outbox"
    OUTBOX_PATH: str | None = None
    SMTP_HOST = "localhost"
    SMTP_PORT = 587
    SMTP_USER: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_FROM = "Jalon <ne-pas-repondre@jalon.invalid>"
    SMTP_STARTTLS = True
    SMTP_TIMEOUT = 10
    # Reminders after a worker leaves (SHR-11): months after the end of the contract,
    # comma-separated, increasing ("" for none). Sent by ``flask notifications send-due``.
    # Read as a tuple of whole numbers once validated.
    EXIT_REMINDER_MONTHS: str | tuple[int, ...] = "1,3,6"
    RECOVERY_CODES_COUNT = 8
    MIN_PASSWORD_LENGTH = 10
    MIN_SHORT_CODE_LENGTH = 6
    TEMPLATES_STRICT = True
    OBSERVATION_CORRECTION_DAYS = 7
    CAPTURE_TOKEN_HOURS = 12


def load_config(app: Flask, test_config: dict[str, Any] | None = None) -> None:
    """Layer the defaults, the environment and the test mapping onto ``app.config``."""
    app.config.from_object(DefaultConfig)
    app.config.from_prefixed_env("JALON")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'jalon.sqlite3'}"
        )
    if not app.config.get("OUTBOX_PATH"):
        app.config["OUTBOX_PATH"] = str(Path(app.instance_path) / "outbox.jsonl")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)
    if str(app.config["BASE_URL"]).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["BASE_URL"] = str(app.config["BASE_URL"]).rstrip("/")


def _instance_secret(app: Flask) -> str:
    """A random secret kept in the instance folder, created once (never committed)."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()


def validate_config(app: Flask) -> None:
    """Refuse a configuration that cannot work."""
    if len(str(app.config["SECRET_KEY"])) < 16:
        raise RuntimeError("JALON_SECRET_KEY must be at least 16 characters long.")
    if int(app.config["KEY_SIZE"]) not in (2048, 3072, 4096):
        raise RuntimeError("JALON_KEY_SIZE must be 2048, 3072 or 4096.")
    if not str(app.config["BASE_URL"]).startswith(("http://", "https://")):
        raise RuntimeError("JALON_BASE_URL must be an http(s) URL.")
    if app.config["EMAIL_BACKEND"] not in ("outbox", "smtp"):
        raise RuntimeError('JALON_EMAIL_BACKEND must be "outbox" or "smtp".')
    sms = str(app.config["SMS_BACKEND"])
    if sms != "outbox" and not re.fullmatch(r"[\w.]+:\w+", sms):
        raise RuntimeError('JALON_SMS_BACKEND must be "outbox" or "package.module:Class".')
    try:
        app.config["EXIT_REMINDER_MONTHS"] = parse_months(app.config["EXIT_REMINDER_MONTHS"])
    except ValueError as error:
        raise RuntimeError(
            "JALON_EXIT_REMINDER_MONTHS must be whole numbers of months, comma-separated and "
            'in increasing order (for example "1,3,6"), or empty for no reminder.'
        ) from error
