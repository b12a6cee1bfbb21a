"""``services.verification.verify_badge``: documents kept between verifications, never what
can change.

The resolver keeps the documents it built by the rows they were built from (a BadgeClass,
immutable, by its public id), so a second verification reads two rows (the issuer with its
keys, the assertion) and builds nothing. Whatever changes between two verifications — a
withdrawn badge, a compromised key, the issuer's name — is seen by the next one, and a
caller changing the documents it was given changes nothing kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.domain.badges import REVOCATION_WORDING, RevocationReason
from app.models import Assertion
from app.openbadges import Verification
from app.services import badges, consent, revocations, verification
from app.services.badges import Issuing
from tests.services.test_badges import LATER, URLS, approve, manual

pytestmark = pytest.mark.db

WHEN = LATER + timedelta(hours=1)


@pytest.fixture
def issuing(keys_dir: Path) -> Issuing:
    return Issuing(urls=URLS, keys_dir=keys_dir)


def _accepted(session: Session, issuing: Issuing) -> Assertion:
    """A badge issued to Julie and accepted by her: public at its address."""
    assertion = approve(session, manual(session, "julie"), issuing)
    consent.accept(session, assertion, actor=assertion.user, show=False, now=LATER)
    session.flush()
    return assertion


def _verify(session: Session, issuing: Issuing, source: str) -> Verification:
    return verification.verify_badge(session, source, issuing=issuing, now=WHEN)


def _failed(result: Verification) -> dict[str, str]:
    return {c.code: c.reason for c in result.checks if not c.ok}


@contextmanager
def _selects(session: Session) -> Iterator[list[str]]:
    """The SELECT statements run on ``session``'s database meanwhile."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_second_verification_reads_the_issuer_and_the_assertion_rows_only(db_session, issuing):
    assertion = _accepted(db_session, issuing)
    first = _verify(db_session, issuing, assertion.jws)
    assert first.valid, _failed(first)
    with _selects(db_session) as seen:
        again = _verify(db_session, issuing, assertion.jws)
    assert again.valid and again.checks == first.checks
    assert len(seen) == 2, seen
    assert "FROM structures LEFT OUTER JOIN signing_keys" in seen[0]
    assert "FROM assertions" in seen[1]


def test_the_documents_kept_are_those_the_public_addresses_serve(db_session, issuing):
    assertion = _accepted(db_session, issuing)
    _verify(db_session, issuing, assertion.jws)
    for source in (assertion.jws, URLS.assertion(assertion.public_id)):
        result = _verify(db_session, issuing, source)  # from the documents kept
        assert result.valid, _failed(result)
        assert result.badge_class == badges.badge_class_document(assertion.badge_class, URLS)
        assert result.issuer == badges.issuer_document(
            db_session, assertion.structure, URLS, issuing.contact_email
        )
        if source == assertion.jws:
            assert result.key == badges.key_document(assertion.signing_key, URLS)
        else:
            assert result.assertion == badges.assertion_document(assertion, URLS)


@pytest.mark.parametrize("form", ["jws", "hosted"])
def test_a_badge_withdrawn_after_a_verification_is_withdrawn_at_the_next(db_session, issuing, form):
    assertion = _accepted(db_session, issuing)
    source = assertion.jws if form == "jws" else URLS.assertion(assertion.public_id)
    assert _verify(db_session, issuing, source).valid
    reason = RevocationReason.ISSUING_ERROR
    revocations.revoke(db_session, assertion, reason=reason, now=LATER)  # not even flushed
    result = _verify(db_session, issuing, source)
    assert list(_failed(result)) == ["not_revoked"]
    assert result.revocation is not None and result.revocation.revoked
    assert result.revocation.reason == REVOCATION_WORDING[reason]


def test_a_key_compromised_after_a_verification_fails_the_next(db_session, issuing):
    assertion = _accepted(db_session, issuing)
    assert _verify(db_session, issuing, assertion.jws).valid
    revocations.compromise_key(db_session, assertion.signing_key, issuing=issuing, now=LATER)
    result = _verify(db_session, issuing, assertion.jws)
    assert list(_failed(result)) == ["key_not_revoked"]  # a prerequisite: the run stops
    assert result.key is not None and result.key["revoked"] is True


def test_the_issuer_s_new_name_is_given_at_the_next_verification(db_session, issuing):
    assertion = _accepted(db_session, issuing)
    before = _verify(db_session, issuing, assertion.jws)
    assert before.issuer is not None
    assertion.structure.issuer_name = "Atelier renommé"
    after = _verify(db_session, issuing, assertion.jws)
    assert after.valid and after.issuer is not None
    assert after.issuer["name"] == assertion.structure.issuer_display_name != before.issuer["name"]


def test_changing_the_documents_given_changes_nothing_kept(db_session, issuing):
    assertion = _accepted(db_session, issuing)
    first = _verify(db_session, issuing, assertion.jws)
    kept = {"class": dict(first.badge_class or {}), "issuer": dict(first.issuer or {})}
    for document in (first.badge_class, first.issuer, first.key):
        assert document is not None
        document["name"] = "changé"
        document.pop("id")
    again = _verify(db_session, issuing, assertion.jws)
    assert again.valid, _failed(again)
    assert again.badge_class == kept["class"] and again.issuer == kept["issuer"]


def test_one_employer_check_counts_one_verification_of_the_badge(db_session, issuing):
    assertion = _accepted(db_session, issuing)
    report = verification.check(
        db_session,
        assertion.jws,
        issuing=issuing,
        now=WHEN,
        recipient=None,
        country="FR",
        remote=None,
    )
    assert report.assertion_id == assertion.id and report.shown is not None
    forged = verification.check(
        db_session,
        assertion.jws[:-8] + "AAAAAAAA",
        issuing=issuing,
        now=WHEN,
        recipient=None,
        country="FR",
        remote=None,
    )
    assert forged.assertion_id is None and forged.shown is None
