"""When the reminders after an exit are due, and the setting of their months (pure)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from app.config import load_config, validate_config
from app.domain.reminders import add_months, due_at, parse_months


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # a leap year
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 11, 2), 1, date(2026, 12, 2)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 7, 14), 24, date(2028, 7, 14)),
    ],
)
def test_months_are_calendar_months_clamped_to_the_end_of_the_month(day, months, expected):
    assert add_months(day, months) == expected


@given(st.dates(max_value=date(9000, 1, 1)), st.integers(min_value=0, max_value=240))
def test_adding_months_lands_in_the_right_month_on_the_same_day_or_its_last(day, months):
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    last = calendar.monthrange(moved.year, moved.month)[1]
    assert moved.day == min(day.day, last)


def test_a_reminder_is_due_at_nine_in_the_morning_in_the_structure_s_time_zone():
    # Paris: UTC+1 in winter, UTC+2 in summer; La Réunion: UTC+4 all year.
    assert due_at(date(2026, 11, 2), 1, "Europe/Paris") == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert due_at(date(2026, 3, 2), 3, "Europe/Paris") == datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    assert due_at(date(2026, 1, 31), 1, "Indian/Reunion") == datetime(2026, 2, 28, 5, 0, tzinfo=UTC)
    assert due_at(date(2026, 1, 31), 1, "Europe/Paris").tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,3,6", (1, 3, 6)),
        (" 1, 3 ,6 ", (1, 3, 6)),
        ("", ()),
        ("  ", ()),
        (3, (3,)),
        ([2, 12], (2, 12)),
        ((1, "4"), (1, 4)),
        ([], ()),
    ],
)
def test_the_months_setting_reads_a_list_of_increasing_whole_numbers(value, expected):
    assert parse_months(value) == expected


@pytest.mark.parametrize(
    "value", ["6,3", "1,1", "0", "-1", "1,,3", "un", "1.5", "²", [True], 1.0, None, True, [0]]
)
def test_the_months_setting_refuses_anything_else(value):
    with pytest.raises(ValueError):
        parse_months(value)


def _app(tmp_path: Path) -> Flask:
    app = Flask("jalon_test", instance_path=str(tmp_path))
    load_config(app, {"SECRET_KEY": "s" * 32})
    return app


@pytest.mark.parametrize(
    ("env", "expected"), [(None, (1, 3, 6)), ("2,4", (2, 4)), ("", ()), ("12", (12,))]
)
def test_jalon_exit_reminder_months_comes_from_the_environment(
    tmp_path, monkeypatch, env, expected
):
    if env is None:
        monkeypatch.delenv("JALON_EXIT_REMINDER_MONTHS", raising=False)
    else:
        monkeypatch.setenv("JALON_EXIT_REMINDER_MONTHS", env)
    app = _app(tmp_path)
    validate_config(app)
    assert app.config["EXIT_REMINDER_MONTHS"] == expected


@pytest.mark.parametrize("env", ["3,1", "0", "1,x", "[1, 1]"])
def test_a_wrong_exit_reminder_setting_stops_the_start(tmp_path, monkeypatch, env):
    monkeypatch.setenv("JALON_EXIT_REMINDER_MONTHS", env)
    app = _app(tmp_path)
    with pytest.raises(RuntimeError, match="JALON_EXIT_REMINDER_MONTHS"):
        validate_config(app)
