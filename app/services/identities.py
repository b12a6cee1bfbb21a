"""A person's email and telephone, and the badges that name them (BDG-04).

A badge names its earner by the salted hash of the identity they had when it was issued:
their email, else their telephone, else their identity URL
(:func:`app.services.badges.recipient_identity`). When staff change the email or telephone,
the badges already issued keep naming the former one, so an employer who checks them with
the new address is told « not this person ». Staff then re-issue them in one action: each is
revoked with the reason « identité mise à jour » and replaced for the same decision, with the
earner's choices (consent, profile, name shown) carried over
(:func:`app.services.revocations.replace`).
"""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import openbadges
from app.domain import accounts as rules
from app.domain.badges import RevocationReason
from app.domain.errors import EmailTaken
from app.models import Assertion, Structure, User
from app.services import audit, badges, revocations


def change_contact(
    session: Session,
    *,
    user: User,
    email: str | None,
    phone: str | None,
    country: str,
    actor: User | None,
    structure: Structure | None,
    now: datetime,
) -> list[str]:
    """Set ``user``'s email and telephone as staff typed them; return the fields changed.

    Both are normalised as when the account was made (a telephone read in ``country``); an
    empty value removes it. An email used by another account is refused (EmailTaken), and
    nothing is written when a value is refused. The audit row names the changed fields,
    never their values (PRIV-08).
    """
    new_email = rules.normalise_email(email) if email and email.strip() else None
    new_phone = rules.normalise_phone(phone, country) if phone and phone.strip() else None
    if new_email is not None and new_email != user.email:
        taken = session.scalar(select(User.id).where(User.email == new_email, User.id != user.id))
        if taken is not None:
            raise EmailTaken()
    changed = [
        field
        for field, before, after in (
            ("email", user.email, new_email),
            ("phone", user.phone, new_phone),
        )
        if before != after
    ]
    if not changed:
        return []
    user.email, user.phone = new_email, new_phone
    audit.record(
        session,
        action="account.contact_changed",
        now=now,
        actor=actor,
        subject=user,
        structure=structure,
        target=user.public_id,
        details={"fields": changed},
    )
    return changed


def names_current_identity(assertion: Assertion, user: User, issuing: badges.Issuing) -> bool:
    """Whether ``assertion``'s recipient is ``user``'s identity as it is now (same type, same
    salted hash), as its issuer would name them today."""
    kind, identity = badges.recipient_identity(user, assertion.structure, issuing.urls)
    if kind != assertion.recipient_type:
        return False
    expected = openbadges.hash_identity(identity, assertion.salt)
    return hmac.compare_digest(expected, assertion.recipient_hash)


def stale_badges(
    session: Session, user: User, issuing: badges.Issuing, structure: Structure | None = None
) -> list[Assertion]:
    """``user``'s badges in force that name a former identity (only ``structure``'s if given).

    Every badge not revoked counts, whatever its earner answered: a pending one may be
    accepted tomorrow, and a declined one too (declining can be reversed), so each must
    already name the person as they are now. Expired badges count as well, as in a key
    compromise: their page still says who earned them and until when.
    """
    query = (
        select(Assertion)
        .where(Assertion.user_id == user.id, Assertion.revoked_at.is_(None))
        .order_by(Assertion.id)
    )
    if structure is not None:
        query = query.where(Assertion.structure_id == structure.id)
    return [a for a in session.scalars(query) if not names_current_identity(a, user, issuing)]


def reissue_to_current_identity(
    session: Session,
    *,
    user: User,
    issuing: badges.Issuing,
    now: datetime,
    actor: User | None,
    structure: Structure | None = None,
) -> list[tuple[Assertion, Assertion]]:
    """Re-issue each of :func:`stale_badges` to ``user``'s current identity.

    Each old badge is revoked (« identité mise à jour ») and replaced for the same decision
    with a fresh salt, the earner's choices kept; both steps are audited by
    :func:`revocations.replace`. Returns (old, new) pairs; a second call finds nothing to do.
    ``structure`` limits the work to the badges that structure issued (staff act for their
    own issuer only).
    """
    pairs = []
    for old in stale_badges(session, user, issuing, structure):
        kind, identity = badges.recipient_identity(user, old.structure, issuing.urls)
        salt = openbadges.new_salt()
        hashed = openbadges.hash_identity(identity, salt)
        new = revocations.replace(
            session,
            old,
            reason=RevocationReason.IDENTITY_UPDATED,
            issuing=issuing,
            now=now,
            recipient=(kind, hashed, salt),
            actor=actor,
        )
        pairs.append((old, new))
    session.flush()
    return pairs
