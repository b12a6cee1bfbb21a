"""Bearer tokens for the JSON API: per-user API tokens and short-lived capture tokens.

Only a SHA-256 of each token is stored (tokens are 256-bit random strings, so a slow hash
adds nothing). A capture token only allows recording observations, is tied to the browser
session that asked for it, and is revoked at logout.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import User
from app.models.base import Base, UTCDateTime, created_at, intpk, public_id


class ApiToken(Base):
    """A bearer token of one user: kind ``api`` (all API scopes) or ``capture``."""

    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    session_nonce: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_on: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
