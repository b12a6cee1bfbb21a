"""A worker's email and telephone change; their badges are re-issued to them (BDG-04).

The test world: léa has an email (« Planifier » accepted and shown with her first name and
initial, « S'adapter » declined, « Anticiper » withdrawn), karim a telephone (« Communiquer »
pending, « Qualité du travail » expired and already replaced once), ousmane neither (his
badges name his identity URL).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import openbadges
from app.domain import errors
from app.domain.badges import REVOCATION_WORDING, RevocationReason
from app.domain.enums import CodeKind
from app.models import Assertion, AuditEvent, OneTimeCode, User
from app.services import accounts, badges, identities, notifications, verification
from app.services.badges import Issuing
from tests.api import member
from tests.services.test_badges import OPAQUE, URLS
from tests.services.test_notifications import _recording as recording_senders
from tests.support.routes import structure_b
from tests.support.senders import RecordingSms
from tests.support.world import NOW

pytestmark = pytest.mark.db

LATER = NOW + timedelta(hours=1)
NEW_EMAIL = "lea.nouvelle@exemple.fr"
#: What a re-issued badge keeps of the one it replaces.
KEPT = ("proposal_id", "badge_class_id", "issued_on", "expires_at", "evidence")
#: The earner's choices, carried over.
CHOICES = ("consent", "on_profile", "earner_name")


@pytest.fixture
def issuing(keys_dir: Path) -> Issuing:
    return Issuing(urls=URLS, keys_dir=keys_dir)


def _user(session: Session, login: str) -> User:
    return session.scalars(select(User).where(User.login == login)).one()


def _live(session: Session, user: User) -> list[Assertion]:
    return list(
        session.scalars(
            select(Assertion)
            .where(Assertion.user_id == user.id, Assertion.revoked_at.is_(None))
            .order_by(Assertion.id)
        )
    )


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _events(session: Session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _change(session: Session, login: str, *, email: str | None, phone: str | None) -> list[str]:
    user = _user(session, login)
    admin = member(session, "claire.admin")
    return identities.change_contact(
        session,
        user=user,
        email=email,
        phone=phone,
        country="FR",
        actor=admin.user,
        structure=admin.structure,
        now=LATER,
    )


def _code(assertion: Assertion) -> str:
    return assertion.badge_class.template.code


# -- change_contact ----------------------------------------------------------------------------


def test_a_new_email_and_telephone_are_normalised_and_audited_without_their_values(db_session):
    lea = _user(db_session, "lea")
    changed = _change(db_session, "lea", email="  Lea.Nouvelle@Exemple.FR ", phone="06 98 76 54 32")
    assert changed == ["email", "phone"]
    assert (lea.email, lea.phone) == (NEW_EMAIL, "+33698765432")
    (event,) = _events(db_session, "account.contact_changed")
    assert (event.subject_id, event.actor_id, event.occurred_at) == (
        lea.id,
        member(db_session, "claire.admin").user_id,
        LATER,
    )
    assert event.details == {"fields": ["email", "phone"]}
    assert "nouvelle" not in repr(event.details) and "698" not in repr(event.details)


def test_an_empty_value_removes_it_and_an_unchanged_one_writes_nothing(db_session):
    karim = _user(db_session, "karim")
    audit_rows = _count(db_session, AuditEvent)
    assert _change(db_session, "karim", email="", phone="+33612345678") == []
    assert _count(db_session, AuditEvent) == audit_rows
    assert _change(db_session, "karim", email=None, phone="  ") == ["phone"]
    assert (karim.email, karim.phone) == (None, None)


@pytest.mark.parametrize(
    ("email", "phone", "error"),
    [
        ("pas-une-adresse", None, errors.InvalidEmail),
        ("claire.martin@jalon.example", None, errors.EmailTaken),
        (NEW_EMAIL, "12", errors.InvalidPhone),
        (None, "06 12 34", errors.InvalidPhone),
    ],
)
def test_a_refused_value_changes_nothing(db_session, email, phone, error):
    lea = _user(db_session, "lea")
    before = (lea.email, lea.phone, _count(db_session, AuditEvent))
    with pytest.raises(error) as refused:
        _change(db_session, "lea", email=email, phone=phone)
    assert refused.value.status == 400 and refused.value.message
    assert (lea.email, lea.phone, _count(db_session, AuditEvent)) == before


def _codes(session: Session, login: str) -> dict[str, str]:
    """A claim, a reset and a recovery code for ``login``, handed out before the change."""
    user, admin = _user(session, login), member(session, "claire.admin")
    codes = {
        kind.value: accounts.issue_one_time_code(
            session,
            user=user,
            kind=kind,
            now=NOW,
            actor=admin.user,
            structure=admin.structure,
            valid_days=30,
        )
        for kind in (CodeKind.CLAIM, CodeKind.RESET)
    }
    codes["recovery"] = accounts.issue_recovery_codes(session, user=user, count=1, now=NOW)[0]
    return codes


def _live_code_ids(session: Session, login: str) -> dict[str, int]:
    return {
        code.kind.value: code.id
        for code in session.scalars(
            select(OneTimeCode).where(
                OneTimeCode.user_id == _user(session, login).id,
                OneTimeCode.used_at.is_(None),
                OneTimeCode.revoked_at.is_(None),
            )
        )
    }


def test_a_corrected_number_stops_the_claim_and_reset_codes_sent_before(db_session):
    """A claim SMS sent to a mistyped number must stop working once staff correct it."""
    codes = _codes(db_session, "karim")
    ids = _live_code_ids(db_session, "karim")
    assert set(ids) == {"claim", "reset", "recovery"}

    assert _change(db_session, "karim", email=None, phone="07 81 22 33 44") == ["phone"]

    for kind in ("claim", "reset"):
        signed_in = accounts.authenticate(db_session, login="karim", secret=codes[kind], now=LATER)
        assert signed_in is None, kind
    (event,) = _events(db_session, "account.contact_changed")
    assert event.details == {
        "fields": ["phone"],
        "revoked_codes": [
            {"id": ids["claim"], "kind": "claim"},
            {"id": ids["reset"], "kind": "reset"},
        ],
    }
    assert "781" not in repr(event.details) and "612" not in repr(event.details)
    # The person's own printed recovery codes went to no address: they keep working.
    assert _live_code_ids(db_session, "karim") == {"recovery": ids["recovery"]}
    kept = accounts.authenticate(db_session, login="karim", secret=codes["recovery"], now=LATER)
    assert kept is not None and kept.used_one_time_code


def test_a_new_email_stops_them_too_and_an_unchanged_contact_keeps_them(db_session):
    codes = _codes(db_session, "lea")
    ids = _live_code_ids(db_session, "lea")
    assert _change(db_session, "lea", email="Lea.Petit@exemple.fr ", phone=None) == []
    assert _live_code_ids(db_session, "lea") == ids  # nothing changed: every code still works

    assert _change(db_session, "lea", email=NEW_EMAIL, phone=None) == ["email"]
    assert _live_code_ids(db_session, "lea") == {"recovery": ids["recovery"]}
    (event,) = _events(db_session, "account.contact_changed")
    assert [c["kind"] for c in event.details["revoked_codes"]] == ["claim", "reset"]
    assert accounts.authenticate(db_session, login="lea", secret=codes["claim"], now=LATER) is None


# -- stale_badges ------------------------------------------------------------------------------


def test_the_world_badges_all_name_their_earner_as_they_are(db_session, issuing):
    for login in ("lea", "karim", "ousmane", "b.salarie"):
        assert identities.stale_badges(db_session, _user(db_session, login), issuing) == []


def test_every_live_badge_naming_a_former_identity_is_stale_whatever_its_consent(
    db_session, issuing
):
    lea, karim, ousmane = (_user(db_session, n) for n in ("lea", "karim", "ousmane"))
    _change(db_session, "lea", email=NEW_EMAIL, phone=None)
    _change(db_session, "karim", email=None, phone="07 81 22 33 44")
    _change(db_session, "ousmane", email="ousmane.diallo@exemple.fr", phone=None)

    stale = {
        u.login: identities.stale_badges(db_session, u, issuing) for u in (lea, karim, ousmane)
    }
    # Léa: accepted « Planifier » and declined « S'adapter »; « Anticiper » is withdrawn.
    assert {(_code(a), a.consent) for a in stale["lea"]} == {
        ("planifier", "accepted"),
        ("s-adapter", "declined"),
    }
    assert stale["lea"] == _live(db_session, lea)
    # Karim: pending « Communiquer », and the expired « Qualité du travail » too.
    assert stale["karim"] == _live(db_session, karim)
    assert {a.status(LATER) for a in stale["karim"]} == {"pending", "valid", "expired"}
    # Ousmane's badges named his identity URL: with an email, they name the wrong thing.
    assert [a.recipient_type for a in stale["ousmane"]] == ["url"]
    # Only the given issuer's badges when asked.
    assert identities.stale_badges(db_session, lea, issuing, structure_b(db_session)) == []


# -- reissue_to_current_identity -----------------------------------------------------------------


def test_reissuing_keeps_the_choices_and_revokes_the_old_badges(db_session, issuing):
    lea = _user(db_session, "lea")
    claire = member(db_session, "claire.admin").user
    _change(db_session, "lea", email=NEW_EMAIL, phone=None)
    before = {a.id: {c: getattr(a, c) for c in (*KEPT, *CHOICES)} for a in _live(db_session, lea)}
    planifier = next(a for a in _live(db_session, lea) if a.consent == "accepted")
    assert (planifier.on_profile, planifier.earner_name) == (True, "initial")

    pairs = identities.reissue_to_current_identity(
        db_session, user=lea, issuing=issuing, now=LATER, actor=claire
    )

    assert sorted(old.id for old, _ in pairs) == sorted(before)
    wording = REVOCATION_WORDING[RevocationReason.IDENTITY_UPDATED]
    for old, new in pairs:
        # The old badge: revoked, its JSON still served with the public wording.
        assert (old.revoked_at, old.revocation_reason) == (LATER, "identite_mise_a_jour")
        hosted = badges.assertion_document(old, URLS)
        assert (hosted["revoked"], hosted["revocationReason"]) == (True, wording)
        # The new one: same decision, same recognition, same choices; a new recipient.
        assert new.replaces is old and new.revoked_at is None
        assert {c: getattr(new, c) for c in (*KEPT, *CHOICES)} == before[old.id]
        assert new.proposal is old.proposal
        assert new.public_id != old.public_id and OPAQUE.fullmatch(new.public_id)
        assert new.recipient_type == "email" and new.salt != old.salt
        assert new.recipient_hash == openbadges.hash_identity(NEW_EMAIL, new.salt)
        assert old.recipient_hash == openbadges.hash_identity("lea.petit@exemple.fr", old.salt)
        payload = openbadges.verify_jws(new.jws, new.signing_key.public_key_pem)
        assert payload == badges.assertion_document(new, URLS, signed_by=new.signing_key)
        assert payload["recipient"] == {
            "type": "email",
            "hashed": True,
            "salt": new.salt,
            "identity": new.recipient_hash,
        }
        revoked = [e for e in _events(db_session, "badge.revoked") if e.target == old.public_id]
        reissued = [e for e in _events(db_session, "badge.reissued") if e.target == new.public_id]
        assert [(e.actor_id, e.details) for e in revoked] == [
            (claire.id, {"reason": "identite_mise_a_jour"})
        ]
        assert [(e.actor_id, e.details) for e in reissued] == [
            (claire.id, {"replaces": old.public_id, "reason": "identite_mise_a_jour"})
        ]
    assert identities.stale_badges(db_session, lea, issuing) == []


def test_a_second_call_does_nothing(db_session, issuing):
    karim = _user(db_session, "karim")
    _change(db_session, "karim", email=None, phone="07 81 22 33 44")
    first = identities.reissue_to_current_identity(
        db_session, user=karim, issuing=issuing, now=LATER, actor=None
    )
    assert len(first) == 3
    assert {new.recipient_hash for _, new in first} == {
        openbadges.hash_identity("+33781223344", new.salt) for _, new in first
    }
    rows = (_count(db_session, Assertion), _count(db_session, AuditEvent))
    second = identities.reissue_to_current_identity(
        db_session, user=karim, issuing=issuing, now=LATER + timedelta(hours=1), actor=None
    )
    assert second == []
    assert (_count(db_session, Assertion), _count(db_session, AuditEvent)) == rows


def test_staff_re_issue_only_their_own_structure_s_badges(db_session, issuing):
    lea = _user(db_session, "lea")
    _change(db_session, "lea", email=NEW_EMAIL, phone=None)
    rows = _count(db_session, Assertion)
    assert (
        identities.reissue_to_current_identity(
            db_session,
            user=lea,
            issuing=issuing,
            now=LATER,
            actor=None,
            structure=structure_b(db_session),
        )
        == []
    )
    assert _count(db_session, Assertion) == rows


def test_the_new_badge_verifies_against_the_new_email_and_the_old_one_no_longer(
    db_session, issuing
):
    lea = _user(db_session, "lea")
    _change(db_session, "lea", email=NEW_EMAIL, phone=None)
    pairs = identities.reissue_to_current_identity(
        db_session, user=lea, issuing=issuing, now=LATER, actor=None
    )
    old, new = next((o, n) for o, n in pairs if n.consent == "accepted")
    when = LATER + timedelta(minutes=5)

    def checks(source: str, recipient: str) -> tuple[bool, dict[str, bool]]:
        result = verification.verify_badge(
            db_session, source, issuing=issuing, now=when, recipient=recipient
        )
        return result.valid, {c.code: c.ok for c in result.checks}

    for source in (URLS.assertion(new.public_id), new.jws):
        valid, by_code = checks(source, "  LEA.nouvelle@exemple.fr")
        assert valid and by_code["recipient"] and by_code["not_revoked"], by_code

    for source in (URLS.assertion(old.public_id), old.jws):
        valid, by_code = checks(source, NEW_EMAIL)
        assert not valid
        assert by_code["not_revoked"] is False and by_code["recipient"] is False, by_code
        # With the former address, the old badge is hers but withdrawn.
        valid, by_code = checks(source, "lea.petit@exemple.fr")
        assert not valid and by_code["recipient"] and not by_code["not_revoked"]


# -- Telling the person (notifications.queue_badges_renewed) -------------------------------------


def test_the_person_is_told_once_per_structure_when_accepted_badges_got_a_new_link(
    db_session, issuing
):
    lea, karim = _user(db_session, "lea"), _user(db_session, "karim")
    _change(db_session, "lea", email=NEW_EMAIL, phone=None)
    _change(db_session, "karim", email=None, phone="07 81 22 33 44")
    pairs = [
        pair
        for user in (lea, karim)
        for pair in identities.reissue_to_current_identity(
            db_session, user=user, issuing=issuing, now=LATER, actor=None
        )
    ]
    accepted = {(old.user_id, old.structure_id) for old, _ in pairs if old.consent == "accepted"}
    assert len(pairs) > len(accepted) >= 2  # lea's declined and karim's pending ones count not

    queued = notifications.queue_badges_renewed(
        db_session, pairs=pairs, base_url="https://jalon.example/", now=LATER
    )

    assert {(o.notification.user_id, o.notification.structure_id) for o in queued} == accepted
    assert len(queued) == len(accepted)
    for outgoing in queued:
        row, message = outgoing.notification, outgoing.message
        assert (row.kind, row.assertion_id, row.created_at) == ("badges_renewed", None, LATER)
        assert message is not None and message.kind == "badges_renewed"
        # Sent to the new address, with no badge name, only where to find them.
        assert message.to == {lea.id: NEW_EMAIL, karim.id: "+33781223344"}[row.user_id]
        assert message.channel == row.channel == ("email" if row.user_id == lea.id else "sms")
        assert "nouveau lien" in message.body
        assert message.body.endswith("https://jalon.example/moi/badges")


def test_a_renewal_notice_is_sent_again_to_the_person_s_current_number(
    db_session, issuing, tmp_path
):
    karim = _user(db_session, "karim")
    _change(db_session, "karim", email=None, phone="07 81 22 33 44")
    pairs = identities.reissue_to_current_identity(
        db_session, user=karim, issuing=issuing, now=LATER, actor=None
    )
    (outgoing,) = notifications.queue_badges_renewed(
        db_session, pairs=pairs, base_url="https://jalon.example", now=LATER
    )
    row = outgoing.notification
    assert notifications.resendable(row)
    _change(db_session, "karim", email=None, phone="06 12 00 00 01")  # and again, before
    RecordingSms.sent.clear()

    sent = notifications.resend(
        db_session,
        row,
        senders=recording_senders(tmp_path),
        base_url="https://jalon.example",
        now=LATER + timedelta(hours=1),
        actor=_user(db_session, "claire.admin"),
        claim_days=30,
    )

    assert sent is True
    (message,) = RecordingSms.sent
    assert (message.kind, message.to) == ("badges_renewed", "+33612000001")
    assert message.body.endswith("https://jalon.example/moi/badges")
    assert (row.attempts, row.sent_at, row.last_error) == (1, LATER + timedelta(hours=1), None)


def test_nobody_is_told_when_no_accepted_badge_was_re_issued(db_session, issuing):
    karim = _user(db_session, "karim")
    _change(db_session, "karim", email=None, phone="07 81 22 33 44")
    pairs = identities.reissue_to_current_identity(
        db_session, user=karim, issuing=issuing, now=LATER, actor=None
    )
    unseen = [(old, new) for old, new in pairs if old.consent != "accepted"]
    assert unseen
    assert (
        notifications.queue_badges_renewed(
            db_session, pairs=unseen, base_url="https://jalon.example", now=LATER
        )
        == []
    )
