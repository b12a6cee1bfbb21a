"""Read side of the earner's own badges, across every structure (SHR-07, SHR-08), and of
their public profile (SHR-09).

A badge re-issued to replace another (after a key compromise or an identity change) is
the same badge to its earner: only the newest of the chain is listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased, defer, joinedload

from app.domain.consent import Consent
from app.models import Assertion, AuditEvent, BadgeClass, Membership, User

#: The audit actions a badge's history shows its earner: its life and each of their choices.
HISTORY_ACTIONS = (
    "badge.issued",
    "badge.reissued",
    "badge.accepted",
    "badge.declined",
    "badge.shown",
    "badge.hidden",
    "badge.earner_name_changed",
    "badge.withdrawal_requested",
    "badge.revoked",
)


def _badges() -> Select[tuple[Assertion]]:
    """Assertions with what a card shows, newest first, replaced ones left out."""
    replacement = aliased(Assertion)
    replaced = select(replacement.id).where(replacement.replaces_id == Assertion.id).exists()
    return (
        select(Assertion)
        .options(
            # The class images load only where a page uses them (PDF, export), once per class.
            joinedload(Assertion.badge_class).options(
                defer(BadgeClass.image_png),
                defer(BadgeClass.image_svg),
                joinedload(BadgeClass.template),
            ),
            joinedload(Assertion.structure),
            joinedload(Assertion.user),
        )
        .where(~replaced)
        .order_by(Assertion.issued_on.desc(), Assertion.id.desc())
    )


def earner_badges(session: Session, user: User) -> list[Assertion]:
    """Every badge of ``user``, from every structure, ended memberships included."""
    return list(session.scalars(_badges().where(Assertion.user_id == user.id)).unique())


def own_badge(session: Session, user: User, assertion_id: str) -> Assertion | None:
    """One badge of ``user`` by public id; None when it is someone else's."""
    return session.scalars(
        _badges().where(Assertion.user_id == user.id, Assertion.public_id == assertion_id)
    ).first()


def owns_all(session: Session, user: User, assertion_ids: Sequence[str]) -> bool:
    """Whether every one of ``assertion_ids`` names a badge ``user`` holds or held (replaced,
    withdrawn or not accepted included)."""
    wanted = set(assertion_ids)
    held = session.scalars(
        select(Assertion.public_id).where(
            Assertion.user_id == user.id, Assertion.public_id.in_(wanted)
        )
    )
    return set(held) == wanted


def own_printable(session: Session, user: User, assertion_ids: Sequence[str]) -> list[Assertion]:
    """The badges of ``user`` named in ``assertion_ids`` that they accepted and that are not
    withdrawn (what the passport form offers), in that order.

    Shorter than ``assertion_ids`` when one is unknown, someone else's, not accepted,
    withdrawn or replaced."""
    found = {
        a.public_id: a
        for a in session.scalars(
            _badges().where(
                Assertion.user_id == user.id,
                Assertion.public_id.in_(set(assertion_ids)),
                Assertion.consent == Consent.ACCEPTED.value,
                Assertion.revoked_at.is_(None),
            )
        ).unique()
    }
    return [found[pid] for pid in dict.fromkeys(assertion_ids) if pid in found]


def worker_badge(session: Session, worker: Membership, assertion_id: str) -> Assertion | None:
    """One badge earned in ``worker``'s membership (this person, this structure)."""
    return session.scalars(
        _badges().where(
            Assertion.worker_id == worker.id,
            Assertion.structure_id == worker.structure_id,
            Assertion.public_id == assertion_id,
        )
    ).first()


def worker_badges(session: Session, worker: Membership) -> list[Assertion]:
    """The badges issued in ``worker``'s membership, for their staff page."""
    return list(session.scalars(_badges().where(Assertion.worker_id == worker.id)).unique())


def pending_count(session: Session, user: User) -> int:
    """How many of ``user``'s badges wait for an answer (a withdrawn one waits no more)."""
    return (
        session.scalar(
            select(func.count(Assertion.id)).where(
                Assertion.user_id == user.id,
                Assertion.consent == Consent.PENDING.value,
                Assertion.revoked_at.is_(None),
            )
        )
        or 0
    )


def profile_owner(session: Session, identity_id: str) -> User | None:
    """The person whose public profile is at ``identity_id``, if they opted in."""
    return session.scalar(
        select(User).where(
            User.identity_id == identity_id,
            User.profile_public.is_(True),
            User.deactivated_at.is_(None),
        )
    )


def profile_badges(session: Session, user: User, now: datetime) -> list[Assertion]:
    """What a public profile lists: accepted, shown, neither withdrawn nor expired."""
    return list(
        session.scalars(
            _badges().where(
                Assertion.user_id == user.id,
                Assertion.consent == Consent.ACCEPTED.value,
                Assertion.on_profile.is_(True),
                Assertion.revoked_at.is_(None),
                or_(Assertion.expires_at.is_(None), Assertion.expires_at > now),
            )
        ).unique()
    )


def badge_history(session: Session, assertion: Assertion) -> list[AuditEvent]:
    """What happened to ``assertion`` and to the badges it replaced, oldest first.

    A re-issued badge is the same badge to its earner, so the chain's earlier events (their
    acceptance, say) are part of its story. Read through the earner's indexed events."""
    chain: list[str] = []
    link: Assertion | None = assertion
    while link is not None:
        chain.append(link.public_id)
        link = link.replaces
    return list(
        session.scalars(
            select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .where(
                AuditEvent.subject_id == assertion.user_id,
                AuditEvent.target.in_(chain),
                AuditEvent.action.in_(HISTORY_ACTIONS),
            )
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    )
