"""The demo structure: one person per role, two teams, referents. Safe to run twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.badges import RevocationReason
from app.domain.enums import Role, SituationType, StructureKind, StructureModel
from app.models import (
    Assertion,
    BadgeTemplate,
    Capture,
    Membership,
    Proposal,
    Referential,
    Structure,
    User,
    WorkSituation,
)
from app.queries import referentials as referential_queries
from app.services import accounts, decisions, keys, observations, revocations, structures
from app.services.badges import Issuing, assertion_for

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
            created.extend(_badges(session, structure, memberships, now, issuing))
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


@dataclass(frozen=True)
class DemoBadge:
    """One issued demo badge, earned through the real flow: observations, proposal, approval."""

    worker: str
    competence: str  # <referential>:<code>, also the badge template's competence
    level: int
    observers: tuple[str, str]
    #: When the last observation was made, in days before the seed; approval follows a day later.
    days_ago: int
    #: An expiry chosen at approval, in days after issuance (None: no expiry).
    valid_days: int | None = None
    #: What happens next: "compromise" (the key that signed it leaks the next day: revoked,
    #: re-issued with a new key) or "revoke" (withdrawn by the validatrice, issuing error).
    then: str | None = None


#: Recipients: léa by email, karim by telephone, ousmane by identity URL (neither). Karim's
#: « Qualité du travail », issued over a year ago for one year, has expired; the key that
#: signed it leaked the next day, so it was revoked and re-issued with the new key. Léa's
#: « Anticiper » was withdrawn for an issuing error.
DEMO_BADGES = [
    DemoBadge(
        "karim",
        "bunk:qualite-du-travail",
        3,
        ("marc.encadrant", "sophie.cip"),
        420,
        valid_days=365,
        then="compromise",
    ),
    DemoBadge("lea", "bunk:planifier", 3, ("paul.encadrant", "nadia.validatrice"), 6),
    DemoBadge("karim", "bunk:conscience-professionnelle", 3, ("marc.encadrant", "sophie.cip"), 2),
    DemoBadge("ousmane", "bunk:travailler-en-equipe", 4, ("marc.encadrant", "sophie.cip"), 5),
    DemoBadge(
        "lea", "bunk:anticiper", 3, ("paul.encadrant", "nadia.validatrice"), 4, then="revoke"
    ),
]
#: The demo issuer's first key dates from before every demo badge.
DEMO_KEY_AGE = timedelta(days=730)
DEMO_SITUATION_NAMES = ("Chantier de démonstration A", "Chantier de démonstration B")


def _badges(
    session: Session,
    structure: Structure,
    memberships: dict[str, Membership],
    now: datetime,
    issuing: Issuing,
) -> list[str]:
    """Issue the demo badges that are missing (each once: a second run finds it issued)."""
    bunk = session.scalar(
        select(Referential).where(Referential.code == "bunk", Referential.superseded_at.is_(None))
    )
    if bunk is None:
        return []
    created = []
    for spec in DEMO_BADGES:
        worker = memberships[spec.worker]
        template = _template_for(session, spec.competence)
        if template is None or _has_badge(session, worker, template, spec.level):
            continue
        last = now - timedelta(days=spec.days_ago)
        first = last - timedelta(days=21)
        situations = [
            _demo_situation(session, structure, memberships, bunk, name, spec, first)
            for name in DEMO_SITUATION_NAMES
        ]
        for i, (observer, situation, when) in enumerate(
            [
                (spec.observers[0], situations[0], first),
                (spec.observers[1], situations[1], first + timedelta(days=9)),
                (spec.observers[0], situations[1], last),
            ]
        ):
            competence = next(
                c
                for c in situation.competences
                if f"{c.referential.code}:{c.code}" == spec.competence
            )
            observations.record_capture(
                session,
                author=memberships[observer],
                situation_id=situation.public_id,
                observed_at=when,
                items=[
                    observations.CaptureItem(worker.public_id, competence.public_id, spec.level)
                ],
                idempotency_key=f"demo-badge-{spec.worker}-{spec.competence}-{i}",
                now=when,
            )
        proposal = session.scalar(
            select(Proposal).where(
                Proposal.worker_id == worker.id,
                Proposal.template_id == template.id,
                Proposal.level == spec.level,
                Proposal.status == "pending",
            )
        )
        if proposal is None:
            continue
        approved_at = last + timedelta(days=1)
        decisions.approve(
            session,
            validator=memberships["nadia.validatrice"],
            proposal=proposal,
            comment=None,
            now=approved_at,
            issuing=issuing,
            expires_at=(approved_at + timedelta(days=spec.valid_days) if spec.valid_days else None),
        )
        assertion = assertion_for(session, proposal)
        assert assertion is not None
        created.append(f"badge {template.code} level {spec.level} of {spec.worker}")
        later = approved_at + timedelta(days=1)
        if spec.then == "compromise":
            _, pairs = revocations.compromise_key(
                session, assertion.signing_key, issuing=issuing, now=later
            )
            created.append(f"key compromised: {len(pairs)} badge(s) re-issued")
        elif spec.then == "revoke":
            decisions.settle_flagged(
                session,
                validator=memberships["nadia.validatrice"],
                proposal=proposal,
                keep=False,
                reason=RevocationReason.ISSUING_ERROR.value,
                comment=None,
                now=later,
            )
            created.append(f"badge {template.code} of {spec.worker} revoked")
    return created


def _template_for(session: Session, competence: str) -> BadgeTemplate | None:
    return next(
        (
            t
            for t in session.scalars(
                select(BadgeTemplate)
                .where(BadgeTemplate.superseded_at.is_(None), BadgeTemplate.kind == "competence")
                .order_by(BadgeTemplate.code)
            )
            if competence in t.competences
        ),
        None,
    )


def _has_badge(session: Session, worker: Membership, template: BadgeTemplate, level: int) -> bool:
    return (
        session.scalar(
            select(Assertion.id)
            .join(Proposal, Proposal.id == Assertion.proposal_id)
            .where(
                Assertion.worker_id == worker.id,
                Proposal.template_id == template.id,
                Proposal.level == level,
            )
        )
        is not None
    )


def _demo_situation(  # type: ignore[no-untyped-def]
    session: Session,
    structure: Structure,
    memberships: dict[str, Membership],
    bunk: Referential,
    name: str,
    spec: DemoBadge,
    starts: datetime,
) -> WorkSituation:
    """A demo situation for the worker's team, covering the badge's competence."""
    worker = memberships[spec.worker]
    team = next(t for t in structure.teams if any(m.membership_id == worker.id for m in t.members))
    label = f"{name} — {team.name}"
    found = session.scalar(
        select(WorkSituation).where(WorkSituation.team_id == team.id, WorkSituation.name == label)
    )
    refs = sorted({b.competence for b in DEMO_BADGES})
    if found is None:
        leader = next(link.membership for link in team.members if link.is_leader)
        found = observations.create_situation(
            session,
            author=leader,
            name=label,
            place=None,
            type=SituationType.PRODUCTION if name.endswith("A") else SituationType.ATELIER,
            starts_on=(starts - timedelta(days=1)).date(),
            team=team,
            now=starts - timedelta(days=1),
            competences=referential_queries.resolve_codes(session, bunk, refs),
        )
    return found
