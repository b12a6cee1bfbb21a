"""The demo structure: one person per role, two teams, referents. Safe to run twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import Role, SituationType, StructureKind, StructureModel
from app.models import (
    Capture,
    Membership,
    Referential,
    Structure,
    User,
    WorkSituation,
)
from app.queries import referentials as referential_queries
from app.services import accounts, keys, observations, structures
from app.services.badges import Issuing
from app.services.demo_badges import DEMO_KEY_AGE, issue_demo_badges

DEMO_STRUCTURE = "Les Jardins du Val"
STAFF_PASSWORD = "demo-jalon-2026"
WORKER_CODE = "482915"


@dataclass(frozen=True)
class DemoPerson:
    login: str
    first_name: str
    last_name: str
    roles: frozenset[Role]
    secret: str
    email: str | None = None
    phone: str | None = None
    superadmin: bool = False


PEOPLE = [
    DemoPerson(
        "super.admin",
        "Samia",
        "Plateforme",
        frozenset(),
        STAFF_PASSWORD,
        email="plateforme@jalon.example",
        superadmin=True,
    ),
    DemoPerson(
        "claire.admin",
        "Claire",
        "Martin",
        frozenset({Role.ADMIN}),
        STAFF_PASSWORD,
        email="claire.martin@jalon.example",
    ),
    DemoPerson("marc.encadrant", "Marc", "Lefèvre", frozenset({Role.ENCADRANT}), STAFF_PASSWORD),
    DemoPerson("paul.encadrant", "Paul", "Girard", frozenset({Role.ENCADRANT}), STAFF_PASSWORD),
    DemoPerson(
        "sophie.cip",
        "Sophie",
        "Bernard",
        frozenset({Role.CONSEILLER}),
        STAFF_PASSWORD,
        email="sophie.bernard@jalon.example",
    ),
    DemoPerson("nadia.validatrice", "Nadia", "Roux", frozenset({Role.VALIDATEUR}), STAFF_PASSWORD),
    DemoPerson(
        "karim", "Karim", "Benali", frozenset({Role.SALARIE}), WORKER_CODE, phone="06 12 34 56 78"
    ),
    DemoPerson("julie", "Julie", "Moreau", frozenset({Role.SALARIE}), WORKER_CODE),
    DemoPerson("ousmane", "Ousmane", "Diallo", frozenset({Role.SALARIE}), WORKER_CODE),
    DemoPerson(
        "lea", "Léa", "Petit", frozenset({Role.SALARIE}), WORKER_CODE, email="lea.petit@exemple.fr"
    ),
]
TEAMS = {
    "Espaces verts": ("marc.encadrant", ["karim", "julie", "ousmane"]),
    "Maraîchage": ("paul.encadrant", ["lea"]),
}
REFERENTS = {"karim": "sophie.cip", "julie": "sophie.cip", "ousmane": "sophie.cip"}
#: One open work situation per team, so that capture works at once in the demo.
SITUATIONS = {
    "Espaces verts": (
        "Tonte et taille au parc des Tilleuls",
        "Parc des Tilleuls",
        [
            "bunk:travailler-en-equipe",
            "bunk:organiser",
            "bunk:conscience-professionnelle",
            "bunk:qualite-du-travail",
            "bunk:s-adapter",
            "espaces-verts:tondre-et-debroussailler",
            "espaces-verts:appliquer-les-regles-de-securite",
        ],
    ),
    "Maraîchage": (
        "Récolte et préparation des paniers",
        "Serres du Val",
        [
            "bunk:planifier",
            "bunk:anticiper",
            "bunk:travailler-en-equipe",
            "bunk:conscience-professionnelle",
            "maraichage:recolter-et-preparer",
            "maraichage:appliquer-les-regles-de-securite",
        ],
    ),
}


@dataclass
class DemoReport:
    structure: Structure
    created: list[str]
    key_created: bool


def seed(
    session: Session,
    *,
    now: datetime,
    keys_dir: Path,
    write_key: bool = True,
    issuing: Issuing | None = None,
) -> DemoReport:
    """Create what is missing of the demo structure; touch nothing that exists.

    With ``write_key`` false (a dry run) no key file is written and no badge issued; the
    report still says whether a key is needed. With ``issuing``, the demo badges are issued.
    """
    created: list[str] = []
    structure = session.scalar(select(Structure).where(Structure.name == DEMO_STRUCTURE))
    if structure is None:
        structure = structures.create_structure(
            session,
            actor=None,
            name=DEMO_STRUCTURE,
            now=now,
            kind=StructureKind.ACI,
            model=StructureModel.TREMPLIN,
        )
        structure.email = "contact@jardins-du-val.example"
        created.append(f"structure {DEMO_STRUCTURE}")
    memberships: dict[str, Membership] = {}
    for person in PEOPLE:
        user = session.scalar(select(User).where(User.login == person.login))
        if user is None:
            user = accounts.create_user(
                session,
                first_name=person.first_name,
                last_name=person.last_name,
                login=person.login,
                email=person.email,
                phone=person.phone,
                now=now,
                secret=person.secret,
            )
            user.is_superadmin = person.superadmin
            created.append(f"user {person.login}")
        if person.roles:
            membership = session.scalar(
                select(Membership).where(
                    Membership.user_id == user.id, Membership.structure_id == structure.id
                )
            )
            if membership is None:
                membership = structures.add_member(
                    session,
                    actor=None,
                    structure=structure,
                    user=user,
                    roles=person.roles,
                    now=now,
                    started_on=date(now.year, 1, 5) if now.month > 1 else now.date(),
                )
            memberships[person.login] = membership
    for worker, referent in REFERENTS.items():
        if memberships[worker].referent_id is None:
            memberships[worker].referent = memberships[referent]
    existing = {t.name for t in structure.teams}
    admin = session.scalar(select(User).where(User.login == "claire.admin"))
    assert admin is not None
    for name, (leader, members) in TEAMS.items():
        if name in existing:
            continue
        team = structures.create_team(session, actor=admin, structure=structure, name=name, now=now)
        structures.set_team_members(
            session,
            actor=admin,
            team=team,
            leaders=[memberships[leader]],
            members=[memberships[m] for m in members],
            now=now,
        )
        created.append(f"team {name}")
    created.extend(_situations(session, structure, memberships, now))
    created.extend(_observations(session, structure, memberships, now))
    if write_key:
        _, key_created = keys.ensure_key(
            session, structure=structure, keys_dir=keys_dir, now=now - DEMO_KEY_AGE
        )
        if issuing is not None:
            created.extend(issue_demo_badges(session, structure, memberships, now, issuing))
    else:
        key_created = not keys.has_any_key(session, structure)
    session.flush()
    return DemoReport(structure=structure, created=created, key_created=key_created)


def _situations(
    session: Session, structure: Structure, memberships: dict[str, Membership], now: datetime
) -> list[str]:
    """Open the demo situations that are missing (once the referentials are loaded)."""
    bunk = session.scalar(
        select(Referential).where(Referential.code == "bunk", Referential.superseded_at.is_(None))
    )
    if bunk is None:
        return []
    created = []
    for team in structure.teams:
        name, place, codes = SITUATIONS.get(team.name, (None, None, []))
        exists = session.scalar(select(WorkSituation.id).where(WorkSituation.team_id == team.id))
        if name is None or exists is not None:
            continue
        leader = next(link.membership for link in team.members if link.is_leader)
        observations.create_situation(
            session,
            author=leader,
            name=name,
            place=place,
            type=SituationType.PRODUCTION,
            starts_on=now.date(),
            team=team,
            now=now,
            competences=referential_queries.resolve_codes(session, bunk, codes),
        )
        created.append(f"situation {name}")
    return created


#: Karim's demo journey: two observers, two situations, over three weeks — enough for the
#: engine to propose « Travailler en équipe » at level 3 to the validatrice.
DEMO_OBSERVATIONS = [
    # (days ago, observer, situation index, competence, level)
    (24, "marc.encadrant", 0, "bunk:travailler-en-equipe", 3),
    (17, "sophie.cip", 1, "bunk:travailler-en-equipe", 3),
    (10, "marc.encadrant", 1, "bunk:travailler-en-equipe", 4),
    (10, "marc.encadrant", 1, "bunk:organiser", 2),
    (3, "marc.encadrant", 0, "bunk:conscience-professionnelle", 3),
]


def _observations(
    session: Session, structure: Structure, memberships: dict[str, Membership], now: datetime
) -> list[str]:
    """A few observations of karim, recorded once (keys make a second run a no-op)."""
    team = next((t for t in structure.teams if t.name == "Espaces verts"), None)
    if team is None:
        return []
    situations = [s for s in team_situations(session, team)]
    if not situations:
        return []
    if len(situations) == 1:
        bunk = session.scalar(
            select(Referential).where(
                Referential.code == "bunk", Referential.superseded_at.is_(None)
            )
        )
        situations.append(
            observations.create_situation(
                session,
                author=memberships["marc.encadrant"],
                name="Entretien des massifs de la mairie",
                place="Mairie",
                type=SituationType.PRODUCTION,
                starts_on=(now - timedelta(days=30)).date(),
                team=team,
                now=now,
                competences=referential_queries.resolve_codes(
                    session,
                    bunk,
                    [
                        "bunk:travailler-en-equipe",
                        "bunk:organiser",
                        "bunk:conscience-professionnelle",
                    ],
                ),
            )
        )
    karim = memberships["karim"]
    created = []
    for days, observer, index, ref, level in DEMO_OBSERVATIONS:
        situation = situations[index]
        competence = next(
            (c for c in situation.competences if f"{c.referential.code}:{c.code}" == ref), None
        )
        if competence is None:
            continue
        key = f"demo-{days}-{observer}-{ref}"
        exists = session.scalar(
            select(Capture.id).where(
                Capture.idempotency_key == key,
                Capture.author_id == memberships[observer].user_id,
            )
        )
        if exists is not None:
            continue
        result = observations.record_capture(
            session,
            author=memberships[observer],
            situation_id=situation.public_id,
            observed_at=now - timedelta(days=days),
            items=[observations.CaptureItem(karim.public_id, competence.public_id, level)],
            idempotency_key=key,
            now=now,
        )
        if result.created:
            created.append(f"observation {ref} of karim")
    return created


def team_situations(session: Session, team) -> list[WorkSituation]:  # type: ignore[no-untyped-def]
    """The team's situations, oldest first."""
    return list(
        session.scalars(
            select(WorkSituation).where(WorkSituation.team_id == team.id).order_by(WorkSituation.id)
        )
    )
