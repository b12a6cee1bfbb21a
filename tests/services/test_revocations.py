"""Withdrawing issued badges with one list of reasons, and replacing them (BDG-10).

A revoked badge keeps its row, its JWS and its address, gains the date and the reason, and
is audited; it is revoked once. Withdrawing a decision withdraws its badge with the same
reason. A key compromise moves the issuer to a new key, then revokes and re-issues each live
badge the key signed: same decision, dates, evidence and recipient, a new address and a JWS
of the new key. The test world holds the demo's replaced badge and its withdrawn one.
"""

from __future__ import annotations

import shutil
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import openbadges
from app.domain import errors
from app.domain.badges import REVOCATION_WORDING, RevocationReason
from app.domain.enums import WithdrawalReason
from app.models import (
    Assertion,
    AuditEvent,
    BadgeClass,
    BadgeTemplate,
    Notification,
    Observation,
    Proposal,
    SigningKey,
    Structure,
    User,
)
from app.services import badges, decisions, keys, observations, revocations
from app.services.badges import Issuing
from app.services.demo import DEMO_STRUCTURE
from tests.api import member
from tests.services.test_assessments import T, scene
from tests.services.test_badges import OPAQUE, URLS, approve
from tests.support.world import B_NAME

pytestmark = pytest.mark.db

LATER = T + timedelta(hours=1)
#: Every column of an assertion that revocation must leave as it was.
KEPT = [
    c.key for c in Assertion.__table__.columns if c.key not in ("revoked_at", "revocation_reason")
]
#: What a replacement carries over from the badge it replaces.
CARRIED = (
    "structure_id",
    "badge_class_id",
    "proposal_id",
    "worker_id",
    "user_id",
    "recipient_type",
    "recipient_hash",
    "salt",
    "issued_on",
    "expires_at",
    "evidence",
    # The earner's choices: a replacement is the same badge to them.
    "consent",
    "on_profile",
    "earner_name",
)


@pytest.fixture
def issuing(keys_dir: Path) -> Issuing:
    """Issuance with the world's keys (read only)."""
    return Issuing(urls=URLS, keys_dir=keys_dir)


@pytest.fixture
def own_issuing(keys_dir: Path, tmp_path: Path) -> Issuing:
    """Issuance on a private copy of the world's keys: a compromise writes a new key file."""
    copy = tmp_path / "keys"
    shutil.copytree(keys_dir, copy)
    return Issuing(urls=URLS, keys_dir=copy)


def _badge(session: Session, login: str, code: str) -> Assertion:
    """The live badge of ``login`` for the template ``code``."""
    return session.scalars(
        select(Assertion)
        .join(User, User.id == Assertion.user_id)
        .where(User.login == login, Assertion.revoked_at.is_(None))
        .where(_of_template(code))
    ).one()


def _of_template(code: str) -> Any:
    """A filter on assertions: those of a badge class of the template ``code``."""
    return Assertion.badge_class.has(BadgeClass.template.has(BadgeTemplate.code == code))


def _columns(assertion: Assertion) -> dict[str, Any]:
    return {key: getattr(assertion, key) for key in KEPT}


def _events(session: Session, action: str, target: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if target is not None:
        query = query.where(AuditEvent.target == target)
    return list(session.scalars(query))


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _structure(session: Session, name: str) -> Structure:
    return session.scalars(select(Structure).where(Structure.name == name)).one()


# -- revoke ------------------------------------------------------------------------------------


def test_revoke_is_audited_with_its_reason_and_keeps_the_row_and_the_jws(db_session):
    badge = _badge(db_session, "lea", "planifier")
    before = _columns(badge)
    signed_payload = openbadges.parse_jws(badge.jws)[1]
    nadia = member(db_session, "nadia.validatrice").user
    revocations.revoke(
        db_session, badge, reason=RevocationReason.WORKER_REQUEST, now=LATER, actor=nadia
    )
    db_session.flush()
    db_session.expire(badge)

    assert (badge.revoked_at, badge.revocation_reason) == (LATER, "demande_salarie")
    assert badge.state(LATER) == "revoked"
    assert _columns(badge) == before  # same address, dates, recipient, evidence and JWS
    assert openbadges.parse_jws(badge.jws)[1] == signed_payload
    (event,) = _events(db_session, "badge.revoked", badge.public_id)
    assert (event.actor_id, event.subject_id, event.structure_id) == (
        nadia.id,
        badge.user_id,
        badge.structure_id,
    )
    assert (event.occurred_at, event.details) == (LATER, {"reason": "demande_salarie"})


def test_a_badge_is_revoked_once(db_session):
    badge = _badge(db_session, "ousmane", "travailler-en-equipe")
    revocations.revoke(db_session, badge, reason=RevocationReason.ISSUING_ERROR, now=LATER)
    audit_rows = _count(db_session, AuditEvent)
    with pytest.raises(revocations.RevocationError, match="déjà été retiré") as refused:
        revocations.revoke(
            db_session,
            badge,
            reason=RevocationReason.WORKER_REQUEST,
            now=LATER + timedelta(days=1),
        )
    assert refused.value.status == 409
    assert (badge.revoked_at, badge.revocation_reason) == (LATER, "erreur_emission")
    assert _count(db_session, AuditEvent) == audit_rows


@pytest.mark.parametrize("reason", list(RevocationReason))
def test_every_reason_reads_the_same_public_words_everywhere(db_session, reason):
    badge = _badge(db_session, "karim", "conscience-professionnelle")
    revocations.revoke(db_session, badge, reason=reason, now=LATER)
    words = REVOCATION_WORDING[reason]
    assert words and words == badges.revocation_wording(badge)
    hosted = badges.assertion_document(badge, URLS)
    assert (hosted["revoked"], hosted["revocationReason"]) == (True, words)
    # The signed variant never says « revoked »: it is the JWS made at issuance.
    signed = badges.assertion_document(badge, URLS, signed_by=badge.signing_key)
    assert "revoked" not in signed and "revocationReason" not in signed
    listed = badges.revocation_list_document(db_session, badge.structure, URLS)
    assert {"id": URLS.assertion(badge.public_id), "revocationReason": words} in listed[
        "revokedAssertions"
    ]


# -- Withdrawing a decision withdraws its badge ------------------------------------------------


def _approved_badge(session: Session, issuing: Issuing, *, flagged: bool) -> Assertion:
    """Julie's teamwork badge, approved by Nadia; then one observation withdrawn if
    ``flagged`` (the decision goes back to the queue)."""
    s = scene(session)
    s.met()
    (proposal,) = s.proposals()
    badge = approve(session, proposal, issuing)
    if flagged:
        oldest = session.scalars(
            select(Observation).where(Observation.public_id == proposal.evidence[0])
        ).one()
        observations.withdraw_observation(
            session,
            observation=oldest,
            actor=member(session, oldest.author.login),
            reason=WithdrawalReason.ENTRY_ERROR,
            now=LATER + timedelta(hours=1),
        )
        assert proposal.status == "flagged"
    return badge


def _settle(session: Session, proposal: Proposal, *, keep: bool, reason: str | None) -> None:
    decisions.settle_flagged(
        session,
        validator=member(session, "nadia.validatrice"),
        proposal=proposal,
        keep=keep,
        reason=reason,
        comment=None,
        now=LATER + timedelta(hours=2),
    )


@pytest.mark.parametrize(
    ("flagged", "reason"), [(True, "preuves_retirees"), (False, "erreur_emission")]
)
def test_withdrawing_the_decision_revokes_its_badge_with_the_same_reason(
    db_session, issuing, flagged, reason
):
    badge = _approved_badge(db_session, issuing, flagged=flagged)
    proposal = badge.proposal
    _settle(db_session, proposal, keep=False, reason=reason)

    when = LATER + timedelta(hours=2)
    assert proposal.status == "revoked"
    assert (badge.revoked_at, badge.revocation_reason) == (when, reason)
    assert (
        badges.assertion_document(badge, URLS)["revocationReason"]
        == (REVOCATION_WORDING[RevocationReason(reason)])
    )
    assert revocations.live_assertions(db_session, proposal) == []
    (event,) = _events(db_session, "badge.revoked", badge.public_id)
    assert event.details == {"reason": reason}
    assert event.actor_id == member(db_session, "nadia.validatrice").user_id
    told = db_session.scalars(
        select(Notification.kind).where(
            Notification.user_id == badge.user_id, Notification.target == proposal.public_id
        )
    ).all()
    assert sorted(told) == ["proposal.approved", "proposal.revoked"]


def test_keeping_the_decision_leaves_its_badge_alone(db_session, issuing):
    badge = _approved_badge(db_session, issuing, flagged=True)
    before = _columns(badge)
    _settle(db_session, badge.proposal, keep=True, reason=None)
    assert badge.proposal.status == "approved"
    assert (badge.revoked_at, badge.revocation_reason) == (None, None)
    assert _columns(badge) == before
    assert revocations.live_assertions(db_session, badge.proposal) == [badge]
    assert _events(db_session, "badge.revoked", badge.public_id) == []


@pytest.mark.parametrize("reason", ["cle_compromise", "identite_mise_a_jour", "autre", "", None])
def test_staff_cannot_withdraw_with_a_reason_outside_their_list(db_session, issuing, reason):
    badge = _approved_badge(db_session, issuing, flagged=False)
    rows = (_count(db_session, AuditEvent), _count(db_session, Notification))
    with pytest.raises(errors.DecisionError, match="raison"):
        _settle(db_session, badge.proposal, keep=False, reason=reason)
    assert badge.proposal.status == "approved"
    assert (badge.revoked_at, badge.revocation_reason) == (None, None)
    assert (_count(db_session, AuditEvent), _count(db_session, Notification)) == rows


# -- Replacement --------------------------------------------------------------------------------


def _assert_replaces(new: Assertion, old: Assertion, key: SigningKey) -> dict[str, Any]:
    """``new`` is ``old`` again (same decision, dates, evidence, recipient), at a new address,
    signed by ``key``; return the JWS payload."""
    assert new.replaces_id == old.id and new.replaces is old
    assert {c: getattr(new, c) for c in CARRIED} == {c: getattr(old, c) for c in CARRIED}
    assert new.public_id != old.public_id and OPAQUE.fullmatch(new.public_id)
    assert new.signing_key_id == key.id and new.revoked_at is None
    payload = openbadges.verify_jws(new.jws, key.public_key_pem)
    assert payload == badges.assertion_document(new, URLS, signed_by=key)
    assert payload["id"] == URLS.assertion(new.public_id)
    assert payload["verification"] == {"type": "SignedBadge", "creator": URLS.key(key.public_id)}
    return payload


def test_a_replacement_keeps_the_recognition_and_may_carry_a_new_recipient(db_session, issuing):
    old = _badge(db_session, "lea", "planifier")
    salt = openbadges.new_salt()
    identity = openbadges.hash_identity("lea.nouvelle@example.org", salt)
    new = revocations.replace(
        db_session,
        old,
        reason=RevocationReason.IDENTITY_UPDATED,
        issuing=issuing,
        now=LATER,
        recipient=("email", identity, salt),
    )
    db_session.flush()
    assert (old.revoked_at, old.revocation_reason) == (LATER, "identite_mise_a_jour")
    assert new.signing_key_id == old.signing_key_id  # the issuer's current key, still valid
    assert (new.recipient_hash, new.salt) == (identity, salt)
    assert (new.proposal_id, new.issued_on, new.evidence) == (
        old.proposal_id,
        old.issued_on,
        old.evidence,
    )
    payload = openbadges.verify_jws(new.jws, old.signing_key.public_key_pem)
    assert payload["recipient"] == {
        "type": "email",
        "hashed": True,
        "salt": salt,
        "identity": identity,
    }
    (event,) = _events(db_session, "badge.reissued", new.public_id)
    assert event.details == {"replaces": old.public_id, "reason": "identite_mise_a_jour"}
    assert revocations.live_assertions(db_session, old.proposal) == [new]


# -- Key compromise ---------------------------------------------------------------------------


def test_a_compromised_current_key_is_replaced_and_its_badges_re_issued(db_session, own_issuing):
    structure = _structure(db_session, DEMO_STRUCTURE)
    leaked = keys.active_key(db_session, structure)
    assert leaked is not None
    live = list(revocations.signed_with(db_session, leaked))
    signed_before = db_session.scalars(
        select(Assertion).where(Assertion.signing_key_id == leaked.id)
    ).all()
    already_revoked = [a for a in signed_before if a.revoked_at is not None]
    # The demo: four accepted, one pending, one declined; léa's « Anticiper » withdrawn.
    assert len(live) == 6 and len(already_revoked) == 1
    b_badge = db_session.scalars(
        select(Assertion).where(Assertion.structure_id == _structure(db_session, B_NAME).id)
    ).one()
    b_before = _columns(b_badge) | {"revoked_at": b_badge.revoked_at}
    now = LATER

    current, pairs = revocations.compromise_key(db_session, leaked, issuing=own_issuing, now=now)
    db_session.flush()

    assert (leaked.compromised_at, leaked.retired_at) == (now, now)
    assert current.id != leaked.id and keys.active_key(db_session, structure) is current
    private = own_issuing.keys_dir / current.private_key_file
    assert private.is_file() and stat.S_IMODE(private.stat().st_mode) == 0o600
    assert [old for old, _ in pairs] == live
    for old, new in pairs:
        assert (old.revoked_at, old.revocation_reason) == (now, "cle_compromise")
        _assert_replaces(new, old, current)
        with pytest.raises(openbadges.SignatureError):
            openbadges.verify_jws(new.jws, leaked.public_key_pem)
        (revoked,) = _events(db_session, "badge.revoked", old.public_id)
        assert revoked.details == {"reason": "cle_compromise"}
        (reissued,) = _events(db_session, "badge.reissued", new.public_id)
        assert reissued.details == {"replaces": old.public_id, "reason": "cle_compromise"}
    # The badge withdrawn earlier keeps its own reason and gets no replacement.
    (earlier,) = already_revoked
    assert earlier.revocation_reason == "erreur_emission"
    assert (
        db_session.scalars(select(Assertion).where(Assertion.replaces_id == earlier.id)).all() == []
    )
    # Another issuer's badge is untouched.
    assert _columns(b_badge) | {"revoked_at": b_badge.revoked_at} == b_before
    (event,) = _events(db_session, "key.compromised", leaked.public_id)
    assert event.details == {"badges": 6} and event.structure_id == structure.id
    issuer = badges.issuer_document(db_session, structure, URLS, "contact@jalon.invalid")
    assert issuer["publicKey"] == URLS.key(current.public_id)
    document = badges.key_document(leaked, URLS)
    assert (document["revoked"], document["revocationReason"]) == (
        True,
        REVOCATION_WORDING[RevocationReason.KEY_COMPROMISED],
    )
    assert "revoked" not in badges.key_document(current, URLS)


def test_a_compromised_retired_key_keeps_the_current_one(db_session, own_issuing):
    structure = _structure(db_session, DEMO_STRUCTURE)
    old, rotated = keys.rotate(
        db_session, structure=structure, keys_dir=own_issuing.keys_dir, now=T
    )
    assert old is not None
    key_rows = _count(db_session, SigningKey)

    current, pairs = revocations.compromise_key(db_session, old, issuing=own_issuing, now=LATER)
    db_session.flush()

    assert current is rotated and _count(db_session, SigningKey) == key_rows
    assert old.compromised_at == LATER and old.retired_at == T  # retired earlier, kept so
    assert len(pairs) == 6
    for previous, new in pairs:
        _assert_replaces(new, previous, rotated)


def test_a_key_is_declared_compromised_once(db_session, own_issuing):
    structure = _structure(db_session, DEMO_STRUCTURE)
    leaked = keys.active_key(db_session, structure)
    revocations.compromise_key(db_session, leaked, issuing=own_issuing, now=LATER)
    db_session.flush()
    rows = {m: _count(db_session, m) for m in (Assertion, AuditEvent, SigningKey)}
    with pytest.raises(revocations.RevocationError, match="déjà déclarée compromise"):
        revocations.compromise_key(
            db_session, leaked, issuing=own_issuing, now=LATER + timedelta(days=1)
        )
    assert {m: _count(db_session, m) for m in rows} == rows
    assert leaked.compromised_at == LATER


# -- The demo, as the test world holds it ------------------------------------------------------


def test_the_world_holds_one_badge_replaced_after_a_key_compromise(db_session):
    (new,) = db_session.scalars(select(Assertion).where(Assertion.replaces_id.is_not(None)))
    old = new.replaces
    assert old is not None and old.user.login == new.user.login == "karim"
    assert old.badge_class.template.code == "qualite-du-travail"
    assert old.revocation_reason == "cle_compromise" and old.state(T) == "revoked"
    assert old.signing_key.compromised_at is not None
    assert new.state(T) == "expired"  # the replacement keeps the original validity
    assert new.signing_key is keys.active_key(db_session, new.structure)
    _assert_replaces(new, old, new.signing_key)
    assert new.proposal.status == "approved"


def test_the_world_holds_lea_s_anticiper_withdrawn_for_an_issuing_error(db_session):
    badge = db_session.scalars(
        select(Assertion)
        .join(User, User.id == Assertion.user_id)
        .where(User.login == "lea", _of_template("anticiper"))
    ).one()
    assert badge.revocation_reason == "erreur_emission" and badge.state(T) == "revoked"
    assert badge.proposal.status == "revoked"
    (event,) = _events(db_session, "badge.revoked", badge.public_id)
    assert event.actor_id == member(db_session, "nadia.validatrice").user_id
    assert (
        db_session.scalars(select(Assertion).where(Assertion.replaces_id == badge.id)).all() == []
    )
    revoked = db_session.scalars(
        select(Assertion.public_id).where(Assertion.revoked_at.is_not(None))
    ).all()
    assert len(revoked) == 2  # this one and the badge of the compromised key
