"""Issuer signing keys (RS256). The private half lives in a file outside git."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import Structure
from app.models.base import Base, UTCDateTime, created_at, intpk, public_id


class SigningKey(Base):
    """One RSA key pair of a structure. Public keys stay published after rotation."""

    __tablename__ = "signing_keys"

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    private_key_file: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[created_at]
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    compromised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    structure: Mapped[Structure] = relationship()
