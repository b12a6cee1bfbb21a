"""A withdrawn badge in public, and the staff form that withdraws it (BDG-10).

Its address keeps answering 200: the hosted JSON (and the hosted baked images) say
``revoked`` with the public words of the reason, the page says « Retiré » with the words
and the day, while the JWS and the signed images stay byte for byte what was issued. Each
issuer's RevocationList names its own withdrawn badges only. A validatrice withdraws an
approved decision, and so its badge, from the proposal page, with a reason from the staff
list only; nobody else can.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import openbadges
from app.domain.badges import REVOCATION_WORDING, STAFF_REVOCATION_REASONS, RevocationReason
from app.extensions import db
from app.models import (
    Assertion,
    AuditEvent,
    BadgeClass,
    BadgeTemplate,
    Notification,
    Proposal,
    Structure,
    User,
)
from app.services import revocations
from app.services.demo import DEMO_STRUCTURE
from tests.api import sign_in
from tests.support.routes import changed_tables, snapshot
from tests.support.world import B_NAME, BASE_URL, WORKER_SECRET

pytestmark = pytest.mark.db

JSON_LD = "application/ld+json"
#: When things are withdrawn in these tests: 21 November 2026 in Paris, 20th in UTC.
CLOCK = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
PARIS_DAY = "21 novembre 2026"


@pytest.fixture
def app(world_app_with) -> Flask:  # type: ignore[no-untyped-def]
    return world_app_with(NOW=lambda: CLOCK)


@pytest.fixture
def anyone(app: Flask) -> FlaskClient:
    return app.test_client()


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def _badge_id(app: Flask, login: str, code: str, *, live: bool = True) -> str:
    """The public id of ``login``'s badge of template ``code`` (the live one, or the
    withdrawn one)."""
    with app.app_context():
        state = Assertion.revoked_at.is_(None) if live else Assertion.revoked_at.is_not(None)
        return db.session.scalars(
            select(Assertion.public_id)
            .join(User, User.id == Assertion.user_id)
            .join(BadgeClass, BadgeClass.id == Assertion.badge_class_id)
            .join(BadgeTemplate, BadgeTemplate.id == BadgeClass.template_id)
            .where(User.login == login, BadgeTemplate.code == code, state)
        ).one()


def _revoke(app: Flask, badge_id: str, reason: RevocationReason) -> None:
    with app.app_context():
        badge = db.session.scalars(select(Assertion).where(Assertion.public_id == badge_id)).one()
        revocations.revoke(db.session, badge, reason=reason, now=CLOCK)
        db.session.commit()


def _issuer_id(app: Flask, name: str) -> str:
    with app.app_context():
        return db.session.scalars(select(Structure.public_id).where(Structure.name == name)).one()


def _stored(app: Flask, badge_id: str) -> tuple[str, datetime | None, str | None, str]:
    """(proposal status, revoked at, reason, proposal id) of a badge, as stored."""
    with app.app_context():
        badge = db.session.scalars(select(Assertion).where(Assertion.public_id == badge_id)).one()
        return (
            badge.proposal.status,
            badge.revoked_at,
            badge.revocation_reason,
            badge.proposal.public_id,
        )


def _hosted(client: FlaskClient, badge_id: str) -> dict[str, Any]:
    response = client.get(f"/badges/{badge_id}.json")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def _downloads(client: FlaskClient, badge_id: str) -> dict[str, bytes]:
    """The JWS and the four baked images of a badge."""
    found = {"jws": client.get(f"/badges/{badge_id}.jws").get_data()}
    for fmt in ("png", "svg"):
        for query in ("", "?variante=signee"):
            response = client.get(f"/badges/{badge_id}/badge.{fmt}{query}")
            assert response.status_code == 200
            found[f"{fmt}{query}"] = response.get_data()
    return found


# -- A withdrawn badge in public --------------------------------------------------------------


def test_a_revoked_badge_keeps_answering_and_says_so_while_its_jws_stays_as_issued(app, anyone):
    badge_id = _badge_id(app, "lea", "planifier")
    before = _hosted(anyone, badge_id)
    etag = anyone.get(f"/badges/{badge_id}.json").headers["ETag"]
    unchanged = anyone.get(f"/badges/{badge_id}.json", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    files = _downloads(anyone, badge_id)
    assert "revoked" not in before

    _revoke(app, badge_id, RevocationReason.WORKER_REQUEST)

    words = REVOCATION_WORDING[RevocationReason.WORKER_REQUEST]
    after = _hosted(anyone, badge_id)
    assert after == before | {"revoked": True, "revocationReason": words}
    negotiated = anyone.get(f"/badges/{badge_id}", headers={"Accept": JSON_LD})
    assert negotiated.status_code == 200 and negotiated.headers["Content-Type"] == JSON_LD
    assert json.loads(negotiated.get_data(as_text=True)) == after
    # A cache holding the document from before the withdrawal gets the new one.
    again = anyone.get(f"/badges/{badge_id}.json", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag

    now = _downloads(anyone, badge_id)
    for signed in ("jws", "png?variante=signee", "svg?variante=signee"):
        assert now[signed] == files[signed], signed  # what was signed is never re-made
    assert openbadges.unbake_png(now["png?variante=signee"]) == files["jws"].decode()
    assert "revoked" not in openbadges.parse_jws(files["jws"].decode())[1]
    # The hosted images carry the hosted JSON, which now says « revoked ».
    assert json.loads(openbadges.unbake_png(now["png"])) == after
    assert json.loads(openbadges.unbake_svg(now["svg"])) == after
    assert now["png"] != files["png"] and now["svg"] != files["svg"]


def test_the_page_of_a_revoked_badge_says_retire_with_the_words_and_the_day(app, anyone):
    badge_id = _badge_id(app, "ousmane", "travailler-en-equipe")
    assert "Valide" in _text(anyone.get(f"/badges/{badge_id}", headers={"Accept": "text/html"}))
    _revoke(app, badge_id, RevocationReason.EVIDENCE_WITHDRAWN)

    page = anyone.get(f"/badges/{badge_id}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = _text(page)
    words = REVOCATION_WORDING[RevocationReason.EVIDENCE_WITHDRAWN]
    assert f"Retiré</strong> — {words}." in text
    assert f"Ce badge a été retiré le {PARIS_DAY} : il ne vaut plus comme preuve." in text
    assert "Valide" not in text and "Expiré" not in text


def test_the_demo_s_withdrawn_badges_say_why_and_the_replacement_is_expired(app, anyone):
    pages = {
        key: _text(anyone.get(f"/badges/{badge_id}", headers={"Accept": "text/html"}))
        for key, badge_id in {
            "anticiper": _badge_id(app, "lea", "anticiper", live=False),
            "compromised": _badge_id(app, "karim", "qualite-du-travail", live=False),
            "replacement": _badge_id(app, "karim", "qualite-du-travail"),
        }.items()
    }
    assert (
        f"Retiré</strong> — {REVOCATION_WORDING[RevocationReason.ISSUING_ERROR]}."
        in (pages["anticiper"])
    )
    # Withdrawn and expired: the withdrawal is what the page says.
    compromised = REVOCATION_WORDING[RevocationReason.KEY_COMPROMISED]
    assert f"Retiré</strong> — {compromised}." in pages["compromised"]
    assert "Expiré" not in pages["compromised"] and "Valide" not in pages["compromised"]
    assert "Expiré" in pages["replacement"] and "Retiré" not in pages["replacement"]


def test_each_revocation_list_names_its_own_issuer_s_withdrawn_badges(app, anyone):
    a_id, b_id = _issuer_id(app, DEMO_STRUCTURE), _issuer_id(app, B_NAME)

    def listed(issuer_id: str) -> list[dict[str, str]]:
        response = anyone.get(f"/emetteurs/{issuer_id}/revocations")
        assert response.status_code == 200 and response.headers["Content-Type"] == JSON_LD
        document = json.loads(response.get_data(as_text=True))
        assert document["issuer"] == f"{BASE_URL}/emetteurs/{issuer_id}"
        return document["revokedAssertions"]

    def entry(badge_id: str, reason: RevocationReason) -> dict[str, str]:
        return {
            "id": f"{BASE_URL}/badges/{badge_id}",
            "revocationReason": REVOCATION_WORDING[reason],
        }

    demo = [
        entry(
            _badge_id(app, "karim", "qualite-du-travail", live=False),
            RevocationReason.KEY_COMPROMISED,
        ),
        entry(_badge_id(app, "lea", "anticiper", live=False), RevocationReason.ISSUING_ERROR),
    ]
    assert listed(a_id) == demo
    assert listed(b_id) == []

    b_badge = _badge_id(app, "b.salarie", "organiser")
    _revoke(app, b_badge, RevocationReason.WORKER_REQUEST)
    assert listed(b_id) == [entry(b_badge, RevocationReason.WORKER_REQUEST)]
    assert listed(a_id) == demo

    lea = _badge_id(app, "lea", "planifier")
    _revoke(app, lea, RevocationReason.EVIDENCE_WITHDRAWN)
    assert listed(a_id) == [*demo, entry(lea, RevocationReason.EVIDENCE_WITHDRAWN)]
    assert listed(b_id) == [entry(b_badge, RevocationReason.WORKER_REQUEST)]


# -- The staff form -------------------------------------------------------------------------------


def _decision_url(app: Flask, badge_id: str, structure: str = DEMO_STRUCTURE) -> str:
    proposal_id = _stored(app, badge_id)[3]
    return f"/s/{_issuer_id(app, structure)}/propositions/{proposal_id}"


def test_a_validatrice_withdraws_an_approved_decision_and_its_badge(app, anyone):
    badge_id = _badge_id(app, "lea", "planifier")
    url = _decision_url(app, badge_id)
    nadia = sign_in(app, "nadia.validatrice")
    page = _text(nadia.get(url))
    assert 'value="revoke"' in page and "Retirer la décision et le badge" in page
    # The staff reasons, each labelled with the words the public page will show; no other.
    for reason in RevocationReason:
        option = f'<option value="{reason.value}">{REVOCATION_WORDING[reason]}</option>'
        assert (option in page) == (reason in STAFF_REVOCATION_REASONS), reason
        assert (f'value="{reason.value}"' in page) == (reason in STAFF_REVOCATION_REASONS)

    done = nadia.post(f"{url}/decision", data={"decision": "revoke", "reason": "demande_salarie"})
    assert done.status_code == 302

    status, revoked_at, reason, proposal_id = _stored(app, badge_id)
    assert (status, revoked_at, reason) == ("revoked", CLOCK, "demande_salarie")
    with app.app_context():
        nadia_id = db.session.scalars(
            select(User.id).where(User.login == "nadia.validatrice")
        ).one()
        (event,) = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "badge.revoked", AuditEvent.target == badge_id
            )
        ).all()
        assert (event.actor_id, event.details) == (nadia_id, {"reason": "demande_salarie"})
        told = db.session.scalars(
            select(Notification.kind)
            .join(User, User.id == Notification.user_id)
            .where(User.login == "lea", Notification.target == proposal_id)
        ).all()
        assert "proposal.revoked" in told
    words = REVOCATION_WORDING[RevocationReason.WORKER_REQUEST]
    public = _text(anyone.get(f"/badges/{badge_id}", headers={"Accept": "text/html"}))
    assert f"Retiré</strong> — {words}." in public and PARIS_DAY in public
    assert _hosted(anyone, badge_id)["revocationReason"] == words


def test_a_reason_outside_the_staff_list_is_refused_and_writes_nothing(app):
    badge_id = _badge_id(app, "lea", "planifier")
    url = f"{_decision_url(app, badge_id)}/decision"
    nadia = sign_in(app, "nadia.validatrice")
    before = snapshot(app)
    for data in (
        {"reason": "cle_compromise"},
        {"reason": "identite_mise_a_jour"},
        {"reason": "autre"},
        {"reason": "n'importe quoi"},
        {"reason": ""},
        {},
    ):
        refused = nadia.post(url, data={"decision": "revoke", **data})
        assert refused.status_code == 400, data
    assert changed_tables(before, snapshot(app)) == ()
    assert _stored(app, badge_id)[:3] == ("approved", None, None)


def test_nobody_but_the_structure_s_validateurs_withdraws_a_badge(app):
    badge_id = _badge_id(app, "lea", "planifier")
    url = _decision_url(app, badge_id)
    staff = {
        login: sign_in(app, login) for login in ("sophie.cip", "marc.encadrant", "b.validateur")
    }
    lea = sign_in(app, "lea", WORKER_SECRET)
    assert 'value="revoke"' not in _text(staff["sophie.cip"].get(url))
    before = snapshot(app)
    data = {"decision": "revoke", "reason": "erreur_emission"}
    for login in ("sophie.cip", "marc.encadrant"):
        assert staff[login].post(f"{url}/decision", data=data).status_code == 403, login
    assert lea.post(f"{url}/decision", data=data).status_code == 403
    # Another structure's validateur: not found, from this structure or from their own.
    assert staff["b.validateur"].post(f"{url}/decision", data=data).status_code == 404
    from_b = _decision_url(app, badge_id, B_NAME)
    assert staff["b.validateur"].post(f"{from_b}/decision", data=data).status_code == 404
    assert changed_tables(before, snapshot(app)) == ()
    assert _stored(app, badge_id)[:3] == ("approved", None, None)


def test_a_withdrawn_decision_offers_no_second_withdrawal(app):
    badge_id = _badge_id(app, "lea", "anticiper", live=False)
    url = _decision_url(app, badge_id)
    nadia = sign_in(app, "nadia.validatrice")
    assert 'value="revoke"' not in _text(nadia.get(url))
    before = snapshot(app)
    again = nadia.post(f"{url}/decision", data={"decision": "revoke", "reason": "demande_salarie"})
    assert again.status_code == 409
    assert changed_tables(before, snapshot(app)) == ()
    with app.app_context():
        (reason,) = db.session.scalars(
            select(Assertion.revocation_reason).where(Assertion.public_id == badge_id)
        ).all()
        assert reason == "erreur_emission"
        assert (
            db.session.scalars(
                select(Proposal.status).join(Assertion).where(Assertion.public_id == badge_id)
            ).one()
            == "revoked"
        )
