"""Bearer tokens: only a hash is kept; revoked, expired or orphaned tokens find nobody."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from app.models import ApiToken, AuditEvent
from app.services import tokens
from tests.api import member
from tests.support.world import NOW


def _user(session, login):  # type: ignore[no-untyped-def]
    return member(session, login).user


def test_an_api_token_is_random_shown_once_and_stored_as_its_hash(db_session):
    marc = _user(db_session, "marc.encadrant")
    first = tokens.issue_api_token(db_session, user=marc, label="Suivi", now=NOW)
    second = tokens.issue_api_token(db_session, user=marc, label="Suivi", now=NOW)
    assert first != second and first.startswith("jal_") and len(first) > 40
    stored = db_session.scalars(select(ApiToken).where(ApiToken.user_id == marc.id)).all()
    assert {t.token_hash for t in stored} == {
        hashlib.sha256(p.encode()).hexdigest() for p in (first, second)
    }
    assert all(t.kind == tokens.API and t.expires_at is None for t in stored)
    assert tokens.find_token(db_session, first, now=NOW).user is marc
    events = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "token.issued", AuditEvent.actor_id == marc.id
        )
    ).all()
    assert len(events) == 2


def test_an_unknown_token_finds_nobody(db_session):
    assert tokens.find_token(db_session, "jal_inconnu", now=NOW) is None
    assert tokens.find_token(db_session, "", now=NOW) is None


def test_a_revoked_token_finds_nobody(db_session):
    marc = _user(db_session, "marc.encadrant")
    plain = tokens.issue_api_token(db_session, user=marc, label="Suivi", now=NOW)
    token = tokens.find_token(db_session, plain, now=NOW)
    tokens.revoke_token(db_session, token=token, actor=marc, now=NOW)
    assert tokens.find_token(db_session, plain, now=NOW) is None
    assert token.revoked_at == NOW


def test_a_token_of_a_deactivated_account_finds_nobody(db_session):
    marc = _user(db_session, "marc.encadrant")
    plain = tokens.issue_api_token(db_session, user=marc, label="Suivi", now=NOW)
    marc.deactivated_at = NOW
    assert tokens.find_token(db_session, plain, now=NOW) is None


def test_a_capture_token_expires(db_session):
    marc = _user(db_session, "marc.encadrant")
    plain, expires = tokens.issue_capture_token(
        db_session, user=marc, session_nonce="nonce-1", now=NOW, lifetime=timedelta(hours=12)
    )
    assert plain.startswith("jcap_") and expires == NOW + timedelta(hours=12)
    found = tokens.find_token(db_session, plain, now=expires - timedelta(seconds=1))
    assert found.kind == tokens.CAPTURE and found.session_nonce == "nonce-1"
    assert tokens.find_token(db_session, plain, now=expires) is None


def test_logout_revokes_the_capture_tokens_of_that_session_only(db_session):
    marc = _user(db_session, "marc.encadrant")
    paul = _user(db_session, "paul.encadrant")
    hours = timedelta(hours=12)
    a1, _ = tokens.issue_capture_token(
        db_session, user=marc, session_nonce="a", now=NOW, lifetime=hours
    )
    a2, _ = tokens.issue_capture_token(
        db_session, user=marc, session_nonce="a", now=NOW, lifetime=hours
    )
    b, _ = tokens.issue_capture_token(
        db_session, user=marc, session_nonce="b", now=NOW, lifetime=hours
    )
    p, _ = tokens.issue_capture_token(
        db_session, user=paul, session_nonce="a", now=NOW, lifetime=hours
    )
    api = tokens.issue_api_token(db_session, user=marc, label="Suivi", now=NOW)
    assert tokens.revoke_session_tokens(db_session, user=marc, session_nonce="a", now=NOW) == 2
    assert tokens.find_token(db_session, a1, now=NOW) is None
    assert tokens.find_token(db_session, a2, now=NOW) is None
    for alive in (b, p, api):
        assert tokens.find_token(db_session, alive, now=NOW) is not None
    assert tokens.revoke_session_tokens(db_session, user=marc, session_nonce="a", now=NOW) == 0


def test_the_token_list_shows_only_personal_api_tokens_newest_first(db_session):
    marc = _user(db_session, "marc.encadrant")
    tokens.issue_api_token(db_session, user=marc, label="Ancien", now=NOW)
    tokens.issue_api_token(db_session, user=marc, label="Récent", now=NOW + timedelta(days=1))
    tokens.issue_capture_token(
        db_session, user=marc, session_nonce="x", now=NOW, lifetime=timedelta(hours=1)
    )
    assert [t.label for t in tokens.user_api_tokens(db_session, marc)] == ["Récent", "Ancien"]
    assert tokens.user_api_tokens(db_session, _user(db_session, "paul.encadrant")) == []
