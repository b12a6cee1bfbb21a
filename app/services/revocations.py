"""Withdrawing issued badges, with one list of reasons (BDG-10), and replacing them.

A revoked assertion keeps its row and its public address: its JSON keeps answering with
``revoked: true`` and the public wording of the reason, its page says « Retiré », and the
issuer's RevocationList names it. A replacement (key compromise, identity change) is a
new assertion for the same decision, linked to the one it replaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import openbadges
from app.domain.badges import RevocationReason
from app.domain.errors import DomainError
from app.models import Assertion, Proposal, SigningKey, User
from app.models.base import new_public_id
from app.services import audit
from app.services.badges import Issuing, assertion_document, signing_key_for


class RevocationError(DomainError):
    code = "revocation"
    status = 409


class AlreadyReplaced(RevocationError):
    """The badge has its replacement already: the database holds one per badge."""

    code = "already_replaced"
    message = "Ce badge numérique vient déjà d'être ré-émis."


#: Refused: the badge was withdrawn already, here or by a transaction that got there first.
ALREADY_REVOKED = "Ce badge a déjà été retiré."


def revoke(
    session: Session,
    assertion: Assertion,
    *,
    reason: RevocationReason,
    now: datetime,
    actor: User | None = None,
) -> None:
    """Withdraw one badge, audited; its address keeps answering, as revoked.

    One conditional UPDATE (``… WHERE revoked_at IS NULL``): when another transaction
    withdrew or replaced the badge since it was read, nothing is written and
    RevocationError says so, whatever the copy in memory said. On PostgreSQL the UPDATE
    holds the row until commit, so a concurrent choice of the earner waits for it.
    """
    if assertion.revoked_at is not None:
        raise RevocationError(ALREADY_REVOKED)
    if assertion.id is None:
        session.flush()
    written = session.execute(
        update(Assertion)
        .where(Assertion.id == assertion.id, Assertion.revoked_at.is_(None))
        .values(revoked_at=now, revocation_reason=reason.value)
        .execution_options(synchronize_session=False)
    )
    if written.rowcount != 1:
        session.expire(assertion, ["revoked_at", "revocation_reason"])
        raise RevocationError(ALREADY_REVOKED)
    set_committed_value(assertion, "revoked_at", now)
    set_committed_value(assertion, "revocation_reason", reason.value)
    audit.record(
        session,
        action="badge.revoked",
        now=now,
        actor=actor,
        subject=assertion.user,
        structure=assertion.structure,
        target=assertion.public_id,
        details={"reason": reason.value},
    )


def live_assertions(session: Session, proposal: Proposal) -> Sequence[Assertion]:
    """The decision's badges that are not revoked (one, unless something went wrong)."""
    return session.scalars(
        select(Assertion)
        .where(Assertion.proposal_id == proposal.id, Assertion.revoked_at.is_(None))
        .order_by(Assertion.id)
    ).all()


def revoke_decision(
    session: Session,
    proposal: Proposal,
    *,
    reason: RevocationReason,
    now: datetime,
    actor: User | None = None,
) -> list[Assertion]:
    """Withdraw every live badge of a decision (when the decision itself is withdrawn)."""
    found = list(live_assertions(session, proposal))
    for assertion in found:
        revoke(session, assertion, reason=reason, now=now, actor=actor)
    return found


def replace(
    session: Session,
    old: Assertion,
    *,
    reason: RevocationReason,
    issuing: Issuing,
    now: datetime,
    recipient: tuple[str, str, str] | None = None,
    actor: User | None = None,
) -> Assertion:
    """Revoke ``old`` and issue its replacement for the same decision, signed by the
    issuer's current key: same recognition (dates, evidence), same recipient unless a new
    ``(type, hashed identity, salt)`` is given.

    The earner's choices are read once ``old`` is revoked, hence held by this transaction:
    a choice committed meanwhile is carried over, never lost. A second replacement of one
    badge is refused by the database (unique ``replaces_id``): AlreadyReplaced.
    """
    revoke(session, old, reason=reason, now=now, actor=actor)
    session.refresh(old, ["consent", "on_profile", "earner_name", "consent_changed_at"])
    key = signing_key_for(session, old.structure, issuing, now)
    kind, identity_hash, salt = recipient or (old.recipient_type, old.recipient_hash, old.salt)
    new = Assertion(
        public_id=new_public_id(),
        structure_id=old.structure_id,
        badge_class=old.badge_class,
        proposal_id=old.proposal_id,
        worker_id=old.worker_id,
        user_id=old.user_id,
        signing_key_id=key.id,
        recipient_type=kind,
        recipient_hash=identity_hash,
        salt=salt,
        issued_on=old.issued_on,
        expires_at=old.expires_at,
        evidence=old.evidence,
        replaces_id=old.id,
        # The earner's choices carry over: a replacement is the same badge to them.
        consent=old.consent,
        on_profile=old.on_profile,
        earner_name=old.earner_name,
        consent_changed_at=old.consent_changed_at,
        jws="",
        created_at=now,
    )
    new.jws = openbadges.signing.sign(
        assertion_document(new, issuing.urls, signed_by=key), issuing.private_key(key)
    )
    session.add(new)
    try:
        session.flush()
    except IntegrityError as error:
        found = str(error.orig).lower()
        if "replaces_id" not in found or "unique" not in found:
            raise
        raise AlreadyReplaced() from error
    audit.record(
        session,
        action="badge.reissued",
        now=now,
        actor=actor,
        subject=old.user,
        structure=old.structure,
        target=new.public_id,
        details={"replaces": old.public_id, "reason": reason.value},
    )
    return new


def signed_with(session: Session, key: SigningKey) -> Sequence[Assertion]:
    """Live badges whose JWS was made with ``key``."""
    return session.scalars(
        select(Assertion)
        .where(Assertion.signing_key_id == key.id, Assertion.revoked_at.is_(None))
        .order_by(Assertion.id)
    ).all()


def compromise_key(
    session: Session,
    key: SigningKey,
    *,
    issuing: Issuing,
    now: datetime,
) -> tuple[SigningKey, list[tuple[Assertion, Assertion]]]:
    """A private key leaked: mark it, move the issuer to a new key, then revoke every live
    badge it signed (« clé compromise ») and re-issue each for the same decision.

    The compromised public key stays published, marked revoked. Returns the new key and
    (old, replacement) pairs.
    """
    from app.services import keys

    if key.compromised_at is not None:
        raise RevocationError("Cette clé est déjà déclarée compromise.")
    affected = list(signed_with(session, key))
    key.compromised_at = now
    if key.retired_at is None:
        key.retired_at = now
    audit.record(
        session,
        action="key.compromised",
        now=now,
        structure=key.structure,
        target=key.public_id,
        details={"badges": len(affected)},
    )
    current = keys.active_key(session, key.structure)
    if current is None:
        _, current = keys.rotate(
            session,
            structure=key.structure,
            keys_dir=issuing.keys_dir,
            now=now,
            key_size=issuing.key_size,
            previous=key,
        )
    pairs = [
        (
            old,
            replace(
                session, old, reason=RevocationReason.KEY_COMPROMISED, issuing=issuing, now=now
            ),
        )
        for old in affected
    ]
    return current, pairs
