"""Declarative base, naming convention and reusable column types."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated

from sqlalchemy import JSON, Boolean, DateTime, MetaData, String, TypeDecorator, false
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_public_id() -> str:
    """An opaque random identifier for URLs (never a row id): 128 bits, URL-safe.

    Never starting with "-", which a command line would read as an option
    (``flask keys compromised <id>``)."""
    while (candidate := secrets.token_urlsafe(16)).startswith("-"):
        pass
    return candidate


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always gives them back aware.

    SQLite keeps no time zone; PostgreSQL's ``timestamptz`` does. Either way the
    application only ever sees aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


intpk = Annotated[int, mapped_column(primary_key=True)]
public_id = Annotated[
    str, mapped_column(String(32), unique=True, default=new_public_id, nullable=False)
]
created_at = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow, nullable=False)]
bool_false = Annotated[bool, mapped_column(Boolean, default=False, server_default=false())]
i18n_text = Annotated[dict[str, str], mapped_column(JSON, nullable=False, default=dict)]


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
