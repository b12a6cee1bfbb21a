"""The earner's choices over each badge, every one recorded (SHR-01, SHR-03).

The earner decides; a conseiller may act on the same screens beside them (assisted mode),
which the audit trail records as such. The web layer checks who may reach the screen;
these functions check that the badge is the earner's own or that assistance is declared.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from app.domain.badges import RevocationReason
from app.domain.consent import Consent, EarnerName, check_accepted, check_decision
from app.domain.errors import NotAllowed
from app.models import Assertion, User
from app.services import audit
from app.services.revocations import revoke


def _allowed(assertion: Assertion, actor: User, assisted: bool, check: Callable[..., None]) -> None:
    """Before anything changes: the earner acts, or a helper who says so; then the badge's
    state must allow the change (``check``)."""
    if actor.id != assertion.user_id and not assisted:
        raise NotAllowed()
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
    _allowed(assertion, actor, assisted, check_decision)
    assertion.consent, assertion.on_profile = Consent.ACCEPTED.value, show
    _record(
        session, assertion, "accepted", actor=actor, assisted=assisted, now=now, on_profile=show
    )


def decline(
    session: Session, assertion: Assertion, *, actor: User, now: datetime, assisted: bool = False
) -> None:
    """The earner does not want the badge: it stays unpublished. Nothing else changes."""
    _allowed(assertion, actor, assisted, check_decision)
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
    _allowed(assertion, actor, assisted, check_accepted)
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
    _allowed(assertion, actor, assisted, check_accepted)
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
    _allowed(assertion, actor, assisted, check_accepted)
    assertion.on_profile = False
    _record(session, assertion, "withdrawal_requested", actor=actor, assisted=assisted, now=now)
    revoke(session, assertion, reason=RevocationReason.WORKER_REQUEST, now=now, actor=actor)
