"""A person's email and telephone, and the badges that name them (BDG-04).

A badge names its earner by the salted hash of the identity they had when it was issued:
their email, else their telephone, else their identity URL
(:func:`app.services.badges.recipient_identity`). When staff change the email or telephone,
the badges already issued keep naming the former one, so an employer who checks them with
the new address is told « not this person ». Staff then re-issue them in one action: each is
revoked with the reason « identité mise à jour » and replaced for the same decision, with the
earner's choices (consent, profile, name shown) carried over
(:func:`app.services.revocations.replace`).

Two re-issues, or a re-issue and the earner's own choices, may race: the re-issue locks the
badges it replaces and reads their choices from the locked rows, the earner's choices lock
the badge too (:mod:`app.services.consent`), and the database holds one replacement per
badge at most (unique ``replaces_id``).
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import openbadges
from app.domain import accounts as rules
from app.domain.badges import RevocationReason
from app.domain.enums import CodeKind
from app.domain.errors import EmailTaken
from app.models import Assertion, Structure, User
from app.services import accounts, audit, badges, revocations

#: One-time codes that may have gone to the person's address (a claim sheet's link by SMS or
#: e-mail) or were given for it: they stop working when staff change the address, so a code
#: sent to a mistyped number is dead once the number is corrected.
CODES_OF_AN_ADDRESS = (CodeKind.CLAIM, CodeKind.RESET)
#: Refused: another re-issue of the same badges committed first.
ALREADY_REISSUED = "Ces badges numériques viennent déjà d'être ré-émis."


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
    nothing is written when a value is refused. The person's unused claim and reset codes
    stop working (:data:`CODES_OF_AN_ADDRESS`). The audit row names the changed fields and
    the codes revoked (id and kind), never an address (PRIV-08).
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
    details: dict[str, Any] = {"fields": changed}
    revoked = accounts.revoke_codes(session, user, CODES_OF_AN_ADDRESS, now)
    if revoked:
        details["revoked_codes"] = [{"id": c.id, "kind": CodeKind(c.kind).value} for c in revoked]
    audit.record(
        session,
        action="account.contact_changed",
        now=now,
        actor=actor,
        subject=user,
        structure=structure,
        target=user.public_id,
        details=details,
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

    The old badges are locked (``SELECT … FOR UPDATE``, in id order) and read again before
    anything is written: one the earner withdrew meanwhile is left alone, a choice they made
    meanwhile is carried over, and a second re-issue waits for the first, then finds nothing
    to do. Should a replacement exist already all the same, RevocationError
    (:data:`ALREADY_REISSUED`) and nothing is kept.
    """
    stale = stale_badges(session, user, issuing, structure)
    if not stale:
        return []
    pairs = []
    try:
        for old in _locked_live(session, [a.id for a in stale]):
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
    except revocations.AlreadyReplaced as error:
        raise revocations.AlreadyReplaced(ALREADY_REISSUED) from error
    session.flush()
    return pairs


def _locked_live(session: Session, ids: list[int]) -> list[Assertion]:
    """The badges ``ids`` still in force, locked until commit and read afresh (the copies in
    the session are overwritten with the rows as locked); SQLite ignores the lock, its
    writers being one at a time."""
    return list(
        session.scalars(
            select(Assertion)
            .where(Assertion.id.in_(ids), Assertion.revoked_at.is_(None))
            .order_by(Assertion.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
