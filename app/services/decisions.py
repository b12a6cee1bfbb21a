"""Decisions on badge proposals: manual proposals, approval, rejection, later review.

Every decision writes its audit row in the same transaction; free-text justifications and
comments are ``DecisionNote`` rows that the audit row names by id (VAL-03, VAL-04).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import assessments as engine
from app.domain.assessments import Status
from app.domain.badges import STAFF_REVOCATION_REASONS, RevocationReason
from app.domain.enums import Role
from app.domain.errors import (
    AlreadyProposed,
    CriteriaNoLongerMet,
    DecisionError,
    FourEyes,
    NotAllowed,
    ProposalClosed,
)
from app.models import (
    Assertion,
    BadgeTemplate,
    DecisionNote,
    Membership,
    Notification,
    Observation,
    Proposal,
    User,
)
from app.services import audit, badges, revocations
from app.services.assessments import (
    OPEN,
    assess,
    criterion_json,
    open_proposal,
    proposals_of,
    recompute_worker,
)


def _note(session, proposal: Proposal, author: User, kind: str, text: str | None, now):  # type: ignore[no-untyped-def]
    cleaned = " ".join((text or "").split())
    if not cleaned:
        return None
    note = DecisionNote(
        proposal=proposal, author_id=author.id, kind=kind, text=cleaned[:2000], created_at=now
    )
    session.add(note)
    session.flush()
    return note


def _notify(session: Session, worker: Membership, kind: str, proposal: Proposal, now) -> None:  # type: ignore[no-untyped-def]
    session.add(
        Notification(user_id=worker.user_id, kind=kind, target=proposal.public_id, created_at=now)
    )


def _same_structure(member: Membership, structure_id: int) -> None:
    """Staff decide only about the workers of their own structure."""
    if member.structure_id != structure_id:
        raise NotAllowed()


def propose(
    session: Session,
    *,
    author: Membership,
    worker: Membership,
    template: BadgeTemplate,
    level: int,
    justification: str,
    now: datetime,
) -> Proposal:
    """A manual proposal by a conseiller or encadrant, with a written justification."""
    if not author.has_role(Role.CONSEILLER, Role.ENCADRANT):
        raise NotAllowed("Seul·es les conseiller·ères et encadrant·es peuvent proposer.")
    _same_structure(author, worker.structure_id)
    if template.tier(level) is None:
        raise DecisionError("Ce niveau n'existe pas pour ce badge numérique.")
    if not " ".join(justification.split()):
        raise DecisionError("Écrivez pourquoi vous proposez ce badge numérique.")
    if any(p.status in OPEN for p in proposals_of(session, worker, template, level)):
        raise AlreadyProposed()
    result = assess(session, worker=worker, template=template, level=level, now=now)
    proposal = open_proposal(
        session,
        worker=worker,
        template=template,
        level=level,
        origin="manual",
        result=result,
        author=author.user,
        now=now,
    )
    note = _note(session, proposal, author.user, "justification", justification, now)
    audit.record(
        session,
        action="proposal.justified",
        now=now,
        actor=author.user,
        subject=worker.user,
        structure=worker.structure,
        target=proposal.public_id,
        details={"note": note.public_id if note else None},
    )
    return proposal


def _check_four_eyes(
    validator: Membership, proposal: Proposal, result: engine.Assessment, session: Session
) -> None:
    """VAL-02: the validateur is neither the only observer behind the evidence, nor the one
    who proposed a badge that rests on no observation."""
    if not validator.structure.four_eyes:
        return
    if not result.used:
        if proposal.proposed_by_id == validator.user_id:
            raise FourEyes(
                "Vous avez proposé ce badge numérique sans observation au niveau visé : une autre "
                "personne doit valider (règle des quatre yeux)."
            )
        return
    authors = set(
        session.scalars(
            select(User.public_id)
            .join(Observation, Observation.author_id == User.id)
            .where(Observation.public_id.in_(result.used))
        )
    )
    if authors <= {validator.user.public_id}:
        raise FourEyes()


def approve(
    session: Session,
    *,
    validator: Membership,
    proposal: Proposal,
    comment: str | None,
    now: datetime,
    issuing: badges.Issuing,
    expires_at: datetime | None = None,
) -> Assertion:
    """Approve: criteria checked again now, four-eyes rule, audit, the worker told, and the
    badge issued in the same transaction (BDG-03)."""
    if not validator.has_role(Role.VALIDATEUR):
        raise NotAllowed("Seul·es les validateur·rices peuvent valider.")
    _same_structure(validator, proposal.structure_id)
    if proposal.status != "pending":
        raise ProposalClosed()
    result = assess(
        session, worker=proposal.worker, template=proposal.template, level=proposal.level, now=now
    )
    if proposal.origin == "criteria" and result.status is not Status.CRITERIA_MET:
        raise CriteriaNoLongerMet()
    _check_four_eyes(validator, proposal, result, session)
    proposal.criteria = [criterion_json(c) for c in result.criteria]
    proposal.evidence = list(result.used)
    _record_decision(session, validator, proposal, "approved", comment, now)
    recompute_worker(session, worker=proposal.worker, now=now, templates=[proposal.template])
    return badges.issue(session, proposal, issuing=issuing, now=now, expires_at=expires_at)


def reject(
    session: Session, *, validator: Membership, proposal: Proposal, comment: str, now: datetime
) -> None:
    """Reject with a comment; the badge can be proposed again after new evidence."""
    if not validator.has_role(Role.VALIDATEUR):
        raise NotAllowed("Seul·es les validateur·rices peuvent refuser.")
    _same_structure(validator, proposal.structure_id)
    if proposal.status != "pending":
        raise ProposalClosed()
    if not " ".join((comment or "").split()):
        raise DecisionError("Expliquez le refus en quelques mots.")
    _record_decision(session, validator, proposal, "rejected", comment, now)
    session.flush()


def _record_decision(
    session: Session,
    validator: Membership,
    proposal: Proposal,
    status: str,
    comment: str | None,
    now: datetime,
) -> None:
    """Set the decision, keep the comment apart, audit it (by note id) and tell the worker."""
    proposal.status = status
    proposal.decided_at, proposal.decided_by_id = now, validator.user_id
    note = _note(session, proposal, validator.user, "comment", comment, now)
    audit.record(
        session,
        action=f"proposal.{status}",
        now=now,
        actor=validator.user,
        subject=proposal.worker.user,
        structure=validator.structure,
        target=proposal.public_id,
        details={"note": note.public_id if note else None},
    )
    _notify(session, proposal.worker, f"proposal.{status}", proposal, now)


def _still_standing(session: Session, public_ids: list[str]) -> list[str]:
    """The observations among ``public_ids`` that have not been withdrawn, in order."""
    withdrawn = set(
        session.scalars(
            select(Observation.public_id).where(
                Observation.public_id.in_(public_ids), Observation.withdrawn_at.is_not(None)
            )
        )
    )
    return [oid for oid in public_ids if oid not in withdrawn]


REVOCATION_REASONS = tuple(r.value for r in STAFF_REVOCATION_REASONS)


def settle_flagged(
    session: Session,
    *,
    validator: Membership,
    proposal: Proposal,
    keep: bool,
    reason: str | None,
    comment: str | None,
    now: datetime,
) -> None:
    """After evidence was withdrawn: confirm the decision, or revoke it with a reason."""
    if not validator.has_role(Role.VALIDATEUR):
        raise NotAllowed("Seul·es les validateur·rices peuvent décider.")
    _same_structure(validator, proposal.structure_id)
    if proposal.status not in ("flagged", "approved"):
        raise ProposalClosed()
    if not keep and reason not in REVOCATION_REASONS:
        raise DecisionError("Choisissez la raison du retrait dans la liste.")
    note = _note(session, proposal, validator.user, "comment", comment, now)
    if keep:
        proposal.status = "approved"
        # Confirmed on what remains: withdrawn observations no longer back the decision,
        # so that the next recompute does not flag it again for the same withdrawal.
        proposal.evidence = _still_standing(session, proposal.evidence)
        action = "proposal.confirmed"
        details: dict[str, object] = {}
    else:
        proposal.status = "revoked"
        action = "proposal.revoked"
        details = {"reason": reason}
        _notify(session, proposal.worker, "proposal.revoked", proposal, now)
        revocations.revoke_decision(
            session, proposal, reason=RevocationReason(reason), now=now, actor=validator.user
        )
    proposal.decided_at, proposal.decided_by_id = now, validator.user_id
    details["note"] = note.public_id if note else None
    audit.record(
        session,
        action=action,
        now=now,
        actor=validator.user,
        subject=proposal.worker.user,
        structure=validator.structure,
        target=proposal.public_id,
        details=details,
    )
    recompute_worker(session, worker=proposal.worker, now=now, templates=[proposal.template])
