"""The structure chooses how it appears as an Open Badges issuer (BDG-01)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Structure
from app.services.demo import DEMO_STRUCTURE
from tests.support.world import STAFF_SECRET

pytestmark = pytest.mark.db


def _admin(app: Flask):  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = client.post("/connexion", data={"login": "claire.admin", "secret": STAFF_SECRET})
    assert response.status_code == 302
    return client


def _structure() -> Structure:
    return db.session.scalars(select(Structure).where(Structure.name == DEMO_STRUCTURE)).one()


def _body(structure: Structure, **issuer: str) -> dict[str, str]:
    return {
        "name": structure.name,
        "kind": structure.kind.value,
        "model": structure.model.value,
        "timezone": structure.timezone,
        "country": structure.country,
        "email": structure.email or "",
        "self_assessment_format": structure.self_assessment_format,
        **issuer,
    }


def test_the_display_name_and_description_reach_the_issuer_profile_the_network_only_its_page(
    world_app: Flask,
) -> None:
    admin = _admin(world_app)
    with world_app.app_context():
        structure = _structure()
        sid, body = (
            structure.public_id,
            _body(
                structure,
                issuer_name="Jardins du Val",
                issuer_description="Entretien d'espaces verts et maraîchage biologique.",
                network_name="Réseau des jardins solidaires",
            ),
        )
    response = admin.post(f"/s/{sid}/admin/structure", data=body, follow_redirects=True)
    assert response.status_code == 200 and "Attention" not in response.get_data(as_text=True)

    profile = world_app.test_client().get(
        f"/emetteurs/{sid}", headers={"Accept": "application/ld+json"}
    )
    document = profile.get_json(force=True)
    assert document["name"] == "Jardins du Val"
    assert document["description"] == "Entretien d'espaces verts et maraîchage biologique."
    assert "Réseau des jardins solidaires" not in profile.get_data(as_text=True)
    page = world_app.test_client().get(f"/emetteurs/{sid}", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert "Jardins du Val" in html and "Réseau des jardins solidaires" in html


def test_a_blocked_term_in_what_badges_show_warns_the_admin_who_chooses(world_app: Flask) -> None:
    admin = _admin(world_app)
    with world_app.app_context():
        structure = _structure()
        sid, body = structure.public_id, _body(structure, issuer_name="Chantier d'insertion du Val")
    page = admin.post(f"/s/{sid}/admin/structure", data=body, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Attention" in html and "chantier d" in html.lower()
    with world_app.app_context():
        assert _structure().issuer_name == "Chantier d'insertion du Val"  # warned, not refused

    body["issuer_name"] = ""
    html = admin.post(f"/s/{sid}/admin/structure", data=body, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Attention" not in html
    with world_app.app_context():
        structure = _structure()
        assert structure.issuer_name is None
        assert structure.issuer_display_name == DEMO_STRUCTURE
