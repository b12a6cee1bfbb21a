"""Small helpers shared by the blueprints."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import BaseConverter

from app.models.base import utcnow


def now() -> datetime:
    """The current time (aware, UTC); tests may set ``JALON_NOW`` through the config."""
    fixed = current_app.config.get("NOW")
    return fixed() if callable(fixed) else utcnow()


def safe_next(target: str | None) -> str | None:
    """A redirect target only if it stays on this site (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


class PublicIdConverter(BaseConverter):
    """``<pid:…>``: an opaque public id (URL-safe base64 of 16+ random bytes), nothing else.

    It keeps ``/badges/<id>.json`` apart from ``/badges/<id>`` and ``/badges/modeles/…``.
    """

    regex = r"[A-Za-z0-9_-]{16,64}"
