"""Walking every route of the application as someone who must be refused.

Used by ``tests/web/test_authorization_matrix.py``. Everything here is generic: routes
come from ``app.url_map``, their scope from ``app.web.access.RULES``, URL parameters are
filled by *name* from ``PARAM_SOURCES`` (real ids of structure B's objects) and form
bodies from ``POST_BODIES``. A route added later is walked without editing the test; a
URL parameter with a new name makes the test fail until a source is added here.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule as UrlRule
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import Competence, Membership, Referential, Structure, User
from app.models.base import Base, utcnow
from app.services.demo import DEMO_STRUCTURE
from app.web.access import RULES, Scope
from tests.support.world import B_NAME

#: What a refused request may answer: sent to sign in, unauthorised, forbidden, not found,
#: throttled.
DENIED = frozenset({302, 401, 403, 404, 429})
ANONYMOUS = "anonymous"
#: Methods answered by Flask itself, never by a view.
AUTOMATIC_METHODS = frozenset({"HEAD", "OPTIONS"})


def structure_b(session: Session) -> Structure:
    """Structure B of the test world."""
    return session.scalars(select(Structure).where(Structure.name == B_NAME)).one()


def structure_a_id(session: Session) -> str:
    """The public id of the demo structure (A)."""
    return session.scalars(
        select(Structure.public_id).where(Structure.name == DEMO_STRUCTURE)
    ).one()


def b_member(session: Session, login: str) -> Membership:
    """The membership in structure B of the person signing in with ``login``."""
    return session.scalars(
        select(Membership)
        .join(Membership.user)
        .where(User.login == login, Membership.structure_id == structure_b(session).id)
    ).one()


def b_row(model_name: str) -> Callable[[Session], str]:
    """A source: the public id of the first ``model_name`` row of structure B."""

    def source(session: Session) -> str:
        import app.models  # looked up when first needed: models may be added later

        model = getattr(app.models, model_name)
        found = session.scalars(
            select(model.public_id)
            .where(model.structure_id == structure_b(session).id)
            .order_by(model.id)
        ).first()
        if found is None:
            raise MissingParamSource(
                f"the test world has no {model_name} in structure B: add one in "
                "tests/support/world.py"
            )
        return found

    return source


def _b_competence(session: Session) -> str:
    return session.scalars(
        select(Competence.public_id)
        .join(Referential)
        .where(Referential.structure_id == structure_b(session).id)
    ).one()


def _shared_grid(session: Session) -> Referential:
    return session.scalars(
        select(Referential).where(
            Referential.structure_id.is_(None),
            Referential.superseded_at.is_(None),
            Referential.kind == "soft_skills",
        )
    ).one()


def _b_situation(session: Session):  # type: ignore[no-untyped-def]
    from app.models import WorkSituation

    return session.scalars(
        select(WorkSituation).where(WorkSituation.structure_id == structure_b(session).id)
    ).first()


def _b_template(session: Session):  # type: ignore[no-untyped-def]
    from app.models import BadgeTemplate

    return session.scalars(
        select(BadgeTemplate).where(BadgeTemplate.code == "travailler-en-equipe")
    ).one()


def _b_worker_token(session: Session) -> str:
    from app.models import ApiToken  # only an application with an API has it

    owner = b_member(session, "b.salarie").user_id
    found = session.scalars(select(ApiToken.public_id).where(ApiToken.user_id == owner)).first()
    if found is None:
        raise MissingParamSource("the test world has no API token of b.salarie: add one")
    return found


def _b_self_assessment(session: Session) -> str:
    from app.models import SelfAssessment

    found = session.scalars(
        select(SelfAssessment.public_id)
        .where(SelfAssessment.worker_id == b_member(session, "b.salarie").id)
        .order_by(SelfAssessment.id)
    ).first()
    if found is None:
        raise MissingParamSource("the test world has no self-assessment of b.salarie: add one")
    return found


def _b_review(session: Session) -> str:
    from app.models import ProgressReview

    found = session.scalars(
        select(ProgressReview.public_id)
        .where(ProgressReview.worker_id == b_member(session, "b.salarie").id)
        .order_by(ProgressReview.id)
    ).first()
    if found is None:
        raise MissingParamSource("the test world has no review of b.salarie: add one")
    return found


def _b_claim_notification(session: Session) -> str:
    """B's claim-code message: re-sending it writes (a badge message may be answered)."""
    from app.models import OutboundNotification

    found = session.scalars(
        select(OutboundNotification.public_id).where(
            OutboundNotification.structure_id == structure_b(session).id,
            OutboundNotification.kind == "claim_code",
        )
    ).first()
    if found is None:
        raise MissingParamSource("the test world has no claim-code message in B: add one")
    return found


def _b_worker_has_a_new_phone(session: Session) -> dict[str, Any]:
    """Re-issuing writes only when a badge names a former identity: give B's worker a
    telephone since his badge was issued, committed before any snapshot is taken (a second
    call changes nothing). The form itself is a button: an empty body."""
    from app.services import identities  # only an application with re-issuing has it

    worker = b_member(session, "b.salarie")
    identities.change_contact(
        session,
        user=worker.user,
        email=worker.user.email,
        phone="+33655443322",
        country=worker.structure.country,
        actor=None,
        structure=worker.structure,
        now=utcnow(),
    )
    session.commit()
    return {}


#: URL parameter name -> a real value taken from structure B (or a public page).
PARAM_SOURCES: dict[str, Callable[[Session], str | int]] = {
    "structure_id": lambda s: structure_b(s).public_id,
    "structure_ref": lambda s: structure_b(s).public_id,
    "worker_id": lambda s: b_member(s, "b.salarie").public_id,
    "member_id": lambda s: b_member(s, "b.validateur").public_id,
    "team_id": b_row("Team"),
    "competence_id": _b_competence,
    "code": lambda s: _shared_grid(s).code,
    "version": lambda s: _shared_grid(s).version,
    "filename": lambda s: "jalon.css",
    "observation_id": b_row("Observation"),
    "token_id": _b_worker_token,
    "proposal_id": b_row("Proposal"),
    "self_assessment_id": _b_self_assessment,
    "review_id": _b_review,
    "issuer_id": lambda s: structure_b(s).public_id,
    "key_id": b_row("SigningKey"),
    "class_id": b_row("BadgeClass"),
    "assertion_id": b_row("Assertion"),
    "notification_id": _b_claim_notification,
    "identity_id": lambda s: b_member(s, "b.salarie").user.identity_id or "",
}


class MissingParamSource(AssertionError):
    """A route has a URL parameter that ``PARAM_SOURCES`` cannot fill."""


def fill_url(rule: UrlRule, session: Session, overrides: Mapping[str, Any] | None = None) -> str:
    """The path of ``rule`` with every parameter filled from ``PARAM_SOURCES``."""
    overrides = overrides or {}
    missing = sorted(a for a in rule.arguments if a not in overrides and a not in PARAM_SOURCES)
    if missing:
        raise MissingParamSource(
            f"route {rule.endpoint} ({rule.rule}) has URL parameter(s) {missing} that the "
            "authorization matrix test cannot fill: add an entry to PARAM_SOURCES in "
            "tests/support/routes.py returning the real id of one of structure B's objects"
        )
    values = {
        a: overrides[a] if a in overrides else PARAM_SOURCES[a](session) for a in rule.arguments
    }
    built = rule.build(values, append_unknown=False)
    assert built is not None, f"cannot build {rule.endpoint} with {values}"
    return built[1]


#: Form bodies a rightful user's POST would be accepted with: a missing check must write.
POST_BODIES: dict[str, Callable[[Session], dict[str, Any]]] = {
    "admin.new_member": lambda s: {
        "first_name": "Inès",
        "last_name": "Nouvelle",
        "roles": ["salarie"],
        "started_on": date.today().isoformat(),
    },
    "admin.add_existing": lambda s: {"login": "lea", "roles": ["salarie"]},
    "admin.member_roles": lambda s: {"roles": ["admin"]},
    "admin.member_follow_up": lambda s: {
        "referent": b_member(s, "b.cip").public_id,
        "sees_all_workers": "y",
    },
    "admin.end_member": lambda s: {"ended_on": date.today().isoformat()},
    "admin.create_team": lambda s: {"name": "Finition"},
    "admin.team": lambda s: {"leaders": [b_member(s, "b.encadrant").public_id], "members": []},
    "admin.settings": lambda s: {
        "name": "Atelier renommé",
        "kind": "ei",
        "model": "integration_sociale",
        "timezone": "Europe/Paris",
        "country": "FR",
        "email": "contact@atelier.example",
    },
    "identity.contact": lambda s: {"email": "nouvelle.adresse@exemple.fr", "phone": ""},
    "identity.reissue": _b_worker_has_a_new_phone,
    "admin.create_competence": lambda s: {
        "name": "Affûtage",
        "description": "Affûter un outil.",
        "indicators": "Vérifie le fil",
        "group": "",
    },
    "admin.create_situation": lambda s: {
        "name": "Pose d'une étagère",
        "type": "production",
        "competences": ["bunk:organiser"],
    },
    "platform.create_structure": lambda s: {
        "name": "Structure pirate",
        "kind": "aci",
        "model": "tremplin",
        "timezone": "Europe/Paris",
        "country": "FR",
    },
    "platform.add_admin": lambda s: {"first_name": "Pierre", "last_name": "Pirate"},
    "me.secret": lambda s: {"new_secret": "739154", "confirm": "739154"},
    "me.create_api_token": lambda s: {"label": "Logiciel de suivi"},
    "observations.record": lambda s: {
        "idempotency_key": f"matrix-{uuid.uuid4()}",
        "situation": _b_situation(s).public_id,
        "w": [b_member(s, "b.salarie").public_id],
        "competence": _b_situation(s).competences[0].public_id,
        "level": "3",
    },
    "observations.correct": lambda s: {"level": "4", "observed_at": "2026-11-02T10:00"},
    "observations.withdraw": lambda s: {"reason": "doublon"},
    "observations.create_situation": lambda s: {
        "name": "Pose d'étagères",
        "type": "production",
        "team": "",
        "starts_on": date.today().isoformat(),
        "competences": [_shared_grid(s).competences[0].public_id],
    },
    "api.create_observations": lambda s: {
        "situation": _b_situation(s).public_id,
        "items": [
            {
                "worker": b_member(s, "b.salarie").public_id,
                "competence": _b_situation(s).competences[0].public_id,
                "level": 3,
            }
        ],
    },
    "progress.self_assessment": lambda s: {
        f"a-{_shared_grid(s).competences[0].public_id}": "je-sais-faire"
    },
    "progress.assisted": lambda s: {f"a-{_shared_grid(s).competences[1].public_id}": "je-decouvre"},
    "progress.set_focus": lambda s: {"competence": _shared_grid(s).competences[2].public_id},
    "progress.comment": lambda s: {"text": "Je suis d'accord avec ce plan."},
    "progress.reviews": lambda s: {
        "held_on": date.today().isoformat(),
        "next_review_on": date.fromordinal(date.today().toordinal() + 30).isoformat(),
        "next_steps": "Poser les étagères avec l'équipe.",
        "goals-0-competence": _shared_grid(s).competences[0].public_id,
        "goals-0-kind": "professionnel",
        "goals-0-target": "4",
        "goals-0-text": "Organiser son poste seul.",
    },
    "api.correct_observation": lambda s: {"level": 4, "observed_at": "2026-11-02T09:00:00+00:00"},
    "api.withdraw_observation": lambda s: {"reason": "doublon"},
    "assessments.decide": lambda s: {"decision": "approve", "comment": "Vu et validé."},
    # B's badge is accepted and shown: hiding it, naming its earner, closing the profile.
    "portfolio.badge": lambda s: {"action": "hide"},
    "portfolio.assisted": lambda s: {"action": "name", "earner_name": "initial"},
    "portfolio.profile_settings": lambda s: {"action": "unpublish"},
    "assessments.propose": lambda s: {
        "badge": f"{_b_template(s).public_id}:4",
        "justification": "Organise son poste sans rappel.",
    },
}


#: Query strings a GET needs to show its page to a rightful user (``?w=…`` and the like).
QUERY_ARGS: dict[str, Callable[[Session], dict[str, Any]]] = {
    "observations.capture": lambda s: {"w": [b_member(s, "b.salarie").public_id]},
    "api.verify": lambda s: {"badge": f"http://localhost/badges/{b_row('Assertion')(s)}"},
    # The badges ticked for the passport: b.salarie's own.
    "portfolio.passport": lambda s: {"badge": [b_row("Assertion")(s)]},
}


def post_body(endpoint: str, session: Session) -> dict[str, Any]:
    """The body sent to ``endpoint``: its own entry, or an empty form (a button)."""
    build = POST_BODIES.get(endpoint)
    return build(session) if build else {}


def methods_of(rule: UrlRule) -> list[str]:
    """The methods a view answers for ``rule`` (HEAD and OPTIONS aside)."""
    return sorted((rule.methods or set()) - AUTOMATIC_METHODS)


def rules_of(app: Flask, *scopes: Scope) -> list[UrlRule]:
    """The URL rules of ``app`` whose access rule has one of ``scopes``, in a stable order."""
    return sorted(
        (r for r in app.url_map.iter_rules() if RULES[r.endpoint].scope in scopes),
        key=lambda r: (r.endpoint, r.rule),
    )


def table_problems(app: Flask) -> list[str]:
    """Disagreements between the routes of ``app`` and the access table."""
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    problems = [f"{e}: route missing from RULES" for e in sorted(endpoints - set(RULES))]
    problems += [f"{e}: in RULES but no such route" for e in sorted(set(RULES) - endpoints)]
    for name, table in (("POST_BODIES", POST_BODIES), ("QUERY_ARGS", QUERY_ARGS)):
        problems += [f"{e}: in {name} but no such route" for e in sorted(set(table) - endpoints)]
    for r in app.url_map.iter_rules():
        rule = RULES.get(r.endpoint)
        if rule is None:
            continue
        scoped = rule.scope is Scope.STRUCTURE
        if scoped != ("structure_id" in r.arguments):
            problems.append(f"{r.endpoint}: scope {rule.scope} but URL {r.rule}")
        if scoped and not rule.roles:
            problems.append(f"{r.endpoint}: structure-scoped rule admitting no role")
    return problems


@dataclass(frozen=True)
class Attempt:
    """One request of the walk and what came of it."""

    who: str
    method: str
    url: str
    endpoint: str
    status: int
    location: str = ""
    wrote: tuple[str, ...] = ()
    error: str = ""


def violations(attempts: Iterable[Attempt]) -> list[str]:
    """Every attempt that was not refused, or that changed the database."""
    found = []
    for a in attempts:
        where = f"{a.who}: {a.method} {a.url} ({a.endpoint})"
        if a.error:
            found.append(f"{where} raised {a.error}")
        elif a.status not in DENIED:
            found.append(f"{where} answered {a.status}")
        elif a.who == ANONYMOUS and a.status == 302 and not a.location.startswith("/connexion"):
            found.append(f"{where} redirected an anonymous visitor to {a.location}")
        if a.wrote:
            found.append(f"{where} changed table(s) {list(a.wrote)}")
    return found


Snapshot = dict[str, tuple[int, str]]


def snapshot(app: Flask) -> Snapshot:
    """Row count and a checksum of every row, for every table of the models."""
    result: Snapshot = {}
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = db.session.execute(select(table).order_by(*order)).all()
            digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
            result[table.name] = (len(rows), digest)
    return result


def changed_tables(before: Snapshot, after: Snapshot) -> tuple[str, ...]:
    """The tables whose rows differ between two snapshots."""
    return tuple(sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t)))


def auth_of(endpoint: str) -> str:
    """How a route authenticates: ``session`` (pages) or a bearer token (API)."""
    return str(getattr(RULES[endpoint], "auth", "session"))


@dataclass(frozen=True)
class Target:
    """One request to make: a URL of a rule, with a method, a body and its kind of auth.

    Pages get the body as a form; API routes (bearer token) as JSON.
    """

    endpoint: str
    method: str
    url: str
    body: dict[str, Any]
    auth: str = "session"


def targets(
    app: Flask, url_rules: Iterable[UrlRule], overrides: Mapping[str, Any] | None = None
) -> list[Target]:
    """Every (rule, method) of ``url_rules`` as a request filled with structure B's ids."""
    found = []
    with app.app_context():
        for rule in url_rules:
            url = fill_url(rule, db.session, overrides)
            query = QUERY_ARGS[rule.endpoint](db.session) if rule.endpoint in QUERY_ARGS else {}
            auth = auth_of(rule.endpoint)
            for method in methods_of(rule):
                if method == "GET":
                    full = f"{url}?{urlencode(query, doseq=True)}" if query else url
                    found.append(Target(rule.endpoint, method, full, {}, auth))
                else:
                    body = post_body(rule.endpoint, db.session)
                    found.append(Target(rule.endpoint, method, url, body, auth))
    return found


@dataclass(frozen=True)
class Visitor:
    """Someone making requests: a test client, signed in or not, and maybe an API token."""

    who: str
    client: FlaskClient
    bearer: str = ""

    def send(self, target: Target) -> TestResponse:
        """Make the request ``target`` describes, with the credentials its route expects."""
        if target.auth == "session":
            return self.client.open(target.url, method=target.method, data=target.body)
        headers = {"Authorization": f"Bearer {self.bearer}"} if self.bearer else {}
        headers["Idempotency-Key"] = f"matrix-{uuid.uuid4()}"
        body = {"json": target.body} if target.method != "GET" else {}
        return self.client.open(target.url, method=target.method, headers=headers, **body)


def walk(app: Flask, visitor: Visitor, planned: Iterable[Target]) -> list[Attempt]:
    """Make every planned request as ``visitor``; note each write outside a GET."""
    attempts = []
    who = visitor.who
    for t in planned:
        before = snapshot(app) if t.method != "GET" else None
        try:
            response = visitor.send(t)
        except Exception as error:  # reported as a violation, never swallowed
            attempts.append(Attempt(who, t.method, t.url, t.endpoint, 500, error=repr(error)))
            continue
        wrote = changed_tables(before, snapshot(app)) if before is not None else ()
        attempts.append(
            Attempt(
                who,
                t.method,
                t.url,
                t.endpoint,
                response.status_code,
                response.headers.get("Location", ""),
                wrote,
            )
        )
    return attempts


def sign_in(app: Flask, login: str, secret: str) -> FlaskClient:
    """A test client signed in as ``login``."""
    client = app.test_client()
    response = client.post("/connexion", data={"login": login, "secret": secret})
    assert response.status_code == 302, f"{login} could not sign in ({response.status_code})"
    assert response.headers["Location"] != "/moi/code", f"{login} must change their secret"
    return client


def api_token(app: Flask, login: str) -> str:
    """A personal API token of ``login`` (for apps whose access table has API routes)."""
    from app.services import tokens  # only an application with an API has it

    with app.app_context():
        user = db.session.scalars(select(User).where(User.login == login)).one()
        plain = tokens.issue_api_token(db.session, user=user, label="matrice", now=utcnow())
        db.session.commit()
    return plain


def visitor(app: Flask, who: str, secret: str) -> Visitor:
    """``who`` signed in with ``secret`` (anonymous when empty), with an API token when the
    application has API routes: do this before taking a snapshot."""
    if not secret:
        return Visitor(who, app.test_client())
    client = sign_in(app, who, secret)
    has_api = any(auth_of(r.endpoint) != "session" for r in app.url_map.iter_rules())
    return Visitor(who, client, api_token(app, who) if has_api else "")
