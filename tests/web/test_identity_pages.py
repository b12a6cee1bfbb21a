"""Staff change a worker's email or telephone, then re-issue their badges in one action
(BDG-04); the admin gives the structure's LinkedIn page id (SHR-04)."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app import openbadges
from app.domain.badges import REVOCATION_WORDING, RevocationReason
from app.domain.errors import StructureError
from app.extensions import db
from app.models import Assertion, AuditEvent, FileReadLog, OutboundNotification, Structure, User
from app.services import senders, structures
from app.services.demo import DEMO_STRUCTURE
from app.services.senders import mask_address
from tests.api import member, sign_in
from tests.support.routes import changed_tables, snapshot
from tests.support.world import NOW

pytestmark = pytest.mark.db

NEW_EMAIL = "lea.nouvelle@exemple.fr"


@pytest.fixture
def app(world_app_with) -> Flask:  # type: ignore[no-untyped-def]
    return world_app_with(NOW=lambda: NOW)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def _contact_url(app: Flask, login: str) -> str:
    with app.app_context():
        worker = member(db.session, login)
        return f"/s/{worker.structure.public_id}/salaries/{worker.public_id}/coordonnees"


def _reissue_url(app: Flask, login: str) -> str:
    return _contact_url(app, login).removesuffix("/coordonnees") + "/badges/reemettre"


def _live(app: Flask, login: str) -> list[tuple[str, str, str, bool, str, str]]:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.login == login)).one()
        return [
            (a.public_id, a.recipient_hash, a.consent, a.on_profile, a.earner_name, a.salt)
            for a in db.session.scalars(
                select(Assertion)
                .where(Assertion.user_id == user.id, Assertion.revoked_at.is_(None))
                .order_by(Assertion.id)
            )
        ]


def test_changing_an_email_then_re_issuing_in_one_action(app: Flask) -> None:
    claire = sign_in(app, "claire.admin")
    url = _contact_url(app, "lea")
    page = _text(claire.get(url))
    assert 'value="lea.petit@exemple.fr"' in page
    assert "Les badges numériques de la personne sont délivrés à son adresse e-mail." in page
    assert "portent l'ancienne adresse" not in page
    before = _live(app, "lea")

    saved = claire.post(url, data={"email": "Lea.Nouvelle@Exemple.fr", "phone": ""})
    assert saved.status_code == 302 and saved.headers["Location"] == url
    page = _text(claire.get(url))
    assert "Les coordonnées sont enregistrées." in page
    assert "2 badge(s) numérique(s) portent l'ancienne adresse" in page
    assert "Ré-émettre les badges à la nouvelle adresse" in page
    assert _live(app, "lea") == before  # saving the address re-issues nothing by itself

    done = claire.post(_reissue_url(app, "lea"), follow_redirects=True)
    assert done.status_code == 200
    page = _text(done)
    assert "2 badge(s) numérique(s) ré-émis à la nouvelle adresse." in page
    assert "portent l'ancienne adresse" not in page
    after = _live(app, "lea")
    assert [row[2:5] for row in after] == [row[2:5] for row in before]  # choices kept
    for _pid, hashed, *_rest, salt in after:
        assert hashed == openbadges.hash_identity(NEW_EMAIL, salt)
    # The accepted one's old address answers, withdrawn with the public wording.
    old_accepted = next(row[0] for row in before if row[2] == "accepted")
    hosted = app.test_client().get(f"/badges/{old_accepted}.json").get_json()
    assert hosted["revoked"] is True
    assert hosted["revocationReason"] == REVOCATION_WORDING[RevocationReason.IDENTITY_UPDATED]
    assert hosted["revocationReason"].startswith("Identité de la personne mise à jour")
    with app.app_context():
        lea = member(db.session, "lea")
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_id == lea.user_id)
        ).all()
        assert actions.count("account.contact_changed") == 1
        assert actions.count("badge.reissued") == 2
        # Opening the page is a staff read of the worker's file (PRIV-11).
        pages = db.session.scalars(
            select(FileReadLog.page).where(FileReadLog.worker_id == lea.id)
        ).all()
        assert "coordonnees" in pages

    # A second click finds nothing to do and writes nothing.
    state = snapshot(app)
    assert claire.post(_reissue_url(app, "lea")).status_code == 302
    assert changed_tables(state, snapshot(app)) == ()
    assert "Tous les badges numériques portent déjà la bonne adresse." in _text(claire.get(url))


def test_the_worker_file_links_to_the_contact_page(app: Flask) -> None:
    page = _text(sign_in(app, "sophie.cip").get(_contact_url(app, "karim").rsplit("/", 1)[0]))
    assert "Coordonnées" in page and "+33612345678" in page
    assert _contact_url(app, "karim") in page
    encadrant = _text(
        sign_in(app, "marc.encadrant").get(_contact_url(app, "karim").rsplit("/", 1)[0])
    )
    assert _contact_url(app, "karim") not in encadrant


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"email": "pas-une-adresse", "phone": ""}, "Cette adresse e-mail n'est pas valide."),
        ({"email": "claire.martin@jalon.example", "phone": ""}, "déjà utilisée"),
        (
            {"email": "lea.petit@exemple.fr", "phone": "12"},
            "Ce numéro de téléphone n'est pas valide.",
        ),
    ],
)
def test_a_bad_email_or_telephone_is_refused_in_french_and_nothing_is_written(
    app: Flask, body: dict[str, str], message: str
) -> None:
    claire = sign_in(app, "claire.admin")
    state = snapshot(app)
    refused = claire.post(_contact_url(app, "lea"), data=body)
    assert refused.status_code == 400
    assert message in _text(refused)
    assert 'aria-invalid="true"' in _text(refused)
    assert changed_tables(state, snapshot(app)) == ()


def test_staff_of_another_structure_get_404_and_an_encadrant_403(app: Flask) -> None:
    contact, reissue = _contact_url(app, "karim"), _reissue_url(app, "karim")
    body = {"email": "karim@exemple.fr", "phone": ""}
    b_admin, claire = sign_in(app, "b.admin"), sign_in(app, "claire.admin")
    sophie, marc = sign_in(app, "sophie.cip"), sign_in(app, "marc.encadrant")
    state = snapshot(app)
    assert b_admin.get(contact).status_code == 404
    assert b_admin.post(contact, data=body).status_code == 404
    assert b_admin.post(reissue).status_code == 404
    # A's admin with B's worker id: not one of A's workers.
    with app.app_context():
        b_worker = member(db.session, "b.salarie").public_id
    foreign = contact.replace(contact.split("/")[4], b_worker)
    assert claire.get(foreign).status_code == 404
    assert claire.post(foreign, data=body).status_code == 404
    # A conseillère sees only her caseload (léa is not in it).
    assert sophie.get(_contact_url(app, "lea")).status_code == 404
    assert marc.get(contact).status_code == 403
    assert marc.post(contact, data=body).status_code == 403
    assert marc.post(reissue).status_code == 403
    assert changed_tables(state, snapshot(app)) == ()


def test_a_conseillere_updates_her_worker_s_telephone_and_re_issues(app: Flask) -> None:
    sophie = sign_in(app, "sophie.cip")
    url = _contact_url(app, "karim")
    assert sophie.post(url, data={"email": "", "phone": "07 81 22 33 44"}).status_code == 302
    assert "3 badge(s) numérique(s) portent l'ancienne adresse" in _text(sophie.get(url))
    done = _text(sophie.post(_reissue_url(app, "karim"), follow_redirects=True))
    assert "3 badge(s) numérique(s) ré-émis à la nouvelle adresse." in done
    for _pid, hashed, *_rest, salt in _live(app, "karim"):
        assert hashed == openbadges.hash_identity("+33781223344", salt)


def test_the_person_is_told_at_the_new_address_and_staff_see_it_on_her_file(
    world_app_with, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox.jsonl"
    app = world_app_with(NOW=lambda: NOW, OUTBOX_PATH=str(outbox))
    claire = sign_in(app, "claire.admin")
    url = _contact_url(app, "lea")
    assert claire.post(url, data={"email": NEW_EMAIL, "phone": ""}).status_code == 302
    assert not outbox.exists()  # a new address alone tells nobody anything

    assert claire.post(_reissue_url(app, "lea")).status_code == 302

    with app.app_context():
        lea = member(db.session, "lea")
        told = db.session.scalars(
            select(OutboundNotification).where(OutboundNotification.user_id == lea.user_id)
        ).all()
        # One message for her two badges (one accepted, whose link she may have shared),
        # written to the outbox: no provider in the tests, so neither sent nor an attempt.
        assert [(n.kind, n.channel, n.attempts, n.sent_at, n.last_error) for n in told] == [
            ("badges_renewed", "email", 0, None, "outbox")
        ]
        structure = lea.structure.public_id
    (written,) = senders.read_outbox(outbox, structure)
    assert written["kind"] == "badges_renewed" and written["to"] == mask_address(NEW_EMAIL)
    assert "/moi/badges" in written["body"] and "nouveau lien" in written["body"]
    worker_file = _text(claire.get(url.removesuffix("/coordonnees")))
    assert "Badges ré-émis à la nouvelle adresse" in worker_file
    assert "Écrit dans le fichier local : rien n'est parti" in worker_file

    # Staff may send it again (she says it never came), from her file or the outbox.
    assert "Renvoyer" in worker_file and "Renvoyer" in _text(
        claire.get(f"/s/{structure}/admin/envois")
    )
    (notice,) = told
    response = claire.post(f"/s/{structure}/admin/envois/{notice.public_id}/renvoyer")
    assert response.status_code == 302
    first, again = senders.read_outbox(outbox, structure)
    assert (again["kind"], again["to"], again["body"]) == (
        first["kind"],
        first["to"],
        first["body"],
    )


# -- The structure's LinkedIn page id ----------------------------------------------------------


def _settings(app: Flask) -> tuple[str, dict[str, str]]:
    with app.app_context():
        s = db.session.scalars(select(Structure).where(Structure.name == DEMO_STRUCTURE)).one()
        return f"/s/{s.public_id}/admin/structure", {
            "name": s.name,
            "kind": s.kind.value,
            "model": s.model.value,
            "timezone": s.timezone,
            "country": s.country,
            "email": s.email or "",
            "self_assessment_format": s.self_assessment_format,
        }


def _linkedin_id(app: Flask) -> str | None:
    with app.app_context():
        return db.session.scalars(
            select(Structure.linkedin_organization_id).where(Structure.name == DEMO_STRUCTURE)
        ).one()


def test_the_linkedin_id_is_saved_as_digits_and_audited(app: Flask) -> None:
    url, body = _settings(app)
    claire = sign_in(app, "claire.admin")
    page = _text(claire.get(url))
    assert "Identifiant LinkedIn de la structure (organizationId)" in page
    assert "LinkedIn montre seulement le nom de la structure" in page
    saved = claire.post(url, data={**body, "linkedin_organization_id": " 12345678 "})
    assert saved.status_code == 302
    assert _linkedin_id(app) == "12345678"
    assert 'value="12345678"' in _text(claire.get(url))
    with app.app_context():
        assert db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "structure.updated")
        ).all() == ["structure.updated"]
    assert claire.post(url, data={**body, "linkedin_organization_id": ""}).status_code == 302
    assert _linkedin_id(app) is None


@pytest.mark.parametrize("given", ["jardins-du-val", "123abc", "https://linkedin.com/company/42"])
def test_a_linkedin_id_with_letters_is_refused_and_nothing_is_written(
    app: Flask, given: str
) -> None:
    url, body = _settings(app)
    claire = sign_in(app, "claire.admin")
    state = snapshot(app)
    refused = claire.post(url, data={**body, "linkedin_organization_id": given})
    assert refused.status_code == 400
    assert "Écrivez seulement des chiffres, par exemple 12345678." in _text(refused)
    assert changed_tables(state, snapshot(app)) == ()
    assert _linkedin_id(app) is None


def test_the_service_refuses_letters_too(app: Flask) -> None:
    with app.app_context():
        s = db.session.scalars(select(Structure).where(Structure.name == DEMO_STRUCTURE)).one()
        admin = member(db.session, "claire.admin").user
        with pytest.raises(StructureError, match="que des chiffres"):
            structures.update_structure(
                db.session,
                actor=admin,
                structure=s,
                now=NOW,
                name="Autre nom",
                kind=s.kind,
                model=s.model,
                timezone=s.timezone,
                country=s.country,
                email=s.email,
                url=s.url,
                issuer=structures.IssuerProfile(
                    name=None, description=None, network=None, linkedin_organization_id="4 2"
                ),
            )
        assert s.name == DEMO_STRUCTURE and s.linkedin_organization_id is None
