"""The worker's say over each badge (SHR-01, SHR-03): pure rules, no storage.

A new badge waits (``pending``) until its earner accepts or declines it. An accepted badge
is public at its hosted address; it is listed on the earner's public profile only when
``on_profile`` is set. Declining leaves every other status alone (SHR-03).
"""

from __future__ import annotations

from enum import StrEnum

from app.domain.errors import DomainError


class Consent(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class EarnerName(StrEnum):
    """What a badge's public page says about who earned it: nothing unless chosen."""

    NONE = "none"
    INITIAL = "initial"  # first name and initial of the last name
    FULL = "full"


class ConsentRefused(DomainError):
    """A change the badge's current state does not allow."""

    status = 409


def earner_name(first_name: str, last_name: str, choice: str) -> str | None:
    """The earner's name as the worker chose to show it, or None."""
    first, last = first_name.strip(), last_name.strip()
    if choice == EarnerName.FULL:
        return f"{first} {last}".strip() or None
    if choice == EarnerName.INITIAL:
        return f"{first} {last[:1]}.".strip() if last else (first or None)
    return None


def check_decision(current: str, *, revoked: bool) -> None:
    """Accepting or declining: only a badge still in force, never once it is withdrawn."""
    if revoked:
        raise ConsentRefused("Ce badge numérique a été retiré : il ne peut plus être accepté.")
    if current == Consent.ACCEPTED:
        raise ConsentRefused("Ce badge numérique est déjà accepté.")


def check_accepted(current: str, *, revoked: bool) -> None:
    """Showing, hiding, naming or asking for withdrawal: only an accepted badge in force."""
    if revoked:  # first: a withdrawn badge can no longer be accepted either
        raise ConsentRefused("Ce badge numérique a déjà été retiré.")
    if current != Consent.ACCEPTED:
        raise ConsentRefused("Acceptez d'abord ce badge numérique.")
