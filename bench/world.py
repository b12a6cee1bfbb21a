"""The bench's world: a fresh migrated SQLite file with the people the figures need.

Built through the services, like the test world, so the rows look like the application's:
one structure, an encadrant leading the measured team (whose page is timed), a second
encadrant leading a one-person team (who sends the captures, so that they never touch the
measured team), the shared referentials and the badge templates (so that a capture and a
recompute have statuses to compute), and one open work situation per team.
Other structures, for the filler rows, are made here too; their workers come in bulk SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.orm import Session

from app import create_app
from app.cli.referentials import read_files
from app.domain.enums import Role, SituationType
from app.extensions import db
from app.models import Competence, Membership, Structure, Team, WorkSituation
from app.models.base import utcnow
from app.queries import referentials as referential_queries
from app.services import accounts, observations, structures, tokens
from app.services import badge_templates as badge_template_service
from app.services import referentials as referential_service

PASSWORD = "banc-essai-2026"
ENCADRANT_LOGIN = "banc.encadrant"
#: Workers in the measured team (a usual insertion team is 8 to 12 people).
TEAM_SIZE = 12
#: Competences of each open situation.
COMPETENCES = 4
SALARIE = Role.SALARIE
#: Structures other than the measured one, for the filler rows.
OTHER_STRUCTURES = 9


@dataclass(frozen=True)
class Place:
    """A structure that filler workers join: its row id, a situation and an author."""

    structure_pk: int
    situation_pk: int
    author_pk: int


@dataclass(frozen=True)
class World:
    """Ids the bench needs once the world is built (row ids for SQL, public ids for URLs)."""

    url: str
    keys_dir: str
    structure_id: str
    team_worker_pks: list[int]
    team_situation_pk: int
    encadrant_user_pk: int
    competence_pks: list[int]
    places: list[Place]
    capture_token: str
    capture_situation_id: str
    capture_worker_id: str
    capture_competence_id: str


def config(url: str, keys_dir: str, **overrides: Any) -> dict[str, Any]:
    """Application settings for the bench: production-like, on the bench's own files."""
    settings: dict[str, Any] = {
        "SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": False,
        "KEYS_DIR": keys_dir,
        "BASE_URL": "http://127.0.0.1",
    }
    settings.update(overrides)
    return settings


def make_app(url: str, keys_dir: str, **overrides: Any) -> Flask:
    """A Jalon application on the bench database."""
    return create_app(config(url, keys_dir, **overrides))


def dispose(app: Flask) -> None:
    """Close the app's connections (before the database file is copied or grown)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def build(workdir: Path) -> World:
    """Migrate a new SQLite file under ``workdir`` and seed it through the services."""
    keys_dir = workdir / "keys"
    keys_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    app = make_app(url, str(keys_dir))
    with app.app_context():
        upgrade()
        world = _seed(app, url, str(keys_dir))
        db.session.commit()
    dispose(app)
    return world


def _seed(app: Flask, url: str, keys_dir: str) -> World:
    session = db.session
    now = utcnow()
    plan = referential_service.plan_load(session, read_files(Path(app.config["REFERENTIALS_DIR"])))
    referential_service.apply_plan(session, plan, now=now, actor=None)
    templates_dir = Path(app.config["BADGE_TEMPLATES_DIR"])
    templates = badge_template_service.plan_load(session, read_files(templates_dir))
    badge_template_service.apply_plan(session, templates, now=now, actor=None)
    grid = next(r for r in referential_queries.current_grids(session) if r.code == "bunk")
    competences = grid.competences[:COMPETENCES]

    structure = structures.create_structure(session, actor=None, name="Banc d'essai", now=now)
    admin = _person(session, structure, "banc.admin", "Adèle", "Admin", Role.ADMIN, now)
    encadrant = _person(
        session, structure, ENCADRANT_LOGIN, "Marc", "Mesure", Role.ENCADRANT, now, PASSWORD
    )
    sender = _person(session, structure, "banc.saisie", "Sam", "Saisie", Role.ENCADRANT, now)
    workers = [
        _person(session, structure, f"banc.salarie{i:02}", f"Prénom{i:02}", "Équipe", SALARIE, now)
        for i in range(TEAM_SIZE)
    ]
    observed = _person(session, structure, "banc.observe", "Olga", "Observée", Role.SALARIE, now)

    team = _team(session, admin, structure, "Équipe mesurée", encadrant, workers, now)
    capture_team = _team(session, admin, structure, "Équipe de saisie", sender, [observed], now)
    situation = _situation(session, encadrant, team, "Chantier espaces verts", competences, now)
    capture_situation = _situation(
        session, sender, capture_team, "Chantier de saisie", competences, now
    )
    token = tokens.issue_api_token(session, user=sender.user, label="banc d'essai", now=now)

    places = [Place(structure.id, situation.id, encadrant.user_id)]
    for n in range(OTHER_STRUCTURES):
        other = structures.create_structure(
            session, actor=None, name=f"Structure de remplissage {n + 1}", now=now
        )
        author = _person(
            session, other, f"remplissage.encadrant{n}", "Enzo", f"Autre{n}", Role.ENCADRANT, now
        )
        other_situation = observations.create_situation(
            session,
            author=author,
            name="Chantier de remplissage",
            type=SituationType.PRODUCTION,
            starts_on=now.date(),
            competences=competences,
            now=now,
        )
        places.append(Place(other.id, other_situation.id, author.user_id))

    return World(
        url=url,
        keys_dir=keys_dir,
        structure_id=structure.public_id,
        team_worker_pks=[w.id for w in workers],
        team_situation_pk=situation.id,
        encadrant_user_pk=encadrant.user_id,
        competence_pks=[c.id for c in competences],
        places=places,
        capture_token=token,
        capture_situation_id=capture_situation.public_id,
        capture_worker_id=observed.public_id,
        capture_competence_id=competences[0].public_id,
    )


def _person(
    session: Session,
    structure: Structure,
    login: str,
    first_name: str,
    last_name: str,
    role: Role,
    now: datetime,
    secret: str | None = None,
) -> Membership:
    user = accounts.create_user(
        session, first_name=first_name, last_name=last_name, login=login, now=now, secret=secret
    )
    return structures.add_member(
        session, actor=None, structure=structure, user=user, roles={role}, now=now
    )


def _team(
    session: Session,
    admin: Membership,
    structure: Structure,
    name: str,
    leader: Membership,
    members: list[Membership],
    now: datetime,
) -> Team:
    team = structures.create_team(
        session, actor=admin.user, structure=structure, name=name, now=now
    )
    structures.set_team_members(
        session, actor=admin.user, team=team, leaders=[leader], members=members, now=now
    )
    return team


def _situation(
    session: Session,
    author: Membership,
    team: Team,
    name: str,
    competences: list[Competence],
    now: datetime,
) -> WorkSituation:
    return observations.create_situation(
        session,
        author=author,
        name=name,
        type=SituationType.PRODUCTION,
        starts_on=now.date(),
        competences=competences,
        now=now,
        team=team,
        place="Parc municipal",
    )
