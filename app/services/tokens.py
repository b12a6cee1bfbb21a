"""Bearer tokens: personal API tokens and short-lived capture tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiToken, User
from app.services import audit

API = "api"
CAPTURE = "capture"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_api_token(session: Session, *, user: User, label: str, now: datetime) -> str:
    """A personal API token (shown once); only its hash is kept."""
    plain = "jal_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            kind=API,
            token_hash=_hash(plain),
            label=label[:100] or None,
            created_at=now,
        )
    )
    session.flush()
    audit.record(session, action="token.issued", now=now, actor=user, subject=user)
    return plain


def issue_capture_token(
    session: Session, *, user: User, session_nonce: str, now: datetime, lifetime: timedelta
) -> tuple[str, datetime]:
    """A token that only records observations, tied to one browser session."""
    plain = "jcap_" + secrets.token_urlsafe(32)
    expires_at = now + lifetime
    session.add(
        ApiToken(
            user_id=user.id,
            kind=CAPTURE,
            token_hash=_hash(plain),
            session_nonce=session_nonce,
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return plain, expires_at


def find_token(session: Session, plain: str, *, now: datetime) -> ApiToken | None:
    """The live token matching ``plain`` (not revoked, not expired, active user)."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(plain)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    return token


def revoke_session_tokens(
    session: Session, *, user: User, session_nonce: str, now: datetime
) -> int:
    """Revoke every capture token of one browser session (at logout)."""
    tokens = session.scalars(
        select(ApiToken).where(
            ApiToken.user_id == user.id,
            ApiToken.session_nonce == session_nonce,
            ApiToken.revoked_at.is_(None),
        )
    ).all()
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return len(tokens)


def revoke_token(session: Session, *, token: ApiToken, actor: User, now: datetime) -> None:
    """Revoke one token of ``actor``."""
    token.revoked_at = now
    session.flush()
    audit.record(session, action="token.revoked", now=now, actor=actor, subject=actor)


def user_api_tokens(session: Session, user: User) -> list[ApiToken]:
    """The personal API tokens of ``user``, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.kind == API)
            .order_by(ApiToken.created_at.desc())
        )
    )
