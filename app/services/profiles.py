"""The person's public profile (SHR-09): off until they publish it, every change recorded.

The profile lives at the account's identity URL and lists only the badges the person
accepted and chose to show (``app.queries.portfolio.profile_badges``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.models import User
from app.services import audit


def set_public(session: Session, user: User, *, public: bool, now: datetime) -> bool:
    """Publish (``public``) or withdraw ``user``'s profile; False when nothing changes."""
    if user.profile_public == public:
        return False
    user.profile_public = public
    audit.record(
        session,
        action="profile.published" if public else "profile.unpublished",
        now=now,
        actor=user,
        subject=user,
        target=user.identity_id,
    )
    return True
