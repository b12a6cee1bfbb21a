"""Issuing Open Badges on approval (BDG-01..BDG-05, BDG-08, BDG-09).

Approval issues exactly one assertion with its JWS and its audit row, in the caller's
transaction; a second issue, an open decision or a missing private key are refused before
anything is written. Recipients are hashed over email, else the E.164 telephone, else the
identity URL. A template version keeps its BadgeClass. Golden files pin every document
type (``JALON_UPDATE_GOLDEN=1`` rewrites them, see tests/golden/README.md), and no public
URL carries a row id.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from app import openbadges
from app.domain.badges import EvidenceFacts, evidence_narrative
from app.domain.enums import SituationType
from app.extensions import db
from app.models import (
    Assertion,
    AuditEvent,
    BadgeClass,
    BadgeTemplate,
    Proposal,
    SigningKey,
    Structure,
)
from app.services import badge_templates as templates
from app.services import badges, consent, decisions, keys, observations
from app.services.badges import IssuanceError, Issuing
from app.services.public_urls import PublicUrls
from tests.api import member
from tests.services.test_assessments import TEAMWORK, T, scene
from tests.support.world import BASE_URL, ROOT
from tests.unit.openbadges.test_baking import make_png

LATER = T + timedelta(hours=1)
URLS = PublicUrls(BASE_URL)
GOLDEN = ROOT / "tests" / "golden"
#: Opaque public ids (secrets.token_urlsafe(16) gives 22 such characters), never row ids.
OPAQUE = re.compile(r"[A-Za-z0-9_-]{16,}")
#: The fixed words of the public paths (app/services/public_urls.py).
PATH_WORDS = {"emetteurs", "revocations", "cles", "badges", "modeles", "criteres", "profils"}
PATH_FILES = {"image.png", "image.svg", "badge.png", "badge.svg"}
#: The Open Badges objects and identities, whose ids BDG-09 requires to be opaque.
OB_PATHS = ("/emetteurs/", "/cles/", "/badges/", "/profils/")


@pytest.fixture
def issuing(keys_dir: Path) -> Issuing:
    """Issuance as the test world does it: its base URL and its keys."""
    return Issuing(urls=URLS, keys_dir=keys_dir)


def counts(session: Session) -> dict[str, int]:
    """Rows of every table issuance writes to."""
    return {
        m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
        for m in (Assertion, BadgeClass, AuditEvent, SigningKey)
    }


def manual(session: Session, worker: str, code: str = TEAMWORK, level: int = 3) -> Proposal:
    """A manual proposal by Sophie (conseillère) of the current version of ``code``."""
    template = templates.current(session, code)
    assert template is not None
    return decisions.propose(
        session,
        author=member(session, "sophie.cip"),
        worker=member(session, worker),
        template=template,
        level=level,
        justification="Aide ses collègues sans qu'on le lui demande.",
        now=T,
    )


def approve(session: Session, proposal: Proposal, issuing: Issuing, **options: Any) -> Assertion:
    return decisions.approve(
        session,
        validator=member(session, "nadia.validatrice"),
        proposal=proposal,
        comment=options.pop("comment", None),
        now=options.pop("now", LATER),
        issuing=issuing,
        **options,
    )


def approved_by_hand(session: Session, worker: str, code: str = TEAMWORK) -> Proposal:
    """An approved decision without its badge (as if issuance had been deferred)."""
    proposal = manual(session, worker, code)
    proposal.status = "approved"
    proposal.decided_at = LATER
    proposal.decided_by_id = member(session, "nadia.validatrice").user_id
    session.flush()
    return proposal


def public_urls_in(document: Any, base: str) -> Iterator[str]:
    """Every string of ``document`` (at any depth) that addresses an Open Badges object or
    identity under ``base`` (referential pages are named by code and version, not by id)."""
    if isinstance(document, dict):
        for value in document.values():
            yield from public_urls_in(value, base)
    elif isinstance(document, list):
        for value in document:
            yield from public_urls_in(value, base)
    elif isinstance(document, str) and document.startswith(tuple(base + p for p in OB_PATHS)):
        yield document


def assert_opaque_ids(url: str) -> None:
    """BDG-09: each id segment of a public path is opaque, never a (sequential) row id."""
    segments = urlsplit(url).path.strip("/").split("/")
    ids = [
        re.sub(r"\.(json|jws)$", "", s)
        for s in segments
        if s not in PATH_WORDS and s not in PATH_FILES
    ]
    assert ids, url
    for segment in ids:
        assert OPAQUE.fullmatch(segment) and not segment.isdigit(), url


# -- Approval issues the badge ------------------------------------------------------------


def test_approval_issues_one_assertion_with_its_audit_row(db_session, issuing):
    s = scene(db_session)
    s.met()
    (proposal,) = s.proposals()
    structure = s.worker.structure
    before = counts(db_session)

    assertion = approve(db_session, proposal, issuing)

    assert db_session.scalars(
        select(Assertion).where(Assertion.proposal_id == proposal.id)
    ).all() == [assertion]
    assert counts(db_session)["assertions"] == before["assertions"] + 1
    assert assertion.worker_id == s.worker.id and assertion.user_id == s.worker.user_id
    assert assertion.signing_key == keys.active_key(db_session, structure)
    assert assertion.badge_class.template == s.template and assertion.badge_class.level == 3
    assert assertion.issued_on == LATER and assertion.expires_at is None
    assert assertion.state(LATER) == "valid" and assertion.revoked_at is None
    (event,) = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "badge.issued")
        .where(AuditEvent.target == assertion.public_id)
    ).all()
    assert (event.subject_id, event.structure_id, event.occurred_at) == (
        s.worker.user_id,
        structure.id,
        LATER,
    )
    # Marc then Sophie, in two situations, 17 days apart in October (BDG-05: facts only).
    assert assertion.evidence.startswith(
        "Compétence observée 2 fois au niveau 3 ou plus, par 2 personnes différentes qui "
        "encadrent le travail, dans 2 situations de travail réelles ("
    )
    assert "), en octobre 2026. " in assertion.evidence


def test_a_badge_is_issued_once(db_session, issuing):
    s = scene(db_session)
    s.met()
    (proposal,) = s.proposals()
    approve(db_session, proposal, issuing)
    before = counts(db_session)
    with pytest.raises(IssuanceError, match="déjà été délivré"):
        badges.issue(db_session, proposal, issuing=issuing, now=LATER)
    assert counts(db_session) == before
    assert badges.approved_without_badge(db_session) == []


def test_a_decision_not_approved_gets_no_badge(db_session, issuing):
    pending = manual(db_session, "julie")
    rejected = manual(db_session, "lea")
    decisions.reject(
        db_session,
        validator=member(db_session, "nadia.validatrice"),
        proposal=rejected,
        comment="Pas encore.",
        now=LATER,
    )
    before = counts(db_session)
    for proposal in (pending, rejected):
        with pytest.raises(IssuanceError, match="décision validée") as refused:
            badges.issue(db_session, proposal, issuing=issuing, now=LATER)
        assert refused.value.status == 409
    assert counts(db_session) == before


def test_the_jws_verifies_with_the_published_key_and_carries_the_hosted_document(
    db_session, issuing
):
    assertion = approve(db_session, manual(db_session, "julie"), issuing)
    key = assertion.signing_key
    header, unverified = openbadges.parse_jws(assertion.jws)
    assert header == {"alg": "RS256"}
    published_pem = badges.key_document(key, URLS)["publicKeyPem"]
    payload = openbadges.verify_jws(assertion.jws, published_pem)
    assert payload == unverified
    hosted = badges.assertion_document(assertion, URLS)
    assert hosted["verification"] == {"type": "HostedBadge"}
    assert payload["verification"] == {"type": "SignedBadge", "creator": URLS.key(key.public_id)}
    assert {k: v for k, v in payload.items() if k != "verification"} == {
        k: v for k, v in hosted.items() if k != "verification"
    }
    assert payload["id"] == URLS.assertion(assertion.public_id)
    other = openbadges.generate_private_key(2048)
    with pytest.raises(openbadges.SignatureError):
        openbadges.verify_jws(assertion.jws, openbadges.public_key_to_pem(other))


def test_no_public_url_of_an_issued_badge_holds_a_row_id(db_session, issuing):
    assertion = approve(db_session, manual(db_session, "julie"), issuing)
    structure = assertion.structure
    documents = [
        badges.issuer_document(db_session, structure, URLS, "contact@jalon.invalid"),
        badges.key_document(assertion.signing_key, URLS),
        badges.badge_class_document(assertion.badge_class, URLS),
        badges.assertion_document(assertion, URLS),
        openbadges.parse_jws(assertion.jws)[1],
        badges.revocation_list_document(db_session, structure, URLS),
    ]
    found = [url for doc in documents for url in public_urls_in(doc, BASE_URL)]
    found += [
        URLS.baked(assertion.public_id, "png", signed=True),
        URLS.baked(assertion.public_id, "svg"),
        URLS.class_image(assertion.badge_class.public_id, "svg"),
        URLS.jws(assertion.public_id),
    ]
    assert len(found) > 10
    for url in found:
        assert_opaque_ids(url)
    row_ids = {str(r.id) for r in (assertion, assertion.badge_class, structure)}
    assert not row_ids & {seg for url in found for seg in urlsplit(url).path.split("/")}


# -- Recipients -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "phone", "kind", "identity"),
    [
        ("Julie.Moreau@Exemple.FR", "06 12 34 56 78", "email", "julie.moreau@exemple.fr"),
        (None, "06 12 34 56 78", "telephone", "+33612345678"),
        (None, "12", "url", None),  # an unusable number: the identity URL
        (None, None, "url", None),
    ],
)
def test_the_recipient_is_the_email_else_the_telephone_else_the_identity_url(
    db_session, issuing, email, phone, kind, identity
):
    user = member(db_session, "julie").user
    user.email, user.phone = email, phone
    assertion = approve(db_session, manual(db_session, "julie"), issuing)
    identity = identity or f"{BASE_URL}/profils/{user.identity_id}"
    assert assertion.recipient_type == kind
    assert len(assertion.salt) == 32
    assert assertion.recipient_hash == openbadges.hash_identity(identity, assertion.salt)
    assert badges.assertion_document(assertion, URLS)["recipient"] == {
        "type": kind,
        "hashed": True,
        "salt": assertion.salt,
        "identity": assertion.recipient_hash,
    }
    # Only the salted hash is published: neither the identity nor what it was read from.
    published = json.dumps(
        [openbadges.parse_jws(assertion.jws)[1], badges.assertion_document(assertion, URLS)]
    )
    for secret in (identity, email, phone):
        assert secret is None or len(secret) < 4 or secret not in published


def test_an_employer_can_type_the_telephone_as_written_in_france(db_session, issuing):
    user = member(db_session, "julie").user
    user.email, user.phone = None, "06 12 34 56 78"
    assertion = approve(db_session, manual(db_session, "julie"), issuing)
    hashed, salt = assertion.recipient_hash, assertion.salt
    assert hashed == openbadges.hash_identity("+33612345678", salt)
    for typed in ("06 12 34 56 78", "+33 6 12 34 56 78", "0612345678"):
        assert openbadges.matches("telephone", typed, hashed, salt)
    assert not openbadges.matches("telephone", "06 12 34 56 79", hashed, salt)
    # Another salt gives another hash: two badges of one person cannot be linked.
    other = approve(db_session, manual(db_session, "julie", "organiser"), issuing)
    assert other.salt != salt and other.recipient_hash != hashed


def test_a_national_number_is_read_in_the_structure_country(db_session, issuing):
    worker = member(db_session, "julie")
    worker.structure.country = "BE"
    worker.user.email, worker.user.phone = None, "0470 12 34 56"
    assertion = approve(db_session, manual(db_session, "julie"), issuing)
    assert assertion.recipient_type == "telephone"
    assert assertion.recipient_hash == openbadges.hash_identity("+32470123456", assertion.salt)
    assert openbadges.matches(
        "telephone", "0470 12 34 56", assertion.recipient_hash, assertion.salt, country="BE"
    )


# -- Expiry and badge classes -------------------------------------------------------------------


def load_new_version(session: Session, code: str, **changes: str) -> BadgeTemplate:
    """Load ``code`` again as version 2 with ``changes`` (top-level YAML lines) applied."""
    path = ROOT / "badge_templates" / f"{code}.yaml"
    text = path.read_text(encoding="utf-8").replace("\nversion: 1\n", "\nversion: 2\n")
    for field, value in changes.items():
        text, replaced = re.subn(rf"(?m)^{field}:.*\n(  .*\n)*", f"{field}: {value}\n", text)
        if not replaced:
            text += f"{field}: {value}\n"
    plan = templates.plan_load(session, [(str(path), text)])
    (loaded,) = templates.apply_plan(session, plan, now=T, actor=None)
    assert loaded.version == 2
    return loaded


def test_an_explicit_expiry_is_kept_and_published(db_session, issuing):
    expires = LATER + timedelta(days=90)
    assertion = approve(db_session, manual(db_session, "julie"), issuing, expires_at=expires)
    assert assertion.expires_at == expires
    assert badges.assertion_document(assertion, URLS)["expires"] == "2027-02-01T10:00:00Z"
    assert openbadges.parse_jws(assertion.jws)[1]["expires"] == openbadges.iso8601(expires)
    assert assertion.state(expires - timedelta(seconds=1)) == "valid"
    assert assertion.state(expires) == "expired"
    assert "expires" not in badges.assertion_document(
        approve(db_session, manual(db_session, "lea"), issuing), URLS
    )


def test_a_template_version_keeps_its_class_and_a_new_version_makes_a_new_one(db_session, issuing):
    ousmane = member(db_session, "ousmane")
    (old,) = db_session.scalars(select(Assertion).where(Assertion.worker_id == ousmane.id)).all()
    old_class = old.badge_class
    assert (old_class.template.code, old_class.template.version, old_class.level) == (
        TEAMWORK,
        1,
        4,
    )
    old_document = badges.badge_class_document(old_class, URLS)
    old_jws = old.jws

    # Same template version and level: the class is reused, nothing new is rendered.
    before = counts(db_session)["badge_classes"]
    same = approve(db_session, manual(db_session, "julie", level=4), issuing)
    assert same.badge_class is old_class
    assert counts(db_session)["badge_classes"] == before
    assert same.expires_at is None

    # Version 2, valid for two years: a new class; issued badges keep theirs.
    v2 = load_new_version(
        db_session,
        TEAMWORK,
        validity_days="730",
        description='{fr: "A montré en situation de travail réelle qu\'il ou elle aide."}',
    )
    assert templates.current(db_session, TEAMWORK) == v2
    new = approve(db_session, manual(db_session, "lea", level=4), issuing)
    assert new.badge_class is not old_class and new.badge_class.template == v2
    assert new.badge_class.level == 4
    assert counts(db_session)["badge_classes"] == before + 1
    (created,) = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "badge_class.created",
            AuditEvent.target == new.badge_class.public_id,
        )
    ).all()
    assert created.occurred_at == LATER
    assert new.expires_at == new.issued_on + timedelta(days=730)
    new_document = badges.badge_class_document(new.badge_class, URLS)
    assert new_document["description"] == (
        "A montré en situation de travail réelle qu'il ou elle aide."
    )
    assert new_document["id"] != old_document["id"]

    db_session.expire_all()
    assert old.badge_class == old_class and old.jws == old_jws
    assert badges.badge_class_document(old.badge_class, URLS) == old_document
    assert badges.assertion_document(old, URLS)["badge"] == old_document["id"]


# -- Nothing half-written -----------------------------------------------------------------------


def test_a_missing_private_key_file_refuses_before_writing_anything(db_session, tmp_path):
    proposal = approved_by_hand(db_session, "julie")
    key = keys.active_key(db_session, proposal.worker.structure)
    empty = tmp_path / "keys"
    empty.mkdir()
    before = counts(db_session)
    with pytest.raises(IssuanceError) as refused:
        badges.issue(db_session, proposal, issuing=Issuing(urls=URLS, keys_dir=empty), now=LATER)
    assert str(empty / key.private_key_file) in str(refused.value)
    assert "flask keys rotate" in str(refused.value)
    assert counts(db_session) == before
    assert list(empty.rglob("*")) == []  # no key made to replace the lost one
    assert badges.approved_without_badge(db_session) == [proposal]


def test_a_failed_signature_leaves_neither_decision_nor_badge(
    world_app: Flask, issuing, monkeypatch
):
    """BDG-03: the assertion, its JWS and its audit row exist together or not at all."""

    def tally() -> dict[str, int]:
        with Session(db.engine) as fresh:  # another connection sees only what was committed
            found = counts(fresh)
            found["approved"] = (
                fresh.scalar(
                    select(func.count()).select_from(Proposal).where(Proposal.status == "approved")
                )
                or 0
            )
            return found

    with world_app.app_context():
        s = scene(db.session)
        s.met()
        (proposal,) = s.proposals()
        db.session.commit()
        before = tally()

        def broken(document: dict[str, Any], key: Any) -> str:
            raise openbadges.SignatureError("signing device unplugged")

        monkeypatch.setattr(openbadges.signing, "sign", broken)
        with pytest.raises(openbadges.SignatureError, match="unplugged"):
            approve(db.session, proposal, issuing)
        db.session.rollback()
        assert tally() == before
        assert db.session.get(Proposal, proposal.id).status == "pending"

        monkeypatch.undo()
        assertion = approve(db.session, db.session.get(Proposal, proposal.id), issuing)
        db.session.commit()
        after = tally()
        signed = openbadges.parse_jws(assertion.jws)[1]
    assert signed["id"] == URLS.assertion(assertion.public_id)
    assert after["assertions"] == before["assertions"] + 1
    assert after["approved"] == before["approved"] + 1
    assert after["badge_classes"] == before["badge_classes"] + 1  # none was left behind


# -- BDG-05: nothing said about a person or a place reaches the badge ---------------------------

WITNESS = "Phrase-témoin 7Q : a aidé Mme Verdier rue des Acacias"


def test_comments_names_and_places_never_reach_the_badge(world_app: Flask, issuing):
    with world_app.app_context():
        session = db.session
        s = scene(session)
        for login, place, days in (("marc.encadrant", 0, 20), ("sophie.cip", 1, 3)):
            observations.record_capture(
                session,
                author=member(session, login),
                situation_id=s.places[place].public_id,
                observed_at=T - timedelta(days=days),
                items=[
                    observations.CaptureItem(
                        s.worker.public_id, s.competence.public_id, 3, f"{WITNESS} ({login})"
                    )
                ],
                idempotency_key=f"bdg05-{uuid4().hex}",
                now=T,
            )
        (proposal,) = s.proposals()
        assertion = approve(session, proposal, issuing, comment=f"Validé. {WITNESS}")
        consent.accept(session, assertion, actor=assertion.user, show=True, now=LATER)
        session.commit()
        people = [
            member(session, login).user
            for login in ("julie", "marc.encadrant", "sophie.cip", "nadia.validatrice")
        ]
        secrets = [WITNESS, "Phrase-témoin", "Verdier", "Acacias"]
        secrets += [p.name for p in s.places] + [p.place for p in s.places if p.place]
        secrets += [s.places[0].team.name]
        secrets += [n for u in people for n in (u.first_name, u.last_name, u.login)]
        pid, evidence = assertion.public_id, assertion.evidence
        # The comments were recorded, and the places exist: the test would see them.
        assert all(len(x) >= 4 for x in secrets)

    client = world_app.test_client()
    hosted = client.get(f"/badges/{pid}.json")
    jws = client.get(f"/badges/{pid}.jws")
    page = client.get(f"/badges/{pid}", headers={"Accept": "text/html"})
    assert (hosted.status_code, jws.status_code, page.status_code) == (200, 200, 200)
    payload = json.dumps(openbadges.parse_jws(jws.get_data(as_text=True))[1], ensure_ascii=False)
    published = {
        "evidence": evidence,
        "hosted JSON": hosted.get_data(as_text=True),
        "JWS payload": payload,
        "HTML page": page.get_data(as_text=True),
    }
    assert evidence in published["HTML page"] and evidence in published["hosted JSON"]
    for where, text in published.items():
        for secret in secrets:
            assert secret not in text, (secret, where)


# -- Golden files (BDG-02) ----------------------------------------------------------------------

GOLDEN_BASE = "https://jalon.example.org"
ISSUER_ID = "q3Zr7mW1Xc0bTn2Pk8Hs-A"
KEY_ID = "Kx9_Lm2Qa7Vd4Rt1Yu6Wpg"
CLASS_ID = "Bc5Hn8Jt3Ze0Wq7Ls2Mf-g"
ASSERTION_ID = "As4Gd1Fk9Pb6Xv3Nc0Tr_w"
SALT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
ISSUED = datetime(2026, 5, 4, 8, 30, 12, tzinfo=UTC)
EXPIRES = datetime(2028, 5, 3, 8, 30, 12, tzinfo=UTC)


def check_golden(name: str, document: dict[str, Any]) -> None:
    """``document`` equals tests/golden/``name``; ``JALON_UPDATE_GOLDEN=1`` rewrites it."""
    path = GOLDEN / name
    if os.environ.get("JALON_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    assert path.is_file(), f"{path} is missing: run the tests once with JALON_UPDATE_GOLDEN=1"
    assert json.loads(path.read_text("utf-8")) == document, (
        f"{name} changed: if this is intended, rewrite it with JALON_UPDATE_GOLDEN=1 and review "
        "the diff (issued badges must not change, BDG-02)"
    )


@pytest.fixture
def golden(db_session) -> dict[str, Any]:
    """Fixed rows and objects: every id, time, salt and text is set by hand."""
    structure = Structure(
        public_id=ISSUER_ID,
        name="Association Régie des Quais",
        issuer_name="Régie des Quais",
        url="https://regie-des-quais.example",
        email=None,
        issuer_description=None,
        network_name="Réseau des régies de l'Ouest",
        created_at=ISSUED,
    )
    db_session.add(structure)
    db_session.flush()
    key = SigningKey(
        public_id=KEY_ID,
        structure_id=structure.id,
        public_key_pem=(GOLDEN / "public_key.pem").read_text("ascii"),
        private_key_file=f"{ISSUER_ID}/{KEY_ID}.pem",
        created_at=ISSUED,
    )
    db_session.add(key)
    db_session.flush()
    template = BadgeTemplate(
        code="golden-equipe",
        version=3,
        kind="competence",
        name={"fr": "Travailler en équipe", "en": "Teamwork"},
        description={
            "fr": "A montré en situation de travail réelle qu'il ou elle aide son équipe."
        },
        narrative={
            "fr": "Ce badge numérique atteste un travail en équipe observé à plusieurs reprises. "
            "Ce badge numérique n'est ni un diplôme ni une certification."
        },
        tiers=[{"level": 4, "name": {"fr": "Mise en œuvre autonome"}, "criteria": {}}],
        alignments=[],
        tags=["savoir-être", "relations au travail"],
        image="team",
    )
    badge_class = BadgeClass(
        public_id=CLASS_ID,
        structure=structure,
        template=template,
        level=4,
        alignments=[
            {
                "kind": "referential",
                "name": "Travailler en équipe",
                "framework": "Bunk",
                "code": "bunk:travailler-en-equipe",
                "referential": "bunk",
                "version": 2,
                "competence": "travailler-en-equipe",
            },
            {
                "kind": "external",
                "framework": "ROME",
                "label": "Entretien des espaces naturels et des espaces verts",
                "code": "A1203",
                "url": "https://candidat.francetravail.fr/metierscope/fiche-metier/A1203",
            },
            {
                "kind": "external",
                "framework": "ESCO",
                "label": "travailler en équipe",
                "code": None,
                "url": "http://data.europa.eu/esco/skill/00000000-0000-4000-8000-000000000000",
            },
        ],
    )
    facts = EvidenceFacts.gather(
        4,
        [
            (1, 1, SituationType.PRODUCTION, datetime(2026, 3, 30).date()),
            (2, 2, SituationType.ATELIER, datetime(2026, 4, 14).date()),
            (1, 2, SituationType.ATELIER, datetime(2026, 4, 28).date()),
        ],
    )
    assertion = Assertion(
        public_id=ASSERTION_ID,
        badge_class=badge_class,
        recipient_type="email",
        recipient_hash=openbadges.hash_identity("ada.lovelace@example.org", SALT),
        salt=SALT,
        issued_on=ISSUED,
        expires_at=EXPIRES,
        evidence=evidence_narrative(facts),
    )
    return {"structure": structure, "key": key, "badge_class": badge_class, "assertion": assertion}


def golden_documents(session: Session, golden: dict[str, Any]) -> dict[str, dict[str, Any]]:
    urls = PublicUrls(GOLDEN_BASE)
    structure, key = golden["structure"], golden["key"]
    return {
        "issuer.json": badges.issuer_document(session, structure, urls, "contact@jalon.invalid"),
        "cryptographic_key.json": badges.key_document(key, urls),
        "badge_class.json": badges.badge_class_document(golden["badge_class"], urls),
        "assertion_hosted.json": badges.assertion_document(golden["assertion"], urls),
        "assertion_signed_payload.json": badges.assertion_document(
            golden["assertion"], urls, signed_by=key
        ),
        "revocation_list.json": badges.revocation_list_document(session, structure, urls),
    }


@pytest.mark.parametrize(
    "name",
    [
        "issuer.json",
        "cryptographic_key.json",
        "badge_class.json",
        "assertion_hosted.json",
        "assertion_signed_payload.json",
        "revocation_list.json",
    ],
)
def test_golden_documents(db_session, golden, name):
    check_golden(name, golden_documents(db_session, golden)[name])


def test_golden_documents_agree_with_each_other_and_hold_only_opaque_ids(db_session, golden):
    docs = golden_documents(db_session, golden)
    issuer, key = docs["issuer.json"], docs["cryptographic_key.json"]
    hosted, signed = docs["assertion_hosted.json"], docs["assertion_signed_payload.json"]
    assert issuer["publicKey"] == key["id"] and key["owner"] == issuer["id"]
    assert docs["badge_class.json"]["issuer"] == issuer["id"]
    assert issuer["revocationList"] == docs["revocation_list.json"]["id"]
    assert hosted["badge"] == docs["badge_class.json"]["id"]
    assert signed["verification"]["creator"] == key["id"]
    assert {k: v for k, v in signed.items() if k != "verification"} == {
        k: v for k, v in hosted.items() if k != "verification"
    }
    # The network is shown on the HTML profile only; the structure's own name is not used.
    text = json.dumps(docs, ensure_ascii=False)
    assert "Réseau des régies" not in text and "Association Régie" not in text
    assert openbadges.matches(
        "email", "Ada.Lovelace@example.org", hosted["recipient"]["identity"], SALT
    )
    urls = [u for d in docs.values() for u in public_urls_in(d, GOLDEN_BASE)]
    assert len(urls) == 16
    for url in urls:
        assert_opaque_ids(url)


# -- Baking on download ---------------------------------------------------------------------


def test_a_class_png_layout_is_cut_once_per_database_and_never_mixed_between_two():
    """A class image never changes once stored, so a download finds its layout by class id
    without reading the image again; two databases holding the same class id (copies, tests)
    each keep their own."""
    images = {"a": make_png((6, 4)), "b": make_png((3, 9))}
    reads: list[str] = []
    engines = {name: create_engine("sqlite://") for name in images}
    try:
        for _ in range(3):
            for name, engine in engines.items():
                with Session(engine) as session:

                    def image(name: str = name) -> bytes:
                        reads.append(name)
                        return images[name]

                    baked = badges.bake_class_png(session, "same-class-id", image, "{}")
                    assert b"".join(baked.parts) == openbadges.bake_png(images[name], "{}")
        assert reads == ["a", "b"]  # each image read once, at its database's first download
    finally:
        for engine in engines.values():
            engine.dispose()
