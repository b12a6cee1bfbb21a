"""Read side of issued badges: public lookups by opaque id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.models import Assertion, BadgeClass, SigningKey, Structure


def structure_by_public_id(session: Session, issuer_id: str) -> Structure | None:
    return session.scalar(select(Structure).where(Structure.public_id == issuer_id))


def key_by_public_id(session: Session, key_id: str) -> SigningKey | None:
    return session.scalar(
        select(SigningKey)
        .options(joinedload(SigningKey.structure))
        .where(SigningKey.public_id == key_id)
    )


def badge_class_by_public_id(session: Session, class_id: str) -> BadgeClass | None:
    return session.scalar(
        select(BadgeClass)
        .options(joinedload(BadgeClass.structure), joinedload(BadgeClass.template))
        .where(BadgeClass.public_id == class_id)
    )


def assertion_by_public_id(session: Session, assertion_id: str) -> Assertion | None:
    return session.scalar(
        select(Assertion)
        .options(
            joinedload(Assertion.badge_class).joinedload(BadgeClass.template),
            joinedload(Assertion.structure),
        )
        .where(Assertion.public_id == assertion_id)
    )


def public_assertion_by_public_id(session: Session, assertion_id: str) -> Assertion | None:
    """A badge its earner accepted; pending and declined ones do not exist publicly."""
    found = assertion_by_public_id(session, assertion_id)
    return found if found is not None and found.is_public else None


def badge_classes_of(session: Session, structure: Structure) -> list[BadgeClass]:
    """The issuer's badge classes that have been issued at least once, by name."""
    return list(
        session.scalars(
            select(BadgeClass)
            .where(BadgeClass.structure_id == structure.id)
            .order_by(BadgeClass.created_at, BadgeClass.id)
        )
    )
