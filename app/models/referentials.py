"""Referentials as loaded from ``referentials/``: immutable once a version is loaded.

A new version is a new set of rows, so past observations keep the wording of the
version they were recorded against (REQUIREMENTS REF-04). A structure's own
competences and situations live in a referential owned by that structure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, bool_false, created_at, i18n_text, intpk, public_id


class Referential(Base):
    """One version of a grid, pack, trade, list of situations, or the scale."""

    __tablename__ = "referentials"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    code: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"), index=True)
    name: Mapped[i18n_text]
    description: Mapped[i18n_text]
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(300))
    # Kind-specific data without rows of its own (the scale's levels).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    loaded_at: Mapped[created_at]
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    groups: Mapped[list[CompetenceGroup]] = relationship(
        back_populates="referential", order_by="CompetenceGroup.position"
    )
    competences: Mapped[list[Competence]] = relationship(
        back_populates="referential", order_by="Competence.position"
    )
    situations: Mapped[list[SituationTemplate]] = relationship(
        back_populates="referential", order_by="SituationTemplate.position"
    )

    def __repr__(self) -> str:
        return f"<Referential {self.code} v{self.version}>"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


class CompetenceGroup(Base):
    """A dimension of a grid (compétences méthodologiques, sociales, contributionnelles)."""

    __tablename__ = "competence_groups"
    __table_args__ = (UniqueConstraint("referential_id", "code"),)

    id: Mapped[intpk]
    referential_id: Mapped[int] = mapped_column(ForeignKey("referentials.id"), index=True)
    code: Mapped[str] = mapped_column(String(120))
    name: Mapped[i18n_text]
    description: Mapped[i18n_text]
    position: Mapped[int] = mapped_column(Integer, default=0)

    referential: Mapped[Referential] = relationship(back_populates="groups")
    competences: Mapped[list[Competence]] = relationship(
        back_populates="group", order_by="Competence.position"
    )


class Competence(Base):
    """A competence with its observable indicators, in one referential version."""

    __tablename__ = "competences"
    __table_args__ = (UniqueConstraint("referential_id", "code"),)

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    referential_id: Mapped[int] = mapped_column(ForeignKey("referentials.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("competence_groups.id"))
    code: Mapped[str] = mapped_column(String(120))
    name: Mapped[i18n_text]
    description: Mapped[i18n_text]
    pictogram: Mapped[str | None] = mapped_column(String(40))
    # First-person, plain-words sentence for the worker ("Je suis à l'heure").
    statement: Mapped[dict[str, str]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )
    links_to: Mapped[str | None] = mapped_column(String(120))
    alignments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Only a structure's own competences are deactivated; they stay in history.
    is_inactive: Mapped[bool_false]
    created_at: Mapped[created_at]

    referential: Mapped[Referential] = relationship(back_populates="competences")
    group: Mapped[CompetenceGroup | None] = relationship(back_populates="competences")
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="competence", order_by="Indicator.position"
    )


class Indicator(Base):
    """An observable action at work that shows a competence."""

    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("competence_id", "code"),)

    id: Mapped[intpk]
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    code: Mapped[str] = mapped_column(String(120))
    text: Mapped[i18n_text]
    position: Mapped[int] = mapped_column(Integer, default=0)

    competence: Mapped[Competence] = relationship(back_populates="indicators")


class SituationTemplate(Base):
    """An example work situation that a structure can start from."""

    __tablename__ = "situation_templates"
    __table_args__ = (UniqueConstraint("referential_id", "code"),)

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    referential_id: Mapped[int] = mapped_column(ForeignKey("referentials.id"), index=True)
    code: Mapped[str] = mapped_column(String(120))
    name: Mapped[i18n_text]
    type: Mapped[str] = mapped_column(String(32))
    competence_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_inactive: Mapped[bool_false]

    referential: Mapped[Referential] = relationship(back_populates="situations")
