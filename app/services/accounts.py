"""Accounts: creating people, sign-in, secrets, one-time and recovery codes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain import accounts as rules
from app.domain.enums import CodeKind
from app.domain.errors import AccountNotManaged, EmailTaken, LoginTaken
from app.models import OneTimeCode, Structure, User
from app.services import audit
from app.services.passwords import hash_secret, verify_secret


@dataclass(frozen=True)
class SignIn:
    """The outcome of a successful sign-in."""

    user: User
    used_one_time_code: bool


def unique_login(session: Session, wanted: str) -> str:
    """``wanted`` if free, else ``wanted2``, ``wanted3``…"""
    base = rules.normalise_login(wanted)
    candidate, n = base, 1
    while session.scalar(select(User.id).where(User.login == candidate)) is not None:
        n += 1
        candidate = f"{base}{n}"
    return candidate


def create_user(
    session: Session,
    *,
    first_name: str,
    last_name: str,
    now: datetime,
    login: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    country: str = "FR",
    secret: str | None = None,
) -> User:
    """A new account; e-mail and phone are optional (a worker may have neither)."""
    if login:
        login = rules.normalise_login(login)
        if session.scalar(select(User.id).where(User.login == login)) is not None:
            raise LoginTaken()
    else:
        login = unique_login(session, rules.suggest_login(first_name, last_name))
    email = rules.normalise_email(email) if email else None
    if email and session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken()
    user = User(
        login=login,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email,
        phone=rules.normalise_phone(phone, country) if phone else None,
        created_at=now,
    )
    if secret is not None:
        rules.check_new_secret(secret)
        user.password_hash = hash_secret(secret)
    session.add(user)
    session.flush()
    return user


def find_by_login(session: Session, login: str) -> User | None:
    """The account with this identifier (or e-mail address), if any."""
    key = login.strip().lower()
    return session.scalar(select(User).where((User.login == key) | (User.email == key)))


def authenticate(session: Session, *, login: str, secret: str, now: datetime) -> SignIn | None:
    """Check an identifier and a secret: a password, a short code or a one-time code.

    A one-time code works once; afterwards the person must choose a secret of their own.
    """
    user = find_by_login(session, login)
    if user is None or not user.is_active:
        verify_secret(None, secret)
        return None
    if user.password_hash and verify_secret(user.password_hash, secret):
        return SignIn(user, used_one_time_code=False)
    typed = rules.canonical_code(secret)
    for code in _usable_codes(session, user, now):
        if verify_secret(code.code_hash, typed):
            if not _use(session, code, now):
                return None  # the same code, used by a sign-in that got there first
            user.must_change_password = True
            audit.record(
                session,
                action="auth.one_time_code_used",
                now=now,
                actor=user,
                subject=user,
                details={"kind": code.kind.value},
            )
            return SignIn(user, used_one_time_code=True)
    return None


def _use(session: Session, code: OneTimeCode, now: datetime) -> bool:
    """Mark ``code`` used, unless another transaction used or revoked it meanwhile: one
    conditional UPDATE, so two sign-ins racing with one code cannot both succeed."""
    used = session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.id == code.id,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.revoked_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire(code, ["used_at", "revoked_at"])
    return used.rowcount == 1


def _usable_codes(session: Session, user: User, now: datetime) -> list[OneTimeCode]:
    codes = session.scalars(
        select(OneTimeCode).where(
            OneTimeCode.user_id == user.id,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.revoked_at.is_(None),
        )
    ).all()
    return [c for c in codes if c.expires_at is None or c.expires_at > now]


def change_own_secret(session: Session, *, user: User, new_secret: str, now: datetime) -> None:
    """The person sets a password or short code that only they know."""
    rules.check_new_secret(new_secret)
    user.password_hash = hash_secret(new_secret)
    user.must_change_password = False
    audit.record(session, action="account.secret_changed", now=now, actor=user, subject=user)


#: Why a structure's staff may not give this account a code or a new address.
STAFF_ACCOUNT = (
    "Ce compte est celui d'un membre d'une équipe : la personne change elle-même son code, "
    "ou l'administration de la plateforme l'aide."
)
ELSEWHERE = (
    "Cette personne suit aussi un parcours dans une autre structure : son compte ne se "
    "change pas ici. Elle se connecte avec son code habituel."
)
NOT_CURRENT = "Cette personne ne fait plus partie de la structure."


def managed_refusal(user: User, structure: Structure) -> str | None:
    """Why staff of ``structure`` may not give ``user`` a sign-in code nor change their
    e-mail or telephone, or None when they may.

    They may only for a current worker of theirs whose account is nobody else's: not a
    platform administrator, no staff role in any structure, no current pathway elsewhere.
    Otherwise an administrator could add anyone's account as a worker, print a code for it
    and sign in as that person.
    """
    if user.is_superadmin:
        return STAFF_ACCOUNT
    current = [m for m in user.memberships if m.is_current]
    if any(m.is_staff for m in current):
        return STAFF_ACCOUNT
    if not any(m.structure_id == structure.id for m in current):
        return NOT_CURRENT
    if any(m.structure_id != structure.id for m in current):
        return ELSEWHERE
    return None


def check_managed_by(user: User, structure: Structure) -> None:
    """``managed_refusal`` as an error: ``AccountNotManaged``, with the reason in French."""
    reason = managed_refusal(user, structure)
    if reason is not None:
        raise AccountNotManaged(reason)


def issue_one_time_code(
    session: Session,
    *,
    user: User,
    kind: CodeKind,
    now: datetime,
    actor: User | None,
    structure: Structure | None,
    valid_days: int,
) -> str:
    """A code that signs ``user`` in once within ``valid_days``; earlier ones stop working.

    Returns the plain code, to hand over once; only its hash is kept. Recorded, and shown
    in the person's own activity list.
    """
    revoke_codes(session, user, (kind,), now)
    plain = rules.new_one_time_code()
    session.add(
        OneTimeCode(
            user_id=user.id,
            kind=kind,
            code_hash=hash_secret(rules.canonical_code(plain)),
            created_by_id=actor.id if actor else None,
            created_at=now,
            expires_at=now + timedelta(days=valid_days),
        )
    )
    audit.record(
        session,
        action=f"account.{kind.value}_code_issued",
        now=now,
        actor=actor,
        structure=structure,
        subject=user,
        details={"valid_days": valid_days},
    )
    return plain


def issue_recovery_codes(session: Session, *, user: User, count: int, now: datetime) -> list[str]:
    """Printable one-time recovery codes for the person themselves; older ones stop working."""
    revoke_codes(session, user, (CodeKind.RECOVERY,), now)
    plains = [rules.new_one_time_code(10) for _ in range(count)]
    for plain in plains:
        session.add(
            OneTimeCode(
                user_id=user.id,
                kind=CodeKind.RECOVERY,
                code_hash=hash_secret(rules.canonical_code(plain)),
                created_by_id=user.id,
                created_at=now,
            )
        )
    audit.record(
        session,
        action="account.recovery_codes_issued",
        now=now,
        actor=user,
        subject=user,
        details={"count": count},
    )
    return plains


def revoke_codes(
    session: Session, user: User, kinds: Collection[CodeKind], now: datetime
) -> list[OneTimeCode]:
    """Make every unused code of ``kinds`` of ``user`` stop working (a new one replaces
    them); return them, in id order."""
    codes = list(
        session.scalars(
            select(OneTimeCode)
            .where(
                OneTimeCode.user_id == user.id,
                OneTimeCode.kind.in_(kinds),
                OneTimeCode.used_at.is_(None),
                OneTimeCode.revoked_at.is_(None),
            )
            .order_by(OneTimeCode.id)
        )
    )
    for code in codes:
        code.revoked_at = now
    session.flush()
    return codes


def deactivate_account(session: Session, *, user: User, actor: User, now: datetime) -> None:
    """Stop an account from signing in; nothing is deleted."""
    user.deactivated_at = now
    audit.record(session, action="account.deactivated", now=now, actor=actor, subject=user)


def reactivate_account(session: Session, *, user: User, actor: User, now: datetime) -> None:
    """Let a deactivated account sign in again."""
    user.deactivated_at = None
    audit.record(session, action="account.reactivated", now=now, actor=actor, subject=user)
