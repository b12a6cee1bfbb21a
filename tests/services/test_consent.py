"""The consent services refuse, before changing anything, a choice made by someone else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.domain.errors import NotAllowed
from app.models import Assertion, User
from app.services import consent

pytestmark = pytest.mark.db

NOW = datetime(2026, 11, 30, 10, tzinfo=UTC)


def _user(session, login: str) -> User:  # type: ignore[no-untyped-def]
    return session.scalars(select(User).where(User.login == login)).one()


@pytest.mark.parametrize(
    "choice",
    [
        lambda s, a, u: consent.accept(s, a, actor=u, show=True, now=NOW),
        lambda s, a, u: consent.decline(s, a, actor=u, now=NOW),
    ],
    ids=["accept", "decline"],
)
def test_someone_else_cannot_answer_for_the_earner(db_session, choice):
    karim = _user(db_session, "karim")
    pending = db_session.scalars(
        select(Assertion).where(Assertion.user_id == karim.id, Assertion.consent == "pending")
    ).first()
    assert pending is not None
    before = (pending.consent, pending.on_profile, pending.consent_changed_at)

    with pytest.raises(NotAllowed):
        choice(db_session, pending, _user(db_session, "lea"))

    assert (pending.consent, pending.on_profile, pending.consent_changed_at) == before
    # Declared assistance (a conseiller beside the earner) is what lets another person act.
    consent.accept(
        db_session,
        pending,
        actor=_user(db_session, "sophie.cip"),
        show=False,
        now=NOW,
        assisted=True,
    )
    assert pending.consent == "accepted"
