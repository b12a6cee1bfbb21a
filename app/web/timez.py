"""Showing and reading times in the structure's time zone (stored as UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def to_local(value: datetime | None, timezone: str) -> datetime | None:
    """An aware UTC datetime in ``timezone``."""
    return value.astimezone(ZoneInfo(timezone)) if value else None


def format_local(value: datetime | None, timezone: str) -> str:
    """« 23/11/2026 à 14:05 » in the structure's time zone."""
    local = to_local(value, timezone)
    return local.strftime("%d/%m/%Y à %H:%M") if local else "—"


def from_local(naive: datetime, timezone: str) -> datetime:
    """A wall-clock time typed in the structure's time zone, as aware UTC."""
    return naive.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def local_input_value(value: datetime, timezone: str) -> str:
    """The value of a ``datetime-local`` input for ``value``."""
    local = to_local(value, timezone)
    assert local is not None
    return local.strftime("%Y-%m-%dT%H:%M")


def format_iso_day(value: str | None) -> str:
    """« 23 novembre 2026 » from an ISO 8601 timestamp (as in a badge's JSON)."""
    from flask_babel import format_date

    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return format_date(moment.date(), "long")


def format_local_day(value: datetime | None, timezone: str) -> str:
    """« 23 novembre 2026 »: the day in the structure's time zone, in the page's language."""
    from flask_babel import format_date

    local = to_local(value, timezone)
    return format_date(local.date(), "long") if local else "—"
