"""The earner's badge pages, the public profile and the conseiller's assisted mode
(SHR-01..09, ACC-02/03/07).

The world's demo structure holds karim's pending « Communiquer », léa's declined
« S'adapter », her accepted « Planifier » (on her open profile, named by first name and
initial) and her withdrawn « Anticiper », ousmane's accepted private badge; structure B
holds b.salarie's accepted badge. Choices go through the pages as a person would make them.
"""

from __future__ import annotations

import html
import io
import re
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.domain.enums import Role
from app.domain.wording import blocked_terms
from app.extensions import db
from app.models import (
    Assertion,
    AuditEvent,
    BadgeTemplate,
    Membership,
    Observation,
    Proposal,
    Structure,
    User,
)
from app.services import badge_templates, decisions, structures
from app.services.badges import Issuing
from app.services.demo import DEMO_STRUCTURE
from app.services.public_urls import PublicUrls
from tests.support.routes import b_member, changed_tables, sign_in, snapshot, structure_b
from tests.support.world import B_NAME, BASE_URL, NOW, STAFF_SECRET, WORKER_SECRET

CLOCK = NOW + timedelta(hours=2)
WORKERS = {"karim", "julie", "ousmane", "lea", "b.salarie"}
HOSTED_SUFFIXES = ("", ".json", ".jws", "/badge.png", "/badge.svg")


@pytest.fixture
def app(world_app_with) -> Flask:  # type: ignore[no-untyped-def]
    return world_app_with(NOW=lambda: CLOCK)


def client_of(app: Flask, login: str) -> FlaskClient:
    return sign_in(app, login, WORKER_SECRET if login in WORKERS else STAFF_SECRET)


def badge_id(app: Flask, login: str, code: str) -> str:
    """The public id of ``login``'s newest badge of template ``code``."""
    with app.app_context():
        return db.session.scalars(
            select(Assertion.public_id)
            .join(User, User.id == Assertion.user_id)
            .join(Assertion.badge_class)
            .join(BadgeTemplate)
            .where(User.login == login, BadgeTemplate.code == code)
            .order_by(Assertion.id.desc())
        ).first()


def row(app: Flask, public_id: str) -> dict[str, Any]:
    with app.app_context():
        a = db.session.scalars(select(Assertion).where(Assertion.public_id == public_id)).one()
        return {
            "consent": a.consent,
            "on_profile": a.on_profile,
            "earner_name": a.earner_name,
            "revoked": a.revocation_reason,
        }


def membership(app: Flask, login: str, structure: str | None = None) -> Membership:
    query = select(Membership).join(Membership.user).where(User.login == login)
    if structure is not None:
        query = query.join(Membership.structure).where(Structure.name == structure)
    return db.session.scalars(query).first()  # type: ignore[return-value]


def assisted_url(app: Flask, login: str, badge: str) -> str:
    with app.app_context():
        worker = membership(app, login)
        return f"/s/{worker.structure.public_id}/salaries/{worker.public_id}/badges/{badge}"


def identity_of(app: Flask, login: str) -> str:
    with app.app_context():
        return db.session.scalars(select(User.identity_id).where(User.login == login)).one()


def events(app: Flask, action: str, target: str | None = None) -> list[AuditEvent]:
    """The audit events of ``action`` (about ``target`` when given), oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if target is not None:
        query = query.where(AuditEvent.target == target)
    with app.app_context():
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


def user_id(app: Flask, login: str) -> int:
    with app.app_context():
        return db.session.scalars(select(User.id).where(User.login == login)).one()


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


class _Section(HTMLParser):
    """The text blocks inside the element of one id (the whole page when None), and its
    ``<dt>``/``<dd>`` pairs."""

    BLOCKS = {
        "p",
        "li",
        "div",
        "h1",
        "h2",
        "h3",
        "dt",
        "dd",
        "label",
        "legend",
        "button",
        "summary",
    }

    def __init__(self, element_id: str | None) -> None:
        super().__init__()
        self.element_id, self.depth, self.skip = element_id, 0, 0
        self.blocks: list[str] = [""]
        self.tags: list[str] = [""]

    def _inside(self) -> bool:
        return self.element_id is None or self.depth > 0

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag in ("script", "style"):
            self.skip += 1
        if self.element_id is not None and tag not in ("img", "input", "br", "meta", "link"):
            if self.depth or dict(attrs).get("id") == self.element_id:
                self.depth += 1
        if tag in self.BLOCKS:
            self.blocks.append("")
            self.tags.append(tag if self._inside() else "")

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag in ("script", "style"):
            self.skip -= 1
        if self.depth and tag not in ("img", "input", "br", "meta", "link"):
            self.depth -= 1
        if tag in self.BLOCKS:
            self.blocks.append("")
            self.tags.append("")

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if not self.skip and self._inside():
            self.blocks[-1] += data


def section(page: str, element_id: str | None = None) -> _Section:
    parser = _Section(element_id)
    parser.feed(page)
    return parser


def facts(page: str, element_id: str | None = None) -> list[tuple[str, str]]:
    """The ``<dt>`` and ``<dd>`` texts of a page (or of one element), in order."""
    parser = section(page, element_id)
    return [
        (tag, " ".join(block.split()))
        for tag, block in zip(parser.tags, parser.blocks, strict=True)
        if tag in ("dt", "dd")
    ]


def visible(page: str, element_id: str | None = None) -> list[str]:
    return [" ".join(b.split()) for b in section(page, element_id).blocks if b.strip()]


def links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page)]


# --- The earner's list, across structures ----------------------------------------------


def part(page: str, element_id: str) -> str:
    """The HTML of the ``<section>`` of ``element_id``."""
    start = page.index(f'<section id="{element_id}"')
    return page[start : page.index("</section>", start)]


def test_the_list_puts_badges_to_accept_first_then_accepted_declined_and_ended(app):
    lea, karim = client_of(app, "lea"), client_of(app, "karim")
    page = text(lea.get("/moi/badges"))
    planifier, adapter = badge_id(app, "lea", "planifier"), badge_id(app, "lea", "s-adapter")
    anticiper = badge_id(app, "lea", "anticiper")
    assert 'id="a-accepter"' not in page
    order = [page.index(f'<section id="{s}"') for s in ("mes-badges", "refuses", "termines")]
    assert order == sorted(order)
    assert f"/moi/badges/{planifier}" in part(page, "mes-badges")
    assert f"/moi/badges/{adapter}" in part(page, "refuses")
    assert f"/moi/badges/{anticiper}" in part(page, "termines")
    mine = part(page, "mes-badges")
    assert "Sur mon profil" in mine and "Vous l'avez accepté. Il est sur votre profil." in mine
    assert "Maraîchage" not in page  # no team, no situation: only badges
    # Pictograms (the class image of each badge), cards a finger can tap, no table.
    assert page.count("/image.png") == 3 and "<table" not in page
    assert page.count('class="badge-link"') == 3

    page = text(karim.get("/moi/badges"))
    communiquer = badge_id(app, "karim", "communiquer")
    assert page.index('id="a-accepter"') < page.index('id="mes-badges"')
    assert "À accepter (1)" in part(page, "a-accepter")
    assert f"/moi/badges/{communiquer}" in part(page, "a-accepter")
    # The replaced badge of a compromised key is the same badge to karim: listed once.
    with app.app_context():
        replacing = select(Assertion.replaces_id).where(Assertion.replaces_id.is_not(None))
        old = db.session.scalars(
            select(Assertion.public_id).where(Assertion.id.in_(replacing))
        ).all()
    assert old
    assert f"/moi/badges/{badge_id(app, 'karim', 'qualite-du-travail')}" in part(page, "termines")
    assert not any(pid in page for pid in old)
    # His space says how many wait, one tap from where he lands.
    home = text(karim.get("/moi/"))
    assert "Mes badges numériques — 1 à accepter" in home and 'href="/moi/badges"' in home
    assert karim.get("/").headers["Location"] == "/moi/"


def test_a_worker_of_two_structures_sees_one_list_and_keeps_it_after_leaving(app):
    with app.app_context():
        karim = db.session.scalars(select(User).where(User.login == "karim")).one()
        b = structure_b(db.session)
        in_b = structures.add_member(
            db.session, actor=None, structure=b, user=karim, roles={Role.SALARIE}, now=NOW
        )
        proposal = decisions.propose(
            db.session,
            author=b_member(db.session, "b.cip"),
            worker=in_b,
            template=badge_templates.current(db.session, "organiser"),
            level=3,
            justification="Range l'atelier en fin de journée.",
            now=NOW,
        )
        issuing = Issuing(urls=PublicUrls(BASE_URL), keys_dir=Path(app.config["KEYS_DIR"]))
        decisions.approve(
            db.session,
            validator=b_member(db.session, "b.validateur"),
            proposal=proposal,
            comment=None,
            now=NOW,
            issuing=issuing,
        )
        for m in list(karim.memberships):
            structures.end_membership(db.session, actor=karim, membership=m, on=NOW.date(), now=NOW)
        db.session.commit()
    client = client_of(app, "karim")
    page = text(client.get("/moi/badges"))
    assert "À accepter (2)" in page
    assert B_NAME in page and DEMO_STRUCTURE in page
    organiser = badge_id(app, "karim", "organiser")
    response = client.post(f"/moi/badges/{organiser}", data={"action": "accept_private"})
    assert response.status_code == 302
    archive = zipfile.ZipFile(io.BytesIO(client.get("/moi/badges/export.zip").get_data()))
    names = archive.namelist()
    assert any(organiser in n for n in names)  # from B
    assert any(badge_id(app, "karim", "conscience-professionnelle") in n for n in names)  # A


# --- Consent: nothing public before acceptance, hidden still verifies --------------------


def test_pending_and_declined_badges_answer_404_everywhere_a_hidden_one_still_verifies(app):
    anyone = app.test_client()
    for login, code in (("karim", "communiquer"), ("lea", "s-adapter")):
        pid = badge_id(app, login, code)
        for suffix in HOSTED_SUFFIXES:
            assert anyone.get(f"/badges/{pid}{suffix}").status_code == 404, (code, suffix)
        answer = anyone.get("/api/v1/verify", query_string={"badge": f"{BASE_URL}/badges/{pid}"})
        assert answer.get_json()["valid"] is False
    planifier = badge_id(app, "lea", "planifier")
    lea = client_of(app, "lea")
    assert lea.post(f"/moi/badges/{planifier}", data={"action": "hide"}).status_code == 302
    assert row(app, planifier)["on_profile"] is False
    for suffix in HOSTED_SUFFIXES:
        assert anyone.get(f"/badges/{planifier}{suffix}").status_code == 200, suffix
    answer = anyone.get("/api/v1/verify", query_string={"badge": f"{BASE_URL}/badges/{planifier}"})
    assert answer.status_code == 200 and answer.get_json()["valid"] is True
    # Listed nowhere: not on her open profile, not on the issuer's page.
    profile = text(anyone.get(f"/profils/{identity_of(app, 'lea')}"))
    assert "Aucun badge numérique à montrer" in profile and planifier not in profile
    with app.app_context():
        issuer = membership(app, "lea").structure.public_id
    issuer_page = text(anyone.get(f"/emetteurs/{issuer}", headers={"Accept": "text/html"}))
    for pid in (planifier, badge_id(app, "karim", "communiquer")):
        assert pid not in issuer_page


def test_accept_hide_show_name_and_withdraw_through_the_page_each_recorded(app):
    karim = client_of(app, "karim")
    pid = badge_id(app, "karim", "communiquer")
    url = f"/moi/badges/{pid}"
    page = text(karim.get(url))
    for label in ("Accepter et montrer sur mon profil", "Accepter mais garder privé", "Refuser"):
        assert label in page
    steps = [
        ({"action": "accept_show"}, "badge.accepted", {"on_profile": True}),
        ({"action": "hide"}, "badge.hidden", {}),
        ({"action": "show"}, "badge.shown", {}),
        (
            {"action": "name", "earner_name": "initial"},
            "badge.earner_name_changed",
            {"earner_name": "initial"},
        ),
        ({"action": "withdraw"}, "badge.withdrawal_requested", {}),
    ]
    states = []
    for form, action, details in steps:
        response = karim.post(url, data=form)
        assert response.status_code == 302 and response.headers["Location"] == url
        assert "C'est" in text(karim.get(url))  # the flash message, after the redirect
        (event,) = events(app, action, pid)
        assert event.actor_id == event.subject_id == user_id(app, "karim")
        assert event.target == pid
        assert event.details == {"assisted": False, **details}
        states.append(row(app, pid))
    assert states == [
        {"consent": "accepted", "on_profile": True, "earner_name": "none", "revoked": None},
        {"consent": "accepted", "on_profile": False, "earner_name": "none", "revoked": None},
        {"consent": "accepted", "on_profile": True, "earner_name": "none", "revoked": None},
        {"consent": "accepted", "on_profile": True, "earner_name": "initial", "revoked": None},
        {
            "consent": "accepted",
            "on_profile": False,
            "earner_name": "initial",
            "revoked": "demande_salarie",
        },
    ]
    hosted = text(app.test_client().get(f"/badges/{pid}", headers={"Accept": "text/html"}))
    assert "Retiré à la demande de la personne" in hosted
    assert ("dt", "Obtenu par") in facts(hosted) and ("dd", "Karim B.") in facts(hosted)
    assert "Benali" not in hosted
    # A withdrawn badge takes no more choice: refused, nothing written.
    before = snapshot(app)
    refused = karim.post(url, data={"action": "show"})
    assert refused.status_code == 409 and "déjà été retiré" in text(refused)
    assert changed_tables(before, snapshot(app)) == ()


def history(page: str) -> list[str]:
    """The lines of a badge page's « Historique », each without its date."""
    return [line.split(" — ", 1)[1] for line in visible(page, "historique")[2:]]


def test_the_badge_page_tells_its_history_in_the_earners_words(app):
    pid = badge_id(app, "karim", "communiquer")
    url = f"/moi/badges/{pid}"
    karim, sophie = client_of(app, "karim"), client_of(app, "sophie.cip")
    with app.app_context():
        issuer = (
            db.session.scalars(select(Structure).where(Structure.name == DEMO_STRUCTURE))
            .one()
            .issuer_display_name
        )
    assert history(text(karim.get(url))) == [f"Délivré par {issuer}."]

    assert sophie.post(assisted_url(app, "karim", pid), data={"action": "accept_private"})
    for form in ({"action": "show"}, {"action": "name", "earner_name": "initial"}):
        assert karim.post(url, data=form).status_code == 302
    page = text(karim.get(url))

    assert history(page) == [
        f"Délivré par {issuer}.",
        "Vous l'avez accepté en le gardant privé. Avec l'aide de Sophie Bernard.",
        "Vous l'avez montré sur votre profil.",
        "Vous avez changé le nom affiché sur sa page.",
    ]
    local = CLOCK.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y à %H:%M")
    assert visible(page, "historique")[-1].startswith(f"{local} — ")
    # The conseillère helping him reads the same story; nobody else's badge shows it.
    assert history(text(sophie.get(assisted_url(app, "karim", pid)))) == history(page)
    assert client_of(app, "lea").get(url).status_code == 404


def test_a_re_issued_badge_keeps_its_history_and_says_why_its_link_changed(app):
    from tests.web.test_identity_pages import _contact_url, _reissue_url

    before = badge_id(app, "lea", "planifier")
    lea, claire = client_of(app, "lea"), client_of(app, "claire.admin")
    told = history(text(lea.get(f"/moi/badges/{before}")))
    assert "Vous l'avez accepté et montré sur votre profil." in told
    assert claire.post(_contact_url(app, "lea"), data={"email": "lea@nouveau.fr", "phone": ""})
    assert claire.post(_reissue_url(app, "lea")).status_code == 302

    after = badge_id(app, "lea", "planifier")
    assert after != before
    lines = history(text(lea.get(f"/moi/badges/{after}")))
    # The old badge's life, then its new link; its withdrawal is said by that line alone.
    assert lines == [*told, "Nouveau lien, à votre nouvelle adresse. Vos choix sont gardés."]


def test_declining_changes_nothing_else_and_the_badge_can_still_be_accepted(app):
    karim = client_of(app, "karim")
    pid = badge_id(app, "karim", "communiquer")
    with app.app_context():
        others = {
            a.public_id: (a.consent, a.on_profile, a.revoked_at)
            for a in db.session.scalars(select(Assertion).where(Assertion.public_id != pid))
        }
        proposals = {p.id: p.status for p in db.session.scalars(select(Proposal))}
        observed = db.session.query(Observation).count()
    before = snapshot(app)
    assert karim.post(f"/moi/badges/{pid}", data={"action": "decline"}).status_code == 302
    assert changed_tables(before, snapshot(app)) == ("assertions", "audit_events")
    assert row(app, pid)["consent"] == "declined"
    with app.app_context():
        assert others == {
            a.public_id: (a.consent, a.on_profile, a.revoked_at)
            for a in db.session.scalars(select(Assertion).where(Assertion.public_id != pid))
        }
        assert proposals == {p.id: p.status for p in db.session.scalars(select(Proposal))}
        assert db.session.query(Observation).count() == observed
    (event,) = events(app, "badge.declined", pid)
    assert event.details == {"assisted": False}
    page = text(karim.get(f"/moi/badges/{pid}"))
    assert "Vous pouvez encore l'accepter." in page and ">Refuser<" not in page
    assert karim.post(f"/moi/badges/{pid}", data={"action": "accept_private"}).status_code == 302
    assert row(app, pid)["consent"] == "accepted" and row(app, pid)["on_profile"] is False


def test_a_choice_not_understood_is_refused_and_writes_nothing(app):
    karim = client_of(app, "karim")
    url = f"/moi/badges/{badge_id(app, 'karim', 'communiquer')}"
    before = snapshot(app)
    for form in (
        {},
        {"action": "publish"},
        {"action": "name"},
        {"action": "name", "earner_name": "x"},
    ):
        assert karim.post(url, data=form).status_code == 400, form
    # Showing a badge not accepted yet: a conflict, said in words.
    refused = karim.post(url, data={"action": "show"})
    assert refused.status_code == 409 and "Acceptez d'abord ce badge numérique." in text(refused)
    assert changed_tables(before, snapshot(app)) == ()


# --- Who may choose ----------------------------------------------------------------------


def test_no_one_else_changes_the_choice_over_a_badge(app):
    pid = badge_id(app, "karim", "communiquer")
    logins = (
        "julie",
        "lea",
        "b.salarie",
        "b.cip",
        "b.admin",
        "sophie.cip",
        "karim",
        "marc.encadrant",
    )
    clients = {login: client_of(app, login) for login in logins}  # sign-ins are recorded
    before = snapshot(app)
    for login in logins[:6]:
        client = clients[login]
        for path in (f"/moi/badges/{pid}", f"/moi/badges/{pid}/badge.pdf"):
            assert client.get(path).status_code == 404, (login, path)
        assert client.post(f"/moi/badges/{pid}", data={"action": "accept_show"}).status_code == 404
        assert client.get(f"/moi/badges/passeport.pdf?badge={pid}").status_code == 404
    # Staff of B, through their own structure: karim is no worker of theirs.
    with app.app_context():
        b_id = structure_b(db.session).public_id
        karim_id = membership(app, "karim").public_id
    b_cip = clients["b.cip"]
    path = f"/s/{b_id}/salaries/{karim_id}/badges/{pid}"
    assert b_cip.get(path).status_code == 404
    assert b_cip.post(path, data={"action": "accept_show"}).status_code == 404
    # The worker and an encadrant of his own structure may not use the assisted mode.
    assisted = assisted_url(app, "karim", pid)
    for login, status in (("karim", 403), ("marc.encadrant", 403), ("anonymous", 302)):
        client = app.test_client() if login == "anonymous" else clients[login]
        assert client.get(assisted).status_code == status, login
        assert client.post(assisted, data={"action": "decline"}).status_code == status, login
    # A conseillère who does not follow léa; a badge not of the worker named.
    sophie = clients["sophie.cip"]
    lea_badge = badge_id(app, "lea", "planifier")
    assert sophie.get(assisted_url(app, "lea", lea_badge)).status_code == 404
    assert sophie.get(assisted_url(app, "karim", lea_badge)).status_code == 404
    assert changed_tables(before, snapshot(app)) == ()
    assert row(app, pid)["consent"] == "pending"


def test_only_the_workers_referent_sits_beside_them_for_their_choices(app):
    """Seeing every worker (``sees_all_workers``) is not following them: léa has no referent."""
    with app.app_context():
        sophie = membership(app, "sophie.cip")
        sophie.sees_all_workers = True
        db.session.commit()
        lea = membership(app, "lea")
        lea_file = f"/s/{lea.structure.public_id}/salaries/{lea.public_id}"
    client = client_of(app, "sophie.cip")
    lea_badge = badge_id(app, "lea", "planifier")
    assert client.get(lea_file).status_code == 200  # she may read léa's file…
    assert "Aider à choisir" not in text(client.get(lea_file))
    before = snapshot(app)
    url = assisted_url(app, "lea", lea_badge)
    assert client.get(url).status_code == 404  # …not choose for her
    assert client.post(url, data={"action": "hide"}).status_code == 404
    assert changed_tables(before, snapshot(app)) == ()
    assert row(app, lea_badge)["on_profile"] is True


def test_assisted_mode_is_the_same_page_and_records_the_conseillere(app):
    pid = badge_id(app, "karim", "communiquer")
    url = assisted_url(app, "karim", pid)
    sophie = client_of(app, "sophie.cip")
    page = text(sophie.get(url))
    assert "Vous aidez Karim : c'est sa décision." in page
    own = text(client_of(app, "karim").get(f"/moi/badges/{pid}"))
    assert facts(page, "apercu") == facts(own, "apercu")
    assert "Accepter et montrer sur mon profil" in page
    response = sophie.post(url, data={"action": "accept_private"})
    assert response.status_code == 302 and response.headers["Location"] == url
    (event,) = events(app, "badge.accepted", pid)
    assert event.actor_id == user_id(app, "sophie.cip")
    assert event.subject_id == user_id(app, "karim")
    assert event.details == {"assisted": True, "on_profile": False}
    # Nothing shared from the conseillère's session: no LinkedIn, no PDF of karim's.
    page = text(sophie.get(url))
    assert "linkedin.com" not in page and "badge.pdf" not in page
    # The worker's file lists his badges with their state, and the way to help.
    with app.app_context():
        worker = membership(app, "karim")
        file_url = f"/s/{worker.structure.public_id}/salaries/{worker.public_id}"
    file_page = text(sophie.get(file_url))
    assert "Badges numériques délivrés" in file_page and "Accepté, gardé privé." in file_page
    assert url in links(file_page)
    assert "Badges numériques délivrés" not in text(client_of(app, "marc.encadrant").get(file_url))


# --- What an employer will see ---------------------------------------------------------


def test_the_preview_shows_exactly_the_fields_of_the_public_page(app):
    # An accepted badge whose earner shows her name: same labels, same values.
    lea = client_of(app, "lea")
    planifier = badge_id(app, "lea", "planifier")
    preview = facts(text(lea.get(f"/moi/badges/{planifier}")), "apercu")
    hosted = text(app.test_client().get(f"/badges/{planifier}", headers={"Accept": "text/html"}))
    assert preview == facts(hosted)
    assert ("dt", "Obtenu par") in preview and ("dd", "Léa P.") in preview
    assert [label for tag, label in preview if tag == "dt"] == [
        "Ce qu'il atteste",
        "Comment il a été obtenu",
        "Délivré par",
        "Délivré le",
        "Obtenu par",
    ]
    assert "Petit" not in hosted and "/profils/" not in hosted  # VER-05
    # A pending badge: what the page will say once accepted, before it exists.
    karim = client_of(app, "karim")
    communiquer = badge_id(app, "karim", "communiquer")
    page = text(karim.get(f"/moi/badges/{communiquer}"))
    before = facts(page, "apercu")
    assert "Ce que verra un employeur" in page
    assert [label for tag, label in before if tag == "dt"][:4] == [
        "Ce qu'il atteste",
        "Comment il a été obtenu",
        "Délivré par",
        "Délivré le",
    ]
    karim.post(f"/moi/badges/{communiquer}", data={"action": "accept_private"})
    after = app.test_client().get(f"/badges/{communiquer}", headers={"Accept": "text/html"})
    assert facts(text(after)) == before
    for sentence in ("Les critères de ce badge", "ni un diplôme ni une certification"):
        assert sentence in " ".join(visible(page, "apercu")) and sentence in text(after)


# --- Sharing ---------------------------------------------------------------------------


def linkedin_params(page: str) -> dict[str, list[str]]:
    (href,) = [h for h in links(page) if h.startswith("https://www.linkedin.com/")]
    return parse_qs(urlsplit(href).query)


def test_the_share_section_gives_the_link_linkedin_downloads_and_europass(app):
    lea = client_of(app, "lea")
    pid = badge_id(app, "lea", "planifier")
    raw = lea.get(f"/moi/badges/{pid}").get_data(as_text=True)
    page = html.unescape(raw)
    hosted = f"{BASE_URL}/badges/{pid}"
    assert f'<input id="lien" value="{hosted}" readonly' in page
    assert 'data-copy="lien"' in page and "copy-link.js" in page
    assert re.search(r'target="_blank" rel="noopener">Ajouter à LinkedIn<span', page)
    assert "nouvel onglet" in page
    for path in (
        f"/badges/{pid}/badge.png",
        f"/badges/{pid}/badge.svg",
        f"/moi/badges/{pid}/badge.pdf",
    ):
        assert path in links(page)
    assert "Europass" in page
    params = linkedin_params(page)
    with app.app_context():
        a = db.session.scalars(select(Assertion).where(Assertion.public_id == pid)).one()
        issued = a.issued_on.astimezone(ZoneInfo(a.structure.timezone))
        issuer = a.structure.issuer_display_name
    assert params["organizationName"] == [issuer] and "organizationId" not in params
    assert params["issueYear"] == [str(issued.year)]
    assert params["issueMonth"] == [str(issued.month)] and 1 <= int(params["issueMonth"][0]) <= 12
    assert params["certUrl"] == [hosted] and params["certId"] == [pid]
    assert params["name"] == ["Planifier son travail — niveau 3"]
    # A structure that gave its LinkedIn page id: the logo, not the name.
    with app.app_context():
        a = db.session.scalars(select(Assertion).where(Assertion.public_id == pid)).one()
        a.structure.linkedin_organization_id = "2414183"
        db.session.commit()
    params = linkedin_params(text(lea.get(f"/moi/badges/{pid}")))
    assert params["organizationId"] == ["2414183"] and "organizationName" not in params
    # Pending and declined badges are not shared.
    for code in ("s-adapter",):
        other = text(lea.get(f"/moi/badges/{badge_id(app, 'lea', code)}"))
        assert "linkedin.com" not in other and 'id="lien"' not in other


def test_the_month_sent_to_linkedin_is_the_issuers_local_month(app):
    pid = badge_id(app, "lea", "planifier")
    with app.app_context():
        a = db.session.scalars(select(Assertion).where(Assertion.public_id == pid)).one()
        a.issued_on = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 1 January in Paris
        db.session.commit()
    params = linkedin_params(text(client_of(app, "lea").get(f"/moi/badges/{pid}")))
    assert params["issueYear"] == ["2027"] and params["issueMonth"] == ["1"]


def pdf_pages(body: bytes, tmp_path: Path) -> int:
    source = tmp_path / "badge.pdf"
    source.write_bytes(body)
    done = subprocess.run(["pdfinfo", str(source)], check=True, capture_output=True, text=True)
    return int(re.search(r"^Pages:\s+(\d+)", done.stdout, re.M).group(1))  # type: ignore[union-attr]


def test_the_badge_pdf_is_one_page_for_its_earner_only(app, tmp_path):
    lea = client_of(app, "lea")
    pid = badge_id(app, "lea", "planifier")
    response = lea.get(f"/moi/badges/{pid}/badge.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="badge-{pid}.pdf"'
    assert pdf_pages(response.get_data(), tmp_path) == 1
    assert client_of(app, "karim").get(f"/moi/badges/{pid}/badge.pdf").status_code == 404
    declined = badge_id(app, "lea", "s-adapter")
    assert lea.get(f"/moi/badges/{declined}/badge.pdf").status_code == 404


def test_the_passport_prints_the_badges_chosen(app, tmp_path):
    lea = client_of(app, "lea")
    planifier = badge_id(app, "lea", "planifier")
    index = text(lea.get("/moi/badges"))
    form = index.split('id="passeport"')[1]
    assert f'name="badge" value="{planifier}" checked' in form
    assert badge_id(app, "lea", "s-adapter") not in form  # declined: not offered
    assert badge_id(app, "lea", "anticiper") not in form  # withdrawn: not offered
    response = lea.get("/moi/badges/passeport.pdf", query_string={"badge": [planifier]})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert pdf_pages(response.get_data(), tmp_path) == 1
    refused = lea.get("/moi/badges/passeport.pdf")
    assert refused.status_code == 400
    assert "Cochez au moins un badge numérique" in text(refused)
    for other in ("x" * 22, badge_id(app, "karim", "communiquer")):  # none, or not hers
        answer = lea.get("/moi/badges/passeport.pdf", query_string={"badge": [planifier, other]})
        assert answer.status_code == 404, other
    # Hers, but declined or withdrawn since the list was shown: said in words.
    for gone in (badge_id(app, "lea", "s-adapter"), badge_id(app, "lea", "anticiper")):
        answer = lea.get("/moi/badges/passeport.pdf", query_string={"badge": [planifier, gone]})
        assert answer.status_code == 400, gone
        assert "Un badge numérique choisi n'est plus disponible." in text(answer)


def pdf_text(body: bytes, tmp_path: Path) -> str:
    source = tmp_path / "passport.pdf"
    source.write_bytes(body)
    done = subprocess.run(
        ["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True
    )
    info = subprocess.run(["pdfinfo", str(source)], check=True, capture_output=True, text=True)
    return done.stdout + info.stdout


def test_the_passport_carries_the_earners_name_only_as_they_choose(app, tmp_path):
    lea = client_of(app, "lea")
    planifier = badge_id(app, "lea", "planifier")
    form = text(lea.get("/moi/badges")).split('id="passeport"')[1]
    for label in ("Mon nom sur le passeport", "Léa Petit", "Léa P.", "Sans mon nom"):
        assert label in form
    printed = {}
    for choice in ("full", "initial", "none"):
        response = lea.get(
            "/moi/badges/passeport.pdf", query_string={"badge": [planifier], "nom": choice}
        )
        assert response.status_code == 200
        printed[choice] = pdf_text(response.get_data(), tmp_path)

    def owner(printed: str) -> list[str]:  # the title and author, in the page and the file
        found = re.findall(r"(?:Passeport de compétences de|Author:)\s*(.+)", printed)
        return [name.split(" — page")[0].strip() for name in found]

    assert set(owner(printed["full"])) == {"Léa Petit"}
    assert set(owner(printed["initial"])) == {"Léa P."}
    assert owner(printed["none"]) == []
    # Each badge's sheet names her as that badge's page does (« Planifier »: first name, initial).
    assert all("Petit" not in printed[choice] for choice in ("initial", "none"))
    refused = lea.get("/moi/badges/passeport.pdf", query_string={"badge": [planifier], "nom": "x"})
    assert refused.status_code == 400


def test_the_export_works_after_the_contract_ended(app):
    with app.app_context():
        lea = membership(app, "lea")
        admin = membership(app, "claire.admin").user
        structures.end_membership(
            db.session, actor=admin, membership=lea, on=CLOCK.date(), now=CLOCK
        )
        db.session.commit()
    client = client_of(app, "lea")
    assert "Mes badges" in text(client.get("/moi/badges"))
    response = client.get("/moi/badges/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = archive.namelist()
    assert "LISEZMOI.txt" in names and "passeport.pdf" in names
    folders = {n.split("/")[0] for n in names if "/" in n}
    # Accepted ones, withdrawn included; the declined one has no file (its address is 404).
    accepted = [badge_id(app, "lea", c) for c in ("planifier", "anticiper")]
    assert len(folders) == 2 and all(any(f.endswith(pid) for f in folders) for pid in accepted)
    assert not any(badge_id(app, "lea", "s-adapter") in n for n in names)


# --- The public profile ----------------------------------------------------------------


def test_the_profile_is_closed_until_opened_and_lists_only_shown_badges(app):
    anyone = app.test_client()
    identity = identity_of(app, "ousmane")
    assert anyone.get(f"/profils/{identity}").status_code == 404
    ousmane = client_of(app, "ousmane")
    settings = text(ousmane.get("/moi/profil"))
    assert "Votre profil est fermé" in settings and "Ouvrir mon profil public" in settings
    assert ousmane.post("/moi/profil", data={"action": "publish"}).status_code == 302
    (event,) = events(app, "profile.published", identity)
    assert event.actor_id == event.subject_id == user_id(app, "ousmane")
    settings = text(ousmane.get("/moi/profil"))
    assert f'value="{BASE_URL}/profils/{identity}"' in settings
    response = anyone.get(f"/profils/{identity}")
    assert response.status_code == 200
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert response.headers["Cache-Control"] == "no-store"
    page = text(response)
    assert '<meta name="robots" content="noindex' in page
    assert "Badges numériques de Ousmane D." in page and "Diallo" not in page
    private = badge_id(app, "ousmane", "travailler-en-equipe")
    assert private not in page and "Aucun badge numérique à montrer" in page
    ousmane.post(f"/moi/badges/{private}", data={"action": "show"})
    page = text(anyone.get(f"/profils/{identity}"))
    assert f"/badges/{private}" in links(page)
    # Only the badges' own pages: nothing else about him (VER-05).
    own = [
        h
        for h in links(page)
        if not h.startswith(("/static/", "/badge-numerique", "/referentiels"))
    ]
    assert own == ["#contenu", "/", f"/badges/{private}"], own
    assert ousmane.post("/moi/profil", data={"action": "unpublish"}).status_code == 302
    assert anyone.get(f"/profils/{identity}").status_code == 404
    assert len(events(app, "profile.unpublished", identity)) == 1


def test_the_profile_leaves_out_hidden_declined_withdrawn_and_expired_badges(app):
    anyone = app.test_client()
    lea = text(anyone.get(f"/profils/{identity_of(app, 'lea')}"))
    assert f"/badges/{badge_id(app, 'lea', 'planifier')}" in links(lea)
    for code in ("s-adapter", "anticiper"):
        assert badge_id(app, "lea", code) not in lea
    assert "Léa P." in lea and "Petit" not in lea
    # Karim shows both his badges, but opened no profile; once opened, the expired one is out.
    karim = client_of(app, "karim")
    assert anyone.get(f"/profils/{identity_of(app, 'karim')}").status_code == 404
    karim.post("/moi/profil", data={"action": "publish"})
    page = text(anyone.get(f"/profils/{identity_of(app, 'karim')}"))
    assert f"/badges/{badge_id(app, 'karim', 'conscience-professionnelle')}" in links(page)
    assert badge_id(app, "karim", "qualite-du-travail") not in page
    assert badge_id(app, "karim", "communiquer") not in page
    # And his expired badge's page says so, offering neither LinkedIn nor a PDF to share.
    expired = text(karim.get(f"/moi/badges/{badge_id(app, 'karim', 'qualite-du-travail')}"))
    assert "Ce badge numérique a expiré : il n'est plus sur votre profil public." in expired
    assert "Il est sur votre profil public." not in expired
    assert "linkedin.com" not in expired and "badge.pdf" not in expired


# --- Reading, writing, wording ---------------------------------------------------------


def test_get_pages_write_nothing(app):
    lea, karim, sophie = (
        client_of(app, "lea"),
        client_of(app, "karim"),
        client_of(app, "sophie.cip"),
    )
    planifier, communiquer = (
        badge_id(app, "lea", "planifier"),
        badge_id(app, "karim", "communiquer"),
    )
    before = snapshot(app)
    pages = [
        (lea, "/moi/badges"),
        (lea, f"/moi/badges/{planifier}"),
        (lea, f"/moi/badges/{planifier}/badge.pdf"),
        (lea, f"/moi/badges/passeport.pdf?badge={planifier}"),
        (lea, "/moi/badges/export.zip"),
        (lea, "/moi/profil"),
        (karim, f"/moi/badges/{communiquer}"),
        (sophie, assisted_url(app, "karim", communiquer)),
        (app.test_client(), f"/profils/{identity_of(app, 'lea')}"),
    ]
    for client, path in pages:
        assert client.get(path).status_code == 200, path
    assert changed_tables(before, snapshot(app)) == ()


def words(sentence: str) -> list[str]:
    return re.findall(r"[\w·'’-]*\w[\w·'’-]*", sentence)


def test_worker_pages_are_short_plain_and_can_be_read_aloud(app):
    lea, karim = client_of(app, "lea"), client_of(app, "karim")
    pages = {
        "list": lea.get("/moi/badges"),
        "accepted": lea.get(f"/moi/badges/{badge_id(app, 'lea', 'planifier')}"),
        "declined": lea.get(f"/moi/badges/{badge_id(app, 'lea', 's-adapter')}"),
        "pending": karim.get(f"/moi/badges/{badge_id(app, 'karim', 'communiquer')}"),
        "profile": lea.get("/moi/profil"),
    }
    for name, response in pages.items():
        page = text(response)
        employer = set(visible(page, "apercu"))  # the public page's own words (SHR-02)
        own = [b for b in visible(page) if b not in employer]
        sentences = [s for b in own for s in re.split(r"(?<=[.!?…])\s+", b) if s.strip()]
        long = [s for s in sentences if len(words(s)) > 15]
        assert long == [], f"{name}: sentences of more than 15 words: {long}"
        assert blocked_terms(" ".join(own)) == [], name
        assert "diplôme" not in " ".join(own), name
        assert re.search(r'data-read-aloud="[^"]+" hidden>Écouter<', page), name
        assert "read-aloud.js" in page, name
    assert "badge numérique" in text(pages["pending"])
