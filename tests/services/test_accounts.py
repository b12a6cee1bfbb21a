"""Accounts: creating people, secrets, sign-in, one-time codes (services.accounts)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import CodeKind
from app.domain.errors import (
    AccountError,
    EmailTaken,
    InvalidEmail,
    InvalidLogin,
    InvalidPhone,
    LoginTaken,
    WeakSecret,
)
from app.models import AuditEvent, OneTimeCode, Structure, User
from app.services import accounts
from tests.support.world import NOW, STAFF_SECRET, WORKER_SECRET


def _user(session: Session, login: str) -> User:
    return session.scalars(select(User).where(User.login == login)).one()


def _structure_a(session: Session) -> Structure:
    return session.scalars(select(Structure).where(Structure.name == "Les Jardins du Val")).one()


def _create(session: Session, **kwargs: object) -> User:
    fields = {"first_name": "Marie", "last_name": "Dupont", "now": NOW}
    fields.update(kwargs)
    return accounts.create_user(session, **fields)  # type: ignore[arg-type]


def _issue_reset(session: Session, worker: User, *, now=NOW, valid_days: int = 7) -> str:
    return accounts.issue_one_time_code(
        session,
        user=worker,
        kind=CodeKind.RESET,
        now=now,
        actor=_user(session, "sophie.cip"),
        structure=_structure_a(session),
        valid_days=valid_days,
    )


# --- Creating people --------------------------------------------------------------------


def test_a_person_can_be_created_without_email_phone_or_secret(db_session):
    user = _create(db_session, first_name=" Hélène ", last_name="Le Gall")
    assert (user.login, user.first_name, user.last_name) == ("helene.le-gall", "Hélène", "Le Gall")
    assert user.email is None and user.phone is None and user.password_hash is None
    assert user.is_active and not user.is_superadmin


def test_a_suggested_login_already_taken_gets_a_number(db_session):
    first, second = _create(db_session), _create(db_session)
    assert (first.login, second.login) == ("marie.dupont", "marie.dupont2")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"login": "é!"}, InvalidLogin),
        ({"login": "ab"}, InvalidLogin),
        ({"login": "KARIM"}, LoginTaken),
        ({"email": "pas-une-adresse"}, InvalidEmail),
        ({"email": "Claire.Martin@JALON.example"}, EmailTaken),
        ({"phone": "12"}, InvalidPhone),
        ({"phone": "06 12 34"}, InvalidPhone),
        ({"secret": "123456"}, WeakSecret),
    ],
)
def test_invalid_details_are_refused_in_french_and_create_nothing(db_session, fields, error):
    before = db_session.scalars(select(User.id)).all()
    with pytest.raises(error) as raised:
        _create(db_session, **fields)
    assert isinstance(raised.value, AccountError)
    assert raised.value.message == error.message and raised.value.code == error.code
    assert any(word in raised.value.message for word in ("identifiant", "adresse", "numéro", "mot"))
    assert db_session.scalars(select(User.id)).all() == before


def test_login_and_email_are_normalised_to_lower_case(db_session):
    user = _create(db_session, login=" Marie.D ", email=" Marie.Dupont@Example.ORG ")
    assert (user.login, user.email) == ("marie.d", "marie.dupont@example.org")


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("+33 6 12 34 56 78", "BE", "+33612345678"),
        ("0470 12 34 56", "BE", "+32470123456"),
        ("0470 12 34 56", "FR", "+33470123456"),
        ("347 123 4567", "IT", "+393471234567"),
    ],
)
def test_phone_numbers_are_stored_in_e164_read_in_the_structure_country(
    db_session, typed, country, stored
):
    assert _create(db_session, phone=typed, country=country).phone == stored


@pytest.mark.parametrize(
    "secret", ["123456", "654321", "111111", "12345", "0000000", "court", "motdepass", "aaaabbbbcc"]
)
def test_weak_secrets_are_refused(db_session, secret):
    with pytest.raises(WeakSecret):
        _create(db_session, secret=secret)
    with pytest.raises(WeakSecret):
        accounts.change_own_secret(
            db_session, user=_user(db_session, "karim"), new_secret=secret, now=NOW
        )


@pytest.mark.parametrize("secret", ["90817263", "Une phrase longue"])
def test_good_secrets_are_accepted_and_sign_in(db_session, secret):
    user = _create(db_session, secret=secret)
    assert secret not in user.password_hash and user.password_hash.startswith("$argon2id$")
    signed = accounts.authenticate(db_session, login=user.login, secret=secret, now=NOW)
    assert signed is not None and signed.user is user and not signed.used_one_time_code


# --- Signing in -------------------------------------------------------------------------


def test_staff_sign_in_with_a_password_by_login_or_email(db_session):
    claire = _user(db_session, "claire.admin")
    for login in ("claire.admin", " Claire.Admin ", "claire.martin@jalon.example"):
        signed = accounts.authenticate(db_session, login=login, secret=STAFF_SECRET, now=NOW)
        assert signed is not None and signed.user is claire and not signed.used_one_time_code
    assert accounts.authenticate(db_session, login="claire.admin", secret="x" * 12, now=NOW) is None
    assert accounts.authenticate(db_session, login="personne", secret=STAFF_SECRET, now=NOW) is None


def test_a_worker_signs_in_with_a_short_code(db_session):
    signed = accounts.authenticate(db_session, login="karim", secret=WORKER_SECRET, now=NOW)
    assert signed is not None and signed.user.login == "karim"
    assert not signed.user.must_change_password
    assert accounts.authenticate(db_session, login="karim", secret="482916", now=NOW) is None


def test_a_one_time_code_works_once_and_forces_a_new_secret(db_session):
    karim = _user(db_session, "karim")
    plain = _issue_reset(db_session, karim)
    typed = plain.lower().replace("-", " ")
    signed = accounts.authenticate(db_session, login="karim", secret=typed, now=NOW)
    assert signed is not None and signed.used_one_time_code and signed.user is karim
    assert karim.must_change_password
    used = db_session.scalars(select(OneTimeCode).where(OneTimeCode.user_id == karim.id)).one()
    assert used.used_at == NOW
    assert accounts.authenticate(db_session, login="karim", secret=plain, now=NOW) is None
    # The person's own code still works, and choosing a new one lifts the obligation.
    accounts.change_own_secret(db_session, user=karim, new_secret="739146", now=NOW)
    assert not karim.must_change_password
    assert accounts.authenticate(db_session, login="karim", secret="739146", now=NOW) is not None
    assert accounts.authenticate(db_session, login="karim", secret=WORKER_SECRET, now=NOW) is None


def test_an_expired_one_time_code_does_not_sign_in(db_session):
    karim = _user(db_session, "karim")
    plain = _issue_reset(db_session, karim, valid_days=7)
    late = NOW + timedelta(days=7, seconds=1)
    assert accounts.authenticate(db_session, login="karim", secret=plain, now=late) is None
    assert not karim.must_change_password
    in_time = NOW + timedelta(days=6, hours=23)
    assert accounts.authenticate(db_session, login="karim", secret=plain, now=in_time) is not None


def test_a_new_one_time_code_revokes_the_previous_one(db_session):
    karim = _user(db_session, "karim")
    first = _issue_reset(db_session, karim)
    second = _issue_reset(db_session, karim, now=NOW + timedelta(minutes=5))
    assert first != second
    later = NOW + timedelta(minutes=6)
    assert accounts.authenticate(db_session, login="karim", secret=first, now=later) is None
    assert accounts.authenticate(db_session, login="karim", secret=second, now=later) is not None
    codes = db_session.scalars(
        select(OneTimeCode).where(OneTimeCode.user_id == karim.id).order_by(OneTimeCode.id)
    ).all()
    assert [c.revoked_at is not None for c in codes] == [True, False]


def test_recovery_codes_each_work_once_and_a_new_set_replaces_the_old(db_session):
    julie = _user(db_session, "julie")
    old = accounts.issue_recovery_codes(db_session, user=julie, count=2, now=NOW)
    new = accounts.issue_recovery_codes(db_session, user=julie, count=2, now=NOW)
    assert len(set(old + new)) == 4 and all(len(c) == 11 for c in new)
    assert accounts.authenticate(db_session, login="julie", secret=old[0], now=NOW) is None
    assert accounts.authenticate(db_session, login="julie", secret=new[0], now=NOW) is not None
    assert accounts.authenticate(db_session, login="julie", secret=new[0], now=NOW) is None
    assert accounts.authenticate(db_session, login="julie", secret=new[1], now=NOW) is not None


def test_a_deactivated_account_cannot_sign_in_with_any_secret(db_session):
    karim, claire = _user(db_session, "karim"), _user(db_session, "claire.admin")
    plain = _issue_reset(db_session, karim)
    accounts.deactivate_account(db_session, user=karim, actor=claire, now=NOW)
    assert not karim.is_active
    for secret in (WORKER_SECRET, plain):
        assert accounts.authenticate(db_session, login="karim", secret=secret, now=NOW) is None
    accounts.reactivate_account(db_session, user=karim, actor=claire, now=NOW)
    assert accounts.authenticate(db_session, login="karim", secret=WORKER_SECRET, now=NOW)
    actions = db_session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.subject_id == karim.id, AuditEvent.actor_id == claire.id
        )
    ).all()
    assert {"account.deactivated", "account.reactivated"} <= set(actions)


def test_only_a_hash_of_a_one_time_code_is_stored(db_session):
    karim = _user(db_session, "karim")
    plains = [_issue_reset(db_session, karim)]
    plains += accounts.issue_recovery_codes(db_session, user=karim, count=2, now=NOW)
    rows = db_session.scalars(select(OneTimeCode).where(OneTimeCode.user_id == karim.id)).all()
    assert len(rows) == 3
    for row in rows:
        assert row.code_hash.startswith("$argon2id$")
        for plain in plains:
            for form in (plain, plain.replace("-", ""), plain.lower().replace("-", "")):
                assert form not in row.code_hash


def test_a_code_issued_by_staff_is_audited_with_the_worker_as_subject(db_session):
    karim, sophie = _user(db_session, "karim"), _user(db_session, "sophie.cip")
    structure = _structure_a(db_session)
    plain = _issue_reset(db_session, karim)
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account.reset_code_issued")
    ).one()
    assert (event.actor_id, event.subject_id, event.structure_id) == (
        sophie.id,
        karim.id,
        structure.id,
    )
    assert event.occurred_at == NOW
    assert plain not in str(event.details) and plain.replace("-", "") not in str(event.details)
    code = db_session.scalars(select(OneTimeCode).where(OneTimeCode.user_id == karim.id)).one()
    assert code.created_by_id == sophie.id and code.kind is CodeKind.RESET
    assert code.expires_at == NOW + timedelta(days=7)
