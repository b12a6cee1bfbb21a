"""The earner's choices over each badge, every one recorded (SHR-01, SHR-03).

The earner decides; a conseiller may act on the same screens beside them (assisted mode),
which the audit trail records as such. The web layer checks who may reach the screen;
these functions check that the badge is the earner's own or that assistance is declared.

Each reads the badge again, locked (``SELECT … FOR UPDATE``), before checking it: a re-issue
or a withdrawal committed since the page was loaded is seen, and one under way is waited
for, so a choice is never made on a badge withdrawn meanwhile (it is refused, 409), and a
re-issue never copies a choice it could not see.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.badges import RevocationReason
from app.domain.consent import (
    Consent,
    ConsentRefused,
    EarnerName,
    check_accepted,
    check_decision,
)
from app.domain.errors import NotAllowed
from app.models import Assertion, User
from app.services import audit
from app.services.revocations import revoke

#: What a choice is checked against and changes, read again from the locked row.
_STATE = (
    "consent",
    "on_profile",
    "earner_name",
    "consent_changed_at",
    "revoked_at",
    "revocation_reason",
)

#: Refused: the badge was re-issued (a new address for the same badge), maybe since its page
#: was loaded; « déjà retiré » would let the earner believe a withdrawal was done.
REPLACED = (
    "Ce badge numérique a été remplacé par une nouvelle version, à un nouveau lien : "
    "faites ce choix sur celle-ci, dans vos badges."
)


def _allowed(
    session: Session,
    assertion: Assertion,
    actor: User,
    assisted: bool,
    check: Callable[..., None],
) -> None:
    """Before anything changes: the earner acts, or a helper who says so; then the badge's
    state, as locked now in the database, must allow the change (``check``)."""
    if actor.id != assertion.user_id and not assisted:
        raise NotAllowed()
    session.flush()  # what this session changed is kept, not read over
    session.refresh(assertion, list(_STATE), with_for_update=True)
    if assertion.revoked_at is not None and session.scalar(
        select(Assertion.id).where(Assertion.replaces_id == assertion.id)
    ):
        raise ConsentRefused(REPLACED)
    check(assertion.consent, revoked=assertion.revoked_at is not None)


def _record(
    session: Session,
    assertion: Assertion,
    action: str,
    *,
    actor: User,
    assisted: bool,
    now: datetime,
    **details: object,
) -> None:
    assertion.consent_changed_at = now
    audit.record(
        session,
        action=f"badge.{action}",
        now=now,
        actor=actor,
        subject=assertion.user,
        structure=assertion.structure,
        target=assertion.public_id,
        details={"assisted": actor.id != assertion.user_id, **details},
    )


def accept(
    session: Session,
    assertion: Assertion,
    *,
    actor: User,
    show: bool,
    now: datetime,
    assisted: bool = False,
) -> None:
    """The earner takes the badge: public at its address, on their profile if ``show``."""
    _allowed(session, assertion, actor, assisted, check_decision)
    assertion.consent, assertion.on_profile = Consent.ACCEPTED.value, show
    _record(
        session, assertion, "accepted", actor=actor, assisted=assisted, now=now, on_profile=show
    )


def decline(
    session: Session, assertion: Assertion, *, actor: User, now: datetime, assisted: bool = False
) -> None:
    """The earner does not want the badge: it stays unpublished. Nothing else changes."""
    _allowed(session, assertion, actor, assisted, check_decision)
    if assertion.consent == Consent.DECLINED:
        return
    assertion.consent, assertion.on_profile = Consent.DECLINED.value, False
    _record(session, assertion, "declined", actor=actor, assisted=assisted, now=now)


def set_shown(
    session: Session,
    assertion: Assertion,
    *,
    actor: User,
    show: bool,
    now: datetime,
    assisted: bool = False,
) -> None:
    """Show the badge on the earner's profile, or hide it from every listing.

    A hidden badge keeps verifying at its address for whoever already holds the link."""
    _allowed(session, assertion, actor, assisted, check_accepted)
    if assertion.on_profile == show:
        return
    assertion.on_profile = show
    action = "shown" if show else "hidden"
    _record(session, assertion, action, actor=actor, assisted=assisted, now=now)


def set_earner_name(
    session: Session,
    assertion: Assertion,
    *,
    actor: User,
    choice: EarnerName,
    now: datetime,
    assisted: bool = False,
) -> None:
    """What the badge's public page says about who earned it."""
    _allowed(session, assertion, actor, assisted, check_accepted)
    if assertion.earner_name == choice.value:
        return
    assertion.earner_name = choice.value
    _record(
        session,
        assertion,
        "earner_name_changed",
        actor=actor,
        assisted=assisted,
        now=now,
        earner_name=choice.value,
    )


def request_withdrawal(
    session: Session, assertion: Assertion, *, actor: User, now: datetime, assisted: bool = False
) -> None:
    """The earner asks for an accepted badge to be withdrawn: it is revoked at once, with
    the public reason « à la demande de la personne »."""
    _allowed(session, assertion, actor, assisted, check_accepted)
    assertion.on_profile = False
    _record(session, assertion, "withdrawal_requested", actor=actor, assisted=assisted, now=now)
    revoke(session, assertion, reason=RevocationReason.WORKER_REQUEST, now=now, actor=actor)
