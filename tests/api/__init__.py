"""Helpers shared by the observation tests (API, pages and services).

``counts`` is the "nothing written" probe: every table a capture, a correction or a
withdrawal writes to, including the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.extensions import db
from app.models import (
    AuditEvent,
    Capture,
    Membership,
    Observation,
    ObservationComment,
    ObservationVersion,
    User,
)
from app.services import accounts, structures, tokens
from tests.support.world import NOW, STAFF_SECRET

#: The tables an observation use case may write to.
WRITTEN = (Observation, Capture, ObservationVersion, ObservationComment, AuditEvent)


def counts(session: Session) -> dict[str, int]:
    """Row counts of every table an observation use case writes to."""
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in WRITTEN
    }


def app_counts(app: Flask) -> dict[str, int]:
    """``counts`` on an app's database."""
    with app.app_context():
        return counts(db.session)


def member(session: Session, login: str) -> Membership:
    """The (single) membership of the person signing in as ``login``."""
    return session.scalars(
        select(Membership).join(Membership.user).where(User.login == login)
    ).one()


@dataclass(frozen=True)
class Place:
    """Public ids of one structure's world objects, read once from the database."""

    structure: str
    situation: str
    competences: list[str]
    workers: dict[str, str]
    observation: str
    #: When the world's observation was recorded (the world build's real time).
    recorded_at: datetime


def place(app: Flask, observer_login: str) -> Place:
    """The ids an observer of the world needs: their structure, workers, and the situation
    and observation of the world's capture by them."""
    with app.app_context():
        observer = member(db.session, observer_login)
        workers = {
            m.user.login: m.public_id
            for m in observer.structure.memberships
            if m.has_role(Role.SALARIE)
        }
        observation = db.session.scalars(
            select(Observation)
            .join(Capture)
            .where(
                Observation.author_id == observer.user_id,
                Capture.idempotency_key.startswith("world-"),
            )
            .order_by(Observation.id)
        ).first()
        assert observation is not None
        situation = observation.situation
        return Place(
            structure=observer.structure.public_id,
            situation=situation.public_id,
            competences=[c.public_id for c in situation.competences],
            workers=workers,
            observation=observation.public_id,
            recorded_at=observation.recorded_at,
        )


def api_token(app: Flask, login: str, label: str = "tests") -> str:
    """A personal API token of ``login``, committed."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == login))
        assert user is not None
        plain = tokens.issue_api_token(db.session, user=user, label=label, now=NOW)
        db.session.commit()
        return plain


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def sign_in(app: Flask, login: str, secret: str = STAFF_SECRET) -> FlaskClient:
    """A test client signed in as ``login``."""
    client = app.test_client()
    response = client.post("/connexion", data={"login": login, "secret": secret})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


#: The idempotency key the API tests send unless they say otherwise.
CAPTURE_KEY = "test-capture-0001"


def post_capture(  # type: ignore[no-untyped-def]
    app: Flask, p: Place, headers: dict[str, str], body: Any, key: str | None = CAPTURE_KEY
):
    """POST a capture to the API with a fresh client (no session), ``key`` as header."""
    sent = dict(headers)
    if key is not None:
        sent["Idempotency-Key"] = key
    return app.test_client().post(
        f"/api/v1/structures/{p.structure}/observations", json=body, headers=sent
    )


def capture_body(p: Place, worker: str, **overrides: Any) -> dict[str, Any]:
    """A valid API capture body for one worker of ``p``, with ``overrides`` applied."""
    item = {"worker": p.workers[worker], "competence": p.competences[0], "level": 3}
    item.update(overrides.pop("item", {}))
    body: dict[str, Any] = {"situation": p.situation, "items": [item]}
    body.update(overrides)
    return body


def five_worker_team(session: Session) -> list[Membership]:
    """Grow Marc's team « Espaces verts » to five workers (two newcomers); flushed."""
    marc = member(session, "marc.encadrant")
    claire = member(session, "claire.admin").user
    workers = [member(session, w) for w in ("karim", "julie", "ousmane")]
    for first in ("Inès", "Tom"):
        user = accounts.create_user(session, first_name=first, last_name="Vert", now=NOW)
        workers.append(
            structures.add_member(
                session,
                actor=claire,
                structure=marc.structure,
                user=user,
                roles={Role.SALARIE},
                now=NOW,
            )
        )
    team = next(link.team for link in workers[0].team_links)
    structures.set_team_members(
        session, actor=claire, team=team, leaders=[marc], members=workers, now=NOW
    )
    return workers
