"""Decisions on badge proposals: roles, re-check at approval, four-eyes, flags, audit.

VAL-01..VAL-04: only a validateur approves, after criteria are checked again; the
validateur is never the only observer (unless the structure turns the rule off); every
decision writes its audit row in its own transaction, free text apart; the audit table
refuses UPDATE, DELETE (and TRUNCATE on PostgreSQL) in the database itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.domain import errors
from app.domain.enums import WithdrawalReason
from app.models import AuditEvent, DecisionNote, Notification, Observation, Proposal
from app.queries import assessments as queries
from app.services import assessments, audit, decisions, observations
from app.services.badges import Issuing
from app.services.public_urls import PublicUrls
from tests.api import member
from tests.services.test_assessments import Scene, T, scene

LATER = T + timedelta(hours=1)
WRITTEN = (Proposal, DecisionNote, AuditEvent, Notification)


def _counts(session: Session) -> dict[str, int]:
    """Rows of every table a decision writes to, and the proposals by status."""
    found: dict[str, int] = {
        m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0 for m in WRITTEN
    }
    for status, count in session.execute(
        select(Proposal.status, func.count()).group_by(Proposal.status)
    ):
        found[f"proposals.{status}"] = count
    return found


def _met(session: Session) -> tuple[Scene, Proposal]:
    s = scene(session)
    s.met()
    (proposal,) = s.proposals()
    return s, proposal


ISSUING: list[Issuing] = []


@pytest.fixture(autouse=True)
def _issuing(keys_dir: Path) -> Iterator[None]:
    """Approval issues the badge: it signs with the world's keys."""
    ISSUING[:] = [Issuing(urls=PublicUrls("http://localhost"), keys_dir=keys_dir)]
    yield
    ISSUING.clear()


def _approve(session: Session, proposal: Proposal, **options) -> None:  # type: ignore[no-untyped-def]
    decisions.approve(
        session,
        validator=options.pop("validator", None) or member(session, "nadia.validatrice"),
        proposal=proposal,
        comment=options.pop("comment", None),
        now=options.pop("now", LATER),
        issuing=ISSUING[0],
    )


def _propose(session: Session, s: Scene, author: str = "sophie.cip", **options) -> Proposal:  # type: ignore[no-untyped-def]
    return decisions.propose(
        session,
        author=member(session, author),
        worker=s.worker,
        template=s.template,
        level=options.pop("level", 3),
        justification=options.pop("justification", "Aide les autres sans qu'on le demande."),
        now=options.pop("now", T),
    )


# Roles -------------------------------------------------------------------------------


@pytest.mark.parametrize("author", ["sophie.cip", "marc.encadrant"])
def test_a_conseiller_or_an_encadrant_proposes_with_a_justification(db_session, author):
    s = scene(db_session)
    proposal = _propose(db_session, s, author, level=4, justification="  Range   le camion. ")
    assert (proposal.status, proposal.origin, proposal.level) == ("pending", "manual", 4)
    assert proposal.proposed_by_id == member(db_session, author).user_id
    (note,) = proposal.notes
    assert (note.kind, note.text) == ("justification", "Range le camion.")
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.target == proposal.public_id).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["proposal.created", "proposal.justified"]
    assert events[1].details == {"note": note.public_id}


@pytest.mark.parametrize("author", ["nadia.validatrice", "claire.admin", "karim"])
def test_nobody_else_proposes(db_session, author):
    s = scene(db_session)
    before = _counts(db_session)
    with pytest.raises(errors.NotAllowed, match="conseiller·ères et encadrant·es"):
        _propose(db_session, s, author)
    assert _counts(db_session) == before


@pytest.mark.parametrize("justification", ["", "   \n "])
def test_a_manual_proposal_needs_a_justification(db_session, justification):
    s = scene(db_session)
    before = _counts(db_session)
    with pytest.raises(errors.DecisionError, match="Écrivez pourquoi") as refused:
        _propose(db_session, s, justification=justification)
    assert refused.value.status == 422
    assert _counts(db_session) == before


def test_a_badge_already_proposed_is_not_proposed_twice(db_session):
    s, _proposal = _met(db_session)
    with pytest.raises(errors.AlreadyProposed):
        _propose(db_session, s)


@pytest.mark.parametrize("login", ["sophie.cip", "marc.encadrant", "claire.admin"])
def test_only_a_validateur_approves_or_rejects(db_session, login):
    _s, proposal = _met(db_session)
    before = _counts(db_session)
    someone = member(db_session, login)
    with pytest.raises(errors.NotAllowed, match="validateur"):
        _approve(db_session, proposal, validator=someone)
    with pytest.raises(errors.NotAllowed, match="validateur"):
        decisions.reject(
            db_session, validator=someone, proposal=proposal, comment="Non.", now=LATER
        )
    assert _counts(db_session) == before and proposal.status == "pending"


def test_staff_of_another_structure_neither_propose_nor_decide(db_session):
    s, proposal = _met(db_session)
    before = _counts(db_session)
    with pytest.raises(errors.NotAllowed):
        _propose(db_session, s, "b.cip", level=4)
    b_validateur = member(db_session, "b.validateur")
    with pytest.raises(errors.NotAllowed):
        _approve(db_session, proposal, validator=b_validateur)
    with pytest.raises(errors.NotAllowed):
        decisions.reject(
            db_session, validator=b_validateur, proposal=proposal, comment="Non.", now=LATER
        )
    assert _counts(db_session) == before and proposal.status == "pending"


@pytest.mark.parametrize("comment", ["", "  \t "])
def test_a_rejection_needs_a_comment(db_session, comment):
    _s, proposal = _met(db_session)
    before = _counts(db_session)
    with pytest.raises(errors.DecisionError, match="Expliquez le refus"):
        decisions.reject(
            db_session,
            validator=member(db_session, "nadia.validatrice"),
            proposal=proposal,
            comment=comment,
            now=LATER,
        )
    assert _counts(db_session) == before and proposal.status == "pending"


@pytest.mark.parametrize("first", ["approve", "reject"])
def test_a_decision_on_a_closed_proposal_is_refused_with_409(db_session, first):
    _s, proposal = _met(db_session)
    nadia = member(db_session, "nadia.validatrice")
    if first == "approve":
        _approve(db_session, proposal)
    else:
        decisions.reject(db_session, validator=nadia, proposal=proposal, comment="Non.", now=LATER)
    before = _counts(db_session)
    with pytest.raises(errors.ProposalClosed) as refused:
        _approve(db_session, proposal, now=LATER + timedelta(hours=1))
    assert refused.value.status == 409
    with pytest.raises(errors.ProposalClosed):
        decisions.reject(db_session, validator=nadia, proposal=proposal, comment="Non.", now=LATER)
    assert _counts(db_session) == before


# Approval: re-check, four-eyes -------------------------------------------------------------


def test_approval_records_the_decision_and_tells_the_worker(db_session):
    s, proposal = _met(db_session)
    _approve(db_session, proposal, comment="Observations concordantes.")
    nadia = member(db_session, "nadia.validatrice")
    assert (proposal.status, proposal.decided_at, proposal.decided_by_id) == (
        "approved",
        LATER,
        nadia.user_id,
    )
    (notification,) = db_session.scalars(
        select(Notification).where(Notification.user_id == s.worker.user_id)
    ).all()
    assert (notification.kind, notification.target) == ("proposal.approved", proposal.public_id)
    assert s.state(3).status == "delivre"


def test_criteria_too_old_at_approval_block_it_and_nothing_is_written(db_session):
    _s, proposal = _met(db_session)
    before = _counts(db_session)
    with pytest.raises(errors.CriteriaNoLongerMet) as refused:
        _approve(db_session, proposal, now=T + timedelta(days=365))
    assert refused.value.status == 422
    assert _counts(db_session) == before and proposal.status == "pending"
    assert proposal.decided_at is None


def test_the_same_proposal_approved_within_the_year_passes(db_session):
    _s, proposal = _met(db_session)
    _approve(db_session, proposal, now=T + timedelta(days=360))
    assert proposal.status == "approved"


def test_withdrawn_evidence_blocks_the_approval_of_a_criteria_proposal(db_session):
    s, proposal = _met(db_session)
    first = db_session.scalars(
        select(Observation).where(Observation.public_id == proposal.evidence[0])
    ).one()
    observations.withdraw_observation(
        db_session,
        observation=first,
        actor=member(db_session, "claire.admin"),
        reason=WithdrawalReason.WRONG_WORKER,
        now=LATER,
    )
    assert proposal.status == "pending"
    before = _counts(db_session)
    with pytest.raises(errors.CriteriaNoLongerMet):
        _approve(db_session, proposal, now=LATER + timedelta(minutes=5))
    assert _counts(db_session) == before and proposal.status == "pending"
    assert s.state(3).status == "en_cours"


def _nadia_only(session: Session) -> tuple[Scene, Proposal]:
    """Nadia (validatrice, who may observe) made every observation; Sophie proposes."""
    s = scene(session)
    s.observe("nadia.validatrice", 0, at=T - timedelta(days=20))
    s.observe("nadia.validatrice", 1, level=4, at=T - timedelta(days=3))
    # Another observer's observation below the level is not evidence for level 3.
    s.observe("marc.encadrant", 1, level=2, at=T - timedelta(days=2))
    assert s.proposals() == []  # one observer: criteria not met
    return s, _propose(session, s)


def test_four_eyes_the_only_observer_cannot_approve(db_session):
    _s, proposal = _nadia_only(db_session)
    before = _counts(db_session)
    with pytest.raises(errors.FourEyes, match="quatre yeux") as refused:
        _approve(db_session, proposal)
    assert refused.value.status == 403
    assert _counts(db_session) == before and proposal.status == "pending"


def test_four_eyes_can_be_turned_off_for_a_structure(db_session):
    s, proposal = _nadia_only(db_session)
    s.worker.structure.four_eyes = False
    _approve(db_session, proposal)
    assert proposal.status == "approved"


def test_four_eyes_a_second_observer_lets_the_validateur_approve(db_session):
    s, proposal = _nadia_only(db_session)
    s.observe("marc.encadrant", 0, level=3, at=T - timedelta(days=1), now=T + timedelta(minutes=1))
    assert s.proposals() == [proposal]  # the manual proposal stays the only open one
    _approve(db_session, proposal)
    assert proposal.status == "approved"
    assert len(proposal.evidence) == 3


# After approval: withdrawn evidence flags the decision ---------------------------------------


def _approved(session: Session) -> tuple[Scene, Proposal]:
    s, proposal = _met(session)
    _approve(session, proposal)
    return s, proposal


def _flagged_after(
    session: Session, s: Scene, proposal: Proposal, withdrawn: str | None = None
) -> tuple[Scene, Proposal]:
    """Withdraw one observation behind the approved ``proposal`` (by default, the oldest)."""
    observation = session.scalars(
        select(Observation).where(Observation.public_id == (withdrawn or proposal.evidence[0]))
    ).one()
    observations.withdraw_observation(
        session,
        observation=observation,
        actor=member(session, observation.author.login),
        reason=WithdrawalReason.ENTRY_ERROR,
        now=LATER + timedelta(hours=1),
    )
    return s, proposal


def _settle(session: Session, proposal: Proposal, *, keep: bool, reason: str | None = None):  # type: ignore[no-untyped-def]
    decisions.settle_flagged(
        session,
        validator=member(session, "nadia.validatrice"),
        proposal=proposal,
        keep=keep,
        reason=reason,
        comment="Vu avec l'équipe.",
        now=LATER + timedelta(hours=2),
    )


def test_withdrawing_evidence_of_an_approved_badge_flags_it_for_the_queue(db_session):
    s, proposal = _approved(db_session)
    structure = s.worker.structure
    assert proposal not in queries.queue(db_session, structure.id)
    _flagged_after(db_session, s, proposal)
    assert proposal.status == "flagged"
    assert proposal in queries.queue(db_session, structure.id)
    flagged = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.target == proposal.public_id, AuditEvent.action == "proposal.flagged"
        )
    ).one()
    assert flagged.details == {"reason": "evidence_withdrawn"}
    assert s.state(3).status == "delivre"  # still issued until the validateur decides


def test_keeping_a_flagged_decision_approves_it_again_for_good(db_session):
    s, proposal = _flagged_after(db_session, *_approved(db_session))
    _settle(db_session, proposal, keep=True)
    assert proposal.status == "approved"
    assert proposal not in queries.queue(db_session, s.worker.structure_id)
    assert s.state(3).status == "delivre"
    actions = [
        e.action
        for e in db_session.scalars(
            select(AuditEvent)
            .where(AuditEvent.target == proposal.public_id)
            .order_by(AuditEvent.id)
        )
    ]
    assert actions[-2:] == ["proposal.flagged", "proposal.confirmed"]
    # A later recompute does not flag the confirmed decision again.
    s.observe("sophie.cip", 0, at=LATER, now=LATER + timedelta(hours=3))
    assert proposal.status == "approved"


def test_revoking_a_flagged_decision_needs_a_reason_and_shows_retire(db_session):
    s, proposal = _flagged_after(db_session, *_approved(db_session))
    before = _counts(db_session)
    with pytest.raises(errors.DecisionError, match="raison"):
        _settle(db_session, proposal, keep=False, reason="parce que")
    assert _counts(db_session) == before and proposal.status == "flagged"
    _settle(db_session, proposal, keep=False, reason="preuves_retirees")
    assert proposal.status == "revoked"
    assert s.state(3).status == "retire"
    assert proposal not in queries.queue(db_session, s.worker.structure_id)
    revoked = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.target == proposal.public_id, AuditEvent.action == "proposal.revoked"
        )
    ).one()
    note = proposal.notes[-1]
    assert revoked.details == {"reason": "preuves_retirees", "note": note.public_id}
    kinds = db_session.scalars(
        select(Notification.kind).where(Notification.user_id == s.worker.user_id)
    ).all()
    assert sorted(kinds) == ["proposal.approved", "proposal.revoked"]


def test_a_revoked_badge_comes_back_only_with_new_evidence(db_session):
    s, proposal = _met(db_session)
    extra = s.observe(
        "marc.encadrant", 1, level=4, at=T - timedelta(days=1), now=T + timedelta(minutes=1)
    )
    _approve(db_session, proposal)
    assert len(proposal.evidence) == 3
    _flagged_after(db_session, s, proposal, extra.public_id)  # criteria still met without it
    assert s.proposals() == [proposal]
    assert proposal.status == "flagged"
    _settle(db_session, proposal, keep=False, reason="demande_salarie")
    assert s.proposals() == [proposal] and s.state(3).status == "retire"
    assessments.recompute_worker(db_session, worker=s.worker, now=LATER + timedelta(days=1))
    assert s.proposals() == [proposal]
    s.observe("sophie.cip", 0, at=LATER + timedelta(days=1), now=LATER + timedelta(days=2))
    revoked, new = s.proposals()
    assert (revoked.status, new.status, new.origin) == ("revoked", "pending", "criteria")


# Audit -------------------------------------------------------------------------------------


def _fail_on(monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    """Make the audit write of ``action`` fail, after the decision itself was made."""
    real = audit.record

    def failing(session, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs["action"] == action:
            raise RuntimeError("audit write failed")
        return real(session, **kwargs)

    monkeypatch.setattr(audit, "record", failing)


@pytest.mark.parametrize("action", ["proposal.approved", "proposal.rejected"])
def test_a_failed_audit_write_leaves_neither_the_decision_nor_its_note(
    db_session, monkeypatch, action
):
    _s, proposal = _met(db_session)
    db_session.commit()  # the evidence and the proposal are saved (a savepoint here)
    before = _counts(db_session)
    _fail_on(monkeypatch, action)
    nadia = member(db_session, "nadia.validatrice")
    with pytest.raises(RuntimeError, match="audit write failed"):
        if action == "proposal.approved":
            _approve(db_session, proposal, validator=nadia, comment="Très bien.")
        else:
            decisions.reject(
                db_session, validator=nadia, proposal=proposal, comment="Pas encore.", now=LATER
            )
    assert db_session.get(Proposal, proposal.id).status != "pending"  # the decision was made…
    db_session.rollback()
    assert _counts(db_session) == before  # …and leaves nothing once rolled back
    reloaded = db_session.get(Proposal, proposal.id)
    assert (reloaded.status, reloaded.decided_at, reloaded.notes) == ("pending", None, [])


@pytest.mark.parametrize("decision", ["approve", "reject", "propose"])
def test_the_audit_row_names_the_note_but_never_holds_its_text(db_session, decision):
    s = scene(db_session)
    words = "Coopère volontiers avec l'équipe du matin."
    nadia = member(db_session, "nadia.validatrice")
    if decision == "propose":
        proposal = _propose(db_session, s, justification=words)
        action = "proposal.justified"
    else:
        s.met()
        (proposal,) = s.proposals()
        if decision == "approve":
            _approve(db_session, proposal, comment=words)
        else:
            decisions.reject(
                db_session, validator=nadia, proposal=proposal, comment=words, now=LATER
            )
        action = {"approve": "proposal.approved", "reject": "proposal.rejected"}[decision]
    (note,) = proposal.notes
    assert note.text == words
    event = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.target == proposal.public_id, AuditEvent.action == action
        )
    ).one()
    assert event.details["note"] == note.public_id
    every_event = db_session.scalars(select(AuditEvent)).all()
    assert not [e for e in every_event if "Coopère" in json.dumps(e.details, ensure_ascii=False)]


def _audit_rows(session: Session) -> list[tuple[int, str]]:
    return [tuple(r) for r in session.execute(text("SELECT id, action FROM audit_events"))]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'edited'",
        "UPDATE audit_events SET details = '{}' WHERE id = (SELECT max(id) FROM audit_events)",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE id = (SELECT min(id) FROM audit_events)",
    ],
)
def test_the_database_refuses_to_change_the_audit_trail(db_session, statement):
    rows = _audit_rows(db_session)
    assert rows
    with pytest.raises(DBAPIError, match="append-only"):
        with db_session.begin_nested():
            db_session.execute(text(statement))
    assert _audit_rows(db_session) == rows


def test_truncate_is_refused_on_postgresql_and_absent_from_sqlite(db_session):
    rows = _audit_rows(db_session)
    dialect = db_session.get_bind().dialect.name
    assert dialect in ("sqlite", "postgresql")
    if dialect == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            with db_session.begin_nested():
                db_session.execute(text("TRUNCATE audit_events"))
    else:  # SQLite has no TRUNCATE statement at all.
        with pytest.raises(DBAPIError, match="syntax error"):
            with db_session.begin_nested():
                db_session.execute(text("TRUNCATE audit_events"))
    assert _audit_rows(db_session) == rows


def test_who_proposed_a_badge_resting_on_no_observation_cannot_approve_it_alone(db_session):
    """Four-eyes also covers a manual proposal with no evidence: its author is not enough."""
    from app.domain.enums import Role
    from app.services import structures

    s = scene(db_session)
    sophie = member(db_session, "sophie.cip")
    structures.set_roles(
        db_session,
        actor=sophie.user,
        membership=sophie,
        roles={Role.CONSEILLER, Role.VALIDATEUR},
        now=T,
    )
    proposal = _propose(db_session, s, author="sophie.cip")
    with pytest.raises(errors.FourEyes):
        _approve(db_session, proposal, validator=sophie)
    assert proposal.status == "pending"
    _approve(db_session, proposal)  # another validateur may
    assert proposal.status == "approved"
