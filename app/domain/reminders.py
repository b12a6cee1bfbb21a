"""When the reminders sent after a worker leaves are due (SHR-11): pure date arithmetic.

A reminder ``N`` months after the end of a contract falls on the same day of the month,
``N`` calendar months later, clamped to the month's last day (31 January + 1 month is
28 or 29 February), at 09:00 in the structure's time zone.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

#: The local hour a reminder is sent at: a morning, not the middle of the night.
SEND_AT = time(9, 0)


def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months on, its day clamped to the month's end."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def due_at(ended_on: date, months: int, timezone: str) -> datetime:
    """The moment (UTC) of the reminder ``months`` after ``ended_on``: 09:00 local time."""
    local = datetime.combine(add_months(ended_on, months), SEND_AT, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def parse_months(value: object) -> tuple[int, ...]:
    """The months after an exit at which reminders go out, from a setting.

    Accepts ``"1,3,6"`` (the environment's form), a list or tuple of whole numbers, or one
    number; an empty string or list means no reminder. Raises ``ValueError`` unless the
    numbers are positive, unique and in increasing order.
    """
    items: Iterable[object]
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",")] if value.strip() else []
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise ValueError(f"not a list of months: {value!r}")
    months: list[int] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise ValueError(f"not a whole number of months: {item!r}")
        text = str(item).strip()
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise ValueError(f"not a positive whole number of months: {item!r}")
        months.append(int(text))
    if any(a >= b for a, b in zip(months, months[1:], strict=False)):
        raise ValueError(f"months must be unique and in increasing order: {value!r}")
    return tuple(months)
