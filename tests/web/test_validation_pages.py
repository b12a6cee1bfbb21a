"""Validation pages: the validateur's queue, a proposal explained, decisions, manual proposals.

The clock of the app is fixed (``NOW`` config) just after julie's evidence was recorded, so
that the criteria checked at approval are those of the proposal.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.domain.enums import WithdrawalReason
from app.extensions import db
from app.models import AuditEvent, DecisionNote, Notification, Observation, Proposal, User
from app.services import audit, decisions, observations
from app.services.badges import Issuing
from tests.api import member, sign_in
from tests.services.test_assessments import TEAMWORK, T, scene
from tests.support.world import WORKER_SECRET

CLOCK = T + timedelta(hours=1)


@dataclass(frozen=True)
class Ids:
    structure: str
    proposal: str
    b_proposal: str
    julie: str
    karim: str
    template: str

    def url(self, tail: str) -> str:
        return f"/s/{self.structure}{tail}"


@pytest.fixture
def app(world_app_with) -> Flask:  # type: ignore[no-untyped-def]
    return world_app_with(NOW=lambda: CLOCK)


@pytest.fixture
def ids(app: Flask) -> Ids:
    """Julie's criteria are met (Marc and Sophie, two situations): a pending proposal."""
    with app.app_context():
        s = scene(db.session)
        s.met()
        (proposal,) = s.proposals()
        b_salarie = member(db.session, "b.salarie")
        b_proposal = db.session.scalars(
            select(Proposal).where(Proposal.worker_id == b_salarie.id, Proposal.status == "pending")
        ).one()
        found = Ids(
            structure=s.worker.structure.public_id,
            proposal=proposal.public_id,
            b_proposal=b_proposal.public_id,
            julie=s.worker.public_id,
            karim=member(db.session, "karim").public_id,
            template=s.template.public_id,
        )
        db.session.commit()
        return found


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def _proposal(app: Flask, public_id: str) -> tuple[str, list[str], list[str]]:
    """A proposal's status, the kinds of its notes and the actions of its audit rows."""
    with app.app_context():
        proposal = db.session.scalars(select(Proposal).where(Proposal.public_id == public_id)).one()
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.target == public_id).order_by(AuditEvent.id)
        ).all()
        return proposal.status, [n.kind for n in proposal.notes], list(actions)


def _notifications(app: Flask, login: str) -> list[tuple[str, str | None]]:
    with app.app_context():
        return [
            (n.kind, n.target)
            for n in db.session.scalars(
                select(Notification)
                .join(User, User.id == Notification.user_id)
                .where(User.login == login)
            )
        ]


def test_the_queue_shows_the_structures_proposals_and_not_the_other_structures(app, ids):
    page = sign_in(app, "nadia.validatrice").get(ids.url("/validation"))
    assert page.status_code == 200
    body = _text(page)
    assert f"/propositions/{ids.proposal}" in body
    assert "Julie Moreau — Travailler en équipe, niveau 3" in body
    assert "critères atteints" in body
    assert ids.b_proposal not in body and "Salarie Bois" not in body


def test_a_proposal_of_another_structure_is_not_found(app, ids):
    nadia = sign_in(app, "nadia.validatrice")
    assert nadia.get(ids.url(f"/propositions/{ids.b_proposal}")).status_code == 404
    posted = nadia.post(
        ids.url(f"/propositions/{ids.b_proposal}/decision"), data={"decision": "approve"}
    )
    assert posted.status_code == 404
    assert _proposal(app, ids.b_proposal)[0] == "pending"


def test_the_proposal_page_shows_each_criterion_and_the_evidence(app, ids):
    body = _text(sign_in(app, "nadia.validatrice").get(ids.url(f"/propositions/{ids.proposal}")))
    for line in (
        "2 observations au niveau visé sur 2 requises ✓",
        "2 observateur·rices sur 2 requis·es ✓",
        "2 situations de travail sur 2 requises ✓",
        "17 jours entre la première et la dernière observation sur 14 requis ✓",
    ):
        assert line in body
    assert "Observations utilisées (2)" in body
    for seen in ("Marc Lefèvre", "Sophie Bernard", "Désherbage du jardin partagé"):
        assert seen in body
    assert "Tonte et taille au parc des Tilleuls" in body
    assert 'value="approve"' in body and 'value="reject"' in body


def test_a_manual_proposal_shows_what_is_missing_and_its_justification(app, ids):
    sophie = sign_in(app, "sophie.cip")
    sent = sophie.post(
        ids.url(f"/salaries/{ids.julie}/proposer"),
        data={"badge": f"{ids.template}:4", "justification": "Guide les nouveaux au potager."},
    )
    assert sent.status_code == 302
    with app.app_context():
        manual = db.session.scalars(
            select(Proposal).where(Proposal.origin == "manual", Proposal.level == 4)
        ).one()
        manual_id = manual.public_id
    body = _text(sign_in(app, "nadia.validatrice").get(ids.url(f"/propositions/{manual_id}")))
    assert "0 observations au niveau visé sur 2 requises ✗" in body
    assert "« Guide les nouveaux au potager. » — Sophie Bernard" in body
    assert "Aucune observation au niveau visé." in body


def test_approving_through_the_form_tells_the_worker(app, ids):
    nadia = sign_in(app, "nadia.validatrice")
    response = nadia.post(
        ids.url(f"/propositions/{ids.proposal}/decision"),
        data={"decision": "approve", "comment": "Observations concordantes."},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(ids.url("/validation"))
    status, notes, actions = _proposal(app, ids.proposal)
    assert (status, notes) == ("approved", ["comment"])
    assert actions == ["proposal.created", "proposal.approved"]
    assert _notifications(app, "julie") == [("proposal.approved", ids.proposal)]
    queue = _text(nadia.get(ids.url("/validation")))
    assert "Validé. La personne en est informée." in queue
    assert ids.proposal not in queue


def test_a_rejection_without_a_comment_is_refused_in_french(app, ids):
    nadia = sign_in(app, "nadia.validatrice")
    response = nadia.post(
        ids.url(f"/propositions/{ids.proposal}/decision"), data={"decision": "reject"}
    )
    assert response.status_code == 422
    assert "Expliquez le refus en quelques mots." in _text(response)
    assert _proposal(app, ids.proposal) == ("pending", [], ["proposal.created"])
    assert _notifications(app, "julie") == []


def test_a_conseiller_reads_the_proposal_but_cannot_decide(app, ids):
    sophie = sign_in(app, "sophie.cip")
    page = sophie.get(ids.url(f"/propositions/{ids.proposal}"))
    assert page.status_code == 200
    assert 'value="approve"' not in _text(page)
    for decision in ("approve", "reject"):
        posted = sophie.post(
            ids.url(f"/propositions/{ids.proposal}/decision"),
            data={"decision": decision, "comment": "Je valide."},
        )
        assert posted.status_code == 403
    assert _proposal(app, ids.proposal) == ("pending", [], ["proposal.created"])
    assert _notifications(app, "julie") == []


def test_a_worker_cannot_open_the_queue_and_a_validateur_does_not_propose(app, ids):
    karim = sign_in(app, "karim", WORKER_SECRET)
    assert karim.get(ids.url("/validation")).status_code == 403
    assert karim.get(ids.url(f"/propositions/{ids.proposal}")).status_code == 403
    nadia = sign_in(app, "nadia.validatrice")
    url = ids.url(f"/salaries/{ids.julie}/proposer")
    assert nadia.get(url).status_code == 403
    data = {"badge": f"{ids.template}:4", "justification": "Je propose."}
    assert nadia.post(url, data=data).status_code == 403


def test_a_failed_audit_write_rolls_the_approval_back(app, ids, monkeypatch):
    real = audit.record

    def failing(session, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs["action"] == "proposal.approved":
            raise RuntimeError("audit write failed")
        return real(session, **kwargs)

    monkeypatch.setattr(audit, "record", failing)
    nadia = sign_in(app, "nadia.validatrice")
    with pytest.raises(RuntimeError, match="audit write failed"):
        nadia.post(
            ids.url(f"/propositions/{ids.proposal}/decision"),
            data={"decision": "approve", "comment": "Très bien."},
        )
    assert _proposal(app, ids.proposal) == ("pending", [], ["proposal.created"])
    assert _notifications(app, "julie") == []
    with app.app_context():
        comments = select(DecisionNote).where(DecisionNote.kind == "comment")
        assert db.session.scalars(comments).all() == []


def test_a_flagged_decision_is_revoked_through_the_form_with_a_reason(app, ids):
    with app.app_context():
        proposal = db.session.scalars(
            select(Proposal).where(Proposal.public_id == ids.proposal)
        ).one()
        decisions.approve(
            db.session,
            validator=member(db.session, "nadia.validatrice"),
            proposal=proposal,
            comment=None,
            now=CLOCK,
            issuing=Issuing.from_config(app.config),
        )
        oldest = db.session.scalars(
            select(Observation).where(Observation.public_id == proposal.evidence[0])
        ).one()
        observations.withdraw_observation(
            db.session,
            observation=oldest,
            actor=member(db.session, "marc.encadrant"),
            reason=WithdrawalReason.ENTRY_ERROR,
            now=CLOCK,
        )
        assert proposal.status == "flagged"
        db.session.commit()
    nadia = sign_in(app, "nadia.validatrice")
    assert ids.proposal in _text(nadia.get(ids.url("/validation")))
    nadia = sign_in(app, "nadia.validatrice")
    page = _text(nadia.get(ids.url(f"/propositions/{ids.proposal}")))
    assert 'value="keep"' in page and 'value="revoke"' in page
    assert "À revoir : une observation a été retirée" in page
    url = ids.url(f"/propositions/{ids.proposal}/decision")
    refused = nadia.post(url, data={"decision": "revoke", "reason": "inventee"})
    assert refused.status_code == 400
    assert _proposal(app, ids.proposal)[0] == "flagged"
    done = nadia.post(url, data={"decision": "revoke", "reason": "preuves_retirees"})
    assert done.status_code == 302
    status, _notes, actions = _proposal(app, ids.proposal)
    assert (status, actions[-1]) == ("revoked", "proposal.revoked")
    assert ("proposal.revoked", ids.proposal) in _notifications(app, "julie")


def test_sophie_proposes_a_badge_for_karim_with_a_justification(app, ids):
    sophie = sign_in(app, "sophie.cip")
    url = ids.url(f"/salaries/{ids.karim}/proposer")
    form = _text(sophie.get(url))
    assert "Proposer un badge numérique pour Karim Benali" in form
    assert f'value="{ids.template}:4"' in form
    for empty in ("", "   "):
        refused = sophie.post(url, data={"badge": f"{ids.template}:4", "justification": empty})
        assert refused.status_code in (400, 422)
        assert "Ce champ est obligatoire." in _text(refused)
    with app.app_context():
        karim = member(db.session, "karim")
        assert not [
            p
            for p in db.session.scalars(select(Proposal).where(Proposal.worker_id == karim.id))
            if p.origin == "manual"
        ]
    sent = sophie.post(
        url, data={"badge": f"{ids.template}:4", "justification": "Montre les gestes aux autres."}
    )
    assert sent.status_code == 302
    worker_page = sophie.get(sent.headers["Location"])
    assert worker_page.status_code == 200
    assert "La proposition est envoyée aux validateur·rices." in _text(worker_page)
    again = sophie.post(
        url, data={"badge": f"{ids.template}:4", "justification": "Encore une fois."}
    )
    assert again.status_code == 409
    assert "déjà proposé ou validé" in _text(again)
    with app.app_context():
        karim = member(db.session, "karim")
        (manual,) = db.session.scalars(
            select(Proposal).where(Proposal.worker_id == karim.id, Proposal.origin == "manual")
        ).all()
        assert (manual.level, manual.status, manual.template.code) == (4, "pending", TEAMWORK)
        assert [n.text for n in manual.notes] == ["Montre les gestes aux autres."]
